"""``gitml serve`` as an operator runs it: the real command in its own process, on a
repository whose production stage records a version, stopped with SIGTERM."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd
import pytest

from gitml import api
from gitml.serve.loaded import load_version
from tests.helpers import BIN_DIR, dvc, git
from tests.registry_flow import model_md5
from tests.test_serve import (
    as_records,
    merge_next_version_into_production,
    parse_metrics,
    promote_first_version,
    reference_scores,
    sample,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow
REF = "credit@production"
START_SECONDS = 120.0  # imports, DVC, skops and the fast path's probe on a busy machine


class ServeProcess:
    """A running ``gitml serve``: its process, its URL, and its log lines as they come.

    uvicorn logs to stderr; a thread reads it line by line, so a test waits for a
    line (an event) instead of sleeping, and the pipe never fills up.
    """

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = START_SECONDS) -> str:
        """The next stderr line containing ``text``; fails if the process ends first."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                code = self.process.wait()
                raise AssertionError(f"gitml serve exited {code} before {text!r}:\n{self.output()}")
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from gitml serve in {timeout} s:\n{self.output()}")

    def wait_ready(self) -> dict[str, Any]:
        """Learn the port from uvicorn's start line, then poll /health until ready."""
        line = self.wait_for_line("Uvicorn running on ")
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        self.url = f"http://127.0.0.1:{match.group(1)}"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                health = httpx.get(f"{self.url}/health", timeout=10)
                if health.status_code == 200:
                    body: dict[str, Any] = health.json()
                    return body
            # Paces the retries, and ends the wait at once if the server died.
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.process.wait(timeout=0.1)
                raise AssertionError(f"gitml serve exited {code}:\n{self.output()}")
        raise AssertionError(f"/health never ready in {START_SECONDS} s:\n{self.output()}")


@contextlib.contextmanager
def gitml_serve(repo: Path, *args: str) -> Iterator[ServeProcess]:
    """Run ``gitml serve ARGS`` in ``repo`` on any free loopback port (``--port 0``)."""
    command = [str(BIN_DIR / "gitml"), "serve", *args, "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(
        command,
        cwd=repo,
        stdout=subprocess.DEVNULL,  # uvicorn's access log
        stderr=subprocess.PIPE,
        text=True,
    )
    served = ServeProcess(process)
    try:
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


def held_out_rows(repo: Path, count: int = 150) -> pd.DataFrame:
    """The example's held-out rows, read the way the pipeline reads them."""
    loaded = load_version(repo, REF)
    categorical = {f.name: str for f in loaded.signature.features if f.type == "category"}
    return pd.read_csv(repo / "prepared" / "test.csv", dtype=categorical).head(count)


