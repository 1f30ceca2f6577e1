"""Run the app under gunicorn from Python (``crs-cds serve``).

Programmatic rather than a ``gunicorn`` command line so that the app is built
from the service the composition root made (configuration errors stop start-up
before any worker forks) and ``make serve`` needs no gunicorn configuration file.
"""
from __future__ import annotations

import atexit
import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from gunicorn.app.base import BaseApplication

from ..bootstrap import Service
from ..metrics import MULTIPROC_ENV, prepare_multiprocess_dir
from ..settings import Settings
from .app import create_app

_OWNED_METRICS_DIR = "CRS_CDS_OWNED_METRICS_DIR"  # set by serve itself: the directory it made, to remove at exit


class CdsServer(BaseApplication):
    """gunicorn application serving the Flask app of an already built ``Service``."""

    def __init__(self, service: Service, options: dict[str, Any]) -> None:
        self.service = service
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        app = create_app(self.service)
        tune_gc()
        return app


# A CDS call parses a few thousand FHIR resources into short-lived dicts: with
# CPython's default threshold (700) the cyclic collector runs hundreds of times
# per call and its full collections set the p95 (benchmarks/bench_patient_view.py:
# 72-hour record p95 41 ms -> 14 ms). Reference counting still frees everything;
# the collector only looks for cycles, which request handling rarely makes.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Freeze what start-up loaded (code lists, protocols, models) out of the collector's
    sight and collect less often. Called once in the gunicorn master before forking,
    so workers also share those pages copy-on-write."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def gunicorn_options(settings: Settings, *, host: str, port: int, workers: int, threads: int = 1) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "preload_app": True,  # build the app once in the master: configuration errors stop start-up
        "timeout": 30,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,  # our request log replaces it (and never logs query strings)
        "errorlog": "-",
        "proc_name": "crs-cds",
        # gunicorn >= 25.1 opens a control socket at $HOME/.gunicorn/gunicorn.ctl that can change the worker
        # count or stop the server: one path for every instance on a host, and unwritable in a read-only
        # container. Nothing here uses it.
        "control_socket_disable": True,
    }


def multiprocess_metrics(command_line: Sequence[str] | None) -> None:
    """Give the gunicorn workers one directory for their metrics, before any of them exists.

    ``prometheus_client`` picks its multiprocess mode when first imported, from
    ``PROMETHEUS_MULTIPROC_DIR``, and this process has imported it already. So when the variable
    is unset and ``command_line`` is this process's own (``sys.orig_argv``), serve starts itself
    again with a fresh directory set, and removes that directory when the server (not a worker)
    exits. A directory given by the operator (a container's volume) is emptied of a previous
    run's files, whose counts would otherwise be added in. With neither (``crs-cds serve`` run
    from a test), metrics stay per process.
    """
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        prepare_multiprocess_dir(folder)
        if os.environ.get(_OWNED_METRICS_DIR) == folder:
            server = os.getpid()
            atexit.register(lambda: os.getpid() == server and shutil.rmtree(folder, ignore_errors=True))
        return
    if command_line is None:
        return
    folder = tempfile.mkdtemp(prefix="crs-cds-metrics-")
    os.environ[MULTIPROC_ENV] = os.environ[_OWNED_METRICS_DIR] = folder
    os.execv(sys.executable, [sys.executable, *command_line[1:]])


def run_gunicorn(service: Service, *, host: str, port: int, workers: int, threads: int = 1) -> None:
    CdsServer(service, gunicorn_options(service.settings, host=host, port=port, workers=workers,
                                        threads=threads)).run()
