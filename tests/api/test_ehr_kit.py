"""The EHR-shaped test kit (examples/ehr) replayed as the EHRs would send it: production mode, an issuers
file per profile, real JWTs signed with local keys (Epic: RS384, ``jku``, ``nbf`` 5 minutes before ``iat``,
a 15-minute lifetime), and every profile rule checked on every card."""
from __future__ import annotations

import importlib.util
import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from cds_service.feedback import SqlFeedbackStore
from cds_service.security import JwksDocument
from cds_service.security.dev_issuer import DevIssuer, TokenRequest, create, token
from cds_service.settings import Settings
from tests.support import apps
from tests.support.card_checks import UCUM_CODES, texts
from tests.support.paths import EXAMPLES
from tests.support.profile_checks import check_profile

KIT = EXAMPLES / "ehr"
EXPECTED: dict[str, dict[str, Any]] = json.loads((KIT / "expected.json").read_text())
PUBLIC = "https://cds.hospital.example.org"
EPIC_BASE = "https://fhir.epic-hospital.example.org/api/FHIR/R4"
EPIC_JKU = "https://fhir.epic-hospital.example.org/api/epic/2019/Security/Open/PublicKeys/530013/530013"
ORACLE_ISS = "https://cds-hooks.cerner.com"
ORACLE_BASE = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d"
REQUESTS = [name for name, outcome in EXPECTED.items() if "service" in outcome]
FEEDBACK = [name for name, outcome in EXPECTED.items() if "stored" in outcome]


@dataclass
class Ehr:
    """One EHR as the service in production sees it: its signing key, its issuers file, the service."""

    client: str
    issuer: DevIssuer
    api: FlaskClient
    store: SqlFeedbackStore
    jku: str | None = None

    def post(self, path: str, body: Any, **request: Any) -> Any:
        tok = token(self.issuer, TokenRequest(PUBLIC + path, self.client, jku=self.jku, **request))
        return self.api.post(path, json=body, headers={"Authorization": f"Bearer {tok}"})


def epic(folder: Path, **settings: Any) -> Ehr:
    """Epic: an RS384 key published at an allowlisted ``jku`` (fetched as the service would), client epic."""
    issuer = create(folder, iss=EPIC_BASE, key_type="rsa", client="epic", fhir_servers=(EPIC_BASE,))
    jwks = json.loads((folder / "jwks.json").read_text())
    issuers = folder / "issuers-jku.yaml"
    issuers.write_text(yaml.safe_dump({"issuers": [{"iss": EPIC_BASE, "client": "epic", "jku": [EPIC_JKU],
                                                    "fhirServers": [EPIC_BASE]}]}))

    def fetch(url: str) -> JwksDocument:
        assert url == EPIC_JKU
        return JwksDocument(jwks)

    return _ehr("epic", issuer, issuers, EPIC_JKU, jwks_fetch=fetch, **settings)


def oracle(folder: Path) -> Ehr:
    """Oracle Health: iss https://cds-hooks.cerner.com, client oracle-health (the dev-issuer's issuers file)."""
    issuer = create(folder, iss=ORACLE_ISS, key_type="rsa", client="oracle-health", fhir_servers=(ORACLE_BASE,))
    return _ehr("oracle-health", issuer, issuer.issuers_file, None)


def _ehr(client: str, issuer: DevIssuer, issuers: Path, jku: str | None, **fakes: Any) -> Ehr:
    settings = Settings.from_env({"CRS_CDS_ENV": "production", "CRS_CDS_ISSUERS_FILE": str(issuers),
                                  "CRS_CDS_PUBLIC_BASE_URL": PUBLIC, "CRS_CDS_WORKERS": "1"})
    store = SqlFeedbackStore.from_url(":memory:")
    return Ehr(client, issuer, apps.client(settings, feedback_store=store, **fakes), store, jku)


@pytest.fixture(scope="module")
def ehrs(tmp_path_factory) -> dict[str, Ehr]:
    return {"epic": epic(tmp_path_factory.mktemp("epic")), "oracle-health": oracle(tmp_path_factory.mktemp("oracle"))}


def kit_file(name: str) -> dict[str, Any]:
    return json.loads((KIT / name).read_text())


def test_every_kit_file_has_an_expected_outcome() -> None:
    files = sorted(str(p.relative_to(KIT)) for p in KIT.rglob("*.json") if p.name != "expected.json")
    assert files == sorted(EXPECTED)


