"""Settings from environment variables: safe defaults, one clear error per bad value."""
from __future__ import annotations

import dataclasses
import re

import pytest

from cds_service.bootstrap import build_assessor
from cds_service.cli import main
from cds_service.http import create_app
from cds_service.settings import ConfigError, Settings
from grading.config import DEFAULT_CONFIG_PATH
from tests.support.paths import EXAMPLES, ROOT, TEST_DATA

EXAMPLE_LOCAL_CODES = EXAMPLES / "local-codes.example.yaml"


def test_no_variables_give_development_defaults() -> None:
    s = Settings.from_env({})
    assert s == Settings(protocol_id="astct-generic", eligibility=True, log_level="INFO", env="development")
    assert s.development and s.insecure_defaults()


def test_values_are_read_and_normalised() -> None:
    s = Settings.from_env({"CRS_CDS_PROTOCOL": " hospital-x ", "CRS_CDS_ELIGIBILITY": "OFF",
                           "CRS_CDS_LOG_LEVEL": "debug", "CRS_CDS_ENV": "Production",
                           "CRS_CDS_ISSUERS_FILE": str(TEST_DATA / "issuers.yaml"),
                           "CRS_CDS_PUBLIC_BASE_URL": "https://cds.example.org/"})
    assert dataclasses.replace(s, security=Settings().security) == Settings(
        protocol_id="hospital-x", eligibility=False, log_level="DEBUG", env="production")
    assert [i.iss for i in s.security.issuers] == ["https://ehr.example.org"]
    assert s.security.public_base_url == "https://cds.example.org"
    assert not s.insecure_defaults()


@pytest.mark.parametrize("word,value", [("on", True), ("true", True), ("1", True), ("yes", True),
                                        ("off", False), ("false", False), ("0", False), ("no", False)])
def test_eligibility_switch_words(word, value) -> None:
    assert Settings.from_env({"CRS_CDS_ELIGIBILITY": word}).eligibility is value


@pytest.mark.parametrize("name,value", [("CRS_CDS_PROTOCOL", "Bad Protocol!"), ("CRS_CDS_ELIGIBILITY", "maybe"),
                                        ("CRS_CDS_LOG_LEVEL", "loud"), ("CRS_CDS_ENV", "staging")])
def test_bad_value_names_the_variable(name, value) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().env = "production"  # type: ignore[misc]


def test_create_app_reads_the_environment_when_given_no_settings(monkeypatch) -> None:
    monkeypatch.setenv("CRS_CDS_ENV", "nonsense")
    with pytest.raises(ConfigError, match="CRS_CDS_ENV"):
        create_app()


def test_a_site_grading_file_is_read_at_start_up_and_a_bad_one_stops_it(tmp_path) -> None:
    site = tmp_path / "astct-site.json"
    site.write_text(DEFAULT_CONFIG_PATH.read_text().replace('"window_hours": 24', '"window_hours": 36'))
    settings = Settings.from_env({"CRS_CDS_GRADING_FILE": f" {site} "})
    assert settings.grading_file == str(site)
    assert build_assessor(settings).grading.fever_window_hours == 36
    site.write_text('{"system": "ASTCT-2019"}')
    with pytest.raises(ConfigError, match=f"^CRS_CDS_GRADING_FILE: .*{site}"):
        build_assessor(settings)


@pytest.mark.parametrize("host,port,base", [("127.0.0.1", 8080, "http://127.0.0.1:8080"),
                                            ("0.0.0.0", 9000, "http://localhost:9000"),
                                            ("::1", 8080, "http://[::1]:8080")])
def test_serve_in_development_takes_its_own_address_as_the_jwt_audience(host, port, base) -> None:
    assert Settings().served_at(host, port).security.public_base_url == base
    configured = Settings.from_env({"CRS_CDS_PUBLIC_BASE_URL": "https://cds.example.org"})
    assert configured.served_at(host, port).security.public_base_url == "https://cds.example.org"


