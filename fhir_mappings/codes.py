"""Code lists: the JSON files in ``fhir_mappings/data`` turned into lookup tables.

Every LOINC, SNOMED CT, RxNorm and UCUM code the mapping understands lives in
those files (with where each code was checked), never in Python: a site adds
a local code or a brand name by editing data. The files are validated against
``code-lists.schema.json`` and cross-checked (no code claimed twice, every
quantity has units, categories equal the model's Literals) when loaded, so a
bad edit fails at start-up with the file and the path, not in a request.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import jsonschema

from clinical import DrugClass, OxygenDevice
from clinical.snapshot import IndexClass

from .names import NameMatcher, normalise

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMA_FILE = "code-lists.schema.json"
FILES = {
    "observations": "observations.json",
    "units": "units.json",
    "oxygen_devices": "oxygen_devices.json",
    "medications": "medications.json",
    "neuro": "neuro.json",
}

# Observation roles the Python code handles itself; everything under
# "measurements" in observations.json becomes a Measurement of that kind.
TEMPERATURE = "temperature"
BP_PANEL = "blood-pressure-panel"
SYSTOLIC = "systolic"
DIASTOLIC = "diastolic"
MEAN_ARTERIAL_PRESSURE = "mean-arterial-pressure"
SPO2 = "spo2"
OXYGEN_FLOW = "oxygen-flow"
OXYGEN_CONCENTRATION = "oxygen-concentration"
OXYGEN_DELIVERY_METHOD = "oxygen-delivery-method"
VITAL_ROLES = (TEMPERATURE, BP_PANEL, SYSTOLIC, DIASTOLIC, MEAN_ARTERIAL_PRESSURE, SPO2,
               OXYGEN_FLOW, OXYGEN_CONCENTRATION, OXYGEN_DELIVERY_METHOD)
# Roles whose value is a number with a unit (the panel and the method are not).
QUANTITY_ROLES = tuple(r for r in VITAL_ROLES if r not in (BP_PANEL, OXYGEN_DELIVERY_METHOD))

# ICANS concepts the Python code handles (fhir_mappings/neuro.py); neuro.json defines each one.
ICE_SCORE = "ice-score"
CAPD_SCORE = "capd-score"
ICE_ITEMS = {"ice-orientation": "orientation", "ice-naming": "naming", "ice-commands": "commands",
             "ice-writing": "writing", "ice-attention": "attention"}
CONSCIOUSNESS = "consciousness-level"
SEIZURE = "seizure"
SEIZURE_DURATION = "seizure-duration"
MOTOR = "motor-weakness"
OEDEMA = "cerebral-oedema"
ATTRIBUTION = "icans-attribution"
NEURO_CONCEPTS = (ICE_SCORE, CAPD_SCORE, *ICE_ITEMS, CONSCIOUSNESS, SEIZURE, SEIZURE_DURATION, MOTOR, OEDEMA,
                  ATTRIBUTION)
# Prefixes of the site-local concept ids for the other code lists: "device:nasal-cannula",
# "drug:norepinephrine", "route:IV" (observation roles and ICANS concepts are named as they are).
DEVICE_PREFIX, DRUG_PREFIX, ROUTE_PREFIX = "device:", "drug:", "route:"


class CodeListError(ValueError):
    """A data file is missing, not JSON, or fails its schema or cross-checks."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """value_out = (value + add_before) * multiply / divide."""

    add_before: float = 0.0
    multiply: float = 1.0
    divide: float = 1.0


@dataclass(frozen=True, slots=True)
class QuantityKind:
    """Accepted UCUM units of one quantity and how to reach the target unit.

    ``units`` maps a UCUM code to its Conversion, or to None when the code
    already is the target (the value is then used as recorded, unrounded).
    """

    target: str
    decimals: int
    plausible: tuple[float, float] | None
    accept_unit_text: bool
    units: dict[str, Conversion | None]


@dataclass(frozen=True, slots=True)
class Drug:
    key: str
    drug_class: DrugClass
    unless: NameMatcher[None] | None  # names that void a name match (e.g. "lidocaine")
    index_class: IndexClass | None = None  # index therapies: CAR-T cells or a T-cell engager


Answer = str | int


@dataclass(frozen=True, slots=True)
class NeuroConcept:
    """An ICANS concept: a score within ``low``..``high``, a coded finding, or a quantity (a component)."""

    kind: Literal["score", "coded", "quantity"]
    low: int | None = None
    high: int | None = None
    values: frozenset[str] = frozenset()

    def allows(self, value: Answer) -> bool:
        """Whether an answer map may give this value (a score's integer within range, or a listed value)."""
        if isinstance(value, int) and self.kind == "score":
            return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)
        return isinstance(value, str) and value in self.values


