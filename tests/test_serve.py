"""The model server over real HTTP: uvicorn on loopback, a real model, a real registry."""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitml import api
from gitml.serve.app import RegistryWatcher, ServeSettings, create_app
from gitml.serve.loaded import LoadedModel, load_version
from gitml.serve.metrics import Counter, Histogram, MetricsRegistry
from gitml.serve.records import InvalidRecords, build_frame, validate_records
from gitml.serve.run import ServerThread, make_server
from gitml.signature import feature_frame, signature_from_text
from gitml.storage import file_md5, load_model
from tests.helpers import git
from tests.registry_flow import merge_pull_request, model_md5

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Clock

# Improves the model on the tests' data, so the production gate passes (test_promotion).
IMPROVE = ("train", "hist_gradient_boosting.max_leaf_nodes", 8)
LOG_KEYS = {"ts", "model", "version", "features", "score", "decision"}


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def credit_model(template_repo: Path) -> LoadedModel:
    """The template's trained model as the server holds it (no registry needed)."""
    path = template_repo / "models" / "credit.skops"
    signature_file = template_repo / "models" / "credit.signature.json"
    return LoadedModel(
        name="credit",
        version="v0.1.0",
        md5=file_md5(path),
        commit=git(template_repo, "rev-parse", "HEAD").stdout.strip(),
        stage="production",
        model=load_model(path),
        signature=signature_from_text(signature_file.read_text(), str(signature_file)),
        metrics=json.loads((template_repo / "metrics" / "credit.json").read_text()),
        card=yaml.safe_load((template_repo / "models" / "credit.card.yaml").read_text()),
        artifact="models/credit.skops",
        ref="credit@production",
    )


@pytest.fixture(scope="session")
def rows(template_repo: Path, credit_model: LoadedModel) -> pd.DataFrame:
    """Held-out rows of the template, read the way the pipeline reads them."""
    categorical = {f.name: str for f in credit_model.signature.features if f.type == "category"}
    frame = pd.read_csv(template_repo / "prepared" / "test.csv", dtype=categorical)
    return frame.head(200)


def as_records(model: LoadedModel, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON clients send them: ints for integer features, null for missing."""
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
    return records


def reference_scores(model: LoadedModel, frame: pd.DataFrame) -> list[float]:
    """gitml's own scoring path (the report's re-scoring): feature_frame + predict_proba."""
    scores = model.model.predict_proba(feature_frame(model.signature, frame))[:, 1]
    return [float(s) for s in scores]


@pytest.fixture
def server(credit_model: LoadedModel, tmp_path: Path) -> Iterator[ServerThread]:
    settings = ServeSettings(log_path=tmp_path / "log" / "predictions.jsonl")
    with ServerThread(create_app(credit_model, settings=settings)) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


class GatedModel:
    """Wraps a model; predict_proba waits until released (in-flight and timeout tests)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        self.entered.set()
        assert self.release.wait(30), "the test never released the model"
        return self.inner.predict_proba(frame)


def parse_metrics(text: str) -> dict[str, Any]:
    """The exposition parsed by Prometheus' own client library, by family name."""
    parser = pytest.importorskip("prometheus_client.parser")
    return {family.name: family for family in parser.text_string_to_metric_families(text)}


def sample(families: dict[str, Any], family: str, name: str, **labels: str) -> float:
    for item in families[family].samples:
        if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
            return float(item.value)
    raise AssertionError(f"no sample {name}{labels} in {family}")


# -- predictions ----------------------------------------------------------------------------


