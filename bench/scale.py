"""Benchmark: many replicas of one exported model, and drift over many replicas' logs.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/scale.py [--replicas 1,2,4,8] [--rows 5000] [--repeats 5]

It builds a trained copy of the example project in a temporary directory (removed
afterwards), registers its model as ``credit@v0.1.0`` and exports it once with
``gitml export credit@v0.1.0 --format dir``: the directory a container image holds.

1. **Replicas of one md5.** For each N it starts N ``gitml serve credit@v0.1.0
   --from-export DIR`` processes at once, all on that one directory, as N pods of one
   Deployment start from one image. Each checks the model's md5 on the bytes it loads.
   Per process: wall seconds from spawn to the first ``/health`` answer (one blocking
   request per process, sent as soon as the port accepts, answered once the server
   runs: no polling interval in the figure), CPU seconds spent by then
   (``/proc/PID/stat``), resident memory at that moment (``/proc/PID/status`` VmRSS),
   and the md5 ``/health`` reports. One unmeasured start first (the page cache warm, as
   an image's layers are on a node after its first pod), then ``--rounds`` rounds of
   every N; figures are medians over all the processes of an N. Anchor: N = 1.
   **Goals:** every replica reports the export's md5; a replica's memory within 1.10x of
   the single replica's at every N, and its CPU seconds to ready within 1.25x while the
   replicas have a core each (N <= cores): the same work and the same footprint whatever
   N, nothing shared or serialised between them. Past the cores the CPU figures are
   printed, not judged (processes taking turns on a core each pay for the others' cache
   misses and switches), and wall start-up is expected to grow like N / cores (on a
   cluster each pod has its own CPU request).
2. **Drift over many logs.** Each replica of the largest N logs its own predictions
   (``--log DIR/predictions-pod-K.jsonl``: on one machine every process has the same host
   name, so the bench names the "pods" itself instead of ``{host}``) and scores
   ``--rows`` generated records in requests of 1,000. Their logs, and the same lines in
   one file (``cat`` in name order), are checked with ``gitml drift credit@v0.1.0
   --data LOGS/ --json`` and ``--data one.jsonl --json``, each a subprocess timed by wall
   clock with its peak memory (``ru_maxrss`` of a fresh wrapper's children), the two
   taking turns, after a warm-up that checks both print the same report. Anchor: the one
   file. **Goal:** the directory's median at most 1.10x the one file's (reading many logs
   costs nothing that matters); the ratio of the fastest runs is printed beside it. The
   in-process cost of joining the logs (and hashing the joined file) is printed too.

The exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import WRAPPER, table  # noqa: E402
from tests.conftest import isolated_environment  # noqa: E402
from tests.helpers import BIN_DIR, gitml, trained_project  # noqa: E402

ROWS = 4000  # the tests' training size
REF = "credit@v0.1.0"
REPLICAS = (1, 2, 4, 8)
LOG_ROWS = 5000
REQUEST = 1000
REPEATS = 5
ROUNDS = 3
START_TIMEOUT = 300.0
GOAL_CPU_RATIO = 1.25
GOAL_RSS_RATIO = 1.10
GOAL_DRIFT_RATIO = 1.10
PYTHON = str(BIN_DIR / "python")
GITML = str(BIN_DIR / "gitml")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Replica:
    """One ``gitml serve --from-export`` process and what it showed when it became ready."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    spawned: float
    ready_s: float = math.nan
    cpu_s: float = math.nan
    rss_mb: float = math.nan
    md5: str = ""
    error: str = ""


def write_gitconfig(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        "[user]\n\tname = Ada Tester\n\temail = ada@example.com\n"
    )


