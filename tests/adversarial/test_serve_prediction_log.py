"""The server degrades, never lies: a prediction log that cannot be written turns
``/health`` not-ready and ``/predict`` into a JSON 503, the log never holds half a record,
and no client string reaches a log whole.

Failures are real ones: ``/dev/full`` (every write: "No space left on device") behind a
symbolic link that can be pointed elsewhere again, and a file-size limit
(``RLIMIT_FSIZE``) in a server process of its own, which cuts a write short.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import resource
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from gitml.monitor.batchfile import read_jsonl
from gitml.serve import logbounds
from gitml.serve.app import create_app
from gitml.serve.logbounds import ThrottlingFilter, TruncatingFilter
from gitml.serve.run import ServerThread
from gitml.serve.settings import ServeSettings
from tests.adversarial.test_serve_connections import held_out_records, loaded_model, server_process
from tests.test_serve import parse_metrics, sample

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitml.serve.loaded import LoadedModel

DEV_FULL = Path("/dev/full")
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def model(template_repo: Path) -> LoadedModel:
    return loaded_model(template_repo / "models")


@pytest.fixture(scope="module")
def records(template_repo: Path, model: LoadedModel) -> list[dict[str, Any]]:
    return held_out_records(template_repo, model)


def health(url: str) -> httpx.Response:
    return httpx.get(f"{url}/health", timeout=10)


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_makes_the_server_unready_until_the_log_can_be_written(
    model: LoadedModel, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    log = tmp_path / "predictions.jsonl"
    log.symlink_to(DEV_FULL)
    app = create_app(model, settings=ServeSettings(log_path=log))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        # The disk is full: the answer could not be logged, so it is not given.
        refused = client.post("/predict", json=records[:3])
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/json"
        assert refused.headers["retry-after"] == "1"
        detail = refused.json()["detail"]
        assert detail.startswith(f"cannot write the prediction log {log}: No space left on device")
        assert detail.endswith("predictions are refused until it can be written")
        unready = client.get("/health")
        assert unready.status_code == 503
        body = unready.json()
        assert (body["status"], body["version"]) == ("unavailable", "v0.1.0")
        assert "No space left on device" in body["error"]
        # Refused before scoring while it fails; a failed write is counted once.
        assert client.post("/predict", json=records[0]).status_code == 503
        families = parse_metrics(client.get("/metrics").text)
        errors = "gitml_serve_prediction_log_errors"
        assert sample(families, errors, f"{errors}_total") == 1
        requests = "gitml_serve_requests"
        assert (
            sample(families, requests, f"{requests}_total", endpoint="/predict", status="503") == 2
        )
        records_metric = "gitml_serve_records_predicted"
        assert records_metric not in families or not families[records_metric].samples

        # Room again (the log now leads to a file): ready within a check or two.
        real = tmp_path / "real.jsonl"
        (tmp_path / "next").symlink_to(real)
        os.replace(tmp_path / "next", log)
        deadline = time.monotonic() + 5
        while (ready := client.get("/health")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.1)  # the log is checked again at most once a second
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        answer = client.post("/predict", json=records[:2])
        assert answer.status_code == 200, answer.text
    lines = real.read_text().splitlines()
    assert [json.loads(line)["features"] for line in lines] == records[:2]


def file_size_limit(size: int) -> Callable[[], None]:
    def limit() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))

    return limit


def test_a_write_cut_short_leaves_whole_lines_that_gitml_drift_reads(
    template_repo: Path, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A file-size limit makes the write that crosses it short (the bytes up to the
    limit), and the next one fail: the server cuts off the short part again."""
    limit = 4000  # about ten lines
    log = tmp_path / "predictions.jsonl"
    with (
        server_process(template_repo / "models", log, 10.0, file_size_limit(limit)) as served,
        httpx.Client(base_url=served.url, timeout=10) as client,
    ):
        answered = 0
        for record in records * 2:  # bounded: the limit falls within the first records
            response = client.post("/predict", json=record)
            if response.status_code != 200:
                break
            answered += 1
        assert response.status_code == 503, response.text
        assert "File too large" in response.json()["detail"]
        unready = client.get("/health")
        assert unready.status_code == 503
        assert "File too large" in unready.json()["error"]
        assert served.stop() == 0
    assert "incomplete line" not in served.log_text()
    data = log.read_bytes()
    # Not the limit itself: the bytes written up to it were removed again.
    assert 0 < len(data) < limit
    assert data.endswith(b"\n")
    lines = data.decode().splitlines()
    assert len(lines) == answered
    assert [json.loads(line)["features"] for line in lines] == (records * 2)[:answered]
    frame = read_jsonl(log, "predictions.jsonl", compressed=False, checked=("credit", "v0.1.0"))
    assert len(frame) == answered