def test_single_batch_and_csv_predictions_match_gitml_scoring(
    client: httpx.Client, credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    expected = reference_scores(credit_model, rows)
    records = as_records(credit_model, rows)
    threshold = credit_model.signature.threshold

    single = client.post("/predict", json=records[0])
    assert single.status_code == 200, single.text
    body = single.json()
    assert body["model"] == "credit"
    assert body["version"] == "v0.1.0"
    assert body["threshold"] == threshold
    (prediction,) = body["predictions"]
    assert prediction["probability"] == pytest.approx(expected[0], abs=1e-12)
    assert prediction["decision"] == int(expected[0] >= threshold)

    for payload in ({"records": records}, records):
        batch = client.post("/predict", json=payload)
        assert batch.status_code == 200, batch.text
        scores = [p["probability"] for p in batch.json()["predictions"]]
        assert scores == pytest.approx(expected, abs=1e-12)
        decisions = [p["decision"] for p in batch.json()["predictions"]]
        assert decisions == [int(s >= threshold) for s in expected]

    # CSV exactly as pandas writes it: the target column included, NaN as empty cells.
    columns = [*credit_model.signature.feature_names, credit_model.signature.target]
    csv_body = rows[columns].to_csv(index=False)
    response = client.post("/predict", content=csv_body, headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    scores = [p["probability"] for p in response.json()["predictions"]]
    assert scores == pytest.approx(expected, abs=1e-12)

    empty = client.post("/predict", json={"records": []})
    assert (empty.status_code, empty.json()["predictions"]) == (200, [])


def test_invalid_records_get_a_422_naming_every_bad_field(
    client: httpx.Client, credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    good = as_records(credit_model, rows.head(1))[0]
    bad = [
        {**good, "age": "abc"},
        {k: v for k, v in good.items() if k != "debt_to_income"},
        {**good, "agee": 40},
        {**good, "num_credit_lines": None, "loan_term_months": 36.5},
        {**good, "loan_purpose": 3, "interest_rate": True},
        good,
        ["not", "an", "object"],
    ]
    response = client.post("/predict", json={"records": bad})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {"record": 0, "field": "age", "error": "expected a number, got 'abc'"},
        {"record": 1, "field": "debt_to_income", "error": "missing field"},
        {"record": 2, "field": "agee", "error": "unknown field: not a feature of credit"},
        {
            "record": 3,
            "field": "num_credit_lines",
            "error": "missing value: this feature is not nullable",
        },
        {"record": 3, "field": "loan_term_months", "error": "expected an integer, got 36.5"},
        {"record": 4, "field": "interest_rate", "error": "expected a number, got true"},
        {"record": 4, "field": "loan_purpose", "error": "expected a string (category), got 3"},
        {"record": 6, "field": None, "error": "expected a JSON object, got an array"},
    ]

    # CSV cells are text: a bad cell is reported with its record index too.
    columns = list(credit_model.signature.feature_names)
    csv_rows = rows[columns].head(3).copy()
    csv_rows["age"] = csv_rows["age"].astype(object)
    csv_rows.iloc[2, csv_rows.columns.get_loc("age")] = "forty"
    response = client.post(
        "/predict", content=csv_rows.to_csv(index=False), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"record": 2, "field": "age", "error": "expected a number, got 'forty'"}
    ]

    assert client.post("/predict", content=b"{not json").status_code == 400
    assert client.post("/predict", json=42).status_code == 400
    assert client.post("/predict", content=b"[" * 100_000).status_code == 400
    form = client.post("/predict", data={"age": "40"})
    assert form.status_code == 415


def test_out_of_range_unseen_and_nullable_values_are_accepted_and_counted(
    client: httpx.Client, credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    good = as_records(credit_model, rows.head(1))[0]
    accepted = [
        {**good, "age": 150, "annual_income": None},  # out of range; nullable missing
        {k: v for k, v in good.items() if k != "region"},  # a nullable feature left out
        {**good, "loan_purpose": "crypto", "region": ""},  # unseen category; empty = missing
        {**good, "loan_amount": 20000.0, "default": 1},  # integral float; target ignored
    ]
    response = client.post("/predict", json=accepted)
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 4
    families = parse_metrics(client.get("/metrics").text)
    out_of_range = "gitml_serve_out_of_range_values"
    assert sample(families, out_of_range, f"{out_of_range}_total", feature="age") == 1
    unseen = "gitml_serve_unseen_categories"
    assert sample(families, unseen, f"{unseen}_total", feature="loan_purpose") == 1


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_either_validates_and_scores_or_is_rejected(
    credit_model: LoadedModel, data: st.DataObject
) -> None:
    """Never a 500: whatever the values, validation accepts (and the model scores) or
    rejects with field errors."""
    names = [*credit_model.signature.feature_names, "extra"]
    record = data.draw(
        st.dictionaries(st.sampled_from(names), _json_values, min_size=len(names) - 3)
    )
    try:
        batch = validate_records(credit_model.signature, [record])
    except InvalidRecords as exc:
        problems = exc.errors
        assert problems
        assert all(e.error for e in problems)
        return
    scores = credit_model.model.predict_proba(build_frame(credit_model.signature, batch))
    assert 0.0 <= scores[0, 1] <= 1.0


# -- limits -----------------------------------------------------------------------------------


def test_body_batch_and_time_limits(
    credit_model: LoadedModel, rows: pd.DataFrame, tmp_path: Path
) -> None:
    gated = GatedModel(credit_model.model)
    model = dataclasses.replace(credit_model, model=gated)
    settings = ServeSettings(max_body_bytes=4000, max_batch=5, timeout_seconds=0.5)
    records = as_records(credit_model, rows.head(20))
    with (
        ServerThread(create_app(model, settings=settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        too_big = client.post("/predict", json=records)
        assert too_big.status_code == 413
        assert "exceeds the limit of 4000" in too_big.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
            body = json.dumps(records).encode()
            for start in range(0, len(body), 1000):
                yield body[start : start + 1000]

        streamed = client.post("/predict", content=chunks())
        assert streamed.status_code == 413

        too_many = client.post("/predict", json=records[:6])
        assert too_many.status_code == 413
        assert "batch of 6 records exceeds the limit of 5" in too_many.json()["detail"]

        slow = client.post("/predict", json=records[0])  # the model waits: timeout
        assert slow.status_code == 504
        gated.release.set()
        assert client.post("/predict", json=records[:5]).status_code == 200
        families = parse_metrics(client.get("/metrics").text)
        assert sample(families, "gitml_serve_timeouts", "gitml_serve_timeouts_total") == 1
        assert (
            sample(
                families,
                "gitml_serve_requests",
                "gitml_serve_requests_total",
                endpoint="/predict",
                status="413",
            )
            == 3
        )


def test_in_flight_requests_finish_on_shutdown(
    credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    gated = GatedModel(credit_model.model)
    server = ServerThread(create_app(dataclasses.replace(credit_model, model=gated))).start()
    record = as_records(credit_model, rows.head(1))[0]
    result: dict[str, Any] = {}

    def call() -> None:
        result["response"] = httpx.post(f"{server.url}/predict", json=record, timeout=30)

    client = threading.Thread(target=call)
    client.start()
    assert gated.entered.wait(30)
    stopper = threading.Thread(target=server.stop)  # what SIGTERM does
    stopper.start()
    # Released only once uvicorn is shutting down: the answer comes from a server
    # that no longer accepts connections but finishes what it started.
    assert server.server.stopping.wait(30)
    gated.release.set()
    client.join(30)
    stopper.join(30)
    assert result["response"].status_code == 200
    assert len(result["response"].json()["predictions"]) == 1
    assert not stopper.is_alive()


# -- health, metadata, metrics, log ---------------------------------------------------------


def test_health_is_503_until_the_model_is_loaded(credit_model: LoadedModel) -> None:
    gate = threading.Event()

    def loader() -> LoadedModel:
        assert gate.wait(30)
        return credit_model

    app = create_app(loader=loader)
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
        waiting = client.get("/health")
        assert (waiting.status_code, waiting.json()) == (503, {"status": "loading"})
        assert client.get("/metadata").status_code == 503
        assert client.post("/predict", json={}).status_code == 503
        gate.set()
        app.state.holder.wait_for(lambda model: model is not None, timeout=30)
        ready = client.get("/health")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert ready.json()["version"] == "v0.1.0"

    def broken() -> LoadedModel:
        raise RuntimeError("md5 mismatch")

    app = create_app(loader=broken)
    with ServerThread(app) as server:
        app.state.holder.wait_for(lambda _: app.state.holder.error is not None, timeout=30)
        failed = httpx.get(f"{server.url}/health")
        assert failed.status_code == 503
        assert failed.json() == {"status": "failed", "error": "RuntimeError: md5 mismatch"}


def test_metadata_and_metrics(
    client: httpx.Client, credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    metadata = client.get("/metadata").json()
    assert {k: metadata[k] for k in ("name", "version", "md5", "commit", "stage")} == {
        "name": "credit",
        "version": "v0.1.0",
        "md5": credit_model.md5,
        "commit": credit_model.commit,
        "stage": "production",
    }
    assert metadata["metrics"]["roc_auc"] == credit_model.metrics["roc_auc"]
    assert metadata["card"]["name"] == "credit"
    features = [f["name"] for f in metadata["signature"]["features"]]
    assert features == list(credit_model.signature.feature_names)

    records = as_records(credit_model, rows.head(30))
    assert client.post("/predict", json=records).status_code == 200
    assert client.post("/predict", json=records[0]).status_code == 200
    assert client.post("/predict", json={"age": "x"}).status_code == 422
    response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = parse_metrics(response.text)
    requests = "gitml_serve_requests"
    assert sample(families, requests, f"{requests}_total", endpoint="/predict", status="200") == 2
    assert sample(families, requests, f"{requests}_total", endpoint="/predict", status="422") == 1
    assert sample(families, requests, f"{requests}_total", endpoint="/metadata", status="200") == 1
    latency = "gitml_serve_request_duration_seconds"
    assert sample(families, latency, f"{latency}_count", endpoint="/predict") == 3
    scores = "gitml_serve_prediction_score"
    assert sample(families, scores, f"{scores}_count") == 31
    assert sample(families, scores, f"{scores}_bucket", le="1.0") == 31
    records_metric = "gitml_serve_records_predicted"
    assert sample(families, records_metric, f"{records_metric}_total", version="v0.1.0") == 31
    info = "gitml_serve_model_info"
    assert sample(families, info, info, version="v0.1.0", md5=credit_model.md5) == 1
    invalid = "gitml_serve_invalid_fields"
    assert sample(families, invalid, f"{invalid}_total", field="age") == 1


def test_prediction_log_is_json_lines_of_the_documented_shape(
    server: ServerThread, credit_model: LoadedModel, rows: pd.DataFrame, tmp_path: Path
) -> None:
    records = as_records(credit_model, rows.head(40))
    answers: list[list[float]] = []
    lock = threading.Lock()

    def send(chunk: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for start in range(0, len(chunk), 2):
                response = client.post("/predict", json=chunk[start : start + 2])
                assert response.status_code == 200
                with lock:
                    answers.append([p["probability"] for p in response.json()["predictions"]])

    threads = [threading.Thread(target=send, args=(records[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    lines = (tmp_path / "log" / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 40
    logged = [json.loads(line) for line in lines]
    for entry in logged:
        assert set(entry) == LOG_KEYS
        assert (entry["model"], entry["version"]) == ("credit", "v0.1.0")
        stamp = datetime.fromisoformat(entry["ts"])
        assert stamp.utcoffset() is not None
        assert stamp.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - stamp).total_seconds()) < 300
        assert list(entry["features"]) == list(credit_model.signature.feature_names)
        assert entry["decision"] == int(entry["score"] >= credit_model.signature.threshold)
    # Every record was logged once, with the score its response carried.
    by_features = {json.dumps(e["features"], sort_keys=True): e["score"] for e in logged}
    assert by_features == {
        json.dumps(r, sort_keys=True): s
        for r, s in zip(records, reference_scores(credit_model, rows.head(40)), strict=True)
    }
    assert sorted(s for a in answers for s in a) == sorted(e["score"] for e in logged)


def test_metrics_text_format() -> None:
    registry = MetricsRegistry()
    counter = registry.add(Counter("c_total", "A count.", ("path",)))
    histogram = registry.add(Histogram("h", "Sizes.", (1.0, 2.0)))
    counter.inc(('a"b\\c\nd',), 2)
    histogram.observe_many([0.5, 1.0, 1.5, 7.0])
    assert registry.render().splitlines() == [
        "# HELP c_total A count.",
        "# TYPE c_total counter",
        'c_total{path="a\\"b\\\\c\\nd"} 2',
        "# HELP h Sizes.",
        "# TYPE h histogram",
        'h_bucket{le="1.0"} 2',
        'h_bucket{le="2.0"} 3',
        'h_bucket{le="+Inf"} 4',
        "h_sum 10",
        "h_count 4",
    ]
    families = parse_metrics(registry.render())
    assert sample(families, "c", "c_total", path='a"b\\c\nd') == 2


# -- the registry: load, serve, hot swap ----------------------------------------------------


def promote_first_version(repo: Path, clock: Clock) -> None:
    """Register v0.1.0 and record it in production, as CI does."""
    api.register(root=repo, push=True)
    clock.tick()
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert (outcome.status, outcome.version) == ("recorded", "v0.1.0")
    clock.tick()


@pytest.mark.slow
def test_load_version_and_make_server_follow_the_recorded_stage(
    origin_repo: Path, clock: Clock, tmp_path: Path, rows: pd.DataFrame
) -> None:
    repo = origin_repo
    promote_first_version(repo, clock)
    loaded = load_version(repo, "credit@production")
    assert (loaded.name, loaded.version, loaded.stage) == ("credit", "v0.1.0", "production")
    assert loaded.md5 == model_md5(repo, "main")
    assert loaded.commit == git(repo, "rev-parse", "main").stdout.strip()
    assert loaded.signature.threshold == 0.25
    assert loaded.metrics["roc_auc"] > 0.75
    assert loaded.card is not None
    assert loaded.card["name"] == "credit"
    assert reference_scores(loaded, rows) == reference_scores(
        dataclasses.replace(loaded, model=api.load("credit@production", root=repo)), rows
    )
    # A plain git revision is served too, without a version or stage.
    head = load_version(repo, "credit@HEAD")
    assert (head.version, head.stage, head.md5) == (None, None, loaded.md5)

    server = make_server(repo, "credit@production", log_path=tmp_path / "p.jsonl")
    with ServerThread(server.config.app) as running:
        health = httpx.get(f"{running.url}/health").json()
    assert (health["status"], health["version"], health["stage"]) == (
        "ready",
        "v0.1.0",
        "production",
    )


@pytest.mark.slow
def test_hot_swap_to_a_newly_recorded_version_under_load(
    origin_repo: Path, clock: Clock, tmp_path: Path, rows: pd.DataFrame
) -> None:
    repo = origin_repo
    promote_first_version(repo, clock)
    # v0.2.0: trained, registered and merged into production, but not yet recorded.
    merge_pull_request(repo, 12, "leaves", IMPROVE)
    clock.tick()
    api.register(root=repo, push=True)
    clock.tick()
    prepared = api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "-B", "production", "origin/production")
    git(repo, "merge", "-q", "--no-ff", f"origin/{prepared.branch}", "-m", "Merge #13")
    git(repo, "push", "-q", "origin", "production")
    git(repo, "checkout", "-q", "main")
    clock.tick()

    # The server runs from its own clone, as on a serving host: it sees the promotion
    # only through the tags it fetches from origin.
    host = tmp_path / "host"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(host))
    ref = "credit@production"
    watcher = RegistryWatcher(host, ref, poll_seconds=0.05)
    app = create_app(load_version(host, ref), watcher=watcher)
    assert app.state.holder.current.version == "v0.1.0"
    swapped = threading.Event()
    app.state.holder.subscribe(lambda _old, _new: swapped.set())

    record = as_records(app.state.holder.current, rows.head(1))[0]
    versions: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    new_answers = threading.Semaphore(0)  # released once per answer from v0.2.0

    with ServerThread(app) as server:

        def stream() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    try:
                        response = client.post("/predict", json=record)
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))
                        continue
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text}")
                    else:
                        versions.append(response.json()["version"])
                        if versions[-1] == "v0.2.0":
                            new_answers.release()

        client = threading.Thread(target=stream)
        client.start()
        (outcome,) = api.promote_on_push("production", root=repo)
        assert (outcome.status, outcome.version) == ("recorded", "v0.2.0")
        assert swapped.wait(60), f"no swap; last watcher error: {watcher.last_error}"
        metadata = httpx.get(f"{server.url}/metadata").json()
        assert metadata["version"] == "v0.2.0"
        assert metadata["md5"] == model_md5(repo, "main")
        # Let the client get a few answers from the new version before stopping it.
        for _ in range(3):
            assert new_answers.acquire(timeout=30), f"no answer from v0.2.0: {failures}"
        stop.set()
        client.join(30)
        families = parse_metrics(httpx.get(f"{server.url}/metrics").text)

    assert failures == []
    assert versions[0] == "v0.1.0"
    assert versions[-1] == "v0.2.0"
    first_new = versions.index("v0.2.0")
    assert set(versions[first_new:]) == {"v0.2.0"}  # once swapped, never back
    assert sample(families, "gitml_serve_reloads", "gitml_serve_reloads_total", result="swapped")
    info = "gitml_serve_model_info"
    assert sample(families, info, info, version="v0.2.0") == 1
    assert all(s.labels["version"] == "v0.2.0" for s in families[info].samples)
