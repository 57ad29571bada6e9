"""``gitml serve --log 'DIR/predictions-{host}.jsonl'``: one prediction log (and one
feedback log) per replica on a shared volume, named after the host (a pod's name)."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pandas as pd
import pytest

from gitml.serve.loaded import load_version
from gitml.serve.prediction_log import PredictionLogError, feedback_path, log_path_for_host
from gitml.serve.settings import ServeSettings
from tests.helpers import gitml
from tests.test_serve import as_records
from tests.test_serve_command import gitml_serve

TEMPLATE = "/var/log/gitml/predictions-{host}.jsonl"
POD = "credit-production-7d9f8c6b5-k2x9q"


def test_host_placeholder_becomes_the_host_name() -> None:
    resolved = log_path_for_host(TEMPLATE, POD)
    assert resolved == Path(f"/var/log/gitml/predictions-{POD}.jsonl")
    # The feedback log follows the prediction log: one of each per replica.
    assert feedback_path(resolved) == Path(f"/var/log/gitml/predictions-{POD}.feedback.jsonl")
    assert log_path_for_host(TEMPLATE) == Path(
        f"/var/log/gitml/predictions-{socket.gethostname()}.jsonl"
    )
    assert log_path_for_host("/logs/{host}/{host}.jsonl", "a.b_c-1") == Path(
        "/logs/a.b_c-1/a.b_c-1.jsonl"
    )
    # Without the placeholder the path is the path (also for a host name unfit for one).
    assert log_path_for_host("logs/predictions.jsonl", "../x") == Path("logs/predictions.jsonl")


@pytest.mark.parametrize(
    "host",
    ["", "..", ".hidden", "-rf", "_x", "pod/../etc", "pod name", "pod\nname", "p" * 254, "pöd"],
)
def test_a_host_name_unfit_for_a_file_name_is_refused(host: str) -> None:
    with pytest.raises(PredictionLogError) as error:
        log_path_for_host(TEMPLATE, host)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        f"prediction log {TEMPLATE}: the host name {host!r} cannot stand for {{host}} "
        "(expected letters, digits, '.', '-' or '_'"
    )


def test_settings_refuse_a_path_whose_host_was_not_replaced() -> None:
    with pytest.raises(ValueError, match=r"still holds \{host\}"):
        ServeSettings(log_path=Path(TEMPLATE))
    assert ServeSettings(log_path=log_path_for_host(TEMPLATE, POD)).log_path == Path(
        f"/var/log/gitml/predictions-{POD}.jsonl"
    )


@pytest.mark.slow
def test_gitml_serve_writes_its_own_log_and_feedback_log_named_after_the_host(
    repo: Path, tmp_path: Path
) -> None:
    logs = tmp_path / "shared-volume"
    template = str(logs / "predictions-{host}.jsonl")
    mine = logs / f"predictions-{socket.gethostname()}.jsonl"
    model = load_version(repo, "credit@HEAD")
    categorical = {f.name: str for f in model.signature.features if f.type == "category"}
    rows = pd.read_csv(repo / "prepared" / "test.csv", dtype=categorical).head(12)
    records = as_records(model, rows)
    with gitml_serve(repo, "credit@HEAD", "--log", template) as served:
        said = served.wait_for_line("prediction log: ")
        assert f"prediction log: {mine} (feedback: {feedback_path(mine)})" in said
        served.wait_ready()
        with httpx.Client(base_url=served.url, timeout=30) as client:
            answer = client.post("/predict", json={"records": records})
            assert answer.status_code == 200, answer.text
            ids = [p["id"] for p in answer.json()["predictions"]]
            labels = [{"id": ids[0], "label": 1}, {"id": ids[1], "label": 0}]
            assert client.post("/feedback", json={"labels": labels}).json()["accepted"] == 2
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(60) == 0
    assert sorted(p.name for p in logs.iterdir()) == [feedback_path(mine).name, mine.name]
    assert len(mine.read_text().splitlines()) == 12
    assert len(feedback_path(mine).read_text().splitlines()) == 2


def test_serve_help_names_the_placeholder(tmp_path: Path) -> None:
    text = gitml(tmp_path, "serve", "--help").stdout
    assert "{host} in PATH becomes" in " ".join(text.split())
