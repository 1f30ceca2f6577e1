"""Trust configuration: production refuses to start without it, and a bad issuers file names its problem."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service.bootstrap import bootstrap
from cds_service.ehr.guard import normalise_base
from cds_service.http import create_app
from cds_service.security.issuers import SANDBOX_ISS
from cds_service.settings import ConfigError, SecuritySettings, Settings
from tests.support.paths import EXAMPLES, TEST_DATA

DATA = TEST_DATA
EXAMPLE = EXAMPLES / "issuers.example.yaml"
PUBLIC_JWKS = json.loads((DATA / "ehr-jwks.json").read_text())


def env(**extra: str) -> dict[str, str]:
    return {"CRS_CDS_ENV": "production", "CRS_CDS_PUBLIC_BASE_URL": "https://cds.example.org", **extra}


def write(tmp_path: Path, data: object, name: str = "issuers.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_production_refuses_to_start_without_trusted_issuers() -> None:
    with pytest.raises(ConfigError, match="CRS_CDS_ISSUERS_FILE"):
        Settings.from_env(env())
    with pytest.raises(ConfigError, match="CRS_CDS_ISSUERS_FILE"):
        create_app(bootstrap(Settings(env="production")))


def test_the_test_and_example_issuers_files_load() -> None:
    [issuer] = Settings.from_env(env(CRS_CDS_ISSUERS_FILE=str(DATA / "issuers.yaml"))).security.issuers
    assert issuer.iss == "https://ehr.example.org" and issuer.keys()[0]["kid"] == "ehr-2026-11"
    assert issuer.fhir_servers == ("https://fhir.example.org/r4",)
    assert [t.id for t in issuer.tenants] == ["hospital-a", "hospital-b"]
    assert issuer.jku == ("https://ehr.example.org/.well-known/jwks.json",)
    example = Settings.from_env(env(CRS_CDS_ISSUERS_FILE=str(EXAMPLE))).security.issuers
    assert [i.iss for i in example] == ["https://ehr.hospital.example.org", "https://ehr-cloud.example.com"]


@pytest.mark.parametrize("issuer,problem", [
    ({"iss": "https://e.org", "jwks": PUBLIC_JWKS}, "fhirServers"),
    ({"iss": "https://e.org", "fhirServers": []}, "anyOf"),
    ({"iss": "https://e.org", "fhirServers": [], "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "kty"),
    ({"iss": "https://e.org", "fhirServers": [], "jwks": {"keys": [{**PUBLIC_JWKS["keys"][0], "d": "x"}]}}, "not"),
    ({"iss": "https://e.org", "fhirServers": ["ftp://f.org"], "jwks": PUBLIC_JWKS}, "fhirServers[0]"),
    ({"iss": "https://e.org", "fhirServers": [], "jwks": PUBLIC_JWKS, "allowAll": True}, "additionalProperties"),
    ({"iss": "https://e.org", "fhirServers": [], "jwksFile": "missing.json"}, "missing.json"),
])
def test_a_bad_issuers_file_is_a_config_error_naming_the_problem(tmp_path, issuer, problem) -> None:
    path = write(tmp_path, {"issuers": [issuer]})
    with pytest.raises(ConfigError, match="CRS_CDS_ISSUERS_FILE") as caught:
        Settings.from_env(env(CRS_CDS_ISSUERS_FILE=path))
    assert path in str(caught.value) and problem in str(caught.value)


def test_unreadable_file_and_duplicate_issuers_are_config_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.from_env(env(CRS_CDS_ISSUERS_FILE=str(tmp_path / "nope.yaml")))
    one = {"iss": "https://e.org", "fhirServers": [], "jwks": PUBLIC_JWKS}
    with pytest.raises(ConfigError, match="twice"):
        Settings.from_env(env(CRS_CDS_ISSUERS_FILE=write(tmp_path, {"issuers": [one, one]})))


def test_http_fhir_servers_are_refused_in_production_only(tmp_path) -> None:
    path = write(tmp_path, {"issuers": [{"iss": "https://e.org", "fhirServers": ["http://127.0.0.1:8081/fhir"],
                                         "jwks": PUBLIC_JWKS}]})
    with pytest.raises(ConfigError, match="https"):
        Settings.from_env(env(CRS_CDS_ISSUERS_FILE=path))
    assert Settings.from_env({"CRS_CDS_ISSUERS_FILE": path}).security.issuers


def test_the_public_sandbox_key_is_trusted_in_development_only() -> None:
    [sandbox] = Settings.from_env({"CRS_CDS_TRUST_SANDBOX": "on"}).security.issuers
    assert sandbox.iss == SANDBOX_ISS and sandbox.fhir_servers is None
    [key] = sandbox.keys()
    assert (key["kid"], key["crv"], key["alg"]) == ("44823f3d-0b01-4a6c-a80e-b9d3e8a7226f", "P-384", "ES384")
    assert any("sandbox" in w for w in Settings.from_env({"CRS_CDS_TRUST_SANDBOX": "on"}).insecure_defaults())
    with pytest.raises(ConfigError, match="CRS_CDS_TRUST_SANDBOX"):
        Settings.from_env(env(CRS_CDS_ISSUERS_FILE=str(DATA / "issuers.yaml"), CRS_CDS_TRUST_SANDBOX="on"))


@pytest.mark.parametrize("name,value", [("CRS_CDS_MAX_BODY_BYTES", "lots"), ("CRS_CDS_MAX_JSON_DEPTH", "0"),
                                        ("CRS_CDS_MAX_RESOURCES", "-5"), ("CRS_CDS_PUBLIC_BASE_URL", "cds.example.org"),
                                        ("CRS_CDS_TRUST_SANDBOX", "perhaps")])
def test_bad_security_values_name_the_variable(name, value) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_development_warns_about_what_is_insecure() -> None:
    warnings = " ".join(Settings.from_env({}).insecure_defaults())
    assert "bearer JWT" in warnings and "CORS" in warnings and "fhirServer" in warnings


@pytest.mark.parametrize("url,base", [("HTTPS://Fhir.Example.org:443/r4/", "https://fhir.example.org/r4"),
                                      ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
                                      ("https://f.org/r4?_format=json", None), ("https://u:p@f.org/", None),
                                      ("ftp://f.org", None), ("https://f.org:99999/", None)])
def test_fhir_server_base_urls_are_normalised(url, base) -> None:
    assert normalise_base(url) == base


# --- the JWT audience comes from configuration only ---------------------------------------------------

def test_production_refuses_to_start_without_a_public_base_url() -> None:
    issuers = str(DATA / "issuers.yaml")
    settings = Settings.from_env({"CRS_CDS_ENV": "production", "CRS_CDS_ISSUERS_FILE": issuers,
                                  "CRS_CDS_WORKERS": "1"})
    with pytest.raises(ConfigError, match="CRS_CDS_PUBLIC_BASE_URL is required in production") as caught:
        bootstrap(settings)
    assert "https://ehr.example.org" in str(caught.value)  # names the issuer without an audience
    built = Settings(env="production", workers=1, security=SecuritySettings(issuers=settings.security.issuers))
    with pytest.raises(ConfigError, match="CRS_CDS_PUBLIC_BASE_URL"):
        bootstrap(built)  # settings built in code are held to the same rule


def test_a_per_issuer_audience_replaces_the_public_base_url(tmp_path) -> None:
    issuer = {"iss": "https://e.org", "fhirServers": [], "jwks": PUBLIC_JWKS, "audience": "https://cds-a.example.org/"}
    path = write(tmp_path, {"issuers": [issuer]})
    settings = Settings.from_env({"CRS_CDS_ENV": "production", "CRS_CDS_ISSUERS_FILE": path, "CRS_CDS_WORKERS": "1",
                                  "CRS_CDS_FEEDBACK_DB": str(tmp_path / "fb.sqlite3")})
    [loaded] = bootstrap(settings).settings.security.issuers  # starts: the issuer names its own audience
    assert loaded.audience == "https://cds-a.example.org"
    other = {**issuer, "iss": "https://other.org"}
    del other["audience"]
    path = write(tmp_path, {"issuers": [issuer, other]})
    with pytest.raises(ConfigError, match=r"missing for https://other\.org$"):
        bootstrap(Settings.from_env({"CRS_CDS_ENV": "production", "CRS_CDS_ISSUERS_FILE": path,
                                     "CRS_CDS_WORKERS": "1"}))


@pytest.mark.parametrize("audience", ["ftp://cds.example.org", "https://cds.example.org/?x=1", "cds.example.org"])
def test_an_audience_that_is_not_a_base_url_is_refused(tmp_path, audience) -> None:
    path = write(tmp_path, {"issuers": [{"iss": "https://e.org", "fhirServers": [], "jwks": PUBLIC_JWKS,
                                         "audience": audience}]})
    with pytest.raises(ConfigError, match="CRS_CDS_ISSUERS_FILE"):
        Settings.from_env(env(CRS_CDS_ISSUERS_FILE=path))


@pytest.mark.parametrize("value,seconds", [(None, 3600), ("600", 600), ("60", 60), ("86400", 86400)])
def test_jwks_max_age_is_configurable_within_bounds(value, seconds) -> None:
    environ = {"CRS_CDS_JWKS_MAX_AGE_SECONDS": value} if value else {}
    assert Settings.from_env(environ).security.jwks_max_age_seconds == seconds


@pytest.mark.parametrize("value", ["59", "86401", "1h", "-5"])
def test_a_jwks_max_age_out_of_bounds_names_the_variable(value) -> None:
    with pytest.raises(ConfigError, match="CRS_CDS_JWKS_MAX_AGE_SECONDS"):
        Settings.from_env({"CRS_CDS_JWKS_MAX_AGE_SECONDS": value})
