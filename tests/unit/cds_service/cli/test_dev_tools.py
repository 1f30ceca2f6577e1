"""``crs-cds dev-issuer`` and ``dev-token``: a test EHR whose tokens the service in production mode accepts."""
from __future__ import annotations

import json
import stat
from dataclasses import replace

import jwt
import pytest

from cds_service import cli
from cds_service.security import load_issuers
from cds_service.security.dev_issuer import thumbprint
from cds_service.settings import SecuritySettings, Settings
from tests.support import apps

PUBLIC = "https://cds.example.org"
DISCOVERY = "/cds-services"


def make_issuer(tmp_path, *extra: str) -> str:
    folder = tmp_path / "dev-ehr"
    assert cli.main(["dev-issuer", "--out", str(folder), *extra]) == 0
    return str(folder)


def mint(capsys, folder: str, *extra: str, aud: str = PUBLIC + DISCOVERY) -> str:
    capsys.readouterr()
    assert cli.main(["dev-token", "--issuer-dir", folder, "--aud", aud, *extra]) == 0
    return capsys.readouterr().out.strip()


def production(folder: str):
    issuers = load_issuers(f"{folder}/issuers.yaml", production=True)
    return apps.client(Settings(env="production", workers=1,
                                security=SecuritySettings(issuers=issuers, public_base_url=PUBLIC)))


def test_dev_issuer_writes_a_private_key_a_jwks_and_an_issuers_file(tmp_path, capsys) -> None:
    folder = make_issuer(tmp_path, "--fhir-server", "https://fhir.test-ehr.example.org/r4")
    assert stat.S_IMODE((tmp_path / "dev-ehr" / "private-key.pem").stat().st_mode) == 0o600
    [key] = json.loads((tmp_path / "dev-ehr" / "jwks.json").read_text())["keys"]
    assert key["alg"] == "ES384" and key["kty"] == "EC" and "d" not in key
    [issuer] = load_issuers(f"{folder}/issuers.yaml", production=True)
    assert issuer.iss == "https://test-ehr.example.org" and issuer.fhir_servers == ("https://fhir.test-ehr.example.org/r4",)
    assert "CRS_CDS_ISSUERS_FILE=" in capsys.readouterr().out


def test_dev_issuer_never_replaces_a_key_pair_unless_told(tmp_path, capsys) -> None:
    folder = make_issuer(tmp_path)
    before = (tmp_path / "dev-ehr" / "private-key.pem").read_bytes()
    capsys.readouterr()
    assert cli.main(["dev-issuer", "--out", folder]) == 2
    assert capsys.readouterr().err.strip().endswith("exists: keep it, or pass --force to replace the key pair")
    assert (tmp_path / "dev-ehr" / "private-key.pem").read_bytes() == before
    assert cli.main(["dev-issuer", "--out", folder, "--force"]) == 0
    assert (tmp_path / "dev-ehr" / "private-key.pem").read_bytes() != before


@pytest.mark.parametrize("key_type,alg", [("ec", "ES384"), ("rsa", "RS384")])
@pytest.mark.parametrize("client", ["generic", "epic"])
def test_its_tokens_are_accepted_once_by_the_service_in_production(tmp_path, capsys, key_type, alg, client) -> None:
    folder = make_issuer(tmp_path, "--key-type", key_type)
    tok = mint(capsys, folder, "--client", client)
    header, claims = jwt.get_unverified_header(tok), jwt.decode(tok, options={"verify_signature": False})
    assert header["alg"] == alg and header["typ"] == "JWT"
    assert set(claims) == {"iss", "aud", "sub", "iat", "exp", "jti"} | ({"nbf"} if client == "epic" else set())
    if client == "epic":
        assert claims["nbf"] == claims["iat"] - 300
    service = production(folder)
    assert service.get(DISCOVERY, headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    assert service.get(DISCOVERY, headers={"Authorization": f"Bearer {tok}"}).status_code == 401  # replay


def test_claims_lifetime_and_jku_are_configurable(tmp_path, capsys) -> None:
    folder = make_issuer(tmp_path)
    tok = mint(capsys, folder, "--lifetime", "900", "--claim", "tenant=hospital-a", "--claim", "extra={\"a\": 1}",
               "--jku", "https://test-ehr.example.org/jwks", "--sub", "client-9")
    claims = jwt.decode(tok, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900 and claims["tenant"] == "hospital-a" and claims["extra"] == {"a": 1}
    assert claims["sub"] == "client-9" and jwt.get_unverified_header(tok)["jku"] == "https://test-ehr.example.org/jwks"
    # 900 s is Epic's documented lifetime: accepted by default (maxTokenLifetimeSeconds 900), one second more is not,
    # and an issuer configured for less refuses it
    issuers = load_issuers(f"{folder}/issuers.yaml", production=True)
    trusted = replace(issuers[0], jku=("https://test-ehr.example.org/jwks",))

    def status(issuer, lifetime: str) -> int:
        service = apps.client(Settings(env="production", workers=1,
                                       security=SecuritySettings(issuers=(issuer,), public_base_url=PUBLIC)))
        token = mint(capsys, folder, "--lifetime", lifetime)
        return service.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}).status_code

    assert status(trusted, "900") == 200
    assert status(trusted, "901") == 401
    assert status(replace(trusted, max_token_lifetime=600), "900") == 401
    assert status(replace(trusted, max_token_lifetime=600), "600") == 200


