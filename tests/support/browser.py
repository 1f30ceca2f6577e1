"""Headless Chromium (Debian ``chromium``) driven over the Chrome DevTools Protocol.

One browser process per test session, started with its own profile directory and a free debugging
port (read back from ``DevToolsActivePort``); a page is navigated, read with ``Runtime.evaluate`` and
photographed with ``Page.captureScreenshot``, over one websocket (``websockets``' sync client).
Cookies live for the browser's lifetime, so a SMART launch's redirects and session work as in an EHR.
"""
from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import ClientConnection, connect

from devkit import processes

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
START_TIMEOUT_SECONDS = 30


class BrowserError(RuntimeError):
    pass


def executable() -> str | None:
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


@dataclass
class Page:
    socket: ClientConnection
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """One command; events arriving meanwhile are dropped."""
        ident = next(self._ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def wait_for(self, event: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("method") == event:
                return message.get("params", {})

    def open(self, url: str, *, settle: float, timeout: float = 60) -> None:
        """Navigate and wait until the page at the end of the redirects has loaded."""
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while True:  # a redirect chain ends with the last document's load
            self.wait_for("Page.loadEventFired", max(0.1, deadline - time.monotonic()))
            time.sleep(settle)
            state = self.evaluate("document.readyState")
            if state == "complete":
                return

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data


@dataclass
class Browser:
    process: subprocess.Popen
    profile: Path
    port: int

    @contextmanager
    def page(self, width: int, height: int) -> Iterator[Page]:
        """A new tab ``width`` CSS pixels wide (an EHR's side panel), closed afterwards."""
        target = requests.put(f"http://127.0.0.1:{self.port}/json/new?about:blank", timeout=10).json()
        try:
            with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as socket:
                page = Page(socket)
                page.send("Page.enable")
                page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                          mobile=False)
                yield page
        finally:
            requests.get(f"http://127.0.0.1:{self.port}/json/close/{target['id']}", timeout=10)

    def stop(self) -> None:
        processes.stop(self.process)
        shutil.rmtree(self.profile, ignore_errors=True)


def start() -> Browser:
    binary = executable()
    if binary is None:
        raise BrowserError("no chromium on PATH")
    profile = Path(tempfile.mkdtemp(prefix="crs-cds-chromium-"))
    process = subprocess.Popen([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
                                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                                f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    active = profile / "DevToolsActivePort"
    while time.monotonic() < deadline and process.poll() is None:
        if active.exists() and active.read_text().strip():
            return Browser(process, profile, int(active.read_text().splitlines()[0]))
        time.sleep(0.1)
    process.kill()
    shutil.rmtree(profile, ignore_errors=True)
    raise BrowserError("chromium did not open its debugging port")