# -- bounded strings --------------------------------------------------------------------------


class QuotingModel:
    """A model whose error quotes its input, as many libraries' errors do."""

    def __init__(self, column: str):
        self.column = column

    def predict_proba(self, frame: Any) -> Any:
        raise RuntimeError(f"cannot score {frame[self.column].iloc[0]!r}")


def test_a_one_mib_string_is_cut_in_every_log(
    model: LoadedModel,
    records: list[dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    category = next(f.name for f in model.signature.features if f.type == "category")
    huge = "x" * MIB
    cut = (
        "x" * logbounds.MAX_LOGGED_CHARS + f"…[truncated {MIB - logbounds.MAX_LOGGED_CHARS} chars]"
    )
    log = tmp_path / "predictions.jsonl"
    app = create_app(model, settings=ServeSettings(log_path=log))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        # An unseen category is accepted and scored; the log keeps its first characters.
        assert client.post("/predict", json={**records[0], category: huge}).status_code == 200
        # An unknown field's name is echoed in the 422 and becomes a /metrics label.
        unknown = client.post("/predict", json={**records[0], huge: 1})
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["field"] == cut
        metrics = client.get("/metrics").text
        assert len(metrics) < 20_000
        assert cut in metrics
    (line,) = log.read_text().splitlines()
    assert json.loads(line)["features"][category] == cut
    assert len(line) < 2000

    # An error quoting the client's string, logged with its traceback.
    quoting = dataclasses.replace(model, model=QuotingModel(category))
    with (
        ServerThread(create_app(quoting)) as server,
        caplog.at_level(logging.ERROR, logger="gitml.serve"),
    ):
        response = httpx.post(f"{server.url}/predict", json={**records[0], category: huge})
        assert response.status_code == 500
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_text is not None
    assert "RuntimeError: cannot score 'xxx" in record.exc_text
    assert "…[truncated " in record.exc_text
    assert len(caplog.text) < 20_000


def test_server_log_filters_cut_long_arguments_and_count_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(logbounds.time, "monotonic", lambda: now[0])
    written: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append(record)

    handler = Keep()
    handler.addFilter(TruncatingFilter())
    handler.addFilter(ThrottlingFilter())
    logger = logging.getLogger("tests.serve.bounded")
    logger.propagate = False
    logger.addFilter(TruncatingFilter())  # twice, as on gitml.serve: cut once
    logger.addHandler(handler)
    try:
        logger.warning("GET %s", "/" + "a" * MIB)
        (long,) = written
        assert long.getMessage() == "GET /" + "a" * 1023 + f"…[truncated {MIB - 1023} chars]"
        for _ in range(1000):
            logger.error("socket.accept() out of system resource")
        assert len(written) == 2
        now[0] += logbounds.THROTTLE_SECONDS
        logger.error("socket.accept() out of system resource")
        assert written[-1].getMessage() == (
            "socket.accept() out of system resource [and 999 more like it in the previous 10 s]"
        )
        logger.error("another message")
        assert len(written) == 4
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
