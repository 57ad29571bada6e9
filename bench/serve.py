"""Benchmark: ``gitml serve`` against ``mlflow models serve`` on the same model.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/serve.py [--quick] [--requests N] [--mlflow PATH]

It builds a trained copy of the example project in a temporary directory (removed
afterwards), registers its model as ``v0.1.0``, exports it with
``gitml export --format mlflow`` and starts these servers on loopback, each a
subprocess with one uvicorn worker:

1. ``gitml serve credit@v0.1.0`` (this project's server, defaults);
2. the same with ``--no-fast-path``: every request scored by ``predict_proba`` on a
   DataFrame, which shows what the fast path buys;
3. the same server around a stub model that answers at once: the server's own cost;
4. a floor: a bare Starlette + uvicorn app that only parses JSON into a DataFrame and
   calls ``predict_proba`` on the skops-loaded model (no validation, metrics or log);
5. ``mlflow models serve --env-manager local`` on the export, as shipped, and again
   with ``OMP_NUM_THREADS=1`` (gitml caps OpenMP to one thread per request itself);
6. progressive delivery, against row 1 in the same run: ``--canary credit@v0.2.0``
   (10% of requests, keyed by an ``X-Request-Key`` header each request carries), the
   same canary with an observer (every answer queued to a no-op analysis thread, as
   the canary analysis receives them), and ``--shadow credit@v0.2.0`` (the candidate
   scores every request after the answer). ``v0.2.0`` is the same pipeline retrained
   with another learning rate: as many trees, the same cost per record.

MLflow is taken from ``--mlflow`` (the ``mlflow`` executable of an environment that
also has the model's scikit-learn and skops), else ``.venv-mlflow`` (which
``./dev test`` prepares from ``constraints-mlflow.txt``), else ``mlflow`` on PATH;
without one the MLflow rows are skipped and said so.

The client, in this process, uses ``http.client`` with one keep-alive connection per
thread. It measures single-record requests one at a time (latency p50/p99), the same
with 4 client threads (p50/p99 and requests per second), and batches of 1,000 records
one at a time (records per second). The servers take turns in 5 rounds, each running
its share of every phase, so changes in machine load hit them alike. Before timing,
each server scores the same 1,000 records and must agree with gitml's own scoring.
Goals: gitml's single-record p50 under 5 ms, and its batch throughput no worse than
MLflow's; a canary adds at most 10% to gitml's single-record p50, a shadow at most 2x.
``--progressive`` runs only rows 1 and 6 (no MLflow). The exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import table as format_table  # noqa: E402
from tests.conftest import isolated_environment  # noqa: E402
from tests.helpers import BIN_DIR, dvc, git, trained_project  # noqa: E402

ROWS = 4000  # the tests' size: the production gate (ROC AUC >= 0.80) passes
REQUESTS = 2000
QUICK_REQUESTS = 300
THREADS = 4
BATCH = 1000
BATCHES = 20
QUICK_BATCHES = 5
ROUNDS = 5
GOAL_P50_MS = 5.0
GOAL_CANARY_RATIO = 1.10  # canary p50 / plain p50, single records, one at a time
GOAL_SHADOW_RATIO = 2.0
CANDIDATE = "credit@v0.2.0"
KEY_HEADER = "X-Request-Key"
START_TIMEOUT = 120.0
PYTHON = str(BIN_DIR / "python")
# A registered version: promotion's gates (which include a timing limit a busy machine
# can miss) are not what this benchmark measures.
REF = "credit@v0.1.0"

GITML_SERVER = """
import json, sys
from gitml.serve.run import serve
options = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
serve(sys.argv[1], sys.argv[2], port=int(sys.argv[3]), fast_path=sys.argv[4] == "fast",
      **options)
"""

# A canary whose answers are observed the way the canary analysis observes them: each
# answered request is queued to one analysis thread (here a no-op that counts).
GITML_OBSERVED_CANARY = """
import sys
from gitml.serve.app import create_app
from gitml.serve.deployment import Mode, Rollout
from gitml.serve.loaded import load_version
from gitml.serve.routing import parse_key
from gitml.serve.server import app_server, configure_logging, listen_socket, run_server
from gitml.serve.settings import ServeSettings

