"""A real SMART on FHIR authorization server for the end-to-end tests: the SMART reference launcher's
backend (tests/e2e/vendor/smart-launcher, Apache-2.0), run with node in front of an open FHIR server.

Installed once per machine with ``npm ci`` (packages by name from the npm registry, exact versions from
the committed lock file) into a cache outside the repository, keyed by the lock file and sources; a key
pair is generated there. Started on a free 127.0.0.1 port; ``stop`` ends that process only.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devkit import processes
from tests.support.paths import ROOT

SOURCE = ROOT / "tests" / "e2e" / "vendor" / "smart-launcher"
CACHE = Path(os.environ.get("CRS_CDS_TEST_CACHE", Path.home() / ".cache" / "crs-cds"))
START_TIMEOUT_SECONDS = 60
INSTALL_TIMEOUT_SECONDS = 600


class LauncherUnavailable(RuntimeError):
    """node/npm are there but the launcher could not be installed or started."""


def missing_tools() -> list[str]:
    return [tool for tool in ("node", "npm") if shutil.which(tool) is None]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in SOURCE.rglob("*") if p.is_file()):
        digest.update(path.relative_to(SOURCE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def install() -> Path:
    """The installed launcher (installing it the first time): sources, node_modules and a key pair."""
    target = CACHE / f"smart-launcher-{_fingerprint()}"
    if (target / ".installed").exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix="smart-launcher-", dir=CACHE if CACHE.exists() else None))
    try:
        shutil.copytree(SOURCE, staging, dirs_exist_ok=True)
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=staging,
                                capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        if result.returncode != 0:
            raise LauncherUnavailable(f"npm ci failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (staging / "private-key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (staging / "public-key.pem").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        (staging / ".installed").write_text("ok\n")
        CACHE.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def encode_launch(*, patient: str, client_id: str, provider: str = "practitioner-1") -> str:
    """The launcher's launch context for a provider EHR launch (``src/isomorphic/codec.ts``): this
    patient and practitioner, no login or approval screens, PKCE required, only ``client_id`` accepted."""
    fields = [0, patient, provider, "NONE", 1, 1, 0, "", "", client_id, "", "", "", "", 0, 2, ""]
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()


@dataclass
class SmartLauncher:
    base_url: str  # http://127.0.0.1:<port>
    process: subprocess.Popen
    log: IO[bytes]
    log_path: Path

    @property
    def fhir_url(self) -> str:
        """The FHIR base the EHR launches with (``iss``): the launcher's proxy, behind its tokens."""
        return f"{self.base_url}/v/r4/fhir"

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        processes.stop(self.process)
        self.log.close()


def start(fhir_server: str, workdir: Path) -> SmartLauncher:
    """Start the launcher's backend in front of ``fhir_server`` (an open FHIR R4 base URL)."""
    home = install()
    port = processes.free_port()
    log_path = workdir / "smart-launcher.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop()
    env = {**os.environ, "NODE_ENV": "production", "HOST": "127.0.0.1", "PORT": str(port),
           "SECRET": secrets.token_hex(16), "FHIR_SERVER_R4": fhir_server, "FHIR_SERVER_R3": "",
           "FHIR_SERVER_R2": ""}
    process = subprocess.Popen([str(home / "node_modules" / ".bin" / "ts-node"), "--skipProject", "--transpile-only",
                                "backend/index.ts"], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    launcher = SmartLauncher(f"http://127.0.0.1:{port}", process, log, log_path)
    if processes.answers(f"{launcher.fhir_url}/.well-known/smart-configuration", process, START_TIMEOUT_SECONDS,
                         interval=0.3):
        return launcher
    output = launcher.output()
    launcher.stop()
    raise LauncherUnavailable(f"the SMART launcher did not start on port {port}:\n{output}")
