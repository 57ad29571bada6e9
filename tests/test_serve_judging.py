"""``gitml serve --canary`` judged live by the stage's canary policy: a real server on
127.0.0.1, real registered versions of the example, generated traffic with its labels
posted to ``/feedback``; the decision stops (or passes) the candidate and is recorded."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from gitml.registry.observation import ObservationKind
from gitml.registry.observations import read_observations
from gitml.registry.reader import RegistryReader
from gitml.serve.judging import DecisionOptions
from gitml.serve.run import ServerThread, make_server
from tests.helpers import gitml
from tests.test_canary_replay import IMPROVE, STUMP, _batch, _two_versions

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow
TARGET = "default"


def _traffic(path: Path) -> list[tuple[dict[str, Any], int]]:
    """Each generated applicant as a request record (with its routing key ``applicant``),
    and the outcome that becomes known later."""
    rows = []
    with path.open() as source:
        for row in csv.DictReader(source):
            label = int(row.pop(TARGET))
            record: dict[str, Any] = {
                k: (None if v == "" else _number(v)) for k, v in row.items() if k != "applicant"
            }
            record["applicant"] = row["applicant"]
            rows.append((record, label))
    return rows


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _run(repo: Path, tmp_path: Path, requests: int) -> tuple[dict[str, Any], list[str]]:
    """Serve production with v0.2.0 as a judged, recorded canary; send ``requests``
    single-record requests, each labelled at once; return /health and who answered."""
    server = make_server(
        repo,
        "credit@production",
        canary="credit@v0.2.0",
        log_level="warning",
        access_log=False,
        decisions=DecisionOptions(record=True),
    )
    app = server.config.app
    answered = []
    with ServerThread(app) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        for record, label in _traffic(_batch(tmp_path, requests)):
            answer = client.post("/predict", json=record)
            assert answer.status_code == 200, answer.text  # no request fails, ever
            body = answer.json()
            answered.append(body["role"])
            feedback = client.post(
                "/feedback", json={"id": body["predictions"][0]["id"], "label": label}
            )
            assert feedback.json()["accepted"] == 1
        health = client.get("/health").json()
    return health, answered


def test_a_weak_canary_is_stopped_live_and_recorded(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    _two_versions(repo, clock, STUMP)  # v0.2.0: a one-split tree, ROC AUC about 0.65
    health, answered = _run(repo, tmp_path, 1500)
    routing = health["routing"]
    assert routing["stopped"] is True
    analysis = routing["analysis"]
    assert analysis["state"] == "stopped"
    assert analysis["decision"]["verdict"] == "stopped"
    assert "estimated ROC AUC" in analysis["decision"]["rule"]
    # Stopped at once: after the candidate's last answer, only the stable one answers,
    # for the whole rest of the traffic.
    last = max(i for i, role in enumerate(answered) if role == "candidate")
    assert last < len(answered) - 500
    assert set(answered[last + 1 :]) == {"stable"}
    # The decision is a registry event on the candidate's commit, in gitml history.
    with RegistryReader(repo) as reader:
        (seen,) = read_observations(reader).of("credit", kind=ObservationKind.CANARY)
    assert (seen.tag, analysis["recorded"]) == ("gitml.canary/credit/1", "gitml.canary/credit/1")
    observation = seen.observation
    assert (observation.version, observation.against, observation.verdict) == (
        "v0.2.0",
        "v0.1.0",
        "stopped",
    )
    assert "canary of v0.2.0 for production: stopped after" in gitml(repo, "history").stdout


def test_a_good_canary_passes_live_and_is_ready_to_promote(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    _two_versions(repo, clock, IMPROVE)  # v0.2.0: about as good as v0.1.0
    health, answered = _run(repo, tmp_path, 1800)
    analysis = health["routing"]["analysis"]
    assert analysis["state"] == "passed", analysis
    assert analysis["ready_to_promote"] is True
    # Each judged window's figures are in /health, the CBPE estimate of both versions too.
    last = json.dumps(analysis["last_window"])
    assert "estimated_roc_auc" in last
    assert health["routing"]["stopped"] is False
    assert "candidate" in answered[-300:]  # a passed candidate keeps its share
    with RegistryReader(repo) as reader:
        (seen,) = read_observations(reader).of("credit", kind=ObservationKind.CANARY)
    assert seen.observation.verdict == "passed"
    assert seen.observation.windows == 2