def test_a_directory_dev_issuer_did_not_write_is_one_line(tmp_path, capsys) -> None:
    assert cli.main(["dev-token", "--issuer-dir", str(tmp_path), "--aud", PUBLIC]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"crs-cds: {tmp_path}: not a directory written by `crs-cds dev-issuer`")


@pytest.mark.parametrize("argv", [["dev-token", "--issuer-dir", "x", "--aud", "y", "--lifetime", "0"],
                                  ["dev-token", "--issuer-dir", "x", "--aud", "y", "--claim", "novalue"],
                                  ["dev-issuer"]])
def test_bad_options_are_usage_errors(argv, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2


def test_an_epic_test_ehr_signs_as_epic_does(tmp_path, capsys) -> None:
    """``dev-issuer --client epic``: an RS384 key and ``client: epic`` in its issuers file; its tokens live
    15 minutes with nbf 5 minutes before iat, and the service in production accepts them."""
    folder = make_issuer(tmp_path, "--client", "epic", "--jku", "https://ehr.hospital.example.org/jwks")
    [issuer] = load_issuers(f"{folder}/issuers.yaml", production=True)
    assert (issuer.client, issuer.iss, issuer.jku) == ("epic", "https://ehr.hospital.example.org/api/FHIR/R4",
                                                       ("https://ehr.hospital.example.org/jwks",))
    tok = mint(capsys, folder)  # the client comes from the issuer directory
    header, claims = jwt.get_unverified_header(tok), jwt.decode(tok, options={"verify_signature": False})
    assert header["alg"] == "RS384"
    assert (claims["exp"] - claims["iat"], claims["iat"] - claims["nbf"]) == (900, 300)
    assert production(folder).get(DISCOVERY, headers={"Authorization": f"Bearer {tok}"}).status_code == 200


@pytest.mark.parametrize("client,iss,lifetime", [("epic", "https://ehr.hospital.example.org/api/FHIR/R4", 900),
                                                 ("oracle-health", "https://cds-hooks.cerner.com", 300)])
def test_dev_token_signs_with_a_key_file(tmp_path, capsys, client, iss, lifetime) -> None:
    """``crs-cds dev-token --client epic --key FILE --aud URL``: any PEM key, its kid the RFC 7638 thumbprint."""
    folder = make_issuer(tmp_path, "--key-type", "rsa")
    key = f"{folder}/private-key.pem"
    capsys.readouterr()
    assert cli.main(["dev-token", "--client", client, "--key", key, "--aud", PUBLIC + DISCOVERY,
                     "--jku", "https://jwks.example.org/keys"]) == 0
    tok = capsys.readouterr().out.strip()
    header, claims = jwt.get_unverified_header(tok), jwt.decode(tok, options={"verify_signature": False})
    public = json.loads((tmp_path / "dev-ehr" / "jwks.json").read_text())["keys"][0]
    assert header["kid"] == thumbprint(public) and header["alg"] == "RS384"
    assert header["jku"] == "https://jwks.example.org/keys"
    assert (claims["iss"], claims["exp"] - claims["iat"]) == (iss, lifetime)
    assert ("nbf" in claims) == (client == "epic")
    jwk = jwt.PyJWK({**public, "kid": header["kid"]})
    assert jwt.decode(tok, jwk.key, algorithms=["RS384"], audience=PUBLIC + DISCOVERY)["iss"] == iss


def test_dev_token_needs_one_signer(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["dev-token", "--aud", PUBLIC])
    assert cli.main(["dev-token", "--key", "/nonexistent.pem", "--aud", PUBLIC]) == 2
    assert "cannot read the private key" in capsys.readouterr().err