def test_gitml_serve_answers_like_gitml_and_stops_cleanly_on_sigterm(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    promote_first_version(repo, clock)
    loaded = load_version(repo, REF)
    rows = held_out_rows(repo)
    records = as_records(loaded, rows)
    # gitml's own scoring of the same rows: the public loader, the pipeline's frame.
    public = api.load(REF, root=repo)
    expected = reference_scores(dataclasses.replace(loaded, model=public), rows)
    threshold = loaded.signature.threshold
    log = tmp_path / "predictions.jsonl"

    with gitml_serve(repo, REF, "--log", str(log)) as served:
        health = served.wait_ready()
        assert {k: health[k] for k in ("status", "model", "version", "stage", "md5")} == {
            "status": "ready",
            "model": "credit",
            "version": "v0.1.0",
            "stage": "production",
            "md5": loaded.md5,
        }
        with httpx.Client(base_url=served.url, timeout=30) as client:
            single = client.post("/predict", json=records[0]).json()
            assert single["version"] == "v0.1.0"
            (prediction,) = single["predictions"]
            assert prediction.pop("id")  # each prediction's id, for POST /feedback
            assert prediction == {
                "probability": expected[0],
                "decision": int(expected[0] >= threshold),
            }
            batch = client.post("/predict", json={"records": records}).json()
            assert [p["probability"] for p in batch["predictions"]] == expected
            assert [p["decision"] for p in batch["predictions"]] == [
                int(s >= threshold) for s in expected
            ]
            families = parse_metrics(client.get("/metrics").text)
            active = "gitml_serve_fast_path_active"
            assert sample(families, active, active, model="credit", reason="") == 1
            # gitml serve owns its process, so it leaves out the _created series the
            # client library would add beside every counter and histogram.
            assert [name for name in families if name.endswith("_created")] == []

            # A request in flight at SIGTERM: its body stops short of the last byte
            # until the server has begun to shut down.
            body = json.dumps(records[:10]).encode()
            headers_sent = threading.Event()
            release = threading.Event()
            answer: dict[str, Any] = {}

            def slow_body() -> Iterator[bytes]:
                yield body[:-1]
                headers_sent.set()
                assert release.wait(60), "the test never released the request"
                yield body[-1:]

            def post() -> None:
                with httpx.Client(timeout=60) as other:
                    answer["response"] = other.post(f"{served.url}/predict", content=slow_body())

            sender = threading.Thread(target=post)
            sender.start()
            assert headers_sent.wait(30)
            # In flight once the server counts it (the scrape itself is the other one).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                families = parse_metrics(client.get("/metrics").text)
                name = "gitml_serve_requests_in_flight"
                if sample(families, name, name) >= 2:
                    break
            else:
                raise AssertionError("the slow request never reached the server")

        served.process.send_signal(signal.SIGTERM)
        # uvicorn has closed its socket and waits for the request we hold open.
        served.wait_for_line("Waiting for connections to close", timeout=30)
        release.set()
        sender.join(60)
        response = answer["response"]
        assert response.status_code == 200, response.text
        assert [p["probability"] for p in response.json()["predictions"]] == expected[:10]
        assert served.process.wait(60) == 0, served.output()
    assert "Application shutdown complete" in served.output()
    # Every answered record was logged, the in-flight ones included, before the exit.
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [entry["score"] for entry in logged] == [expected[0], *expected, *expected[:10]]


def test_gitml_serve_no_fast_path_scores_every_request_with_predict_proba(
    origin_repo: Path, clock: Clock
) -> None:
    repo = origin_repo
    promote_first_version(repo, clock)
    loaded = load_version(repo, REF)
    rows = held_out_rows(repo, 20)
    records = as_records(loaded, rows)
    expected = reference_scores(loaded, rows)

    with gitml_serve(repo, REF, "--no-fast-path") as served:
        # Logged while the model loads, before uvicorn starts: information, not a
        # warning, since the operator asked for it.
        line = served.wait_for_line("no fast path")
        assert line.startswith("INFO:"), line
        assert "credit v0.1.0: no fast path (disabled: " in line
        served.wait_ready()
        with httpx.Client(base_url=served.url, timeout=30) as client:
            answers = [
                client.post("/predict", json=record).json()["predictions"][0]["probability"]
                for record in records
            ]
            families = parse_metrics(client.get("/metrics").text)
        assert answers == expected
        scoring, active = "gitml_serve_scoring", "gitml_serve_fast_path_active"
        assert sample(families, scoring, f"{scoring}_total", path="plain") == len(records)
        assert sample(families, active, active, model="credit", reason="disabled") == 0
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(60) == 0, served.output()


def reloads(served: ServeProcess, result: str) -> float:
    families = parse_metrics(httpx.get(f"{served.url}/metrics", timeout=10).text)
    name = "gitml_serve_reloads"
    try:
        return sample(families, name, f"{name}_total", result=result)
    except (AssertionError, KeyError):
        return 0.0


def test_failed_reload_keeps_the_old_version_and_says_why(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    promote_first_version(repo, clock)
    # The serving host's DVC remote: a mirror of the team's, taken while it held v0.1.0
    # only, so the version recorded next is missing from it.
    mirror = tmp_path / "host-remote"
    shutil.copytree(tmp_path / "dvc-remote", mirror)
    host = tmp_path / "host"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(host))
    dvc(host, "remote", "modify", "--local", "storage", "url", str(mirror))

    merge_next_version_into_production(repo, clock)  # recorded below
    new_md5 = model_md5(repo, "main")
    good_bytes = (
        tmp_path / "dvc-remote" / "files" / "md5" / new_md5[:2] / new_md5[2:]
    ).read_bytes()
    in_mirror = mirror / "files" / "md5" / new_md5[:2] / new_md5[2:]
    assert not in_mirror.exists()
    record = as_records(load_version(repo, "credit@v0.1.0"), held_out_rows(repo, 1))[0]

    args = ("--reload-on-promotion", "--poll-seconds", "0.2")
    with gitml_serve(host, REF, *args) as served:
        assert served.wait_ready()["version"] == "v0.1.0"
        (outcome,) = api.promote_on_push("production", root=repo)
        assert (outcome.status, outcome.version) == ("recorded", "v0.2.0")

        def still_v1(error: str) -> float:
            """The old version answers, /health says why the reload failed; the count."""
            answer = httpx.post(f"{served.url}/predict", json=record, timeout=30)
            assert (answer.status_code, answer.json()["version"]) == (200, "v0.1.0")
            health = httpx.get(f"{served.url}/health", timeout=10).json()
            assert (health["status"], health["version"]) == ("ready", "v0.1.0")
            assert health["reload"]["ref"] == REF
            assert error in health["reload"]["last_error"], health
            assert health["reload"]["failed_polls"] >= 1
            assert health["reload"]["last_error_at"].endswith("Z")
            assert httpx.get(f"{served.url}/metadata", timeout=10).json()["version"] == "v0.1.0"
            return reloads(served, "failed")

        # Missing from the host's remote: each poll fails, and the log says so.
        served.wait_for_line("reload of credit@production failed (still serving v0.1.0)")
        failed = still_v1("not in the DVC remote")
        assert failed >= 1
        # Present but not the registered bytes: refused by the md5 check.
        in_mirror.parent.mkdir(parents=True, exist_ok=True)
        in_mirror.write_bytes(good_bytes[:-1] + bytes([good_bytes[-1] ^ 1]))
        served.wait_for_line(f"differs from the recorded {new_md5}")
        assert still_v1(f"differs from the recorded {new_md5}") > failed
        assert reloads(served, "swapped") == 0
        # The right bytes: the next poll swaps, and /health clears the error.
        in_mirror.write_bytes(good_bytes)
        served.wait_for_line("now serving credit v0.2.0")
        health = httpx.get(f"{served.url}/health", timeout=10).json()
        assert (health["version"], health["md5"]) == ("v0.2.0", new_md5)
        assert (health["reload"]["last_error"], health["reload"]["failed_polls"]) == (None, 0)
        assert reloads(served, "swapped") == 1
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(60) == 0, served.output()
