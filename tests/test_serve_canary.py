"""Two versions in one server: a canary's sticky split, a shadow, prediction ids and
``/feedback``, per-version health and metrics, stopping under load, start-up refusals.

Real uvicorn on loopback (``ServerThread``) around the template's trained model (the
stable version) and the example's logistic model trained on the same data (the
candidate), both from the session's fixtures: nothing is retrained here.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests

from gitml.canary.policy import KeySpec
from gitml.canary.router import BUCKETS, bucket_of
from gitml.errors import EXIT_ERROR, EXIT_USAGE, ConfigError
from gitml.monitor.batchfile import read_jsonl
from gitml.serve.app import create_app
from gitml.serve.deployment import CanaryRefused, Mode, Role, Rollout
from gitml.serve.ids import LabelOutcome, PredictionIds
from gitml.serve.routing import parse_key
from gitml.serve.run import ServerThread
from gitml.serve.settings import ServeSettings
from gitml.signature import Feature
from tests.adversarial.test_serve_connections import loaded_model
from tests.helpers import gitml
from tests.test_serve import FailingModel, as_records, parse_metrics, reference_scores, sample

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd

    from gitml.serve.loaded import LoadedModel

HEADER = "X-Request-Key"
STAGING = "credit@staging"


@pytest.fixture(scope="module")
def stable(template_repo: Path) -> LoadedModel:
    """The template's trained model, as production serves it (v0.1.0)."""
    return loaded_model(template_repo / "models")


@pytest.fixture(scope="module")
def candidate(
    template_repo: Path, stable: LoadedModel, tmp_path_factory: pytest.TempPathFactory
) -> LoadedModel:
    """Another artefact of the same model with the same signature, as staging holds it:
    the example's logistic regression on the template's training rows (quick to fit)."""
    from credit_example.features import load_xy
    from credit_example.train import build_pipeline
    from gitml.storage import file_md5, load_model, save_model

    features, labels = load_xy(template_repo / "prepared" / "train.csv")
    pipeline = build_pipeline({"model": "logistic_regression", "seed": 42})
    pipeline.fit(features, labels)
    path = tmp_path_factory.mktemp("candidate") / "credit.skops"
    save_model(pipeline, path)
    return dataclasses.replace(
        stable,
        version="v0.2.0",
        stage="staging",
        ref=STAGING,
        md5=file_md5(path),
        model=load_model(path),
    )


@pytest.fixture(scope="module")
def held_out(template_repo: Path, stable: LoadedModel) -> pd.DataFrame:
    """200 held-out rows, read the way the pipeline reads them."""
    import pandas as pd

    categorical = {f.name: str for f in stable.signature.features if f.type == "category"}
    return pd.read_csv(template_repo / "prepared" / "test.csv", dtype=categorical).head(200)


@pytest.fixture(scope="module")
def records(stable: LoadedModel, held_out: pd.DataFrame) -> list[dict[str, Any]]:
    return as_records(stable, held_out)


def canary(percent: float = 10.0, key: str | None = f"header:{HEADER}") -> Rollout:
    return Rollout(Mode.CANARY, percent=percent, key=parse_key(key) if key else None)


class Observations:
    """A thread-safe observer that records every call and can say stop at the n-th
    candidate observation."""

    def __init__(self, stop_after: int | None = None):
        self.calls: list[tuple[Role, str | None, list[float], float, str | None, list[str]]] = []
        self.labels: list[tuple[str, int]] = []
        self.stop_after = stop_after
        self.candidates = 0
        self._lock = threading.Lock()

    def __call__(
        self,
        role: Role,
        version: str | None,
        scores: Sequence[float],
        latency_s: float,
        error: str | None,
        ids: Sequence[str],
    ) -> object:
        with self._lock:
            self.calls.append((role, version, list(scores), latency_s, error, list(ids)))
            if role is Role.CANDIDATE:
                self.candidates += 1
                if self.stop_after is not None and self.candidates >= self.stop_after:
                    return "candidate error rate above the policy"
        return None

    def sink(self, prediction_id: str, label: int) -> None:
        with self._lock:
            self.labels.append((prediction_id, label))


