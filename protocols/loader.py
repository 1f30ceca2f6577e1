"""Load protocol files, validate them, and turn them into :class:`Protocol` values.

A protocol is institution data edited by clinicians and pharmacists, so a
mistake must be caught at load time with a message they can act on: the file,
the line, the JSON path (``grades.2.actions[1].dose.mgPerKg``) and the problem.
Validation is the JSON Schema (``data/protocol.schema.json``) followed by
cross-checks the schema cannot express (drug, source and warning references,
alternative groups, regimen choices, what each order check needs).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .model import (
    Action,
    AdviceAction,
    Citation,
    Code,
    Condition,
    DoseBasis,
    DoseCheck,
    DoseCount,
    DoseRule,
    Drug,
    Escalation,
    Frequency,
    GradeRules,
    IcansSection,
    MaximumDoseCheck,
    MedicationAction,
    NeverGiveCheck,
    OrderCheck,
    OrderTarget,
    OxygenTarget,
    Pathway,
    Protocol,
    RegimenCheck,
    RegimenChoice,
    RegimenOption,
    RepeatLimits,
    RepeatLimitsCheck,
    Rounding,
    Section,
    ServiceAction,
    Settings,
    SourceDocument,
    WarningRule,
    WeightBand,
    frozen_map,
)

DATA_DIR = Path(__file__).parent / "data"
SCHEMA_PATH = DATA_DIR / "protocol.schema.json"
DEFAULT_PROTOCOL_ID = "astct-generic"
PAEDIATRIC_PROTOCOL_ID = "paediatric-seed004"
DEFAULT_HEIGHT_MAX_AGE_DAYS = 365
_SUFFIXES = (".yaml", ".yml", ".json")

JsonPath = tuple[str | int, ...]
DOSE_COUNTS = ("min_prior_doses", "max_prior_doses", "min_doses_since_onset")
_DOSE_BASES: tuple[tuple[str, DoseBasis], ...] = (
    ("mg", "mg"), ("mgPerKg", "mg/kg"), ("mgPerKgPerDay", "mg/kg/day"), ("mgPerM2", "mg/m2"))


@dataclass(frozen=True, slots=True)
class Problem:
    path: JsonPath
    message: str
    line: int | None = None

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {json_path(self.path) or '(document)'}: {self.message}"


class ProtocolError(ValueError):
    """A protocol file that cannot be used; ``str()`` lists every problem found."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = tuple(problems)
        super().__init__("\n".join(p.render(file) for p in problems))


@dataclass(frozen=True, slots=True)
class ProtocolSummary:
    id: str
    title: str
    version: str
    path: str