def test_every_variable_the_service_reads_is_in_the_readme_table() -> None:
    """An operator finds every CRS_CDS_* variable in the README's configuration table, and nothing else."""
    source = (ROOT / "cds_service" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.get\(|\[)"(CRS_CDS_[A-Z_]+)"', source)) | set(
        re.findall(r'_positive\(env, "(CRS_CDS_[A-Z_]+)"', source))
    table = set(re.findall(r"^\| `(CRS_CDS_[A-Z_]+)` \|", (ROOT / "README.md").read_text(), re.M))
    assert read and read == table


def test_a_site_local_codes_file_is_read_at_start_up_and_a_bad_one_stops_it(tmp_path) -> None:
    site = tmp_path / "site-codes.yaml"
    site.write_text(EXAMPLE_LOCAL_CODES.read_text())
    settings = Settings.from_env({"CRS_CDS_LOCAL_CODES_FILE": f" {site} "})
    assert settings.local_codes_file == str(site)
    codes = build_assessor(settings).codes
    assert codes.neuro_codes[("urn:oid:1.2.840.114350.1.13.0.1.7.2.707679", "3040100101")].concept == "ice-score"
    assert build_assessor(Settings()).codes.neuro_codes.get(
        ("urn:oid:1.2.840.114350.1.13.0.1.7.2.707679", "3040100101")) is None
    site.write_text("codes:\n  - {concept: ice-score, system: 'urn:oid:1.2', code: '1'}\n"
                    "  - {concept: ice-scor, system: 'urn:oid:1.2', code: '2'}\n")
    with pytest.raises(ConfigError, match=f"CRS_CDS_LOCAL_CODES_FILE: .*{site}:3: codes\\[1\\]: concept: unknown concept 'ice-scor'"):
        build_assessor(settings)


# --- the timeline page: time zone and SMART launch ------------------------------------------------------


def test_the_time_zone_is_an_iana_name_utc_by_default() -> None:
    assert Settings.from_env({}).timezone == "UTC"
    s = Settings.from_env({"CRS_CDS_TIMEZONE": " Europe/London "})
    assert s.timezone == "Europe/London" and str(s.zone) == "Europe/London"


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "Europe/", "../../etc/passwd", "CET+1", "Europe/London x"])
def test_a_bad_time_zone_stops_start_up_with_one_line_naming_the_setting(value) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"CRS_CDS_TIMEZONE": value})
    assert str(caught.value).startswith("CRS_CDS_TIMEZONE=") and "\n" not in str(caught.value)
    assert "IANA time zone name" in str(caught.value)


def test_the_serve_command_reports_a_bad_time_zone_in_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CRS_CDS_TIMEZONE", "Nowhere/Town")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "CRS_CDS_TIMEZONE='Nowhere/Town' is not an IANA time zone name" in err


def test_smart_launch_is_off_without_a_client_id_and_uses_the_default_scopes() -> None:
    s = Settings.from_env({})
    assert s.smart.client_id is None
    s = Settings.from_env({"CRS_CDS_SMART_CLIENT_ID": "crs-cds-timeline"})
    assert (s.smart.client_id, s.smart.scopes) == ("crs-cds-timeline",
                                                   "launch launch/patient openid fhirUser patient/*.read")
    assert any("--workers 1" in w for w in s.insecure_defaults())


@pytest.mark.parametrize("env,problem", [
    ({"CRS_CDS_SMART_CLIENT_ID": "has space"}, "CRS_CDS_SMART_CLIENT_ID"),
    ({"CRS_CDS_SMART_SCOPES": "openid patient/*.read"}, "including 'launch'"),
    ({"CRS_CDS_SMART_SCOPES": 'launch "quoted"'}, "CRS_CDS_SMART_SCOPES"),
])
def test_bad_smart_settings_name_the_variable(env, problem) -> None:
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env(env)


def test_smart_in_production_needs_redis_so_that_every_worker_sees_the_session() -> None:
    env = {"CRS_CDS_ENV": "production", "CRS_CDS_ISSUERS_FILE": str(TEST_DATA / "issuers.yaml"),
           "CRS_CDS_SMART_CLIENT_ID": "crs-cds"}
    with pytest.raises(ConfigError, match="requires CRS_CDS_REDIS_URL"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "CRS_CDS_REDIS_URL": "redis://127.0.0.1:6379/0"}).smart.client_id == "crs-cds"


def test_the_fhir_allowlist_is_every_server_the_issuers_file_lists() -> None:
    s = Settings.from_env({"CRS_CDS_ISSUERS_FILE": str(TEST_DATA / "issuers.yaml")})
    assert s.security.fhir_allowlist() == frozenset(
        [*s.security.issuers[0].fhir_servers, *(u for t in s.security.issuers[0].tenants for u in t.fhir_servers)])
    assert Settings.from_env({}).security.fhir_allowlist() is None  # no file: the guard's development rule