seen = [0]
def observer(role, version, scores, latency, error, ids):
    seen[0] += len(scores)

root, ref, port, candidate, key = sys.argv[1:6]
port = int(port)
configure_logging("info")  # as gitml serve does: the same access log as the other rows
settings = ServeSettings()
app = create_app(
    load_version(root, ref), settings=settings, candidate=load_version(root, candidate),
    rollout=Rollout(Mode.CANARY, percent=10, key=parse_key(key)), observer=observer,
)
server = app_server(app, settings, host="127.0.0.1", port=port, log_level="info")
run_server(server, listen_socket("127.0.0.1", port))
"""

# gitml's server around a stub model that answers 0.25 at once: what the server itself
# costs per request (parsing, validation, frame, metrics, response), without the model.
GITML_STUB_SERVER = """
import dataclasses, sys
import numpy as np, uvicorn
from gitml.serve.app import create_app
from gitml.serve.loaded import load_version

class Stub:
    def predict_proba(self, frame):
        out = np.empty((len(frame), 2))
        out[:, 0], out[:, 1] = 0.75, 0.25
        return out

model = dataclasses.replace(load_version(sys.argv[1], sys.argv[2]), model=Stub())
uvicorn.run(create_app(model), host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""

# The floor: what any Python server around this model pays. It reads the verified
# export (skops, trusted types) and scores a DataFrame built straight from the JSON.
FLOOR_SERVER = """
import json, sys
import pandas as pd, skops.io, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

spec = json.load(open(sys.argv[1] + "/gitml.json"))
model = skops.io.load(sys.argv[1] + "/" + spec["model_file"], trusted=spec["trusted_types"])
columns = [f["name"] for f in spec["features"]]

async def predict(request):
    body = await request.json()
    records = body["records"] if isinstance(body, dict) and "records" in body else body
    records = records if isinstance(records, list) else [records]
    frame = pd.DataFrame.from_records(records, columns=columns)
    scores = model.predict_proba(frame)[:, 1].tolist()
    return JSONResponse({"predictions": [{"probability": s} for s in scores]})

async def health(request):
    return JSONResponse({"status": "ready"})

app = Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/health", health)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


@dataclass
class Server:
    """How to start one server and talk to it."""

    name: str
    argv: list[str]
    ready_path: str
    predict_path: str
    mlflow_format: bool
    env: dict[str, str] = field(default_factory=dict)
    check: bool = True  # scores must equal gitml's (not for the stub model)
    keyed: bool = False  # each request carries its own X-Request-Key (a canary's key)
    port: int = 0

    def single(self, record: dict[str, Any]) -> bytes:
        return json.dumps(
            {"dataframe_records": [record]} if self.mlflow_format else record
        ).encode()

    def batch(self, records: list[dict[str, Any]]) -> bytes:
        key = "dataframe_records" if self.mlflow_format else "records"
        return json.dumps({key: records}).encode()


@dataclass
class Result:
    name: str
    p50_1: float = math.nan
    p99_1: float = math.nan
    p50_n: float = math.nan
    p99_n: float = math.nan
    rps_n: float = math.nan
    records_per_s: float = math.nan
    batch_ms: float = math.nan
    max_diff: float = math.nan
    note: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_gitconfig(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        "[user]\n\tname = Ada Tester\n\temail = ada@example.com\n"
    )


def build_repo(dest: Path) -> Path:
    """A trained copy of the example project whose model is registered as v0.1.0, then
    retrained with another learning rate and registered as v0.2.0 (the candidate)."""
    from gitml import api

    repo = trained_project(dest, ROWS)
    (registration,) = api.register(root=repo, verify_remote=False)
    if registration.version != "v0.1.0":
        raise SystemExit(f"unexpected registration: {registration}")
    params = repo / "params.yaml"
    text = params.read_text()
    if "learning_rate: 0.06" not in text:
        raise SystemExit("params.yaml no longer has learning_rate: 0.06")
    params.write_text(text.replace("learning_rate: 0.06", "learning_rate: 0.08"))
    dvc(repo, "repro", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Retrain with a higher learning rate (the candidate)")
    (registration,) = api.register(root=repo, verify_remote=False)
    if f"credit@{registration.version}" != CANDIDATE:
        raise SystemExit(f"unexpected registration of the candidate: {registration}")
    return repo


def load_records(repo: Path) -> tuple[list[dict[str, Any]], list[float], float]:
    """Held-out rows as JSON clients send them, gitml's own scores for them, and the
    model's own single-record ``predict_proba`` p50 in ms (the floor of any server)."""
    import pandas as pd

    from gitml.serve.loaded import load_version
    from gitml.signature import feature_frame

    model = load_version(repo, REF)
    categorical = {f.name: str for f in model.signature.features if f.type == "category"}
    frame = pd.read_csv(repo / "prepared" / "test.csv", dtype=categorical).head(BATCH)
    records = []
    for row in frame.to_dict("records"):
        record: dict[str, Any] = {}
        for feature in model.signature.features:
            value = row[feature.name]
            if isinstance(value, float) and math.isnan(value):
                record[feature.name] = None
            elif feature.type == "integer":
                record[feature.name] = int(value)
            elif feature.type == "number":
                record[feature.name] = float(value)
            else:
                record[feature.name] = str(value)
        records.append(record)
    features = feature_frame(model.signature, frame)
    scores = model.model.predict_proba(features)[:, 1]
    from threadpoolctl import threadpool_limits

    one = features.head(1)
    times = []
    with threadpool_limits(limits=1, user_api="openmp"):
        for _ in range(200):
            begin = time.perf_counter()
            model.model.predict_proba(one)
            times.append((time.perf_counter() - begin) * 1000)
    return records, [float(s) for s in scores], statistics.median(times[20:])


def post(conn: http.client.HTTPConnection, path: str, body: bytes, key: str | None = None) -> bytes:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers[KEY_HEADER] = key
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"POST {path}: HTTP {response.status}: {data[:300]!r}")
    return data


