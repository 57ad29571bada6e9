"""The model server over real HTTP: uvicorn on loopback, a real model, a real registry."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline
from starlette.applications import Starlette

from gitml import api
from gitml.serve.app import create_app
from gitml.serve.fastpath import (
    FAST_MAX_RECORDS,
    SUPPORTED_SCIKIT_LEARN,
    Fallback,
    FastScorer,
    compile_fast_path,
    probe_batch,
    scikit_learn_supported,
)
from gitml.serve.holder import ModelHolder
from gitml.serve.loaded import LoadedModel, load_version
from gitml.serve.records import (
    BadRequest,
    FieldError,
    InvalidRecords,
    ValidBatch,
    build_frame,
    validate_records,
)
from gitml.serve.run import ServerThread, make_server
from gitml.serve.scoring import score_body
from gitml.serve.settings import ServeSettings
from gitml.serve.watcher import RegistryWatcher
from gitml.signature import feature_frame, signature_from_text
from gitml.storage import file_md5, load_model
from tests.helpers import git, gitml
from tests.registry_flow import merge_pull_request, model_md5

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Clock

# Improves the model on the tests' data, so the production gate passes (test_promotion).
IMPROVE = ("train", "hist_gradient_boosting.max_leaf_nodes", 8)
LOG_KEYS = {"ts", "id", "model", "version", "role", "features", "score", "decision"}


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
def logistic_model(
    template_repo: Path, credit_model: LoadedModel, tmp_path_factory: pytest.TempPathFactory
) -> LoadedModel:
    """The example's other model family, trained on the template's data and loaded
    through a skops file as a registered model is."""
    from credit_example.features import load_xy
    from credit_example.train import build_pipeline
    from gitml.storage import save_model

    features, labels = load_xy(template_repo / "prepared" / "train.csv")
    pipeline = build_pipeline({"model": "logistic_regression", "seed": 42})
    pipeline.fit(features, labels)
    path = tmp_path_factory.mktemp("logistic") / "credit.skops"
    save_model(pipeline, path)
    return dataclasses.replace(
        credit_model, version="v0.0.0-logistic", md5=file_md5(path), model=load_model(path)
    )


@pytest.fixture(scope="session", params=["hist_gradient_boosting", "logistic_regression"])
def either_model(
    request: pytest.FixtureRequest, credit_model: LoadedModel, logistic_model: LoadedModel
) -> LoadedModel:
    """Each of the example's model families in turn."""
    return credit_model if request.param == "hist_gradient_boosting" else logistic_model


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


HUGE = 10**400  # a valid JSON integer that no float64 holds


