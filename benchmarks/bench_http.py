"""Service time over HTTP next to its floor and json.loads, measured side by side (``make bench``).

Starts ``crs-cds serve`` (development settings, a throw-away SQLite feedback
database, the request log on as in production) and ``benchmarks/floor_server.py``
(the same gunicorn settings, an endpoint that only parses the body) and drives
both with ``wrk`` (one client thread, keep-alive), in interleaved rounds:

    for each round: for each record (72 h, 14 d): for each concurrency (1, 4, 16):
        service, then floor, for ``--seconds`` each; json.loads of the same body in-process

and, once per round, a patient-view with no prefetch against a FHIR server
``--latency-ms`` away (``bench_fetch``). Each figure printed is the median over
rounds; the goals of issue 14 are checked at the end. The machine's load average
is printed before and after: compare runs only on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_fetch  # noqa: E402
from cds_service.settings import DEFAULT_THREADS, DEFAULT_WORKERS  # noqa: E402
from devkit.records import RECORDS, as_hook_request  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"errors": %d, "non_2xx": %d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""
# Goals of issue 14 (the 2-core machine, figures from the same run).
GOALS = {"72h ratio": 3.0, "14d ratio": 2.0, "72h p99 c4 ms": 25.0, "fetch 14d ms": 400.0,
         "72h rps c16": 155 * 1.5, "14d rps c16": 15 * 1.5}
RECORD_KEYS = {"72h-hourly": "72h", "14d-icu-15min": "14d"}
WAITING_CONCURRENCY = 8


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(port: int, process: subprocess.Popen[bytes], name: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{name} exited during start-up (code {process.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/cds-services/x", data=b"{}", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not start on port {port}")


@dataclass(frozen=True)
class Running:
    url: str
    pid: int  # the gunicorn master (crs-cds serve keeps its process id when it re-executes itself)


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, name: str, log: Path) -> Iterator[Running]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(port, process, name)
        yield Running(f"http://127.0.0.1:{port}", process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wrk(url: str, body: Path, script: Path, connections: int, seconds: int) -> Run:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url],
        env={**os.environ, "BENCH_BODY": str(body)}, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line.removeprefix("RESULT "))
    return Run(r["requests"], r["duration_us"] / 1e6, r["p50_us"] / 1000, r["p99_us"] / 1000,
               r["errors"] + r["non_2xx"])


LOADS = """
import json, statistics, sys, time
from cds_service.http.server import tune_gc
body = open(sys.argv[1], "rb").read()
tune_gc()  # the collector settings the service runs with
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    json.loads(body)
    times.append((time.perf_counter() - t0) * 1000)