@dataclass(frozen=True, slots=True)
class NeuroCode:
    """A code of an ICANS concept: what the code means by itself (``value``) and what its answers mean."""

    concept: str
    display: str | None = None
    value: Answer | None = None
    answers: Mapping[str, Answer] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class LocalCode:
    """One entry of a site-local codes file; ``where`` is its file and line, for error messages."""

    concept: str
    system: str
    code: str
    where: str
    display: str | None = None
    value: Answer | None = None
    answers: Mapping[str, Answer] = field(default_factory=lambda: MappingProxyType({}))


SystemCode = tuple[str, str]


@dataclass(frozen=True, slots=True)
class CodeLists:
    """Lookup tables built once from the data files (see ``load_code_lists``)."""

    loinc_systems: frozenset[str]
    observation_role: dict[str, str]  # LOINC code -> vital role or measurement kind
    observation_accept_status: frozenset[str]
    ucum_systems: frozenset[str]
    unit_text_aliases: dict[str, str]
    quantities: dict[str, QuantityKind]  # role or measurement kind -> units
    dose_mass: QuantityKind
    device_systems: frozenset[str]
    device_by_code: dict[str, OxygenDevice]
    device_names: NameMatcher[OxygenDevice]
    device_precedence: dict[str, int]  # smaller = more support, wins ties
    rxnorm_systems: frozenset[str]
    snomed_systems: frozenset[str]
    administration_exclude_status: frozenset[str]
    drug_by_code: dict[str, tuple[Drug, str]]  # RxNorm code -> (drug, code)
    drug_names: NameMatcher[Drug]
    drugs: dict[str, Drug]  # by key
    route_by_code: dict[str, str]
    route_names: NameMatcher[str]
    neuro_concepts: dict[str, NeuroConcept]
    neuro_codes: dict[SystemCode, NeuroCode]  # (system, code) -> ICANS concept, shipped and site-local
    # Site-local codes of the other lists, by (system, code): observation roles, devices, drugs, routes.
    local_roles: dict[SystemCode, str]
    local_devices: dict[SystemCode, OxygenDevice]
    local_drugs: dict[SystemCode, tuple[Drug, str]]
    local_routes: dict[SystemCode, str]
    # code -> ((system, kind, value), ...) over the three tables above that name Observations (LOINC
    # roles, site-local roles, ICANS concepts): one dictionary lookup per coding (``find_observation_code``).
    observation_index: dict[str, tuple[tuple[str, int, Any], ...]] = field(default_factory=dict)

    def observation_codings(self) -> tuple[SystemCode, ...]:
        """(system, code) of every Observation code read outside the LOINC role lists: ICANS concepts and
        site-local rows (for the prefetch templates)."""
        return tuple(dict.fromkeys([*self.neuro_codes, *self.local_roles]))


def load_code_lists(path: Path | None = None, *, local: Iterable[LocalCode] = ()) -> CodeLists:
    """Load and validate the code lists from ``path`` (a folder; default: the package data), with a
    site's ``local`` codes (``load_local_codes``) added to them.

    The composition root calls this once at start-up; nothing reloads it per request.
    """
    folder = Path(path).resolve() if path is not None else DATA_DIR
    raw = {key: _read_json(folder / name) for key, name in FILES.items()}
    schema = _read_json(_schema_path(folder))
    _validate(schema, raw)
    codes = _build(raw)
    _add_local(codes, tuple(local))
    codes.observation_index.update(_observation_index(codes))
    return codes