def build_registry(dest: Path) -> Path:
    """A trained copy of the example project whose model is registered as v0.1.0."""
    from gitml import api

    repo = trained_project(dest, ROWS)
    (registration,) = api.register(root=repo, verify_remote=False)
    if f"credit@{registration.version}" != REF:
        raise SystemExit(f"unexpected registration: {registration}")
    return repo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_figures(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and resident MB of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    rss_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
    return cpu, rss_kib / 1024


def wait_ready(replica: Replica) -> None:
    """One blocking GET /health once the port accepts; note when it answered, and the
    process's CPU and memory at that moment."""
    deadline = replica.spawned + START_TIMEOUT
    while time.perf_counter() < deadline:
        if replica.process.poll() is not None:
            replica.error = f"exited {replica.process.returncode}"
            return
        conn = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=START_TIMEOUT)
        try:
            conn.request("GET", "/health")
            response = conn.getresponse()
            body = json.loads(response.read())
        except ConnectionRefusedError:
            time.sleep(0.005)  # not listening yet: the process is still importing
            continue
        except (OSError, http.client.HTTPException, ValueError) as exc:
            replica.error = repr(exc)
            return
        finally:
            conn.close()
        if response.status != 200:
            replica.error = f"/health {response.status}: {body}"
            return
        replica.ready_s = time.perf_counter() - replica.spawned
        replica.cpu_s, replica.rss_mb = proc_figures(replica.process.pid)
        replica.md5 = str(body.get("md5"))
        return
    replica.error = f"not ready in {START_TIMEOUT:.0f} s"


def start_replicas(count: int, exported: Path, logs: Path, base: Path) -> list[Replica]:
    """``count`` servers of the one export, spawned back to back, each waited for."""
    replicas = []
    for number in range(count):
        port = free_port()
        name = f"pod-{number + 1}"
        argv = [
            *(GITML, "serve", REF, "--from-export", str(exported)),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--log", str(logs / f"predictions-{name}.jsonl")),
        ]
        stderr = (base / f"serve-{count}-{name}.log").open("wb")
        process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
        stderr.close()
        replicas.append(Replica(name, port, process, time.perf_counter()))
    waiters = [threading.Thread(target=wait_ready, args=(r,)) for r in replicas]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join()
    return replicas


def stop(replicas: list[Replica]) -> None:
    """SIGTERM each of our servers (its own process group), then wait for it."""
    for replica in replicas:
        if replica.process.poll() is None:
            os.killpg(replica.process.pid, signal.SIGTERM)
    for replica in replicas:
        try:
            replica.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(replica.process.pid, signal.SIGKILL)
            replica.process.wait(60)


def generated_records(rows: int, seed: int, exported: Path) -> list[dict[str, Any]]:
    """Rows of the example's generator as clients send them (JSON values, null missing)."""
    import pandas as pd

    from credit_example.generate import generate

    spec = json.loads((exported / "gitml.json").read_text())
    frame = pd.DataFrame(generate(rows, seed=seed, shift=0.0))
    records = []
    for row in frame.to_dict("records"):
        record: dict[str, Any] = {}
        for feature in spec["features"]:
            value = row[feature["name"]]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                record[feature["name"]] = None
            elif feature["type"] == "integer":
                record[feature["name"]] = int(value)
            elif feature["type"] == "number":
                record[feature["name"]] = float(value)
            else:
                record[feature["name"]] = str(value)
        records.append(record)
    return records