def test_the_kit_is_what_its_generator_writes() -> None:
    """The committed files must not drift from examples/ehr/make_kit.py."""
    spec = importlib.util.spec_from_file_location("make_kit", KIT / "make_kit.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    assert module.EXPECTED == EXPECTED
    for name, body in module.kit().items():
        assert kit_file(f"{name}.json") == body, f"{name}.json is stale: run examples/ehr/make_kit.py"


@pytest.mark.parametrize("name", REQUESTS)
def test_every_request_replays_in_production_under_its_profile(ehrs, name, caplog) -> None:
    client = name.split("/")[0]
    expected = EXPECTED[name]
    body = kit_file(name)
    with caplog.at_level(logging.INFO, logger="crs_cds.request"):
        resp = ehrs[client].post(f"/cds-services/{expected['service']}", body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    cards = resp.get_json()["cards"]
    assert [c["extension"].get("crs-cds.order-check", {}).get("kind") or
            ("crs-protocol-options" if "crs-cds.alternatives" in c["extension"] else "crs-assessment")
            for c in cards] == expected["cards"]
    for card in cards:
        check_profile(client, card)
        for text in texts(card):  # the order as the EHR sent it, in units as people write them ("250 µg")
            assert not UCUM_CODES.search(text), text
    if "grade" in expected:
        assert cards[0]["extension"]["crs-cds.assessment"]["grade"] == expected["grade"]
    [line] = [json.loads(r.getMessage()) for r in caplog.records if '"event":"request"' in r.getMessage()]
    assert line["client"] == client and line["issuer"] == (EPIC_BASE if client == "epic" else ORACLE_ISS)
    trigger = body.get("extension", {}).get("com.epic.cdshooks.request.bpa-trigger-action")
    assert line.get("epicTrigger") == trigger


def test_epic_topic_codes_are_stable_for_the_same_content_and_change_with_it(ehrs) -> None:
    body = kit_file("epic/patient-view.json")
    first, again = ([c["source"]["topic"]["code"] for c in ehrs["epic"].post("/cds-services/crs-patient-view", body)
                     .get_json()["cards"]] for _ in range(2))
    assert first == again and len(set(first)) == len(first)
    lower = json.loads(json.dumps(body).replace('"systolic", "value": 84', '"systolic", "value": 118'))
    lower["prefetch"]["medicationAdministrations"]["entry"] = [
        e for e in lower["prefetch"]["medicationAdministrations"]["entry"] if "ne-1" not in e["fullUrl"]]
    cards = ehrs["epic"].post("/cds-services/crs-patient-view", lower).get_json()["cards"]
    assert cards[0]["extension"]["crs-cds.assessment"]["grade"] == 2
    assert cards[0]["source"]["topic"]["code"] != first[0]


def test_epic_offers_every_order_the_generic_profile_offers() -> None:
    """Nothing is lost: the same call under the generic profile and Epic's offers the same orders (a panel as
    one suggestion per order, a correction as cancel + create)."""
    def offered(client: str, name: str, service: str) -> set[tuple[Any, ...]]:
        cards = apps.client(Settings(client=client)).post(service, json=kit_file(name)).get_json()["cards"]
        out: set[tuple[Any, ...]] = set()
        for s in (s for card in cards for s in card.get("suggestions", [])):
            order = s.get("extension", {}).get("crs-cds.order") or {}
            for a in s["actions"]:
                if a["type"] == "delete":
                    out.add(("cancel", a["resourceId"]))
                elif "drug" in order:
                    out.add(("order", order["drug"], order["doseMg"], order["everyHours"]))
                else:
                    out.add(("order", a["resource"]["code"]["coding"][-1]["code"]))
        return out

    for name, service in (("epic/patient-view.json", "/cds-services/crs-patient-view"),
                          ("epic/order-sign.json", "/cds-services/crs-order-sign")):
        generic, epic_orders = offered("generic", name, service), offered("epic", name, service)
        assert generic and generic <= epic_orders, (name, generic - epic_orders)


def test_epic_feedback_is_stored_item_by_item_with_its_reasons(ehrs, caplog) -> None:
    ehr = ehrs["epic"]
    for name in FEEDBACK:
        with caplog.at_level(logging.INFO, logger="crs_cds.request"):
            resp = ehr.post("/cds-services/crs-patient-view/feedback", kit_file(name))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.get_json()["stored"] == EXPECTED[name]["stored"], name
    lines = [json.loads(r.getMessage()) for r in caplog.records if '"event":"request"' in r.getMessage()]
    assert {line["client"] for line in lines} == {"epic"}
    for name in FEEDBACK:  # a batch sent again stores nothing new
        assert ehr.post("/cds-services/crs-patient-view/feedback", kit_file(name)).get_json()["stored"] == 0
    report = ehr.store.report()  # the kit's card uuids stand for an answer's: stored, flagged as never issued
    assert (report.unknown_accepted, report.unknown_overridden) == (1, 4)


def test_epic_override_reasons_are_grouped_in_the_report(ehrs) -> None:
    """Epic's reasons, on cards the service issued: a coded reason by its display, Epic's own by display and
    category."""
    ehr = ehrs["epic"]
    cards = ehr.post("/cds-services/crs-order-sign", kit_file("epic/order-sign.json")).get_json()["cards"]
    coded, built = kit_file("epic/feedback-override-reason.json"), kit_file("epic/feedback-override-extension.json")
    body = {"feedback": [{**coded["feedback"][0], "card": cards[0]["uuid"]},
                         {**built["feedback"][0], "card": cards[1]["uuid"]}]}
    assert ehr.post("/cds-services/crs-order-sign/feedback", body).get_json()["stored"] == 2
    reasons = {r.card_kind: dict(r.override_reasons) for r in ehr.store.report().kinds}
    assert reasons["steroid-regimen"] == {"Clinical judgement: dose intended": 1}
    assert reasons["gm-csf"] == {"Does not meet criteria (Epic reason 45)": 1}


@pytest.mark.parametrize("jku,request_change,status", [
    (EPIC_JKU, {}, 200),  # Epic's own shape: RS384, jku, nbf = iat - 300, exp = iat + 900
    (EPIC_JKU, {"lifetime_seconds": 901}, 401),  # the issuer's maxTokenLifetimeSeconds defaults to 900
    (EPIC_JKU, {"extra_claims": {"nbf": "more than 5 minutes before iat"}}, 401),
    ("https://evil.example.org/jwks", {}, 401),  # a jku not on the issuer's allowlist
    (None, {}, 200),  # no jku in the header: the keys of the issuer's allowlisted jku are used
])
def test_epic_tokens(tmp_path, jku, request_change, status) -> None:
    ehr = replace(epic(tmp_path), jku=jku)
    if "nbf" in request_change.get("extra_claims", {}):
        now = int(time.time())
        request_change = {"extra_claims": {"iat": now, "nbf": now - 300 - 31}}
    body = kit_file("epic/patient-view.json")
    assert ehr.post("/cds-services/crs-patient-view", body, **request_change).status_code == status