def probabilities(data: bytes) -> list[float]:
    return [float(p["probability"]) for p in json.loads(data)["predictions"]]


def start(server: Server, log: Path) -> subprocess.Popen[bytes]:
    server.port = free_port()
    argv = [a.replace("{port}", str(server.port)) for a in server.argv]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, **server.env},
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", server.ready_path)
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            pass
        time.sleep(0.2)  # a benchmark may poll: nothing here is under test
    stop(process)
    raise RuntimeError(f"{server.name} did not start in {START_TIMEOUT:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM our own process group (MLflow execs uvicorn from a shell), then wait."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


def singles(server: Server, bodies: list[bytes], threads: int) -> tuple[list[float], float]:
    """Latencies (ms) of every request and the wall time, ``threads`` clients at once."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def work(share: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        mine = []
        try:
            for n, body in enumerate(share):
                key = f"customer-{threading.get_ident()}-{n}" if server.keyed else None
                begin = time.perf_counter()
                post(conn, server.predict_path, body, key)
                mine.append((time.perf_counter() - begin) * 1000)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=work, args=(bodies[i::threads],)) for i in range(threads)]
    begin = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - begin
    if errors:
        raise RuntimeError(f"{server.name}: {len(errors)} client errors, first: {errors[0]}")
    return latencies, wall


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def check(server: Server, records: list[dict[str, Any]], expected: list[float]) -> Result:
    """Warm a server up; score the check records (``max_diff`` against gitml's scores)."""
    result = Result(server.name)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        got = probabilities(post(conn, server.predict_path, server.batch(records)))
        if server.check:
            result.max_diff = max(abs(a - b) for a, b in zip(got, expected, strict=True))
        for record in records[:50]:
            post(conn, server.predict_path, server.single(record))
    finally:
        conn.close()
    return result


def measure(
    servers: list[Server],
    records: list[dict[str, Any]],
    results: dict[str, Result],
    requests: int,
    batches: int,
    rounds: int = ROUNDS,
) -> dict[str, list[float]]:
    """Time every server, interleaved: in each round every server runs its share, so a
    change in machine load hits them all alike. Returns each server's single-record p50
    per round."""
    rounds = max(1, rounds)
    round_p50: dict[str, list[float]] = {s.name: [] for s in servers}
    single: dict[str, list[float]] = {s.name: [] for s in servers}
    multi: dict[str, list[float]] = {s.name: [] for s in servers}
    multi_wall = dict.fromkeys(single, 0.0)
    batch_times: dict[str, list[float]] = {s.name: [] for s in servers}
    for round_index in range(rounds):
        share = range(round_index, requests, rounds)
        share_batches = len(range(round_index, batches, rounds))
        for server in servers:
            bodies = [server.single(records[i % len(records)]) for i in share]
            latencies = singles(server, bodies, 1)[0]
            single[server.name] += latencies
            round_p50[server.name].append(statistics.median(latencies))
        for server in servers:
            bodies = [server.single(records[i % len(records)]) for i in share]
            latencies, wall = singles(server, bodies, THREADS)
            multi[server.name] += latencies
            multi_wall[server.name] += wall
        for server in servers:
            body = server.batch(records)
            # A fresh connection per round: uvicorn closes one idle for over 5 s.
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            try:
                for _ in range(share_batches):  # none in a round past the batch count
                    begin = time.perf_counter()
                    post(conn, server.predict_path, body)
                    batch_times[server.name].append(time.perf_counter() - begin)
            finally:
                conn.close()
        print(f"  round {round_index + 1}/{rounds} done")
    for server in servers:
        result = results[server.name]
        result.p50_1 = percentile(single[server.name], 50)
        result.p99_1 = percentile(single[server.name], 99)
        result.p50_n = percentile(multi[server.name], 50)
        result.p99_n = percentile(multi[server.name], 99)
        result.rps_n = len(multi[server.name]) / multi_wall[server.name]
        times = batch_times[server.name]
        result.records_per_s = BATCH * len(times) / sum(times)
        result.batch_ms = statistics.median(times) * 1000
    return round_p50


def table(results: list[Result]) -> str:
    headers = (
        "server",
        "c=1 p50 ms",
        "c=1 p99 ms",
        f"c={THREADS} p50 ms",
        f"c={THREADS} p99 ms",
        f"c={THREADS} req/s",
        f"batch {BATCH:,} ms",
        "batch rec/s",
        "max |diff|",
    )
    rows = []
    for r in results:
        if r.note:
            rows.append((r.name, r.note, *[""] * (len(headers) - 2)))
            continue
        rows.append(
            (
                r.name,
                f"{r.p50_1:.2f}",
                f"{r.p99_1:.2f}",
                f"{r.p50_n:.2f}",
                f"{r.p99_n:.2f}",
                f"{r.rps_n:.0f}",
                f"{r.batch_ms:.1f}",
                f"{r.records_per_s:,.0f}",
                "n/a" if math.isnan(r.max_diff) else f"{r.max_diff:.1e}",
            )
        )
    return format_table(headers, rows)


def others(repo: Path, exported: Path, mlflow: str | None) -> list[Server]:
    """The rows gitml serve is compared with: no fast path, a stub model, the floor, MLflow."""
    servers = [
        Server(
            "gitml serve --no-fast-path",
            [PYTHON, "-c", GITML_SERVER, str(repo), REF, "{port}", "plain"],
            "/health",
            "/predict",
            mlflow_format=False,
        ),
        Server(
            "gitml serve, stub model (server only)",
            [PYTHON, "-c", GITML_STUB_SERVER, str(repo), REF, "{port}"],
            "/health",
            "/predict",
            mlflow_format=False,
            check=False,
        ),
        Server(
            "floor: bare Starlette + predict_proba",
            [PYTHON, "-c", FLOOR_SERVER, str(exported / "model"), "{port}"],
            "/health",
            "/predict",
            mlflow_format=False,
            env={"OMP_NUM_THREADS": "1"},
        ),
    ]
    mlflow_argv = [
        *(mlflow or "mlflow", "models", "serve", "-m", str(exported)),
        *("--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}"),
    ]
    # MLflow runs `uvicorn` from PATH: its own environment's.
    mlflow_path = f"{Path(mlflow).parent}{os.pathsep}{os.environ['PATH']}" if mlflow else ""
    for name, extra in (
        ("mlflow models serve", {}),
        ("mlflow models serve, OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1"}),
    ):
        servers.append(
            Server(
                name,
                mlflow_argv,
                "/ping",
                "/invocations",
                mlflow_format=True,
                env={"PATH": mlflow_path, **extra},
            )
        )
    return servers


def progressive(repo: Path) -> list[Server]:
    """gitml serve with a canary (plain, and observed) and with a shadow, same model."""
    canary = {"canary": CANDIDATE, "canary_percent": 10, "canary_key": f"header:{KEY_HEADER}"}
    argv = [PYTHON, "-c", GITML_SERVER, str(repo), REF, "{port}", "fast"]
    return [
        Server(
            "gitml serve --canary 10%",
            [*argv, json.dumps(canary)],
            "/health",
            "/predict",
            mlflow_format=False,
            check=False,  # a tenth of the answers are the candidate's
            keyed=True,
        ),
        Server(
            "gitml serve --canary 10%, observed",
            [
                PYTHON,
                "-c",
                GITML_OBSERVED_CANARY,
                str(repo),
                REF,
                "{port}",
                CANDIDATE,
                f"header:{KEY_HEADER}",
            ],
            "/health",
            "/predict",
            mlflow_format=False,
            check=False,
            keyed=True,
        ),
        Server(
            "gitml serve --shadow",
            [*argv, json.dumps({"shadow": CANDIDATE})],
            "/health",
            "/predict",
            mlflow_format=False,
        ),
    ]


def routing_cost_us(count: int = 100_000) -> float:
    """What a canary adds to a request before scoring, timed in this process: reading
    its key from the headers and the router's decision (microseconds)."""
    from starlette.datastructures import Headers

    from gitml.serve.routing import default_splitter, header_key, parse_key

    spec = parse_key(f"header:{KEY_HEADER}")
    router = default_splitter(10, spec)
    raw = [
        (b"host", b"127.0.0.1:8000"),
        (b"accept-encoding", b"identity"),
        (b"content-type", b"application/json"),
        (b"content-length", b"312"),
        (KEY_HEADER.lower().encode(), b"customer-140234-17"),
    ]
    headers = Headers(raw=raw)
    begin = time.perf_counter()
    for _ in range(count):
        router.route(header_key(spec, headers))
    return (time.perf_counter() - begin) / count * 1e6


def find_mlflow(explicit: str | None) -> str | None:
    candidates = (explicit, str(ROOT / ".venv-mlflow" / "bin" / "mlflow"), shutil.which("mlflow"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 requests, 5 batches")
    parser.add_argument("--requests", type=int, help=f"single-record requests (default {REQUESTS})")
    parser.add_argument("--batches", type=int, help=f"batches of {BATCH:,} (default {BATCHES})")
    parser.add_argument("--mlflow", help="the mlflow executable to compare with")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"rounds of turns (default {ROUNDS})"
    )
    parser.add_argument(
        "--progressive",
        action="store_true",
        help="only gitml serve against its canary and shadow rows (no MLflow, stub, floor)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    requests = args.requests or (QUICK_REQUESTS if args.quick else REQUESTS)
    batches = args.batches or (QUICK_BATCHES if args.quick else BATCHES)
    mlflow = find_mlflow(args.mlflow)
    started = time.perf_counter()
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory(prefix="gitml-bench-serve-") as tmp:
            base = Path(tmp)
            home = base / "_home"
            write_gitconfig(home)
            os.environ.update(isolated_environment(home))
            # The servers choose their own OpenMP threads (the rows below say how).
            os.environ.pop("OMP_NUM_THREADS", None)
            setup = time.perf_counter()
            repo = build_repo(base / "example")
            from gitml.serve.export import export

            exported = export(repo, REF, "mlflow", base / "mlflow-model")
            records, expected, model_ms = load_records(repo)
            print(f"gitml serve benchmark ({os.cpu_count()} CPUs, loopback, one uvicorn worker)")
            print(
                f"(built, trained, registered and exported in {time.perf_counter() - setup:.1f} s;"
                f" {requests:,} single-record requests, {batches} batches of {BATCH:,})"
            )
            print(
                f"(the model alone, in this process: predict_proba of one record, p50 "
                f"{model_ms:.2f} ms with one OpenMP thread)"
            )
            plain = Server(
                "gitml serve",
                [PYTHON, "-c", GITML_SERVER, str(repo), REF, "{port}", "fast"],
                "/health",
                "/predict",
                mlflow_format=False,
            )
            servers = [plain] if args.progressive else [plain, *others(repo, exported, mlflow)]
            servers += progressive(repo)
            results: dict[str, Result] = {}
            running: list[Server] = []
            processes = []
            try:
                for server in servers:
                    if server.mlflow_format and mlflow is None:
                        results[server.name] = Result(server.name, note="skipped: no mlflow")
                        continue
                    log = base / f"server-{len(processes)}.log"
                    processes.append(start(server, log))
                    running.append(server)
                    results[server.name] = check(server, records, expected)
                print(f"  {len(running)} servers up; timing them in turns")
                round_p50 = measure(running, records, results, requests, batches, args.rounds)
            finally:
                for process in processes:
                    stop(process)
    finally:
        os.environ.clear()
        os.environ.update(saved)

    ordered = list(results.values())
    print()
    print(table(ordered))
    gitml = ordered[0]
    print()
    verdict = "PASS" if gitml.p50_1 < GOAL_P50_MS else "FAIL"
    print(f"{verdict}: gitml single-record p50 {gitml.p50_1:.2f} ms (goal < {GOAL_P50_MS:g} ms)")
    rivals = [r for r in ordered if r.name.startswith("mlflow") and not r.note]
    if rivals:
        best = max(rivals, key=lambda r: r.records_per_s)
        verdict = "PASS" if gitml.records_per_s >= best.records_per_s else "FAIL"
        print(
            f"{verdict}: gitml batch throughput {gitml.records_per_s:,.0f} rec/s vs "
            f"{best.name} {best.records_per_s:,.0f} rec/s (goal: no worse)"
        )
    else:
        print("SKIP: throughput goal (no MLflow to compare with)")
    by_name = {r.name: r for r in ordered}
    for name, goal in (
        ("gitml serve --canary 10%", GOAL_CANARY_RATIO),
        ("gitml serve --canary 10%, observed", GOAL_CANARY_RATIO),
        ("gitml serve --shadow", GOAL_SHADOW_RATIO),
    ):
        row = by_name[name]
        ratio = row.p50_1 / gitml.p50_1
        # Each round's p50 against gitml serve's in the same round: robust to the load
        # of a shared machine changing between rounds.
        per_round = sorted(
            mine / theirs
            for mine, theirs in zip(round_p50[name], round_p50[gitml.name], strict=True)
        )
        verdict = "PASS" if ratio <= goal else "FAIL"
        print(
            f"{verdict}: {name}: single-record p50 {row.p50_1:.2f} ms, {ratio:.2f}x gitml "
            f"serve's (goal <= {goal:g}x; per round {per_round[0]:.2f}-{per_round[-1]:.2f}x, "
            f"median {statistics.median(per_round):.2f}x); c={THREADS} p50 "
            f"{row.p50_n / gitml.p50_n:.2f}x, req/s {row.rps_n / gitml.rps_n:.2f}x"
        )
    routing_us = routing_cost_us()
    print(
        f"(in-process: reading the key and routing a request costs {routing_us:.1f} us, "
        f"{routing_us / 10 / gitml.p50_1:.2f}% of gitml serve's p50)"
    )
    agree = all(r.max_diff < 1e-9 for r in ordered if not (r.note or math.isnan(r.max_diff)))
    print(f"{'PASS' if agree else 'FAIL'}: every server scored the 1,000 check records as gitml")
    print(f"\ntotal wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