# What an Observation code names, by precedence: a LOINC role of the lists, a site-local role, an ICANS concept.
LOINC_ROLE, LOCAL_ROLE, NEURO_CONCEPT = 0, 1, 2


def _observation_index(codes: CodeLists) -> dict[str, tuple[tuple[str, int, Any], ...]]:
    index: dict[str, list[tuple[str, int, Any]]] = {}
    for code, role in codes.observation_role.items():
        for system in sorted(codes.loinc_systems):
            index.setdefault(code, []).append((system, LOINC_ROLE, role))
    for kind, table in ((LOCAL_ROLE, codes.local_roles), (NEURO_CONCEPT, codes.neuro_codes)):
        for (system, code), value in table.items():
            index.setdefault(code, []).append((system, kind, value))
    return {code: tuple(entries) for code, entries in index.items()}


def _schema_path(folder: Path) -> Path:
    candidate = folder / SCHEMA_FILE
    return candidate if candidate.exists() else DATA_DIR / SCHEMA_FILE


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CodeListError(f"{path}: file not found") from exc
    except (OSError, ValueError) as exc:
        raise CodeListError(f"{path}: not readable JSON ({exc})") from exc


def _validate(schema: dict[str, Any], raw: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        for err in errors[:10]:
            where = list(err.absolute_path)
            file = FILES.get(str(where[0]), "?") if where else "?"
            inner = "/".join(map(str, where[1:])) or "(top level)"
            lines.append(f"{file} at {inner}: {err.message}")
        raise CodeListError("invalid code lists:\n  " + "\n  ".join(lines))


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise CodeListError(message)


def _check_unique_names(file: str, names: list[str]) -> None:
    """Names must stay distinct after normalisation, or a text would match two entries."""
    seen: dict[str, str] = {}
    for name in names:
        key = normalise(name)
        _check(key not in seen, f"{file}: names {seen.get(key)!r} and {name!r} are the same once normalised")
        seen[key] = name


def _quantity(spec: dict[str, Any]) -> QuantityKind:
    units: dict[str, Conversion | None] = {}
    for code, conv in spec["units"].items():
        units[code] = None if not conv else Conversion(
            float(conv.get("add_before", 0.0)), float(conv.get("multiply", 1.0)), float(conv.get("divide", 1.0)))
    _check(units.get(spec["target"], "missing") is None,
           f"units.json: target {spec['target']!r} must be listed with no conversion")
    bounds = spec.get("plausible")
    return QuantityKind(spec["target"], spec["decimals"], (float(bounds[0]), float(bounds[1])) if bounds else None,
                        spec.get("accept_unit_text", False), units)


def _build(raw: dict[str, Any]) -> CodeLists:
    obs, units, devices, meds = raw["observations"], raw["units"], raw["oxygen_devices"], raw["medications"]

    role_by_code: dict[str, str] = {}
    roles = {**obs["vitals"], **obs["measurements"]}
    _check(not set(obs["vitals"]) & set(obs["measurements"]),
           "observations.json: a measurement kind reuses a vital role name")
    for role, entries in roles.items():
        for entry in entries:
            code = entry["code"]
            _check(code not in role_by_code,
                   f"observations.json: LOINC {code} listed under {role_by_code.get(code)!r} and {role!r}")
            role_by_code[code] = role

    quantities = {kind: _quantity(spec) for kind, spec in units["kinds"].items() if kind != "_comment"}
    for role in (*QUANTITY_ROLES, *obs["measurements"]):
        _check(role in quantities, f"units.json: no units for {role!r}")

    device_by_code: dict[str, OxygenDevice] = {}
    device_name_entries: list[tuple[str, OxygenDevice]] = []
    precedence: dict[str, int] = {}
    for rank, category in enumerate(devices["categories"]):
        device = category["device"]
        _check(device not in precedence, f"oxygen_devices.json: category {device!r} listed twice")
        precedence[device] = rank
        for entry in category["codes"]:
            _check(entry["code"] not in device_by_code,
                   f"oxygen_devices.json: SNOMED {entry['code']} listed twice")
            device_by_code[entry["code"]] = device
        device_name_entries += [(name, device) for name in category["names"]]
    _check(set(precedence) <= set(get_args(OxygenDevice)),
           "oxygen_devices.json: categories differ from model.OxygenDevice")
    _check_unique_names("oxygen_devices.json", [n for n, _ in device_name_entries])

    drug_by_code: dict[str, tuple[Drug, str]] = {}
    drug_name_entries: list[tuple[str, Drug]] = []
    seen_keys: set[str] = set()
    drugs: dict[str, Drug] = {}
    classes = set(get_args(DrugClass))
    for spec in meds["drugs"]:
        key = spec["drug"]
        _check(key not in seen_keys, f"medications.json: drug {key!r} listed twice")
        _check(spec["class"] in classes, f"medications.json: class {spec['class']!r} not in model.DrugClass")
        seen_keys.add(key)
        unless = spec.get("unless_names") or []
        drug = Drug(key, spec["class"], NameMatcher((n, None) for n in unless) if unless else None,
                    spec.get("indexClass"))
        drugs[key] = drug
        for entry in spec["rxnorm"]:
            _check(entry["code"] not in drug_by_code, f"medications.json: RxNorm {entry['code']} listed twice")
            drug_by_code[entry["code"]] = (drug, entry["code"])
        drug_name_entries += [(name, drug) for name in (*spec["names"], *spec["brands"])]
    _check_unique_names("medications.json", [n for n, _ in drug_name_entries])

    route_by_code: dict[str, str] = {}
    route_name_entries: list[tuple[str, str]] = []
    for spec in meds["routes"]:
        for entry in spec["codes"]:
            route_by_code[entry["code"]] = spec["route"]
        route_name_entries += [(name, spec["route"]) for name in spec["names"]]

    concepts = {name: NeuroConcept(spec["kind"], spec.get("min"), spec.get("max"), frozenset(spec.get("values", ())))
                for name, spec in raw["neuro"]["concepts"].items()}
    _check(set(concepts) == set(NEURO_CONCEPTS), "neuro.json: concepts differ from the ICANS concepts the code "
                                                 f"handles ({', '.join(NEURO_CONCEPTS)})")
    systems = _system_groups(obs["systems"], devices["systems"], meds["systems"]["rxnorm"], meds["systems"]["snomed"])
    neuro_codes: dict[SystemCode, NeuroCode] = {}
    for entry in raw["neuro"]["codes"]:
        where = f"neuro.json: {entry['concept']} {entry['system']}|{entry['code']}"
        code = _neuro_code(entry, concepts, where)
        for system in systems.get(entry["system"], (entry["system"],)):
            _check((system, entry["code"]) not in neuro_codes, f"{where}: listed twice")
            neuro_codes[(system, entry["code"])] = code

    return CodeLists(
        loinc_systems=frozenset(obs["systems"]),
        observation_role=role_by_code,
        observation_accept_status=frozenset(obs["status"]["accept"]),
        ucum_systems=frozenset(units["ucum_systems"]),
        unit_text_aliases=dict(units["unit_text_aliases"]),
        quantities=quantities,
        dose_mass=_quantity({**units["dose_mass"], "accept_unit_text": True}),
        device_systems=frozenset(devices["systems"]),
        device_by_code=device_by_code,
        device_names=NameMatcher(device_name_entries),
        device_precedence=precedence,
        rxnorm_systems=frozenset(meds["systems"]["rxnorm"]),
        snomed_systems=frozenset(meds["systems"]["snomed"]),
        administration_exclude_status=frozenset(meds["status"]["exclude"]),
        drug_by_code=drug_by_code,
        drug_names=NameMatcher(drug_name_entries),
        drugs=drugs,
        route_by_code=route_by_code,
        route_names=NameMatcher(route_name_entries),
        neuro_concepts=concepts,
        neuro_codes=neuro_codes,
        local_roles={}, local_devices={}, local_drugs={}, local_routes={},
    )


def _system_groups(*groups: list[str]) -> dict[str, tuple[str, ...]]:
    """Each known system URI -> every URI of the same code system (``http://snomed.info/sct`` and its OID)."""
    return {system: tuple(group) for group in groups for system in group}


def _neuro_code(entry: Mapping[str, Any], concepts: Mapping[str, NeuroConcept], where: str) -> NeuroCode:
    """A NeuroCode whose concept exists and whose value and answers the concept allows."""
    concept = concepts.get(entry["concept"])
    _check(concept is not None, f"{where}: concept: unknown ICANS concept {entry['concept']!r}")
    assert concept is not None
    answers = dict(entry.get("answers") or {})
    given_values = [*((("value", entry["value"]),) if "value" in entry else ()),
                    *((f"answers[{answer!r}]", value) for answer, value in answers.items())]
    for given, value in given_values:
        _check(concept.allows(value), f"{where}: {given}: {value!r} is not a value of {entry['concept']} "
                                      f"({_allowed(concept)})")
    return NeuroCode(entry["concept"], entry.get("display"), entry.get("value"), MappingProxyType(answers))


def _allowed(concept: NeuroConcept) -> str:
    if concept.kind == "score":
        extra = f" or {', '.join(sorted(concept.values))}" if concept.values else ""
        return f"an integer {concept.low}-{concept.high}{extra}"
    if concept.kind == "quantity":
        return "a quantity takes no value or answers"
    return "one of " + ", ".join(sorted(concept.values))


def _add_local(codes: CodeLists, local: tuple[LocalCode, ...]) -> None:
    """Register a site's codes beside the shipped ones; every problem names the file and line."""
    if not local:
        return
    systems = _system_groups(sorted(codes.loinc_systems), sorted(codes.device_systems),
                             sorted(codes.rxnorm_systems), sorted(codes.snomed_systems))
    roles = set(codes.quantities) | set(VITAL_ROLES)
    drugs = codes.drugs
    routes = set(codes.route_by_code.values())
    for entry in local:
        concept = entry.concept
        keys = [(system, entry.code) for system in systems.get(entry.system, (entry.system,))]
        if concept in codes.neuro_concepts:
            value = _neuro_code({"concept": concept, "system": entry.system, "code": entry.code,
                                 "display": entry.display,
                                 **({"value": entry.value} if entry.value is not None else {}),
                                 "answers": dict(entry.answers)}, codes.neuro_concepts, entry.where)
            _register(codes.neuro_codes, keys, value, entry)
        elif entry.value is not None or entry.answers:
            raise CodeListError(f"{entry.where}: concept {concept!r} takes no value or answers (only the ICANS "
                                "concepts do)")
        elif concept in roles:
            _register(codes.local_roles, keys, concept, entry)
        elif concept.startswith(DEVICE_PREFIX) and concept[len(DEVICE_PREFIX):] in codes.device_precedence:
            _register(codes.local_devices, keys, concept[len(DEVICE_PREFIX):], entry)  # type: ignore[arg-type]
        elif concept.startswith(DRUG_PREFIX) and concept[len(DRUG_PREFIX):] in drugs:
            _register(codes.local_drugs, keys, (drugs[concept[len(DRUG_PREFIX):]], entry.code), entry)
        elif concept.startswith(ROUTE_PREFIX) and concept[len(ROUTE_PREFIX):] in routes:
            _register(codes.local_routes, keys, concept[len(ROUTE_PREFIX):], entry)
        else:
            raise CodeListError(f"{entry.where}: concept: unknown concept {concept!r} (see README, "
                                "'Site-local codes', for the concept ids)")


def _register(table: dict[SystemCode, Any], keys: list[SystemCode], value: Any, entry: LocalCode) -> None:
    for key in keys:
        known = table.get(key)
        if known is not None and known != value:
            raise CodeListError(f"{entry.where}: {entry.system}|{entry.code} is already listed for another "
                                "concept")
        table[key] = value