def json_path(path: JsonPath) -> str:
    """``("grades", "2", "actions", 0, "dose")`` -> ``grades.2.actions[0].dose``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ------------------------------------------------------------------ public API

def protocol_path(id_or_path: str | Path) -> Path:
    """Resolve a shipped protocol id (``christie-doc644-v8``) or a file path."""
    candidate = Path(id_or_path)
    if candidate.suffix in _SUFFIXES or candidate.exists():
        return candidate
    for suffix in _SUFFIXES:
        path = DATA_DIR / f"{id_or_path}{suffix}"
        if path.exists():
            return path
    known = ", ".join(s.id for s in list_protocols())
    raise ProtocolError(str(id_or_path), [Problem((), f"unknown protocol id (known: {known})")])


def load_protocol(id_or_path: str | Path, *, regimens: Mapping[str, str] | None = None) -> Protocol:
    """Read and validate a protocol by id or path; every call reads the file (the composition
    root loads each configured protocol once, at start-up).

    ``regimens`` overrides the file's regimen choices, e.g. ``{"anakinra": "chop"}``.
    """
    path = protocol_path(id_or_path).resolve()
    if not path.exists():
        raise ProtocolError(str(path), [Problem((), "file not found")])
    return _load(path, tuple(sorted((regimens or {}).items())))


def list_protocols() -> tuple[ProtocolSummary, ...]:
    """The protocols shipped in ``protocols/data``, validated."""
    out = []
    for path in sorted(DATA_DIR.iterdir()):
        if path.suffix in _SUFFIXES and path != SCHEMA_PATH:
            p = load_protocol(path)
            out.append(ProtocolSummary(p.id, p.title, p.version, str(path)))
    return tuple(out)


def validate_file(path: str | Path) -> list[str]:
    """Every problem in a protocol file, as printable lines (empty when valid)."""
    try:
        _load(Path(path).resolve(), ())
    except ProtocolError as err:
        return [p.render(err.file) for p in err.problems]
    return []


# --------------------------------------------------------------------- loading

def _load(path: Path, overrides: tuple[tuple[str, str], ...]) -> Protocol:
    file = _display_path(path)
    data, lines = _read(path, file)
    problems: list[Problem] = []

    def located(found: list[Problem]) -> list[Problem]:
        return sorted((Problem(p.path, p.message, p.line or _line_of(p.path, lines)) for p in found),
                      key=lambda p: (p.line or 0, json_path(p.path)))

    problems += list(_schema_problems(data))
    if not problems:
        problems += list(_cross_check(data, dict(overrides)))
        if path.parent == DATA_DIR and data.get("id") != path.stem:
            problems.append(Problem(("id",), f"id '{data.get('id')}' must match the file name '{path.stem}'"))
    if problems:
        raise ProtocolError(file, located(problems))
    return _Builder(data, str(path), dict(overrides)).protocol()


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read(path: Path, file: str) -> tuple[dict[str, Any], dict[JsonPath, int]]:
    """Parse YAML (with line numbers) or JSON; keys are normalised to strings."""
    text = path.read_text(encoding="utf-8")
    lines: dict[JsonPath, int] = {(): 1}
    problems: list[Problem] = []
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ProtocolError(file, [Problem((), f"invalid JSON: {err.msg}", err.lineno)]) from None
    else:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _index_yaml(node, (), lines, problems, 0)
            data = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else None
            raise ProtocolError(file, [Problem((), f"invalid YAML: {err.problem or err}", line)]) from None
        finally:
            loader.dispose()
    if not isinstance(data, dict):
        raise ProtocolError(file, [Problem((), "a protocol must be a mapping (id, title, version, ...)", 1)])
    if problems:
        raise ProtocolError(file, problems)
    return _string_keys(data), lines


def _index_yaml(node: yaml.Node, path: JsonPath, lines: dict[JsonPath, int], problems: list[Problem],
                depth: int) -> None:
    """Record the line of every key/item and catch duplicate keys (PyYAML silently keeps the last)."""
    if depth > 64:
        return
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault(path + (i,), item.start_mark.line + 1)
            _index_yaml(item, path + (i,), lines, problems, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        merges = []
        for key_node, value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.append(value)
                continue
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(path + (key,), f"duplicate key '{key}' (first on line {seen[key]})", line))
            seen[key] = line
            lines.setdefault(path + (key,), line)
            _index_yaml(value, path + (key,), lines, problems, depth + 1)
        for merged in merges:  # keys merged from an anchor point at the anchor's lines
            for target in (merged.value if isinstance(merged, yaml.SequenceNode) else [merged]):
                if isinstance(target, yaml.MappingNode):
                    _index_yaml(target, path, lines, [], depth + 1)


def _string_keys(value: Any) -> Any:
    """YAML reads ``2:`` as an int key; JSON Schema (and our paths) need strings."""
    if isinstance(value, dict):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


def _line_of(path: JsonPath, lines: dict[JsonPath, int]) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


_VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _schema_problems(data: Any) -> Iterator[Problem]:
    seen: set[tuple[JsonPath, str]] = set()
    for err in _VALIDATOR.iter_errors(data):
        for problem in _explain(err):
            if (problem.path, problem.message) not in seen:
                seen.add((problem.path, problem.message))
                yield problem


def _explain(err: jsonschema.ValidationError) -> Iterator[Problem]:
    """Turn a jsonschema error into messages that name the offending field."""
    path: JsonPath = tuple(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    if err.validator == "additionalProperties" and err.validator_value is False and isinstance(err.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        for key in err.instance:
            if key not in allowed and not any(re.search(p, key) for p in patterns):
                hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
                yield Problem(path + (key,), f"unknown field '{key}'{hint}")
    elif err.validator in ("oneOf", "anyOf") and "description" in schema:
        yield Problem(path, f"expected {schema['description']}")
    elif err.validator == "maxProperties" and "description" in schema:
        yield Problem(path, f"expected {schema['description']}; write each condition as its own list item")
    else:
        yield Problem(path, err.message)


# ---------------------------------------------------------------- cross-checks

def _cross_check(data: dict[str, Any], overrides: dict[str, str]) -> Iterator[Problem]:
    """Rules between fields that JSON Schema cannot state."""
    documents = {s["document"] for s in data["sources"]}
    drugs = data["drugs"]
    limits = data["settings"].get("repeatLimits", {})
    regimens = data.get("regimens", {})

    for path, value in _walk(data):
        if path and path[-1] == "source" and isinstance(value, dict) and value.get("document") not in documents:
            yield Problem(path + ("document",), f"'{value.get('document')}' is not one of the protocol's sources "
                                                f"({', '.join(sorted(documents))})")
        if path and path[-1] in DOSE_COUNTS and "drug" in value \
                and value["drug"] not in drugs:
            yield Problem(path + ("drug",), f"unknown drug '{value['drug']}' (drugs: {', '.join(sorted(drugs))})")

    for drug in limits:
        if drug not in drugs:
            yield Problem(("settings", "repeatLimits", drug), f"unknown drug '{drug}'")

    for name, choice in regimens.items():
        selected = overrides.get(name, choice["selected"])
        if selected not in choice["options"]:
            yield Problem(("regimens", name, "selected"),
                          f"'{selected}' is not an option (options: {', '.join(choice['options'])})")
        for key, option in choice["options"].items():
            yield from _check_dose(option["dose"], ("regimens", name, "options", key, "dose"))
    for name in overrides:
        if name not in regimens:
            yield Problem(("regimens",), f"no regimen choice named '{name}' to override")

    lists: list[tuple[JsonPath, list[dict[str, Any]], JsonPath | None]] = []
    sections: list[tuple[JsonPath, dict[str, Any]]] = [((), data)]
    sections += [(("pathways", name), pathway) for name, pathway in data.get("pathways", {}).items()]
    if "icans" in data:
        sections.append((("icans",), data["icans"]))
    for at, section in sections:
        lists.append((at + ("allGrades",), section.get("allGrades", []), None))
        for grade, rules in section["grades"].items():
            grade_path = at + ("grades", grade, "actions")
            lists.append((grade_path, rules["actions"], None))
            for i, action in enumerate(rules["actions"]):
                if "ifExhausted" in action:
                    lists.append((grade_path + (i, "ifExhausted", "actions"),
                                  action["ifExhausted"].get("actions", []), grade_path))
    by_path = {p: actions for p, actions, _ in lists}
    for path, actions, enclosing in lists:
        yield from _check_action_list(path, actions, by_path.get(enclosing, []) if enclosing else [],
                                      drugs, limits, regimens)
    medicated = {a["drug"] for _, actions, _ in lists for a in actions if a["kind"] == "medication"}
    yield from _check_order_checks(data["orderChecks"], drugs, limits, medicated,
                                   [w["id"] for w in data["warnings"]])


def _walk(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, path + (i,))


def _check_action_list(path: JsonPath, actions: list[dict[str, Any]], enclosing: list[dict[str, Any]],
                       drugs: dict[str, Any], limits: dict[str, Any], regimens: dict[str, Any]) -> Iterator[Problem]:
    ids: dict[str, int] = {}
    for i, action in enumerate(actions):
        here = path + (i,)
        if action["id"] in ids:
            yield Problem(here + ("id",), f"duplicate action id '{action['id']}' (also item {ids[action['id']]})")
        ids[action["id"]] = i
        if action["kind"] != "medication":
            continue
        if action["drug"] not in drugs:
            yield Problem(here + ("drug",), f"unknown drug '{action['drug']}' (drugs: {', '.join(sorted(drugs))})")
        if "regimen" in action:
            if action["regimen"] not in regimens:
                yield Problem(here + ("regimen",), f"unknown regimen '{action['regimen']}'")
            for field_name in ("dose", "route", "frequency", "alternativeRoutes", "duration"):
                if field_name in action:
                    yield Problem(here + (field_name,), f"'{field_name}' comes from the regimen; remove it here")
        else:
            for field_name in ("dose", "route"):
                if field_name not in action:
                    yield Problem(here, f"a medication action needs '{field_name}' (or a 'regimen')")
            if "dose" in action:
                yield from _check_dose(action["dose"], here + ("dose",))
        if action.get("recommended") and action.get("recommendedWhen"):
            yield Problem(here + ("recommendedWhen",), "recommendedWhen only applies to recommended: false")
        if "ifExhausted" in action and not limits.get(action["drug"], {}).get("maxDosesSinceIndexTherapy"):
            yield Problem(here + ("ifExhausted",),
                          f"settings.repeatLimits.{action['drug']}.maxDosesSinceIndexTherapy is needed for ifExhausted")
    yield from _check_groups(path, actions, enclosing)


def _check_groups(path: JsonPath, actions: list[dict[str, Any]],
                  enclosing: list[dict[str, Any]]) -> Iterator[Problem]:
    """Mutually exclusive options: at least two members, at most one marked recommended."""
    members: dict[str, list[int]] = {}
    for i, action in enumerate(actions):
        if action.get("alternativeGroup"):
            members.setdefault(action["alternativeGroup"], []).append(i)
    outer = {a.get("alternativeGroup") for a in enclosing}
    for group, indexes in members.items():
        if len(indexes) < 2 and group not in outer:
            yield Problem(path + (indexes[0], "alternativeGroup"),
                          f"alternative group '{group}' has a single member; it needs at least two options")
        recommended = [i for i in indexes if actions[i].get("recommended")]
        if len(recommended) > 1:
            yield Problem(path + (recommended[1], "recommended"),
                          f"alternative group '{group}' has more than one recommended option "
                          f"(items {', '.join(map(str, recommended))})")


# Which optional fields each order check reads (the schema requires the ones it needs).
_CHECK_FIELDS = {"dose": {"tolerancePercent"}, "regimen-for-grade": {"tolerancePercent", "reminders"},
                 "never-give": {"warning", "label"}, "repeat-limits": set(), "maximum-dose": set()}


def _check_order_checks(checks: list[dict[str, Any]], drugs: dict[str, Any], limits: dict[str, Any],
                        medicated: set[str],
                        warnings: list[str]) -> Iterator[Problem]:
    """Order checks name known drugs and warnings, carry only their own fields, and have what they check."""
    for i, check in enumerate(checks):
        here: JsonPath = ("orderChecks", i)
        kind, drug = check["check"], check.get("drug")
        for name in sorted(set(check) & (set().union(*_CHECK_FIELDS.values()) - _CHECK_FIELDS[kind])):
            yield Problem(here + (name,), f"'{name}' does not apply to a '{kind}' check")
        if drug is not None and drug not in drugs:
            yield Problem(here + ("drug",), f"unknown drug '{drug}' (drugs: {', '.join(sorted(drugs))})")
        elif drug is not None and kind == "repeat-limits" and drug not in limits:
            yield Problem(here + ("drug",), f"a repeat-limits check needs settings.repeatLimits.{drug}")
        elif drug is not None and kind in ("dose", "maximum-dose") and drug not in medicated:
            yield Problem(here + ("drug",), f"a {kind} check needs a medication action for '{drug}' "
                                            "(the protocol dose it checks against)")
        references: list[tuple[JsonPath, str]] = [(("warning",), check["warning"])] if "warning" in check else []
        references += [(("reminders", j), w) for j, w in enumerate(check.get("reminders", []))]
        for where, warning in references:
            if warning not in warnings:
                yield Problem(here + where, f"unknown warning '{warning}' (warnings: {', '.join(warnings)})")


def _check_dose(dose: dict[str, Any], path: JsonPath) -> Iterator[Problem]:
    bands = dose.get("weightBands", [])
    if bands and "mgPerKg" not in dose:
        yield Problem(path + ("weightBands",), "weightBands need a mgPerKg dose")
    limits = [b["belowKg"] for b in bands]
    if limits != sorted(set(limits)):
        yield Problem(path + ("weightBands",), "weightBands must be in increasing belowKg order, without repeats")
    if "unspecified" in dose and set(dose) - {"unspecified", "note"}:
        yield Problem(path, "an unspecified dose cannot have caps, bands or rounding")


# -------------------------------------------------------------------- building

def _dec(value: Any) -> Decimal:
    """Exact decimal of a YAML/JSON number: 29.9 stays 29.9 (not 29.899999...)."""
    return Decimal(str(value))


class _Builder:
    """Turns validated, cross-checked data into the frozen model."""

    def __init__(self, data: dict[str, Any], path: str, overrides: dict[str, str]):
        self.data = data
        self.path = path
        self.titles = {s["document"]: s["title"] for s in data["sources"]}
        self.urls = {s["document"]: s["url"] for s in data["sources"] if "url" in s}
        self.drugs = {key: Drug(key, d["display"], d["class"], d.get("rxnorm"))
                      for key, d in data["drugs"].items()}
        self.regimens = {name: self._regimen_choice(name, raw, overrides.get(name))
                         for name, raw in data.get("regimens", {}).items()}

    def protocol(self) -> Protocol:
        d = self.data
        settings = d["settings"]
        limits = {drug: RepeatLimits(
            drug=drug,
            min_interval_hours=_dec(raw["minIntervalHours"]) if "minIntervalHours" in raw else None,
            max_doses_per_24h=raw.get("maxDosesPer24h"),
            max_doses_since_index_therapy=raw.get("maxDosesSinceIndexTherapy"),
            source=self.citation(raw["source"]),
        ) for drug, raw in settings.get("repeatLimits", {}).items()}
        warnings = tuple(WarningRule(w["id"], w["text"], self.citation(w["source"]), self.conditions(w.get("when")),
                                     w.get("namesIndexTherapy", False), w.get("short"))
                         for w in d["warnings"])
        crs = self.section(d)
        return Protocol(
            id=d["id"], title=d["title"], version=d["version"], description=d.get("description"), url=d.get("url"),
            sources=tuple(SourceDocument(s["document"], s["title"], s.get("url")) for s in d["sources"]),
            settings=Settings(
                weight_max_age_days=settings["weightMaxAgeDays"],
                height_max_age_days=settings.get("heightMaxAgeDays", DEFAULT_HEIGHT_MAX_AGE_DAYS),
                running_window=timedelta(hours=float(_dec(settings["runningWindowHours"]))),
                anc_max_age=timedelta(hours=float(_dec(settings["ancMaxAgeHours"]))),
                repeat_limits=frozen_map(limits),
                **self.plausibility(settings),
            ),
            drugs=frozen_map(self.drugs),
            all_grades=crs.all_grades,
            grades=crs.grades,
            warnings=warnings,
            regimens=frozen_map(self.regimens),
            order_checks=tuple(self.order_check(c, {w.id: w for w in warnings}) for c in d["orderChecks"]),
            path=self.path,
            pathways=frozen_map({name: Pathway(name, self.citation(raw["source"]), self.section(raw),
                                               frozenset(raw.get("drugs", ())), raw.get("description"))
                                 for name, raw in d.get("pathways", {}).items()}),
            icans=self.icans(d["icans"]) if "icans" in d else None,
        )

    def plausibility(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Weight plausibility, stopped doses and the SpO2 target, where the file sets them."""
        out: dict[str, Any] = {}
        if "weightPlausibility" in settings:
            raw = settings["weightPlausibility"]
            out["weight_max_change_percent"] = _dec(raw["maxChangePercent"])
            out["weight_change_within"] = timedelta(days=float(_dec(raw["withinDays"])))
        if "countStoppedDoses" in settings:
            out["count_stopped_doses"] = settings["countStoppedDoses"]
        if "oxygenTarget" in settings:
            target = settings["oxygenTarget"]
            out["oxygen_target"] = OxygenTarget(_dec(target["spo2Percent"]), self.citation(target["source"]))
        return out

    def section(self, raw: dict[str, Any]) -> Section:
        return Section(self.actions(raw.get("allGrades", [])),
                       frozen_map({int(g): GradeRules(int(g), rules["title"], self.actions(rules["actions"]),
                                                      self.citation(rules["source"]) if "source" in rules else None)
                                   for g, rules in sorted(raw["grades"].items())}))

    def icans(self, raw: dict[str, Any]) -> IcansSection:
        concurrent = raw["concurrentCrs"]
        return IcansSection(self.citation(raw["source"]),
                            WarningRule("concurrent-crs", concurrent["text"], self.citation(concurrent["source"]),
                                        short=concurrent.get("short")),
                            self.section(raw), raw.get("description"))

    @staticmethod
    def order_check(raw: dict[str, Any], warnings: Mapping[str, WarningRule]) -> OrderCheck:
        target, finding = OrderTarget(raw.get("drug"), raw.get("drugClass")), raw["finding"]
        kind = raw["check"]
        if kind == "repeat-limits":
            return RepeatLimitsCheck(target, finding)
        if kind == "dose":
            return DoseCheck(target, finding, _dec(raw["tolerancePercent"]))
        if kind == "maximum-dose":
            return MaximumDoseCheck(target, finding)
        if kind == "never-give":
            return NeverGiveCheck(target, finding, warnings[raw["warning"]], raw["label"])
        return RegimenCheck(target, finding, _dec(raw["tolerancePercent"]),
                            tuple(warnings[w] for w in raw.get("reminders", [])))

    def citation(self, raw: dict[str, str]) -> Citation:
        document = raw["document"]
        return Citation(document, raw["section"], self.titles.get(document), self.urls.get(document))

    def conditions(self, raw: list[dict[str, Any]] | None) -> tuple[Condition, ...]:
        return tuple(self.condition(c) for c in raw or ())

    def condition(self, raw: dict[str, Any]) -> Condition:
        [(name, value)] = raw.items()
        if name in DOSE_COUNTS:
            return Condition(name, DoseCount(value["count"], value.get("drug"), value.get("drugClass")))
        if name == "any_of":
            return Condition(name, self.conditions(value))
        if isinstance(value, (bool, str)):
            return Condition(name, value)
        return Condition(name, _dec(value))

    def dose(self, raw: dict[str, Any]) -> DoseRule:
        basis: DoseBasis = "unspecified"
        amount: Decimal | None = None
        for key, unit in _DOSE_BASES:
            if key in raw:
                basis, amount = unit, _dec(raw[key])
                break
        rounding = raw.get("rounding")
        return DoseRule(
            basis=basis, amount=amount,
            max_mg_per_dose=_dec(raw["maxMgPerDose"]) if "maxMgPerDose" in raw else None,
            max_mg_per_day=_dec(raw["maxMgPerDay"]) if "maxMgPerDay" in raw else None,
            weight_bands=tuple(WeightBand(_dec(b["belowKg"]), _dec(b["mgPerKg"]),
                                          self.citation(b["source"]) if "source" in b else None)
                               for b in raw.get("weightBands", [])),
            rounding=Rounding(_dec(rounding["stepMg"]), rounding.get("mode", "nearest"), rounding.get("label"),
                              _dec(rounding["maxChangePercent"]) if "maxChangePercent" in rounding else None)
            if rounding else None,
            unspecified_reason=raw.get("unspecified"),
            note=raw.get("note"),
        )

    @staticmethod
    def frequency(raw: dict[str, Any] | None) -> Frequency | None:
        if raw is None:
            return None
        return Frequency(once=True) if raw.get("once") else Frequency(every_hours=_dec(raw["everyHours"]))

    def _regimen_choice(self, name: str, raw: dict[str, Any], override: str | None) -> RegimenChoice:
        options = {key: RegimenOption(
            key=key, label=o["label"], dose=self.dose(o["dose"]), route=o["route"], source=self.citation(o["source"]),
            frequency=self.frequency(o.get("frequency")), alternative_routes=tuple(o.get("alternativeRoutes", ())),
            duration=o.get("duration"), indication=o.get("indication"),
        ) for key, o in raw["options"].items()}
        return RegimenChoice(name, override or raw["selected"], frozen_map(options))

    def actions(self, raw: list[dict[str, Any]]) -> tuple[Action, ...]:
        return tuple(self.action(a) for a in raw)

    def action(self, raw: dict[str, Any]) -> Action:
        kind, source, when = raw["kind"], self.citation(raw["source"]), self.conditions(raw.get("when"))
        if kind == "service":
            return ServiceAction(raw["id"], raw["text"], source,
                                 codes=tuple(Code(c["system"], str(c["code"]), c["display"], c.get("label"))
                                             for c in raw.get("codes", [])),
                                 priority=raw.get("priority"), when=when, recommended=raw.get("recommended", True))
        if kind == "advice":
            return AdviceAction(raw["id"], raw["text"], source, when=when, first=raw.get("first", False))
        regimen = self.regimens[raw["regimen"]].chosen if "regimen" in raw else None
        exhausted = raw.get("ifExhausted")
        return MedicationAction(
            id=raw["id"], drug=self.drugs[raw["drug"]],
            dose=regimen.dose if regimen else self.dose(raw["dose"]),
            route=regimen.route if regimen else raw["route"],
            source=source,
            frequency=regimen.frequency if regimen else self.frequency(raw.get("frequency")),
            alternative_routes=regimen.alternative_routes if regimen else tuple(raw.get("alternativeRoutes", ())),
            duration=regimen.duration if regimen else raw.get("duration"),
            when=when,
            recommended=raw.get("recommended", False),
            recommended_when=self.conditions(raw.get("recommendedWhen")),
            alternative_group=raw.get("alternativeGroup"),
            note=raw.get("note"),
            regimen=regimen,
            if_exhausted=Escalation(exhausted["text"], self.actions(exhausted.get("actions", [])))
            if exhausted else None,
        )
