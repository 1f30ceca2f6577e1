"""Local helper processes of tests and development (a FHIR server, the SMART launcher, a browser):
a free port to give them, a wait until one answers, and a stop that ends the one process it was handed,
never more."""
from __future__ import annotations

import socket
import subprocess
import time

import requests

STOP_SECONDS = 10


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str, process: subprocess.Popen, timeout: float, interval: float = 0.2) -> bool:
    """Whether ``url`` answers 200 before ``timeout`` seconds pass; False as soon as ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(interval)
    return False


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not gone within ``STOP_SECONDS``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
