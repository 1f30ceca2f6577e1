"""Site files read once at start-up (the issuers file, the orderables map), with the line of every value.

An integration engineer edits these by hand; a mistake must be reported the way the protocol
loader reports one — file, line, path and problem — so that it is fixed in one go, before the
first call. JSON is read as YAML for the line numbers (JSON is YAML's subset for these files).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .schemas import Problem, schema_problems


class SiteFileError(ValueError):
    """A site file that cannot be used; ``problems`` are lines ``file:line: path: problem``."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class SiteFile:
    """A parsed site file and the first line of every value in it (by its path of keys and indexes)."""

    name: str  # as the operator gave it
    data: Any
    lines: dict[tuple[str | int, ...], int]

    def line(self, parts: Iterable[str | int]) -> int:
        """The line of the deepest value of ``parts`` the file has (1 at worst)."""
        path = tuple(parts)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def where(self, parts: Iterable[str | int]) -> str:
        return f"{self.name}:{self.line(parts)}"

    def located(self, problems: Iterable[Problem]) -> list[str]:
        """``file:line: path: problem`` for each problem, in file order."""
        found = sorted(problems, key=lambda p: (self.line(p.parts), p.path))
        return [f"{self.where(p.parts)}: {p.path}: {p.problem}" for p in found]

    def checked(self, schema: str) -> None:
        """``SiteFileError`` listing every way the file breaks its JSON Schema."""
        problems = schema_problems(schema, self.data)
        if problems:
            raise SiteFileError(*self.located(problems))


def read_site_file(path: str | Path, what: str) -> SiteFile:
    """Parse a YAML or JSON site file; ``SiteFileError`` (one line, with the line when known) otherwise."""
    file = Path(path)
    name = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SiteFileError(f"{name}: cannot read the {what} ({exc.strerror or type(exc).__name__})") from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except json.JSONDecodeError as exc:
        raise SiteFileError(f"{name}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SiteFileError(f"{name}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    lines: dict[tuple[str | int, ...], int] = {}
    if root is not None:
        _index(root, (), lines)
    return SiteFile(name, data, lines)


def _index(node: yaml.Node, path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> None:
    """Record the line of ``node`` and of everything below it (iteratively: a file may nest deeply)."""
    pending = [(node, path)]
    while pending:
        current, at = pending.pop()
        lines.setdefault(at, current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            pending += [(value, (*at, str(key.value))) for key, value in current.value]
        elif isinstance(current, yaml.SequenceNode):
            pending += [(item, (*at, i)) for i, item in enumerate(current.value)]