print(statistics.median(times))
"""


def loads_p50(body: Path, n: int = 40) -> float:
    """p50 of stdlib ``json.loads`` of ``body`` in a fresh interpreter with the service's collector
    settings: the benchmark's own heap (the records, the results) must not slow the parse down."""
    out = subprocess.run([sys.executable, "-c", LOADS, str(body), str(n)], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return float(out)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration of each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--latency-ms", type=float, default=100.0, help="FHIR server latency for the fetch run")
    parser.add_argument("--records", nargs="+", default=list(RECORDS))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench installs it)")

    work = Path(tempfile.mkdtemp(prefix="crs-cds-bench-"))
    script = work / "post.lua"
    script.write_text(LUA)
    bodies = {}
    for name in args.records:
        bodies[name] = work / f"{name}.json"
        bodies[name].write_bytes(json.dumps(as_hook_request(RECORDS[name]())).encode())
    env = {**os.environ, "CRS_CDS_ENV": "development", "CRS_CDS_DATABASE_URL": f"sqlite:///{work}/feedback.db",
           "CRS_CDS_LOG_LEVEL": "INFO"}
    pool = ["--workers", str(args.workers), "--threads", str(args.threads)]
    service_port, floor_port = free_port(), free_port()
    crs_cds = str(Path(sys.executable).with_name("crs-cds"))
    print(f"load average before: {load_average()}; gunicorn: {args.workers} workers x {args.threads} threads; "
          f"wrk -t1, {args.seconds:g} s a run, {args.rounds} interleaved rounds")

    runs: dict[tuple[str, str, int], list[Run]] = defaultdict(list)
    loads: dict[str, list[float]] = defaultdict(list)
    fetch: dict[str, list[float]] = defaultdict(list)
    with server([crs_cds, "serve", "--port", str(service_port), *pool], env, service_port, "crs-cds serve",
                work / "service.log") as service, \
            server([sys.executable, str(ROOT / "benchmarks" / "floor_server.py"), "--port", str(floor_port), *pool],
                   env, floor_port, "floor server", work / "floor.log") as floor:
        targets = {"service": f"{service.url}/cds-services/crs-patient-view",
                   "floor": f"{floor.url}/cds-services/crs-patient-view"}
        for url in targets.values():  # warm every worker
            for name in args.records:
                wrk(url, bodies[name], script, max(args.concurrency), 1)
        for r in range(args.rounds):
            for name in args.records:
                for c in args.concurrency:
                    for target, url in targets.items():
                        runs[(name, target, c)].append(wrk(url, bodies[name], script, c, args.seconds))
                loads[name].append(loads_p50(bodies[name]))
            for name in args.records:
                fetch[name].append(bench_fetch.over_http(service.url, name, args.latency_ms / 1000))
            print(f"round {r + 1} of {args.rounds} done; load average {load_average()}", flush=True)
        # Calls that wait on the FHIR server (no prefetch): what the worker model decides.
        waiting_body = work / "no-prefetch.json"
        waiting_body.write_bytes(json.dumps(bench_fetch.no_prefetch_request(
            bench_fetch.remote(args.records[0], args.latency_ms / 1000).base)).encode())
        waiting = wrk(targets["service"], waiting_body, script, WAITING_CONCURRENCY, args.seconds)

    med = statistics.median
    print(f"\n{'record':<15}{'c':>3} {'service p50':>12}{'p99':>9}{'req/s':>8} {'floor p50':>10}{'p99':>9}"
          f"{'req/s':>8} {'json.loads':>11} {'svc/floor':>10}{'svc/loads':>10}{'errors':>7}")
    figures: dict[str, float] = {}
    for name in args.records:
        l50 = med(loads[name])
        for c in args.concurrency:
            s, f = runs[(name, "service", c)], runs[(name, "floor", c)]
            s50, s99, srps = med(x.p50_ms for x in s), med(x.p99_ms for x in s), med(x.rps for x in s)
            f50, f99, frps = med(x.p50_ms for x in f), med(x.p99_ms for x in f), med(x.rps for x in f)
            errors = sum(x.errors for x in s + f)
            print(f"{name:<15}{c:>3} {s50:>10.1f}ms{s99:>7.1f}ms{srps:>8.1f} {f50:>8.1f}ms{f99:>7.1f}ms{frps:>8.1f} "
                  f"{l50:>9.1f}ms {s50 / f50:>10.2f}{s50 / l50:>10.2f}{errors:>7}")
            key = RECORD_KEYS.get(name, name)
            if c == 1:
                figures[f"{key} ratio"] = s50 / l50
            if c == 4:
                figures[f"{key} p99 c4 ms"] = s99
            if c == 16:
                figures[f"{key} rps c16"] = srps
    print()
    for name in args.records:
        figures[f"fetch {RECORD_KEYS.get(name, name)} ms"] = med(fetch[name])
        print(f"no prefetch, FHIR server {args.latency_ms:g} ms away: {name} p50 {med(fetch[name]):.0f} ms "
              f"(rounds: {', '.join(f'{x:.0f}' for x in fetch[name])})")
    print(f"no prefetch, {WAITING_CONCURRENCY} EHR calls at once ({args.records[0]}): {waiting.rps:.1f} req/s, "
          f"p50 {waiting.p50_ms:.0f} ms, p99 {waiting.p99_ms:.0f} ms, errors {waiting.errors}")
    print(f"\nload average after: {load_average()}")
    for goal, limit in GOALS.items():
        if goal in figures:
            higher_is_better = "rps" in goal
            met = figures[goal] >= limit if higher_is_better else figures[goal] <= limit
            print(f"goal {goal:<15} {'>=' if higher_is_better else '<='} {limit:<7g} measured {figures[goal]:8.2f}  "
                  f"{'met' if met else 'NOT MET'}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