def score_rows(replica: Replica, records: list[dict[str, Any]]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=120)
    try:
        for start in range(0, len(records), REQUEST):
            body = json.dumps({"records": records[start : start + REQUEST]}).encode()
            conn.request(
                "POST", "/predict", body=body, headers={"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"{replica.name}: HTTP {response.status}: {data[:300]!r}")
    finally:
        conn.close()


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float


def measure(argv: list[str]) -> Run:
    done = subprocess.run([PYTHON, "-c", WRAPPER, *argv], capture_output=True, text=True)
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {result['rc']}):\n{result['stderr']}")
    return Run(result["seconds"], result["peak_kib"] / 1024)


def replicas_part(
    counts: tuple[int, ...], exported: Path, base: Path, rows: int, rounds: int
) -> tuple[dict[int, list[Replica]], Path]:
    """Start every N in turn, ``rounds`` times, after one unmeasured start (it warms the
    page cache, as an image's layers are warm on a node after its first pod). In the last
    round, each of the largest N's replicas also logs ``rows`` predictions."""
    results: dict[int, list[Replica]] = {count: [] for count in counts}
    logs = base / "logs"
    stop(start_replicas(1, exported, base / "logs-warm-up", base))
    for round_number in range(1, rounds + 1):
        for count in counts:
            last = round_number == rounds and count == max(counts)
            round_logs = logs if last else base / f"logs-{round_number}-{count}"
            replicas = start_replicas(count, exported, round_logs, base)
            try:
                failed = [r for r in replicas if r.error]
                if failed:
                    log = (base / f"serve-{count}-{failed[0].name}.log").read_text()[-2000:]
                    raise SystemExit(f"{failed[0].name} of {count}: {failed[0].error}\n{log}")
                if last:
                    for number, replica in enumerate(replicas):
                        score_rows(replica, generated_records(rows, 1000 + number, exported))
            finally:
                stop(replicas)
            results[count] += replicas
        print(f"  round {round_number}/{rounds}: {', '.join(map(str, counts))} replicas done")
    return results, logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", default=",".join(map(str, REPLICAS)), help="e.g. 1,2,4,8")
    parser.add_argument("--rows", type=int, default=LOG_ROWS, help="rows each replica logs")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="timed drift runs each")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="start-ups of every N")
    args = parser.parse_args(argv)
    counts = tuple(sorted({int(n) for n in args.replicas.split(",")}))
    if counts[0] != 1:
        counts = (1, *counts)  # the anchor
    started = time.perf_counter()
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory(prefix="gitml-bench-scale-") as tmp:
            base = Path(tmp)
            home = base / "_home"
            write_gitconfig(home)
            os.environ.update(isolated_environment(home))
            os.environ.pop("OMP_NUM_THREADS", None)  # gitml serve caps its own threads
            setup = time.perf_counter()
            repo = build_registry(base / "example")
            exported = base / "export"
            gitml(repo, "export", REF, "--format", "dir", "-o", str(exported))
            md5 = json.loads((exported / "gitml.json").read_text())["md5"]
            print(
                f"gitml scale benchmark ({os.cpu_count()} CPUs; built, trained, registered and "
                f"exported in {time.perf_counter() - setup:.1f} s; export md5 {md5})"
            )
            results, logs = replicas_part(counts, exported, base, args.rows, args.rounds)
            drift_rows, drift_runs, join_ms = drift_part(repo, logs, base, args.repeats)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    report(counts, results, md5, drift_rows, drift_runs, join_ms)
    print(f"\ntotal wall time: {time.perf_counter() - started:.1f} s")
    return 0


