"""Settings from environment variables: safe defaults, one clear error per bad value."""
from __future__ import annotations

import dataclasses

import pytest

from cds_service.bootstrap import build_assessor
from cds_service.http import create_app
from cds_service.settings import ConfigError, Settings
from fhir_mappings import CodeListError
from grading import GradingConfigError
from grading.config import DEFAULT_CONFIG_PATH
from tests.support.paths import EXAMPLES, TEST_DATA

EXAMPLE_LOCAL_CODES = EXAMPLES / "local-codes.example.yaml"


def test_no_variables_give_development_defaults() -> None:
    s = Settings.from_env({})
    assert s == Settings(protocol_id="astct-generic", eligibility=True, log_level="INFO", env="development")
    assert s.development and s.insecure_defaults()


def test_values_are_read_and_normalised() -> None:
    s = Settings.from_env({"CRS_CDS_PROTOCOL": " hospital-x ", "CRS_CDS_ELIGIBILITY": "OFF",
                           "CRS_CDS_LOG_LEVEL": "debug", "CRS_CDS_ENV": "Production",
                           "CRS_CDS_ISSUERS_FILE": str(TEST_DATA / "issuers.yaml")})
    assert dataclasses.replace(s, security=Settings().security) == Settings(
        protocol_id="hospital-x", eligibility=False, log_level="DEBUG", env="production")
    assert [i.iss for i in s.security.issuers] == ["https://ehr.example.org"]
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
    with pytest.raises(GradingConfigError, match=str(site)):
        build_assessor(settings)


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
    with pytest.raises(CodeListError, match=f"{site}:3: codes\\[1\\]: concept: unknown concept 'ice-scor'"):
        build_assessor(settings)
