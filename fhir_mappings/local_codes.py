"""A site's own codes (``CRS_CDS_LOCAL_CODES_FILE``): flowsheet rows, local drug and device codes.

EHRs chart ICANS assessments (ICE score, level of consciousness) as local
flowsheet rows with site OIDs, and many sites code temperatures, vasopressors
or oxygen devices locally too. A site lists them in one YAML or JSON file
(``codes:`` entries ``{concept, system, code}``, optionally ``display``, a
``value`` the code itself means and an ``answers`` map from the site's answer
codes to the service's values); the composition root reads it once at start-up
and ``load_code_lists(local=...)`` adds the entries to the shipped lists. A bad
file stops the service with the file, the line, the path and the problem.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from .codes import DATA_DIR, CodeListError, LocalCode

SCHEMA = jsonschema.Draft202012Validator(
    json.loads((DATA_DIR / "local-codes.schema.json").read_text(encoding="utf-8")))


def load_local_codes(path: str | Path) -> tuple[LocalCode, ...]:
    """The entries of a site-local codes file, schema-checked; ``CodeListError`` names file:line and path."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CodeListError(f"{file}: cannot read the local codes file ({exc.strerror or exc})") from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise CodeListError(f"{file}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise CodeListError(f"{file}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    root = _node(text)
    errors = sorted(SCHEMA.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise CodeListError("invalid local codes file:\n  " + "\n  ".join(
            f"{file}:{_line(root, list(e.absolute_path))}: {_dotted(list(e.absolute_path))}: {e.message}"
            for e in errors[:10]))
    return tuple(LocalCode(entry["concept"], entry["system"], entry["code"],
                           f"{file}:{_line(root, ['codes', i])}: codes[{i}]", entry.get("display"),
                           entry.get("value"), MappingProxyType(dict(entry.get("answers") or {})))
                 for i, entry in enumerate(data["codes"]))


def _node(text: str) -> yaml.Node | None:
    """The document's node tree (YAML, and JSON read as YAML) for line numbers; None if it has none."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _line(node: yaml.Node | None, path: list[Any]) -> int:
    """The 1-based line of the deepest node of ``path`` that exists (the document's first line at worst)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"