def test_integers_beyond_float_range_are_a_422_naming_the_field(
    client: httpx.Client, credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    good = as_records(credit_model, rows.head(1))[0]
    finite = "expected a finite number, got "
    # One record (the fast path), and the same in a batch too big for it (the plain
    # path); on an integer feature and on a number feature; either sign.
    for record, field in (
        ({**good, "age": HUGE}, "age"),
        ({**good, "debt_to_income": -HUGE}, "debt_to_income"),
    ):
        for body in (record, [good, record] * FAST_MAX_RECORDS):
            response = client.post("/predict", json=body)
            assert response.status_code == 422, response.text
            problems = response.json()["detail"]
            assert {p["field"] for p in problems} == {field}
            assert all(p["error"].startswith(finite) for p in problems)
            assert problems[0]["record"] == (0 if isinstance(body, dict) else 1)
    # The largest integer that still rounds to a finite float64 is accepted; one more
    # is not (float(2**1024 - 2**970) overflows, round-half-even).
    edge = 2**1024 - 2**970
    assert client.post("/predict", json={**good, "annual_income": edge - 1}).status_code == 200
    over = client.post("/predict", json={**good, "annual_income": edge})
    assert over.status_code == 422
    # More digits than Python converts from text (4300) is the same 422, not a 400.
    longest = client.post(
        "/predict", content=json.dumps(good)[:-1].encode() + b', "age": ' + b"9" * 5000 + b"}"
    )
    assert longest.status_code == 422, longest.text
    (problem,) = longest.json()["detail"]
    assert (problem["field"], problem["error"][: len(finite)]) == ("age", finite)

    # CSV: a 400-digit cell in an integer and in a number column.
    columns = list(credit_model.signature.feature_names)
    frame = rows[columns].head(3).astype(object)
    frame.iloc[1, frame.columns.get_loc("age")] = "7" * 400
    frame.iloc[2, frame.columns.get_loc("credit_utilization")] = "-" + "7" * 400
    response = client.post(
        "/predict", content=frame.to_csv(index=False), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    assert [(p["record"], p["field"]) for p in response.json()["detail"]] == [
        (1, "age"),
        (2, "credit_utilization"),
    ]
    assert all(p["error"].startswith(finite) for p in response.json()["detail"])
    families = parse_metrics(client.get("/metrics").text)
    requests = "gitml_serve_requests"
    with pytest.raises(AssertionError, match="no sample"):
        sample(families, requests, f"{requests}_total", endpoint="/predict", status="500")


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


# Integers of any size, and some far beyond float64 (whose range ends near 1.8e308).
_any_integers = (
    st.integers() | st.integers(10**300, 10**1000) | st.integers(-(10**1000), -(10**300))
)
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | _any_integers
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=4,
)
_csv_cells = (
    st.text(max_size=8)
    | _any_integers.map(str)
    | st.floats().map(repr)
    | st.sampled_from(["", "NA", "nan", "1e400", "-1e400", "35.0", "35.5", "9" * 5000])
)


def assert_scores_or_rejects(
    model: LoadedModel, fast: FastScorer | None, body: bytes, is_csv: bool
) -> None:
    """What the server does with ``body``: scores it exactly as predict_proba does, or
    rejects it as the client's fault, each problem pinned to a record (and never with
    an exception a request would turn into a 500)."""
    try:
        batch, scores, _path = score_body(model, fast, body, is_csv, ServeSettings())
    except BadRequest as exc:
        unreadable: str | None = exc.message
        problems: list[FieldError] = []
    except InvalidRecords as exc:
        unreadable, problems = None, exc.errors
    else:
        unreadable, problems = None, []
    if unreadable is not None:
        assert unreadable  # a 400 saying why the body is not JSON/CSV records
        return
    if problems:
        # The example model scores every valid record: a rejection is always a field's
        # (or a record's) fault, never "the model cannot score these records".
        assert all(e.record is not None and e.error for e in problems), problems
        return
    assert batch.count == len(scores)
    plain = model.model.predict_proba(build_frame(model.signature, batch))[:, 1]
    assert np.array_equal(bits(scores), bits(plain))
    assert all(0.0 <= score <= 1.0 for score in scores)


def valid_then_changed(
    model: LoadedModel, data: st.DataObject, values: st.SearchStrategy[Any]
) -> dict[str, Any]:
    """A valid record with up to two fields (or an extra one) set to any of ``values``:
    mostly-valid records reach the scorer, where a value validation let through by
    mistake would fail."""
    record = data.draw(
        st.fixed_dictionaries({f.name: _feature_values(f) for f in model.signature.features})
    )
    names = [*model.signature.feature_names, "extra"]
    for name in data.draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
        record[name] = data.draw(values)
    return record


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_either_validates_and_scores_or_is_rejected(
    credit_model: LoadedModel, fast_scorers: dict[str, FastScorer], data: st.DataObject
) -> None:
    """Never a 500: whatever the values, validation accepts (and the model scores,
    on the fast path and the plain one) or rejects with field errors."""
    count = data.draw(st.integers(1, 3))
    values = _any_integers | _json_values  # integers weigh more: they are the risk here
    records = [valid_then_changed(credit_model, data, values) for _ in range(count)]
    body = json.dumps(records if count > 1 else records[0]).encode()
    for fast in (fast_scorers[credit_model.md5], None):
        assert_scores_or_rejects(credit_model, fast, body, is_csv=False)


def _as_cell(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_csv_either_validates_and_scores_or_is_rejected(
    credit_model: LoadedModel, fast_scorers: dict[str, FastScorer], data: st.DataObject
) -> None:
    """The same for CSV bodies, whose cells are any text (numbers of any size too)."""
    count = data.draw(st.integers(1, 3))
    values = _any_integers.map(str) | _csv_cells
    records = [valid_then_changed(credit_model, data, values) for _ in range(count)]
    header = list(credit_model.signature.feature_names)
    header += ["extra"] if any("extra" in record for record in records) else []
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    for record in records:
        writer.writerow([_as_cell(record.get(name)) for name in header])
    for fast in (fast_scorers[credit_model.md5], None):
        assert_scores_or_rejects(credit_model, fast, text.getvalue().encode(), is_csv=True)


# -- the fast path ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fast_scorers(credit_model: LoadedModel, logistic_model: LoadedModel) -> dict[str, FastScorer]:
    """Each model's fast scorer, compiled once, by md5."""
    scorers = {}
    for model in (credit_model, logistic_model):
        fast_path = compile_fast_path(model.model, model.signature)
        assert fast_path.scorer is not None, fast_path
        scorers[model.md5] = fast_path.scorer
    return scorers


def bits(values: Any) -> np.ndarray:
    """float64 values as their bit patterns: equal means identical, -0.0 and NaN included."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def plain_proba(model: LoadedModel, batch: ValidBatch) -> np.ndarray:
    """What the server computes without the fast path: predict_proba on the DataFrame."""
    return np.asarray(model.model.predict_proba(build_frame(model.signature, batch)))


def every_value_batch(model: LoadedModel, rows: pd.DataFrame) -> ValidBatch:
    """Held-out rows, then each row again with one feature changed to each of its
    special values: every category, missing (where nullable), an unseen category, the
    training range's ends and beyond."""
    records = as_records(model, rows)
    variants = []
    for index, feature in enumerate(model.signature.features):
        base = records[index % len(records)]
        values: list[Any]
        if feature.type == "category":
            values = [*(feature.categories or ()), "unheard-of", "Car", " car"]
        else:
            low, high = feature.min or 0, feature.max or 1
            values = [low, high, low - 1, high * 10, (low + high) / 2]
            if feature.type == "integer":
                values = [int(v) for v in values]
            else:
                values += [1e300, -1e300, 5e-324, -0.0]
        if feature.nullable:
            values.append(None)
        variants += [{**base, feature.name: value} for value in values]
    return validate_records(model.signature, records + variants)


def test_fast_path_is_bitwise_identical_to_predict_proba(
    either_model: LoadedModel, rows: pd.DataFrame
) -> None:
    model = either_model
    fast = compile_fast_path(model.model, model.signature).scorer
    assert isinstance(fast, FastScorer)
    batch = every_value_batch(model, rows)
    assert batch.count >= 300
    categories = {f.name: set(f.categories or ()) for f in model.signature.features}
    for name, known in categories.items():
        assert known <= set(batch.columns[name])  # every category is scored
    missing = {n for n, values in batch.columns.items() if None in values}
    assert missing == {f.name for f in model.signature.features if f.nullable}

    expected = plain_proba(model, batch)
    # The whole batch at once, ...
    assert np.array_equal(bits(fast.predict_proba(batch.columns, batch.count)), bits(expected))
    # ... one record at a time (the server's single-record case) against a one-row
    # DataFrame, and in chunks the size of the fast path's limit.
    for index in range(0, batch.count, 7):
        one = ValidBatch(1, {k: [v[index]] for k, v in batch.columns.items()})
        assert bits(fast.scores(one)) == bits(plain_proba(model, one)[:, 1])
    step = min(FAST_MAX_RECORDS, fast.max_records)
    for start in range(0, batch.count, step):
        chunk = ValidBatch(
            len(range(start, min(batch.count, start + step))),
            {k: v[start : start + step] for k, v in batch.columns.items()},
        )
        assert np.array_equal(bits(fast.scores(chunk)), bits(plain_proba(model, chunk)[:, 1]))
    # The same numbers as gitml's other scoring path (the CSV read by pandas).
    head = fast.scores(validate_records(model.signature, as_records(model, rows)))
    assert np.array_equal(bits(head), bits(reference_scores(model, rows)))


def _feature_values(feature: Any) -> st.SearchStrategy[Any]:
    if feature.type == "category":
        values: st.SearchStrategy[Any] = st.sampled_from(list(feature.categories or ())) | (
            st.text(min_size=1, max_size=6)
        )
    elif feature.type == "integer":
        values = st.integers(-(10**6), 10**6)
    else:
        # Up to 1e12: beyond, the logistic model's scaler overflows to inf, which
        # predict_proba refuses (a 422, tested with the limits).
        values = st.floats(-1e12, 1e12, allow_nan=False) | st.sampled_from([-0.0, 5e-324])
    return values | st.none() if feature.nullable else values


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_matches_predict_proba_on_any_valid_record(
    either_model: LoadedModel, fast_scorers: dict[str, FastScorer], data: st.DataObject
) -> None:
    model = either_model
    fast = fast_scorers[model.md5]
    records = data.draw(
        st.lists(
            st.fixed_dictionaries({f.name: _feature_values(f) for f in model.signature.features}),
            min_size=1,
            max_size=5,
        )
    )
    batch = validate_records(model.signature, records)
    assert np.array_equal(
        bits(fast.predict_proba(batch.columns, batch.count)), bits(plain_proba(model, batch))
    )


class OffByOneUlp(Pipeline):  # type: ignore[misc]
    """A Pipeline whose predict_proba is one ulp off what its steps compute."""

    def predict_proba(self, X: Any, **params: Any) -> Any:
        return np.nextafter(super().predict_proba(X, **params), 2.0)


def test_fast_path_is_refused_unless_proven_identical(
    credit_model: LoadedModel, caplog: pytest.LogCaptureFixture
) -> None:
    signature = credit_model.signature

    def fallback(model: Any) -> Fallback | None:
        fast_path = compile_fast_path(model, signature)
        assert (fast_path.scorer is None) == (fast_path.fallback is not None)
        return fast_path.fallback

    # Shapes it does not cover: plain path.
    assert fallback(GatedModel(credit_model.model)) is Fallback.MODEL_NOT_COVERED
    assert fallback(credit_model.model[-1]) is Fallback.MODEL_NOT_COVERED
    bare = Pipeline([("model", credit_model.model[-1])])
    assert fallback(bare) is Fallback.MODEL_NOT_COVERED
    # A model whose answers the fast path would not reproduce: the probe check at
    # load time refuses it, and serving it says so in the log, naming the model.
    skewed = OffByOneUlp(credit_model.model.steps)
    assert fallback(skewed) is Fallback.PROBE_MISMATCH
    with caplog.at_level(logging.WARNING, logger="gitml.serve"):
        ModelHolder().swap(dataclasses.replace(credit_model, model=skewed))
    (record,) = [r for r in caplog.records if "no fast path" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("credit v0.1.0: no fast path (probe_mismatch: ")
    assert "differ from predict_proba" in record.getMessage()
    # Turned off, it is not even compiled.
    assert compile_fast_path(credit_model.model, signature, enabled=False).fallback == (
        Fallback.DISABLED
    )
    # The probe batch covers every category and the missing values.
    probe = probe_batch(signature)
    for feature in signature.features:
        if feature.categories:
            assert set(feature.categories) <= set(probe.columns[feature.name])
        assert (None in probe.columns[feature.name]) == feature.nullable


def test_the_installed_scikit_learn_is_one_the_fast_path_was_checked_against() -> None:
    """When this fails, scikit-learn was upgraded past SUPPORTED_SCIKIT_LEARN: run this
    file's bit-identity tests with the fence widened, then widen it for good."""
    import sklearn

    assert scikit_learn_supported(sklearn.__version__), (
        sklearn.__version__,
        SUPPORTED_SCIKIT_LEARN,
    )
    (low_major, low_minor), (high_major, high_minor) = SUPPORTED_SCIKIT_LEARN
    assert scikit_learn_supported(f"{low_major}.{low_minor}.0")
    assert scikit_learn_supported(f"{low_major}.{low_minor}.0rc1")
    assert not scikit_learn_supported(f"{low_major}.{low_minor - 1}.9")
    assert not scikit_learn_supported(f"{high_major}.{high_minor}.0")
    assert not scikit_learn_supported(f"{high_major}.{high_minor}.dev0")
    assert not scikit_learn_supported(f"{low_major + 1}.0.0")
    assert not scikit_learn_supported("unknown")


def test_small_requests_take_the_fast_path_and_answer_the_same(
    client: httpx.Client, credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    expected = reference_scores(credit_model, rows)
    records = as_records(credit_model, rows)
    for record, score in zip(records[:20], expected, strict=False):
        (prediction,) = client.post("/predict", json=record).json()["predictions"]
        assert prediction["probability"] == score  # exactly: JSON floats round-trip
    big = client.post("/predict", json=records[: FAST_MAX_RECORDS + 1]).json()
    assert [p["probability"] for p in big["predictions"]] == expected[: FAST_MAX_RECORDS + 1]
    families = parse_metrics(client.get("/metrics").text)
    scoring = "gitml_serve_scoring"
    assert sample(families, scoring, f"{scoring}_total", path="fast") == 20
    assert sample(families, scoring, f"{scoring}_total", path="plain") == 1


@pytest.mark.parametrize("cause", [Fallback.DISABLED, Fallback.SCIKIT_LEARN_VERSION])
def test_off_the_fast_path_the_answers_are_the_same_and_the_server_says_why(
    cause: Fallback,
    credit_model: LoadedModel,
    rows: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The plain path end to end, for requests the fast path would take: turned off
    (what --no-fast-path sets) or fenced off by a scikit-learn release outside the
    supported range. Every probability is the fast path's, bit for bit, and /metrics
    and the log say which path answered and why."""
    import sklearn

    settings = ServeSettings()
    if cause is Fallback.DISABLED:
        settings = ServeSettings(fast_path=False)
    else:
        high_major, high_minor = SUPPORTED_SCIKIT_LEARN[1]
        monkeypatch.setattr(sklearn, "__version__", f"{high_major}.{high_minor}.0")
    with caplog.at_level(logging.INFO, logger="gitml.serve"):
        plain_app = create_app(credit_model, settings=settings)
    monkeypatch.undo()
    fast_app = create_app(credit_model)

    records = as_records(credit_model, rows.head(30))
    bodies: list[Any] = [*records[:10], records[10:30]]  # all within the fast path's size
    answers: dict[str, list[float]] = {}
    families: dict[str, dict[str, Any]] = {}
    for name, app in (("plain", plain_app), ("fast", fast_app)):
        with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            answers[name] = []
            for body in bodies:
                response = client.post("/predict", json=body)
                assert response.status_code == 200, response.text
                answers[name] += [p["probability"] for p in response.json()["predictions"]]
            families[name] = parse_metrics(client.get("/metrics").text)
    assert len(answers["plain"]) == 30
    assert np.array_equal(bits(answers["plain"]), bits(answers["fast"]))

    scoring, active = "gitml_serve_scoring", "gitml_serve_fast_path_active"
    assert sample(families["plain"], scoring, f"{scoring}_total", path="plain") == len(bodies)
    with pytest.raises(AssertionError, match="no sample"):
        sample(families["plain"], scoring, f"{scoring}_total", path="fast")
    assert sample(families["plain"], active, active, model="credit", reason=cause.value) == 0
    assert sample(families["fast"], scoring, f"{scoring}_total", path="fast") == len(bodies)
    assert sample(families["fast"], active, active, model="credit", reason="") == 1
    assert len(families["plain"][active].samples) == len(families["fast"][active].samples) == 1

    (record,) = [r for r in caplog.records if "no fast path" in r.getMessage()]
    # Chosen by the operator, it is information; forced by the version, a warning.
    assert record.levelno == (logging.INFO if cause is Fallback.DISABLED else logging.WARNING)
    assert record.getMessage().startswith(f"credit v0.1.0: no fast path ({cause.value}: ")
    assert record.getMessage().endswith("every request is scored with predict_proba")


def test_values_the_model_cannot_score_are_a_422_on_both_paths(
    logistic_model: LoadedModel, rows: pd.DataFrame
) -> None:
    # Finite and valid, but the scaler overflows it to inf and scikit-learn refuses it.
    huge = {**as_records(logistic_model, rows.head(1))[0], "debt_to_income": 1e308}
    with (
        ServerThread(create_app(logistic_model)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        for body in (huge, [huge] * (FAST_MAX_RECORDS + 1)):
            response = client.post("/predict", json=body)
            assert response.status_code == 422, response.text
            (problem,) = response.json()["detail"]
            assert problem["error"].startswith("the model cannot score these records: ")
        families = parse_metrics(client.get("/metrics").text)
    requests = "gitml_serve_requests"
    assert sample(families, requests, f"{requests}_total", endpoint="/predict", status="422") == 2


class FailingModel:
    """A model whose predict_proba raises ``error`` (what a custom estimator might do)."""

    def __init__(self, error: Exception):
        self.error = error

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        raise self.error


def test_scoring_failures_are_never_a_bare_500(
    credit_model: LoadedModel, rows: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    record = as_records(credit_model, rows.head(1))[0]
    overflowing = dataclasses.replace(
        credit_model, model=FailingModel(OverflowError("math range error"))
    )
    with (
        ServerThread(create_app(overflowing)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        # Arithmetic on the client's values failing in the model: their input, a 422.
        response = client.post("/predict", json=record)
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == [
            {
                "record": None,
                "field": None,
                "error": "the model cannot score these records: math range error",
            }
        ]

    broken = dataclasses.replace(credit_model, model=FailingModel(RuntimeError("model bug")))
    with (
        ServerThread(create_app(broken)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
        caplog.at_level(logging.ERROR, logger="gitml.serve"),
    ):
        # A bug is the server's fault: a 500, but in JSON, saying what kind, and logged.
        response = client.post("/predict", json=record)
        assert response.status_code == 500
        assert response.json() == {
            "detail": "internal error while scoring (RuntimeError); the server log has details"
        }
        assert client.get("/health").status_code == 200  # still up
        families = parse_metrics(client.get("/metrics").text)
    assert "RuntimeError: model bug" in caplog.text
    requests = "gitml_serve_requests"
    assert sample(families, requests, f"{requests}_total", endpoint="/predict", status="500") == 1


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
        assert (entry["model"], entry["version"], entry["role"]) == ("credit", "v0.1.0", "stable")
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


# Every family /metrics exposes: its type and help text (the client library adds the
# ``_created`` series of counters and histograms unless the process turns them off, as
# ``gitml serve`` does).
METRIC_FAMILIES = {
    "gitml_serve_requests": ("counter", "HTTP requests handled, by endpoint and status code."),
    "gitml_serve_request_duration_seconds": (
        "histogram",
        "Time from request start to the last byte of the response.",
    ),
    "gitml_serve_requests_in_flight": ("gauge", "Requests being handled right now."),
    "gitml_serve_records_predicted": ("counter", "Records scored, by model version."),
    "gitml_serve_decisions": ("counter", "Decisions returned (score >= threshold is 1)."),
    "gitml_serve_prediction_score": (
        "histogram",
        "Predicted probability of the positive class.",
    ),
    "gitml_serve_out_of_range_values": (
        "counter",
        "Accepted values outside the training range of their feature.",
    ),
    "gitml_serve_unseen_categories": (
        "counter",
        "Accepted categories never seen in training, by feature.",
    ),
    "gitml_serve_invalid_fields": (
        "counter",
        "Fields rejected by signature validation (HTTP 422), by field.",
    ),
    "gitml_serve_scoring": (
        "counter",
        "Scored requests by path: fast (compiled, proven identical) or plain "
        "(predict_proba on a DataFrame).",
    ),
    "gitml_serve_timeouts": ("counter", "Predictions cut off by the request timeout."),
    "gitml_serve_prediction_log_errors": (
        "counter",
        "Prediction log writes that failed; their requests were answered 503.",
    ),
    "gitml_serve_model_info": (
        "gauge",
        "The model being served (value 1), identified by its labels.",
    ),
    "gitml_serve_model_loaded_timestamp_seconds": (
        "gauge",
        "Unix time at which the served model was swapped in.",
    ),
    "gitml_serve_fast_path_active": (
        "gauge",
        "1 when small requests are scored by the compiled scorer proven identical to "
        "predict_proba, 0 when every request takes predict_proba; reason says why "
        "(disabled, scikit_learn_version, model_not_covered, probe_mismatch, "
        "compile_error), empty when active.",
    ),
    "gitml_serve_reloads": (
        "counter",
        "Registry polls by outcome: unchanged, swapped or failed.",
    ),
    "gitml_serve_version_requests": (
        "counter",
        "Prediction requests each version answered (or scored in shadow), by role, "
        "version and outcome: ok, error (a 500) or timeout (a 504).",
    ),
    "gitml_serve_version_duration_seconds": (
        "histogram",
        "Time to answer a prediction request (to score it, in shadow), by role and version.",
    ),
    "gitml_serve_feedback_labels": (
        "counter",
        "Labels received on /feedback: accepted, unknown (an id the server does not "
        "remember) or duplicate (an id labelled before).",
    ),
    "gitml_serve_shadow_skipped": (
        "counter",
        "Requests the shadow candidate did not score because it was too far behind.",
    ),
    "gitml_serve_canary_percent": (
        "gauge",
        "Share of prediction requests the candidate answers now (per cent; 0 once "
        "stopped, and in shadow mode).",
    ),
    "gitml_serve_candidate_stopped": (
        "gauge",
        "1 once the candidate was stopped (everything goes to the stable version).",
    ),
}


def test_metrics_families_and_label_values_sent_by_clients(
    client: httpx.Client, credit_model: LoadedModel, rows: pd.DataFrame
) -> None:
    good = as_records(credit_model, rows.head(1))[0]
    # A field name is the client's text, and it becomes a label value: quotes,
    # backslashes and newlines must be escaped, not break the exposition.
    odd = 'a"b\\c\nd'
    assert client.post("/predict", json={**good, odd: 1}).status_code == 422
    assert client.post("/predict", json=good).status_code == 200
    text = client.get("/metrics").text
    families = parse_metrics(text)
    exposed = {
        name: (family.type, family.documentation)
        for name, family in families.items()
        if not name.endswith("_created")
    }
    assert exposed == METRIC_FAMILIES
    lines = text.splitlines()
    assert 'gitml_serve_invalid_fields_total{field="a\\"b\\\\c\\nd"} 1.0' in lines
    assert (
        sample(
            families, "gitml_serve_invalid_fields", "gitml_serve_invalid_fields_total", field=odd
        )
        == 1
    )
    # Bucket bounds as Prometheus' clients write them, the last one +Inf.
    buckets = [
        s.labels["le"]
        for s in families["gitml_serve_prediction_score"].samples
        if s.name.endswith("_bucket")
    ]
    assert buckets == [*(repr(round(0.05 * i, 2)) for i in range(1, 21)), "+Inf"]


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
def test_gitml_drift_reads_the_prediction_log_the_server_wrote(
    origin_repo: Path, clock: Clock, tmp_path: Path, rows: pd.DataFrame
) -> None:
    repo = origin_repo
    promote_first_version(repo, clock)
    log = tmp_path / "served" / "predictions.jsonl"
    app = make_server(repo, "credit@production", log_path=log).config.app
    assert isinstance(app, Starlette)
    model = app.state.holder.current
    records = as_records(model, rows)
    served: list[float] = []
    with ServerThread(app) as running, httpx.Client(base_url=running.url) as client:
        # Single records (the fast path), small batches (fast) and a large one (plain).
        bodies: list[Any] = [*records[:20], records[20:65], {"records": records[65:100]}]
        bodies.append(records[100:])
        for body in bodies:
            response = client.post("/predict", json=body)
            assert response.status_code == 200, response.text
            served += [p["probability"] for p in response.json()["predictions"]]
    assert len(served) == len(records) == 200
    assert len(log.read_text().splitlines()) == 200

    # The CLI, in the same repository, on the log as the server left it.
    result = gitml(repo, "drift", "credit@production", "--data", str(log), "--json")
    report = json.loads(result.stdout)
    assert report["rows"] == 200
    assert report["verdict"] in ("ok", "warn", "drift")
    score = report["score"]
    assert (score["rows"], score["present"]) == (200, 200)
    assert score["mean_batch"] == pytest.approx(sum(served) / 200, rel=1e-5)  # 6 digits
    assert report["ignored_columns"] == []
    # The same rows as a CSV, which gitml drift scores itself with the version's model:
    # the same report, so the log holds the features and the scores gitml computes.
    csv_path = tmp_path / "same-rows.csv"
    rows[list(model.signature.feature_names)].to_csv(csv_path, index=False)
    again = gitml(repo, "drift", "credit@production", "--data", str(csv_path), "--json")
    assert json.loads(again.stdout) == report


def merge_next_version_into_production(repo: Path, clock: Clock) -> None:
    """v0.2.0: trained, registered and merged into production, but not yet recorded."""
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


@dataclasses.dataclass
class Stream:
    """One client sending requests in a loop, keeping what each answer said."""

    body: Any
    # (sequence number when sent, when answered, version) per answer.
    answers: list[tuple[int, int, str]] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)
    new_answers: threading.Semaphore = dataclasses.field(
        default_factory=lambda: threading.Semaphore(0)
    )


@pytest.mark.slow
def test_hot_swap_to_a_newly_recorded_version_under_load(
    origin_repo: Path, clock: Clock, tmp_path: Path, rows: pd.DataFrame
) -> None:
    repo = origin_repo
    promote_first_version(repo, clock)
    merge_next_version_into_production(repo, clock)

    # The server runs from its own clone, as on a serving host: it sees the promotion
    # only through the tags it fetches from origin.
    host = tmp_path / "host"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(host))
    ref = "credit@production"
    watcher = RegistryWatcher(host, ref, poll_seconds=0.05)
    app = create_app(load_version(host, ref), watcher=watcher)
    assert app.state.holder.current.version == "v0.1.0"

    records = as_records(app.state.holder.current, rows)
    # Single records (fast path), small batches (fast), a large batch (plain path).
    streams = [Stream(records[0]), Stream(records[1]), Stream(records[:10]), Stream(records)]
    clock_lock = threading.Lock()
    sequence = iter(range(10**9))  # a global order of sends and answers, across streams
    stop = threading.Event()

    def tick() -> int:
        with clock_lock:
            return next(sequence)

    def run(stream: Stream, url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set():
                sent = tick()
                try:
                    response = client.post("/predict", json=stream.body)
                except httpx.HTTPError as exc:
                    stream.failures.append(repr(exc))
                    continue
                answered = tick()
                if response.status_code != 200:
                    stream.failures.append(f"{response.status_code} {response.text}")
                    continue
                version = response.json()["version"]
                stream.answers.append((sent, answered, version))
                if version == "v0.2.0":
                    stream.new_answers.release()

    with ServerThread(app) as server:
        threads = [threading.Thread(target=run, args=(s, server.url)) for s in streams]
        for thread in threads:
            thread.start()
        (outcome,) = api.promote_on_push("production", root=repo)
        assert (outcome.status, outcome.version) == ("recorded", "v0.2.0")
        # The observable event: GET /metadata names the new version (polled, no sleep).
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while (metadata := client.get("/metadata").json())["version"] != "v0.2.0":
                assert metadata["version"] == "v0.1.0"
                assert time.monotonic() < deadline, f"no swap; watcher: {watcher.last_error}"
        assert metadata["md5"] == model_md5(repo, "main")
        # Every stream gets a few answers from the new version before stopping.
        for stream in streams:
            for _ in range(3):
                assert stream.new_answers.acquire(timeout=30), stream.failures
        stop.set()
        for thread in threads:
            thread.join(30)
        families = parse_metrics(httpx.get(f"{server.url}/metrics").text)

    assert [s.failures for s in streams] == [[], [], [], []]
    first_new = min(answered for s in streams for _, answered, v in s.answers if v == "v0.2.0")
    for stream in streams:
        versions = [version for _, _, version in stream.answers]
        assert versions[0] == "v0.1.0"
        # Once a stream saw the new version it never sees the old one again, and no
        # request sent after any stream saw the new version is answered by the old.
        switch = versions.index("v0.2.0")
        assert set(versions[switch:]) == {"v0.2.0"}
        assert all(v == "v0.2.0" for sent, _, v in stream.answers if sent > first_new)
    assert sample(families, "gitml_serve_reloads", "gitml_serve_reloads_total", result="swapped")
    info = "gitml_serve_model_info"
    assert sample(families, info, info, version="v0.2.0") == 1
    assert all(s.labels["version"] == "v0.2.0" for s in families[info].samples)