def drift_part(
    repo: Path, logs: Path, base: Path, repeats: int
) -> tuple[int, dict[str, list[Run]], float]:
    """Time gitml drift on the directory of logs and on their concatenation, in turns."""
    from gitml.monitor.source import is_log_name, open_batch

    names = sorted(p.name for p in logs.iterdir() if is_log_name(p.name))
    one = base / "one.jsonl"
    one.write_bytes(b"".join((logs / name).read_bytes() for name in names))
    rows = sum(1 for _ in one.open("rb"))
    commands = {
        f"gitml drift --data DIR ({len(names)} logs)": str(logs),
        f"gitml drift --data one.jsonl ({rows:,} lines)": str(one),
    }
    reports = []
    for data in commands.values():
        result = gitml(repo, "drift", REF, "--data", data, "--json")
        reports.append(json.loads(result.stdout))
    if reports[0] != reports[1] or reports[0]["rows"] != rows:
        raise SystemExit("the directory and the one file gave different reports")
    runs: dict[str, list[Run]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, data in commands.items():
            argv = [GITML, "drift", REF, "--data", data, "--json", "--root", str(repo)]
            runs[label].append(measure(argv))
    # Where the directory's extra time can go: joining the logs (each line parsed once to
    # check it, then written) and hashing the joined file, in this process.
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        with open_batch(repo, str(logs), None) as joined, joined.open("rb") as stream:
            hashlib.file_digest(stream, "sha256")
        times.append(time.perf_counter() - begin)
    return rows, runs, statistics.median(times) * 1000


def report(
    counts: tuple[int, ...],
    results: dict[int, list[Replica]],
    md5: str,
    drift_rows: int,
    drift_runs: dict[str, list[Run]],
    join_ms: float,
) -> None:
    one = results[1]
    anchor_ready = statistics.median(r.ready_s for r in one)
    anchor_cpu = statistics.median(r.cpu_s for r in one)
    anchor_rss = statistics.median(r.rss_mb for r in one)
    cores = os.cpu_count() or 1
    rows = []
    worst_cpu = worst_rss = 0.0
    same = True
    for count in counts:
        replicas = results[count]
        ready = statistics.median(r.ready_s for r in replicas)
        cpu = statistics.median(r.cpu_s for r in replicas)
        rss = statistics.median(r.rss_mb for r in replicas)
        agree = sum(r.md5 == md5 for r in replicas)
        same = same and agree == len(replicas)
        if count <= cores:
            worst_cpu = max(worst_cpu, cpu / anchor_cpu)
        worst_rss = max(worst_rss, rss / anchor_rss)
        rows.append(
            (
                str(count),
                str(len(replicas)),
                f"{ready:.2f}",
                f"{max(r.ready_s for r in replicas):.2f}",
                f"{ready / anchor_ready:.2f}x",
                f"{cpu:.2f}",
                f"{max(r.cpu_s for r in replicas):.2f}",
                f"{cpu / anchor_cpu:.2f}x",
                f"{rss:.0f}",
                f"{max(r.rss_mb for r in replicas):.0f}",
                f"{rss / anchor_rss:.2f}x",
                f"{agree}/{len(replicas)}",
            )
        )
    print()
    print(
        "Replicas of one export, N started at once (per process, at its first /health; "
        "medians over every round's processes):"
    )
    print()
    headers = (
        "N",
        "starts",
        "ready s",
        "max s",
        "vs N=1",
        "CPU s",
        "max s",
        "vs N=1",
        "RSS MB",
        "max MB",
        "vs N=1",
        "same md5",
    )
    print(table(headers, rows))
    print()
    print(f"{'PASS' if same else 'FAIL'}: every replica's /health reports the export's md5 {md5}")
    verdict = "PASS" if worst_cpu <= GOAL_CPU_RATIO else "FAIL"
    print(
        f"{verdict}: CPU to ready per replica <= {GOAL_CPU_RATIO}x N=1's while N <= "
        f"{cores} cores (worst median {worst_cpu:.2f}x)"
    )
    verdict = "PASS" if worst_rss <= GOAL_RSS_RATIO else "FAIL"
    print(
        f"{verdict}: memory per replica <= {GOAL_RSS_RATIO}x N=1's (worst median {worst_rss:.2f}x)"
    )
    print()
    print(f"gitml drift over the replicas' logs ({drift_rows:,} rows; medians of each run):")
    print()
    labels = list(drift_runs)
    anchor_s = statistics.median(r.seconds for r in drift_runs[labels[1]])
    anchor_mb = statistics.median(r.peak_mb for r in drift_runs[labels[1]])
    drift_rows_out = []
    for label in labels:
        seconds = statistics.median(r.seconds for r in drift_runs[label])
        peak = statistics.median(r.peak_mb for r in drift_runs[label])
        drift_rows_out.append(
            (
                label,
                f"{seconds:.2f}",
                f"{min(r.seconds for r in drift_runs[label]):.2f}",
                f"{seconds / anchor_s:.2f}x",
                f"{peak:.0f}",
                f"{peak / anchor_mb:.2f}x",
            )
        )
    print(
        table(
            ("command", "median s", "min s", "vs one file", "peak MB", "vs one file"),
            drift_rows_out,
        )
    )
    ratio = statistics.median(r.seconds for r in drift_runs[labels[0]]) / anchor_s
    fastest = min(r.seconds for r in drift_runs[labels[0]]) / min(
        r.seconds for r in drift_runs[labels[1]]
    )
    print()
    verdict = "PASS" if ratio <= GOAL_DRIFT_RATIO else "FAIL"
    print(
        f"{verdict}: many logs {ratio:.2f}x one file, median (goal <= {GOAL_DRIFT_RATIO}x); "
        f"fastest runs {fastest:.2f}x"
    )
    print(f"(in-process: joining the logs and hashing the joined file took {join_ms:.0f} ms)")


if __name__ == "__main__":
    sys.exit(main())
