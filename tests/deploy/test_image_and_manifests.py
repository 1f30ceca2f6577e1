"""The container image recipe and the Kubernetes manifests: linted and validated by the ecosystem's own
tools (hadolint, kubernetes-validate), and held to what the service needs to run as intended.

Containers cannot run on the test machines; the scale-out itself is proven by
tests/integration/test_scale_out.py on real processes behind a real load balancer.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from cds_service.cli import build_parser
from cds_service.security import load_issuers
from cds_service.settings import Settings, check_production
from protocols import validate_file
from tests.support.paths import ROOT

BIN = Path(sys.executable).parent
DOCKERFILE = ROOT / "Dockerfile"
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def manifests() -> dict[str, dict]:
    """kind -> the (single) object of that kind, Secrets and ConfigMaps by name."""
    found: dict[str, dict] = {}
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            key = doc["metadata"]["name"] if doc["kind"] in ("Secret", "ConfigMap") else doc["kind"]
            found[key] = doc
    return found


# --- the image ------------------------------------------------------------------------------------------

def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = subprocess.run([str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_awake(tmp_path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\n")
    result = subprocess.run([str(BIN / "hadolint"), "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3007" in result.stdout and "DL3013" in result.stdout


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_runs_the_released_version_as_a_non_root_user_with_a_healthcheck() -> None:
    steps = instructions()
    froms = [arg for op, arg in steps if op == "FROM"]
    assert all(re.fullmatch(r"python:3\.\d+-slim-\w+( AS \w+)?", f) for f in froms)  # a slim Python base
    [version] = [arg.split("=", 1)[1] for op, arg in steps if op == "ARG" and arg.startswith("CRS_CDS_VERSION=")]
    assert version == PYPROJECT["project"]["version"]
    [user] = [arg for op, arg in steps if op == "USER"]
    assert user not in ("root", "0")
    [health] = [arg for op, arg in steps if op == "HEALTHCHECK"]
    assert "/health" in health
    [entry] = [yaml.safe_load(arg) for op, arg in steps if op == "ENTRYPOINT"]
    [cmd] = [yaml.safe_load(arg) for op, arg in steps if op == "CMD"]
    assert entry == ["crs-cds"]
    args = build_parser().parse_args(cmd)  # the command the image runs is one the CLI accepts
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 8080)
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "CRS_CDS_ENV=production" in env and "PROMETHEUS_MULTIPROC_DIR=" in env


def test_the_image_is_built_from_every_package_the_project_ships() -> None:
    copied = {name for op, arg in instructions() if op == "COPY" and not arg.startswith("--from")
              for name in arg.split()[:-1]}
    packages = {p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert copied == packages | {"pyproject.toml", "README.md", "LICENSE", "NOTICE"}


def data_files(paths) -> set[str]:
    return {p for p in paths if p.endswith((".json", ".yaml", ".yml")) and "/tests/" not in p}


def test_the_wheel_built_from_the_image_context_carries_every_data_file(tmp_path) -> None:
    """What the Dockerfile copies is enough: the wheel has every protocol, schema, code list and key file."""
    context = tmp_path / "context"
    context.mkdir()
    for op, arg in instructions():
        if op == "COPY" and not arg.startswith("--from"):
            for name in arg.split()[:-1]:
                source = ROOT / name
                (shutil.copytree if source.is_dir() else shutil.copy)(source, context / name)
    subprocess.run([str(BIN / "pip"), "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "wheel"),
                    str(context)], check=True, capture_output=True)
    [wheel] = (tmp_path / "wheel").glob("crs_cds-*.whl")
    shipped = data_files(zipfile.ZipFile(wheel).namelist())
    packages = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
    in_tree = data_files(str(p.relative_to(ROOT)) for package in packages for p in (ROOT / package).rglob("*"))
    assert shipped == in_tree and any(p.startswith("protocols/data/") for p in shipped)


# --- the Kubernetes manifests -----------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_kubernetes_validate_accepts_every_manifest(version) -> None:
    result = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "--quiet", "-k", version,
                             *map(str, MANIFESTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(MANIFESTS) >= 8


def test_kubernetes_validate_is_awake(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: three}\n")
    result = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "--quiet", str(bad)],
                            capture_output=True, text=True)
    assert result.returncode != 0


def test_the_deployment_probes_readiness_and_liveness_and_requests_resources() -> None:
    found = manifests()
    pod = found["Deployment"]["spec"]["template"]
    [container] = pod["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    labels = pod["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        spec = found[kind]["spec"]
        selector = spec["selector"].get("matchLabels", spec["selector"])
        assert selector.items() <= labels.items(), kind
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "crs-cds"}
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    paths = [p["path"] for rule in found["Ingress"]["spec"]["rules"] for p in rule["http"]["paths"]]
    assert paths == ["/cds-services"]  # /metrics, /ready and /health stay inside the cluster


def test_the_deployment_configuration_is_one_production_accepts(tmp_path) -> None:
    """The Deployment's environment, with the Secret and ConfigMap files where it mounts them, passes the
    service's own production checks (issuers, audience, a shared replay store for several workers)."""
    found = manifests()
    [container] = found["Deployment"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in found["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    files = {}
    for name, mount in mounts.items():
        source = volumes[name].get("secret", {}).get("secretName") or volumes[name].get("configMap", {}).get("name")
        if source:
            data = found[source].get("stringData") or found[source]["data"]
            for key, text in data.items():
                local = tmp_path / key
                local.write_text(text)
                files[f"{mount}/{key}"] = str(local)
    stores = found["crs-cds-stores"]["stringData"]
    env.update({"CRS_CDS_DATABASE_URL": stores["database-url"], "CRS_CDS_REDIS_URL": stores["redis-url"]})
    env = {k: files.get(v, v) for k, v in env.items() if k.startswith("CRS_CDS_")}
    settings = Settings.from_env(env)
    check_production(settings)  # raises ConfigError naming what production would refuse
    assert settings.security.replay_kind == "redis" and settings.workers == 2
    assert load_issuers(env["CRS_CDS_ISSUERS_FILE"], production=True)
    assert validate_file(env["CRS_CDS_PROTOCOL"]) == []  # the ConfigMap holds a valid protocol
