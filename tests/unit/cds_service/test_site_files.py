"""Site files a bad entry of which stops start-up with file:line and the problem: the issuers file's
client and token lifetime, the orderables map (issue 10, Bad input)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cds_service.cli import main
from cds_service.security import load_issuers
from cds_service.settings import ConfigError, Settings
from tests.support import apps
from tests.support.paths import EXAMPLES, TEST_DATA

PUBLIC_JWKS = json.loads((TEST_DATA / "ehr-jwks.json").read_text())
ISSUER = "  - iss: https://e.org\n    jwksFile: {jwks}\n    fhirServers: []\n"


def issuers_file(tmp_path: Path, extra: str) -> str:
    (tmp_path / "jwks.json").write_text(json.dumps(PUBLIC_JWKS))
    path = tmp_path / "issuers.yaml"
    path.write_text("# trusted EHRs\nissuers:\n" + ISSUER.format(jwks="jwks.json") + extra)
    return str(path)


@pytest.mark.parametrize("extra,line,problem", [
    ("    client: cerner\n", 6, "issuers[0].client: must be one of \"generic\", \"epic\", \"oracle-health\""),
    ("    maxTokenLifetimeSeconds: 7200\n", 6, "issuers[0].maxTokenLifetimeSeconds: must be at most 3600"),
    ("    maxTokenLifetimeSeconds: 30\n", 6, "issuers[0].maxTokenLifetimeSeconds: must be at least 60"),
])
def test_a_bad_client_or_lifetime_stops_start_up_with_file_and_line(tmp_path, extra, line, problem) -> None:
    path = issuers_file(tmp_path, extra)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"CRS_CDS_ISSUERS_FILE": path})
    assert f"CRS_CDS_ISSUERS_FILE: {path}:{line}: {problem}" in str(caught.value)


def test_client_and_lifetime_are_read_per_issuer(tmp_path) -> None:
    [issuer] = load_issuers(issuers_file(tmp_path, "    client: epic\n    maxTokenLifetimeSeconds: 600\n"),
                            production=False)
    assert (issuer.client, issuer.max_token_lifetime) == ("epic", 600)
    [default] = load_issuers(issuers_file(tmp_path, ""), production=False)
    assert (default.client, default.max_token_lifetime) == ("generic", 900)


def test_the_commented_epic_and_oracle_examples_load_once_uncommented(tmp_path) -> None:
    text = (EXAMPLES / "issuers.example.yaml").read_text()
    uncommented = re.sub(r"^  # ([- ] )", r"  \1", text, flags=re.MULTILINE)
    path = tmp_path / "issuers.yaml"
    path.write_text(uncommented)
    issuers = {i.iss: i for i in load_issuers(str(path), production=True)}
    assert issuers["https://cds-hooks.cerner.com"].client == "oracle-health"
    assert issuers["https://cds-hooks.cerner.com"].jku == ("https://authorization.cerner.com/jwk",)
    assert issuers["https://fhir.hospital.example.org/api/FHIR/R4"].client == "epic"
    assert issuers["https://ehr.hospital.example.org"].max_token_lifetime == 600


def test_crs_cds_client_is_checked() -> None:
    assert Settings.from_env({"CRS_CDS_CLIENT": "Epic"}).client == "epic"
    assert Settings.from_env({}).client is None
    with pytest.raises(ConfigError, match="CRS_CDS_CLIENT='cerner' must be one of generic, epic, oracle-health"):
        Settings.from_env({"CRS_CDS_CLIENT": "cerner"})


# --- the orderables map ---------------------------------------------------------------------------------

def orderables(tmp_path: Path, body: str, name: str = "orderables.yaml") -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


ENTRY = "  - action: {action}\n    client: epic\n    system: {system}\n    code: \"{code}\"\n"
PREF = "urn:com.epic.cdshooks.action.code.system.preference-list-item"
SET = "urn:com.epic.cdshooks.action.code.system.orderset-item"


@pytest.mark.parametrize("body,line,problem", [
    ("orderables:\n" + ENTRY.format(action="tocilzumab", system=PREF, code="1"), 2,
     "orderables[0].action: 'tocilzumab' is neither an orderable action id nor a drug of protocol astct-generic"),
    ("orderables:\n  - action: tocilizumab\n    client: epic\n    system: " + PREF + "\n", 2,
     "orderables[0].code: is a required property"),
    ("orderables:\n" + ENTRY.format(action="tocilizumab", system=PREF, code="1") + "    client: cerner\n", 3,
     "duplicate"),  # YAML keeps the last key: the schema sees client: cerner
    ("orderables:\n" + ENTRY.format(action="anakinra", system=SET, code="1"), 4,
     "orderables[0].system: an order set (orderset-item) orders services, not a medication"),
    ("orderables:\n" + ENTRY.format(action="crs-labs", system=PREF, code="1") + "    protocolCode: '1234-5'\n", 6,
     "orderables[0].protocolCode: '1234-5' is not one of the codes action 'crs-labs' orders"),
    ("orderables:\n" + ENTRY.format(action="icu-transfer", system=PREF, code="1") * 2, 6,
     "orderables[1].action: 'icu-transfer' is mapped twice for client epic (also entry 0)"),
    ("orderables:\n  - action: [unclosed\n", 3, "not valid YAML"),
])
def test_a_bad_orderables_file_stops_start_up_with_file_and_line(tmp_path, body, line, problem) -> None:
    path = orderables(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        apps.service(Settings(orderables_file=path))
    lines = [p for p in caught.value.problems if p.startswith(f"CRS_CDS_ORDERABLES_FILE: {path}:")]
    assert lines, caught.value.problems
    if problem != "duplicate":
        assert any(p.startswith(f"CRS_CDS_ORDERABLES_FILE: {path}:{line}:") and problem in p for p in lines), lines


def test_json_orderables_get_lines_too(tmp_path) -> None:
    body = json.dumps({"orderables": [{"action": "tocilizumab", "client": "epic", "system": PREF, "code": "1"},
                                      {"action": "nope", "client": "epic", "system": PREF, "code": "2"}]}, indent=2)
    path = orderables(tmp_path, body, "orderables.json")
    with pytest.raises(ConfigError) as caught:
        apps.service(Settings(orderables_file=path))
    [problem] = caught.value.problems
    assert problem.startswith(f"CRS_CDS_ORDERABLES_FILE: {path}:10: orderables[1].action: 'nope'")


def test_an_entry_for_the_paediatric_protocol_is_checked_against_it(tmp_path) -> None:
    """Every configured protocol's actions count: ``icans-anakinra`` (the paediatric protocol's only) is
    accepted when that protocol is configured, refused when it is not."""
    path = orderables(tmp_path, "orderables:\n" + ENTRY.format(action="icans-anakinra", system=PREF, code="1"))
    with pytest.raises(ConfigError, match="'icans-anakinra' is neither"):
        apps.service(Settings(orderables_file=path))
    service = apps.service(Settings(orderables_file=path, paediatric_protocol_id="paediatric-seed004"))
    assert service.hooks.orderables.find("epic", "icans-anakinra") is not None


def test_the_example_map_loads_and_start_up_says_how_much_is_mapped() -> None:
    service = apps.service(Settings(orderables_file=str(EXAMPLES / "orderables.example.yaml")))
    assert service.summary()["orderables"] == {"epic": "7 of 12 orderable actions mapped"}
    assert "orderables" not in {k for k, v in apps.service(Settings()).summary().items() if v is not None}


def test_orderables_check_lists_every_action_and_fails_while_one_is_unmapped(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CRS_CDS_ORDERABLES_FILE", str(EXAMPLES / "orderables.example.yaml"))
    assert main(["orderables", "check"]) == 1
    out = capsys.readouterr().out
    assert "protocol astct-generic v1.0.0, client epic: 7 of 12 orderable actions mapped" in out
    assert re.search(r"tocilizumab +medication tocilizumab IV +urn:com\.epic\.cdshooks\.action\.code\.system\."
                     r"preference-list-item\|40123 'TOCILIZUMAB IV INFUSION \(CRS\)'", out)
    assert re.search(r"echocardiogram +service 40701008 +UNMAPPED", out)
    every = tmp_path / "all.yaml"
    every.write_text("orderables:\n" + "".join(
        ENTRY.format(action=a, system=SET if a in ("crs-labs", "infection-workup") else PREF, code=str(i))
        for i, a in enumerate(["crs-labs", "infection-workup", "tocilizumab", "dexamethasone", "anakinra",
                               "methylprednisolone", "icu-transfer", "echocardiogram", "icu-with-crs"])))
    assert main(["orderables", "check", "--file", str(every)]) == 0
    assert main(["orderables", "check", "--file", str(every), "--client", "oracle-health"]) == 1
    bad = orderables(tmp_path, "orderables:\n" + ENTRY.format(action="nope", system=PREF, code="1"))
    capsys.readouterr()
    assert main(["orderables", "check", "--file", bad]) == 2
    assert f"{bad}:2: orderables[0].action" in capsys.readouterr().err