def post_all(url: str, bodies: list[tuple[Any, dict[str, str]]], threads: int = 4) -> list[Any]:
    """POST every ``(json, headers)`` to /predict from ``threads`` clients; the answers'
    JSON in order."""
    answers: list[Any] = [None] * len(bodies)

    def work(indexes: range) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in indexes:
                body, headers = bodies[i]
                response = client.post("/predict", json=body, headers=headers)
                assert response.status_code == 200, response.text
                answers[i] = response.json()

    workers = [
        threading.Thread(target=work, args=(range(t, len(bodies), threads),))
        for t in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert all(answer is not None for answer in answers)
    return answers


# -- routing --------------------------------------------------------------------------


def test_keyed_requests_split_by_the_share_and_stick_to_their_version(
    stable: LoadedModel,
    candidate: LoadedModel,
    records: list[dict[str, Any]],
    held_out: pd.DataFrame,
) -> None:
    from scipy.stats import chisquare

    keys = [f"customer-{i}" for i in range(800)]
    bodies = [(records[i % len(records)], {HEADER: key}) for i, key in enumerate(keys)]
    # Every tenth customer comes back with another record: the same version answers.
    again = [(records[(i + 7) % len(records)], {HEADER: keys[i]}) for i in range(0, 800, 10)]
    app = create_app(stable, candidate=candidate, rollout=canary(10))
    with ServerThread(app) as server:
        answers = post_all(server.url, bodies + again)
    first, second = answers[: len(keys)], answers[len(keys) :]
    roles = {key: answer["role"] for key, answer in zip(keys, first, strict=True)}
    to_candidate = sum(role == "candidate" for role in roles.values())
    # The share: 10% of keys, within a chi-squared bound.
    assert chisquare([to_candidate, len(keys) - to_candidate], [80, 720]).pvalue > 0.01
    # Exactly the keys whose bucket is below the cut, as any replica would compute them.
    chosen = {key for key in keys if bucket_of(key) < BUCKETS // 10}
    assert {key for key, role in roles.items() if role == "candidate"} == chosen
    # Stickiness: a key's second request is answered by the same version.
    assert [a["role"] for a in second] == [roles[keys[i]] for i in range(0, 800, 10)]
    # Each answer names its version and scores as that version does.
    expected = {model.version: reference_scores(model, held_out) for model in (stable, candidate)}
    for i, answer in enumerate(first):
        model = candidate if answer["role"] == "candidate" else stable
        assert (answer["model"], answer["version"]) == ("credit", model.version)
        (prediction,) = answer["predictions"]
        assert prediction["probability"] == pytest.approx(
            expected[model.version][i % len(records)], abs=1e-12
        )


def test_a_record_field_routes_json_and_csv_alike_and_is_not_a_feature(
    stable: LoadedModel, candidate: LoadedModel, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    log = tmp_path / "predictions.jsonl"
    app = create_app(
        stable,
        settings=ServeSettings(log_path=log),
        candidate=candidate,
        rollout=canary(50, "field:customer_id"),
    )
    customers = [f"c{i}" for i in range(40)]
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        roles = {}
        for i, customer in enumerate(customers):
            body = {"records": [{**records[i], "customer_id": customer}, records[i + 1]]}
            answer = client.post("/predict", json=body)
            assert answer.status_code == 200, answer.text
            roles[customer] = answer.json()["role"]
            # The same customer in CSV, its key a cell: the same version answers.
            frame = io.StringIO()
            writer = csv.DictWriter(frame, [*records[i], "customer_id"])
            writer.writeheader()
            writer.writerow({**records[i], "customer_id": customer})
            text = client.post(
                "/predict", content=frame.getvalue(), headers={"content-type": "text/csv"}
            )
            assert text.status_code == 200, text.text
            assert text.json()["role"] == roles[customer]
        # Without the field, a request is routed by the seeded draw, and still answered.
        assert client.post("/predict", json=records[0]).status_code == 200
    assert set(roles.values()) == {"stable", "candidate"}
    assert roles == {c: "candidate" if bucket_of(c) < BUCKETS // 2 else "stable" for c in customers}
    # The key is routing data, not a feature: the log's features leave it out.
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert all("customer_id" not in line["features"] for line in lines)


def test_canary_keys_are_read_as_the_policy_reads_them() -> None:
    assert parse_key(f"header:{HEADER}") == KeySpec("header", HEADER)
    assert parse_key("field:customer_id") == KeySpec("field", "customer_id")
    for bad in (HEADER, "cookie:a", "header:", "header:a b", "field:", "field:-x"):
        with pytest.raises(ValueError, match="expected header:NAME or field:NAME"):
            parse_key(bad)


# -- shadow ---------------------------------------------------------------------------


def test_a_shadow_answers_with_the_stable_version_only_and_logs_both(
    stable: LoadedModel,
    candidate: LoadedModel,
    records: list[dict[str, Any]],
    held_out: pd.DataFrame,
    tmp_path: Path,
) -> None:
    log = tmp_path / "predictions.jsonl"
    seen = Observations()
    app = create_app(
        stable,
        settings=ServeSettings(log_path=log),
        candidate=candidate,
        rollout=Rollout(Mode.SHADOW),
        observer=seen,
    )
    bodies: list[Any] = [*records[:30], {"records": records[30:120]}, records[120:200]]
    answered: list[dict[str, Any]] = []
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for body in bodies:
            response = client.post("/predict", json=body)
            assert response.status_code == 200, response.text
            answer = response.json()
            assert (answer["role"], answer["version"]) == ("stable", "v0.1.0")
            answered += answer["predictions"]
        assert app.state.shadow.drain(30)
        assert app.state.deployment.drain(30)
        health = client.get("/health").json()
        families = parse_metrics(client.get("/metrics").text)
    assert [(v["role"], v["version"], v["state"]) for v in health["versions"]] == [
        ("stable", "v0.1.0", "serving"),
        ("shadow", "v0.2.0", "shadowing"),
    ]
    assert health["routing"]["mode"] == "shadow"
    assert health["routing"]["percent"] == 0
    # Answers are the stable version's scores.
    assert [p["probability"] for p in answered] == pytest.approx(
        reference_scores(stable, held_out), abs=1e-12
    )
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    stable = [line for line in lines if line["role"] == "stable"]
    shadow = [line for line in lines if line["role"] == "shadow"]
    assert len(stable) == len(shadow) == 200
    assert {line["version"] for line in stable} == {"v0.1.0"}
    assert {line["version"] for line in shadow} == {"v0.2.0"}
    # The shadow's lines repeat the answered ids with the candidate's own scores.
    assert [line["id"] for line in stable] == [p["id"] for p in answered]
    by_id = {line["id"]: line for line in shadow}
    assert set(by_id) == {p["id"] for p in answered}
    candidate_scores = reference_scores(candidate, held_out)
    features = {line["id"]: line["features"] for line in stable}
    for prediction, expected in zip(answered, candidate_scores, strict=True):
        assert by_id[prediction["id"]]["score"] == pytest.approx(expected, abs=1e-12)
        assert by_id[prediction["id"]]["features"] == features[prediction["id"]]
    # The observer saw each request twice: answered, then shadow-scored, with the same ids.
    served_ids = [i for role, *_rest, ids in seen.calls if role is Role.STABLE for i in ids]
    shadow_ids = [i for role, *_rest, ids in seen.calls if role is Role.SHADOW for i in ids]
    assert sorted(served_ids) == sorted(shadow_ids) == sorted(p["id"] for p in answered)
    assert all(error is None for *_head, error, _ids in seen.calls)
    version_requests = "gitml_serve_version_requests"
    for role, version in (("stable", "v0.1.0"), ("shadow", "v0.2.0")):
        count = sample(
            families,
            version_requests,
            f"{version_requests}_total",
            role=role,
            version=version,
            outcome="ok",
        )
        assert count == len(bodies)
    # gitml drift reads one version's rows of such a log: the stable's answered lines,
    # the candidate's shadow lines, and without a version each request once.
    assert len(read_jsonl(log, str(log), False, ("credit", "v0.1.0"))) == 200
    as_candidate = read_jsonl(log, str(log), False, ("credit", "v0.2.0"))
    assert list(as_candidate["score"]) == [line["score"] for line in shadow]
    assert len(read_jsonl(log, str(log), False)) == 200


def test_a_failing_shadow_never_fails_a_request(
    stable: LoadedModel, candidate: LoadedModel, records: list[dict[str, Any]]
) -> None:
    broken = dataclasses.replace(candidate, model=FailingModel(RuntimeError("candidate bug")))
    seen = Observations()
    app = create_app(stable, candidate=broken, rollout=Rollout(Mode.SHADOW), observer=seen)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for record in records[:10]:
            response = client.post("/predict", json=record)
            assert (response.status_code, response.json()["role"]) == (200, "stable")
        assert app.state.shadow.drain(30)
        assert app.state.deployment.drain(30)
        families = parse_metrics(client.get("/metrics").text)
    errors = [error for role, *_mid, error, _ids in seen.calls if role is Role.SHADOW]
    assert errors == ["internal error (RuntimeError)"] * 10
    name = "gitml_serve_version_requests"
    assert (
        sample(families, name, f"{name}_total", role="shadow", version="v0.2.0", outcome="error")
        == 10
    )


# -- ids and feedback -----------------------------------------------------------------


def test_prediction_ids_round_trip_through_feedback(
    stable: LoadedModel, candidate: LoadedModel, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    log = tmp_path / "predictions.jsonl"
    seen = Observations()
    app = create_app(
        stable,
        settings=ServeSettings(log_path=log),
        candidate=candidate,
        rollout=canary(50),
        observer=seen,
        label_sink=seen.sink,
    )
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        answers = [
            client.post("/predict", json=records[i : i + 3], headers={HEADER: f"k{i}"}).json()
            for i in range(0, 30, 3)
        ]
        ids = [p["id"] for a in answers for p in a["predictions"]]
        role_of = {p["id"]: a["role"] for a in answers for p in a["predictions"]}
        assert len(set(ids)) == 30
        assert {a["role"] for a in answers} == {"stable", "candidate"}
        # One label, a batch, and CSV: every form of the body.
        one = client.post("/feedback", json={"id": ids[0], "label": 1})
        assert one.json() == {"accepted": 1, "unknown": 0, "duplicate": 0}
        batch = [{"id": i, "label": n % 2 == 0} for n, i in enumerate(ids[1:20])]
        assert client.post("/feedback", json={"labels": batch}).json() == {
            "accepted": 19,
            "unknown": 0,
            "duplicate": 0,
        }
        text = "id,label\n" + "".join(f"{i},{n % 2}\n" for n, i in enumerate(ids[20:]))
        text += f"{ids[0]},0\nnot-an-id,1\n"
        answer = client.post("/feedback", content=text, headers={"content-type": "text/csv"})
        assert answer.status_code == 200, answer.text
        # The first label of an id stands; an id the server never issued is counted.
        assert answer.json() == {"accepted": 10, "unknown": 1, "duplicate": 1}
        assert app.state.deployment.drain(30)
        families = parse_metrics(client.get("/metrics").text)
    # The sink got each accepted label once, after the observation of its prediction.
    assert [i for i, _label in seen.labels] == ids
    assert dict(seen.labels)[ids[0]] == 1
    observed = {i for _role, *_mid, ids_ in seen.calls for i in ids_}
    assert observed == set(ids)
    # The server remembers which version and role answered each id.
    for prediction_id in ids:
        version, role = app.state.prediction_ids.answer(prediction_id)
        assert role == role_of[prediction_id]
        assert version == ("v0.2.0" if role == "candidate" else "v0.1.0")
    # The logs share the ids: every prediction line has one, every label went to the
    # feedback log beside it, known or not.
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["id"] for line in logged] == ids
    assert [line["role"] for line in logged] == [role_of[i] for i in ids]
    feedback = [json.loads(line) for line in (tmp_path / "predictions.feedback.jsonl").open()]
    assert [set(line) for line in feedback] == [{"ts", "id", "label"}] * 32
    assert feedback[-1]["id"] == "not-an-id"
    name = "gitml_serve_feedback_labels"
    for result, count in (("accepted", 30), ("unknown", 1), ("duplicate", 1)):
        assert sample(families, name, f"{name}_total", result=result) == count


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"id": "x", "label": "yes"}, "record 0: label must be 0, 1, true or false, got 'yes'"),
        ({"id": "x", "label": 2}, "record 0: label must be 0, 1, true or false, got 2"),
        ({"id": "x", "label": 1.0}, "record 0: label must be 0, 1, true or false, got 1.0"),
        ({"id": "x", "label": None}, "record 0: label must be 0, 1, true or false, got null"),
        (
            {"labels": [{"id": "a", "label": 1}, {"id": 7, "label": 0}, {"id": "b"}]},
            "record 1: id must be a prediction id (a non-empty string), got 7 "
            "(and 1 more invalid records)",
        ),
        (
            [{"id": "a", "label": 1, "lable": 0}],
            "record 0: unknown field 'lable' (expected id and label)",
        ),
        ([["a", 1]], 'record 0: expected an object with id and label, got ["a", 1]'),
    ],
)
def test_labels_of_the_wrong_type_are_a_422_naming_the_record(
    client: httpx.Client, body: Any, detail: str
) -> None:
    response = client.post("/feedback", json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": detail}


def test_feedback_bodies_are_bounded_and_checked(
    stable: LoadedModel, records: list[dict[str, Any]]
) -> None:
    settings = ServeSettings(max_body_bytes=2000, max_batch=5)
    with (
        ServerThread(create_app(stable, settings=settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        (prediction,) = client.post("/predict", json=records[0]).json()["predictions"]
        # A bad label anywhere: no label of the request is taken.
        bad = [{"id": prediction["id"], "label": 1}, {"id": "x", "label": "maybe"}]
        assert client.post("/feedback", json=bad).status_code == 422
        assert client.post("/feedback", json=bad[:1]).json()["accepted"] == 1
        too_many = [{"id": f"x{i}", "label": 0} for i in range(6)]
        assert client.post("/feedback", json=too_many).status_code == 413
        huge = client.post("/feedback", content=b"[" + b" " * 3000 + b"]")
        assert huge.status_code == 413
        assert client.post("/feedback", content=b"{").status_code == 400
        assert client.post("/feedback", json=42).status_code == 400
        header = client.post(
            "/feedback", content="id,value\na,1\n", headers={"content-type": "text/csv"}
        )
        assert header.status_code == 400
        assert "id,label" in header.json()["detail"]
        other = client.post("/feedback", content=b"x", headers={"content-type": "text/xml"})
        assert other.status_code == 415


def test_the_memory_of_ids_is_bounded_and_exact() -> None:
    ids = PredictionIds(capacity=10, process="p")
    first = ids.issue(4, "v1", "stable")
    assert first == ["p-0", "p-1", "p-2", "p-3"]
    second = ids.issue(8, "v2", "candidate")  # wraps around the ring
    assert second[0] == "p-4"
    assert ids.answer("p-1") is None  # pushed out by the newest ten
    assert ids.answer("p-2") == ("v1", "stable")
    assert ids.answer("p-11") == ("v2", "candidate")
    assert ids.answer("p-12") is None  # not issued yet
    for made_up in ("q-2", "p-02", "p-x", "p--1", "p-", "p-2" + "0" * 70):
        assert ids.answer(made_up) is None
    assert ids.label("p-5") == (LabelOutcome.ACCEPTED, ("v2", "candidate"))
    assert ids.label("p-5") == (LabelOutcome.DUPLICATE, None)
    assert ids.label("p-0") == (LabelOutcome.UNKNOWN, None)
    # A batch larger than the memory keeps its newest ids.
    big = ids.issue(25, "v1", "stable")
    assert ids.answer(big[14]) is None
    assert ids.answer(big[15]) == ("v1", "stable")
    assert ids.answer(big[-1]) == ("v1", "stable")
    # A slot reused by a newer id is not labelled yet.
    assert ids.label(big[-5])[0] is LabelOutcome.ACCEPTED
    # Two processes never share ids.
    assert PredictionIds().process != PredictionIds().process


# -- health, metrics, observing -------------------------------------------------------


def test_health_metadata_and_metrics_describe_both_versions(
    stable: LoadedModel, candidate: LoadedModel, records: list[dict[str, Any]]
) -> None:
    app = create_app(stable, candidate=candidate, rollout=canary(30))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        answers = [
            client.post("/predict", json=records[i], headers={HEADER: f"k{i}"}).json()
            for i in range(60)
        ]
        health = client.get("/health").json()
        metadata = client.get("/metadata").json()
        families = parse_metrics(client.get("/metrics").text)
        app.state.deployment.stop("by hand")
        stopped = client.get("/health").json()
        after = parse_metrics(client.get("/metrics").text)
    assert (health["status"], health["version"]) == ("ready", "v0.1.0")
    assert health["versions"] == [
        {
            "role": "stable",
            "model": "credit",
            "version": "v0.1.0",
            "md5": stable.md5,
            "stage": "production",
            "ref": "credit@production",
            "state": "serving",
        },
        {
            "role": "candidate",
            "model": "credit",
            "version": "v0.2.0",
            "md5": candidate.md5,
            "stage": "staging",
            "ref": STAGING,
            "state": "serving",
        },
    ]
    assert health["routing"] == {
        "mode": "canary",
        "percent": 30.0,
        "key": f"header:{HEADER}",
        "stopped": False,
        "reason": None,
        "analysis": None,
    }
    assert metadata["version"] == "v0.1.0"
    assert (metadata["candidate"]["role"], metadata["candidate"]["version"]) == (
        "candidate",
        "v0.2.0",
    )
    assert stopped["routing"]["stopped"] is True
    assert stopped["routing"]["reason"] == "by hand"
    assert stopped["routing"]["percent"] == 0
    assert stopped["versions"][1]["state"] == "stopped"
    by_role = {"stable": 0, "candidate": 0}
    for answer in answers:
        by_role[answer["role"]] += 1
    name = "gitml_serve_version_requests"
    for role, version in (("stable", "v0.1.0"), ("candidate", "v0.2.0")):
        total = sample(families, name, f"{name}_total", role=role, version=version, outcome="ok")
        assert total == by_role[role]
        latency = "gitml_serve_version_duration_seconds"
        assert sample(families, latency, f"{latency}_count", role=role) == by_role[role]
        scores = "gitml_serve_prediction_score"
        assert sample(families, scores, f"{scores}_count", role=role) == by_role[role]
        info = "gitml_serve_model_info"
        assert sample(families, info, info, role=role, version=version) == 1
    # The existing families keep their names and their meaning.
    requests_total = "gitml_serve_requests"
    assert sample(families, requests_total, f"{requests_total}_total", endpoint="/predict") == 60
    assert sample(families, "gitml_serve_canary_percent", "gitml_serve_canary_percent") == 30
    assert sample(after, "gitml_serve_canary_percent", "gitml_serve_canary_percent") == 0
    assert sample(after, "gitml_serve_candidate_stopped", "gitml_serve_candidate_stopped") == 1


def test_the_observer_sees_every_answer_and_every_failure_of_a_version(
    stable: LoadedModel, candidate: LoadedModel, records: list[dict[str, Any]]
) -> None:
    broken = dataclasses.replace(candidate, model=FailingModel(RuntimeError("candidate bug")))
    seen = Observations()
    app = create_app(stable, candidate=broken, rollout=canary(50), observer=seen)
    statuses = {}
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(40):
            response = client.post("/predict", json=records[i : i + 2], headers={HEADER: f"k{i}"})
            statuses[f"k{i}"] = response.status_code
        assert app.state.deployment.drain(30)
    failing = {k for k in statuses if bucket_of(k) < BUCKETS // 2}
    assert {k for k, status in statuses.items() if status == 500} == failing
    assert {k for k, status in statuses.items() if status == 200} == set(statuses) - failing
    calls = [
        (role, version, len(scores), error, len(ids))
        for role, version, scores, _l, error, ids in seen.calls
    ]
    assert sorted(calls, key=str) == sorted(
        [(Role.CANDIDATE, "v0.2.0", 0, "internal error (RuntimeError)", 0)] * len(failing)
        + [(Role.STABLE, "v0.1.0", 2, None, 2)] * (40 - len(failing)),
        key=str,
    )
    assert all(latency > 0 for *_head, latency, _error, _ids in seen.calls)


def test_a_canary_stopped_mid_stream_under_load_drops_no_request(
    stable: LoadedModel, candidate: LoadedModel, records: list[dict[str, Any]]
) -> None:
    threads, per_thread = 8, 200
    seen = Observations(stop_after=40)
    app = create_app(stable, candidate=candidate, rollout=canary(20), observer=seen)
    deployment = app.state.deployment
    # (sent at, answered by) for every request; failures kept, never raised in a thread.
    answers: list[tuple[float, str]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def stream(worker: int) -> None:
        mine: list[tuple[float, str]] = []
        with requests.Session() as session:
            for n in range(per_thread):
                key = f"w{worker}-{n}"
                sent = time.monotonic()
                try:
                    response = session.post(
                        f"{server.url}/predict",
                        json=records[(worker * per_thread + n) % len(records)],
                        headers={HEADER: key},
                        timeout=30,
                    )
                except requests.RequestException as exc:
                    failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                mine.append((sent, response.json()["role"]))
        with lock:
            answers.extend(mine)

    with ServerThread(app) as server:
        workers = [threading.Thread(target=stream, args=(w,)) for w in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(300)
        assert deployment.drain(30)
        health = httpx.get(f"{server.url}/health").json()
    assert failures == []
    assert len(answers) == threads * per_thread
    assert deployment.stopped
    assert deployment.stop_reason == "candidate error rate above the policy"
    stopped_at = deployment.stopped_at
    assert stopped_at is not None
    # The candidate answered before the stop, and no request sent after it.
    assert sum(role == "candidate" for _sent, role in answers) >= 40
    late = [sent for sent, role in answers if role == "candidate" and sent > stopped_at]
    assert late == []
    assert sum(sent > stopped_at for sent, _role in answers) > 0  # the stream went on
    assert health["routing"]["stopped"] is True
    assert health["versions"][1]["state"] == "stopped"


# -- start-up refusals ----------------------------------------------------------------


def test_a_candidate_that_cannot_be_compared_is_refused(
    stable: LoadedModel, candidate: LoadedModel
) -> None:
    same = dataclasses.replace(stable, version="v0.2.0", ref="credit@staging")
    with pytest.raises(CanaryRefused) as refused:
        create_app(stable, candidate=same, rollout=canary())
    assert str(refused.value) == (
        f"credit@staging is credit@production's own artefact (md5 {stable.md5}): "
        "a canary or shadow compares two different versions"
    )
    assert refused.value.exit_code == EXIT_ERROR

    def changed(index: int, **changes: Any) -> LoadedModel:
        features = list(candidate.signature.features)
        features[index] = dataclasses.replace(features[index], **changes)
        signature = dataclasses.replace(candidate.signature, features=tuple(features))
        return dataclasses.replace(candidate, signature=signature)

    first = candidate.signature.features[0]
    other_type = "number" if first.type != "number" else "integer"
    cases: list[tuple[LoadedModel, str]] = [
        (
            changed(0, type=other_type),
            f"feature {first.name!r} is {other_type} there, {first.type} in credit@production",
        ),
        (changed(0, name="renamed"), f"it lacks feature {first.name!r}"),
        (
            changed(0, nullable=not first.nullable),
            f"feature {first.name!r} is {'' if not first.nullable else 'not '}nullable there",
        ),
        (
            dataclasses.replace(
                candidate,
                signature=dataclasses.replace(candidate.signature, target="other"),
            ),
            "its target is 'other'",
        ),
    ]
    for bad, problem in cases:
        with pytest.raises(CanaryRefused) as refused:
            create_app(stable, candidate=bad, rollout=Rollout(Mode.SHADOW))
        message = str(refused.value)
        assert message.startswith(f"{STAGING}'s signature differs from credit@production's: ")
        assert problem in message
        assert message.endswith("both versions must accept the same requests")
        assert "\n" not in message
    with pytest.raises(CanaryRefused, match="a version of 'fraud', not of 'credit'"):
        create_app(
            stable,
            candidate=dataclasses.replace(candidate, name="fraud"),
            rollout=canary(),
        )
    # Ranges, categories and the threshold may differ: retraining changes them.
    features = tuple(
        dataclasses.replace(f, min=None, max=None, categories=None) if isinstance(f, Feature) else f
        for f in candidate.signature.features
    )
    retrained = dataclasses.replace(
        candidate,
        signature=dataclasses.replace(candidate.signature, features=features, threshold=0.4),
    )
    create_app(stable, candidate=retrained, rollout=canary())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--canary", "credit@staging", "--shadow", "credit@staging"), "not allowed with"),
        (("--canary", "credit@staging", "--canary-percent", "150"), "between 0 and 100"),
        (("--canary", "credit@staging", "--canary-percent", "nan"), "between 0 and 100"),
        (("--canary", "credit@staging", "--canary-key", "cookie:a"), "header:NAME or field:NAME"),
        (("--canary-percent", "5"), "--canary-percent needs --canary REF"),
        (("--shadow", "credit@staging", "--canary-key", "header:a"), "--canary-key needs"),
        (("--known-ids", "0"), "must be above zero"),
    ],
)
def test_gitml_serve_refuses_options_that_cannot_work_together(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = gitml(tmp_path, "serve", "credit@production", *args, "--port", "0", check=False)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_gitml_serve_refuses_a_canary_of_the_stable_artefact(repo: Path) -> None:
    result = gitml(
        repo, "serve", "credit@HEAD", "--canary", "credit@main", "--port", "0", check=False
    )
    assert result.returncode == EXIT_ERROR, result.stderr
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert "credit@main is credit@HEAD's own artefact" in line
    assert "Traceback" not in result.stderr


@pytest.fixture
def client(stable: LoadedModel) -> Any:
    with (
        ServerThread(create_app(stable)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        yield http


def test_gitml_drift_reads_one_version_of_a_canary_log(tmp_path: Path) -> None:
    def line(version: str | None, role: str | None, score: float) -> str:
        entry: dict[str, Any] = {"ts": "2026-01-01T00:00:00.000Z", "model": "credit"}
        entry |= {"version": version, "features": {"age": 30}, "score": score}
        if role is not None:
            entry["role"] = role
        return json.dumps(entry) + "\n"

    log = tmp_path / "canary.jsonl"
    log.write_text(
        line("v0.1.0", "stable", 0.1)
        + line("v0.2.0", "candidate", 0.2)
        + line("v0.1.0", "stable", 0.3)
        + line(None, "shadow", 0.4)  # a candidate served from a git revision
    )
    name = str(log)
    assert list(read_jsonl(log, name, False, ("credit", "v0.1.0"))["score"]) == [0.1, 0.3]
    assert list(read_jsonl(log, name, False, ("credit", "v0.2.0"))["score"]) == [0.2]
    # Without a version to check, each request once: shadow lines repeat answered ones.
    assert list(read_jsonl(log, name, False)["score"]) == [0.1, 0.2, 0.3]
    with pytest.raises(ConfigError) as nothing:
        read_jsonl(log, name, False, ("credit", "v0.3.0"))
    assert str(nothing.value) == (
        f"{name}: no line logs a prediction of credit@v0.3.0, the version checked; it holds "
        "2 of credit@v0.1.0, 1 of credit@v0.2.0, 1 of credit@(no version) (a canary or "
        "shadow server's log): check one of those"
    )
    # A line without a role is a one-version log's: another version there is refused.
    plain = tmp_path / "plain.jsonl"
    plain.write_text(line("v0.1.0", None, 0.1) + line("v0.2.0", None, 0.2))
    with pytest.raises(ConfigError, match=r"line 2 logs a prediction of credit@v0\.2\.0"):
        read_jsonl(plain, str(plain), False, ("credit", "v0.1.0"))


def test_health_carries_what_the_analysis_says(stable: LoadedModel, candidate: LoadedModel) -> None:
    app = create_app(
        stable,
        candidate=candidate,
        rollout=canary(10),
        analysis_status=lambda: {"windows": 2, "decision": "running"},
    )
    with ServerThread(app) as server:
        routing = httpx.get(f"{server.url}/health", timeout=30).json()["routing"]
    assert routing["analysis"] == {
        "dropped_events": 0,
        "failed_events": 0,
        "windows": 2,
        "decision": "running",
    }


def test_responses_are_not_held_back_by_nagles_algorithm(stable: LoadedModel) -> None:
    """A response's head and body are two writes: with Nagle's algorithm on, the body
    waits for the client's delayed ACK of the head (40 ms on Linux) on every request.
    asyncio turns it off only for sockets that say they are TCP."""
    import http.client
    import socket
    import statistics

    from gitml.serve.server import listen_socket

    sock = listen_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
    with ServerThread(create_app(stable)) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        times = []
        for _ in range(30):
            begin = time.perf_counter()
            connection.request("GET", "/health")
            connection.getresponse().read()
            times.append(time.perf_counter() - begin)
        connection.close()
    assert statistics.median(times) < 0.03  # well below the 40 ms of a delayed ACK
