"""Worker memory over many 14-day calls: does it stay flat? (``make bench``)

Starts ``crs-cds serve`` (one worker by default, so every call lands in the
worker measured; a throw-away SQLite feedback database) and sends ``--calls``
patient-views carrying the 14-day ICU record one after another over one
keep-alive connection. Every ``--every`` calls it prints the worker's resident
(RSS) and proportional (PSS: shared pages divided among the processes sharing
them) memory, then the growth from the first sample (after a warm-up) to the
last and the least-squares slope per 100 calls. A leak shows as a steady slope;
allocator noise as a few hundred KB either way.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_http import free_port, load_average, server  # noqa: E402
from devkit.records import RECORDS, as_hook_request  # noqa: E402


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of ``pid`` in KB, from /proc/<pid>/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = int(parts[1])
    return values["Rss:"], values["Pss:"]


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(c) for c in children)


def slope_per_100(points: list[tuple[int, int]]) -> float:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return 100 * sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--record", default="14d-icu-15min", choices=list(RECORDS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (crs-cds serve's default)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="crs-cds-memory-"))
    body = json.dumps(as_hook_request(RECORDS[args.record]())).encode()
    env = {**os.environ, "CRS_CDS_ENV": "development", "CRS_CDS_DATABASE_URL": f"sqlite:///{work}/feedback.db"}
    port = free_port()
    command = [str(Path(sys.executable).with_name("crs-cds")), "serve", "--port", str(port),
               "--workers", str(args.workers), "--threads", str(args.threads)]
    print(f"load average: {load_average()}; {args.calls} calls of {args.record} ({len(body) / 1e6:.1f} MB each), "
          f"{args.workers} worker(s) x {args.threads} thread(s)")
    with server(command, env, port, "crs-cds serve", work / "service.log") as service:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json"}

        def call() -> None:
            connection.request("POST", "/cds-services/crs-patient-view", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"the service answered {response.status}")

        for _ in range(args.warm_up):
            call()
        samples: dict[int, list[tuple[int, int, int]]] = {pid: [] for pid in workers_of(service.pid)}
        print(f"{'calls':>6} " + " ".join(f"{'worker ' + str(pid) + ' RSS':>20} {'PSS':>9}" for pid in samples))
        for done in range(0, args.calls + 1):
            if done % args.every == 0:
                row = []
                for pid in samples:
                    rss, pss = memory_kb(pid)
                    samples[pid].append((done, rss, pss))
                    row.append(f"{rss / 1024:>17.1f} MB {pss / 1024:>6.1f} MB")
                print(f"{done:>6} " + " ".join(row), flush=True)
            if done < args.calls:
                call()
        connection.close()
    for pid, points in samples.items():
        first, last = points[0], points[-1]
        print(f"worker {pid}: RSS {first[1] / 1024:.1f} -> {last[1] / 1024:.1f} MB "
              f"({(last[1] - first[1]) / 1024:+.1f} MB over {args.calls} calls; slope "
              f"{slope_per_100([(p[0], p[1]) for p in points]):+.0f} KB per 100 calls), PSS "
              f"{first[2] / 1024:.1f} -> {last[2] / 1024:.1f} MB")
        # A leak keeps growing; allocator warm-up (one malloc arena per thread as the pool's threads take
        # turns on the connection) is a step at the start. The second half tells them apart.
        half = [p for p in points if p[0] >= args.calls // 2]
        if len(half) >= 2:
            print(f"worker {pid}, second half ({half[0][0]}-{half[-1][0]} calls): RSS {half[0][1] / 1024:.1f} -> "
                  f"{half[-1][1] / 1024:.1f} MB ({(half[-1][1] - half[0][1]) / 1024:+.1f} MB; slope "
                  f"{slope_per_100([(p[0], p[1]) for p in half]):+.0f} KB per 100 calls)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
