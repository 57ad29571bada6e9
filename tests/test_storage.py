"""Tests for gitml.storage: byte-stable skops files and safe loading."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from gitml.errors import GitmlError, StorageError
from gitml.storage import (
    DEFAULT_TRUSTED_TYPES,
    canonicalize_skops,
    file_md5,
    load_model,
    save_model,
    trusted_types,
)

NUMERIC = ["income", "age"]
CATEGORICAL = ["city", "plan"]
KINDS = ["logreg", "hgb"]


def make_frame(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Small mixed-type frame with NaNs in numeric and categorical columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, n),
            "age": rng.integers(18, 80, n).astype(float),
            "city": rng.choice(["berlin", "paris", "rome"], n).astype(object),
            "plan": rng.choice(["basic", "pro"], n).astype(object),
        }
    )
    frame.loc[::9, "income"] = np.nan
    frame.loc[::13, "city"] = np.nan
    target = ((frame["age"] > 45) ^ (frame["plan"] == "pro")).astype(int).to_numpy()
    return frame, target


def make_pipeline(kind: str) -> Pipeline:
    """A fresh, unfitted pipeline of the given kind with fixed seeds."""
    if kind == "logreg":
        pre = ColumnTransformer(
            [
                (
                    "num",
                    Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())]),
                    NUMERIC,
                ),
                (
                    "cat",
                    Pipeline(
                        [
                            ("imp", SimpleImputer(strategy="most_frequent")),
                            ("oh", OneHotEncoder(handle_unknown="ignore")),
                        ]
                    ),
                    CATEGORICAL,
                ),
            ]
        )
        return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=200, random_state=0))])
    if kind == "hgb":
        pre = ColumnTransformer(
            [
                ("num", "passthrough", NUMERIC),
                (
                    "cat",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        encoded_missing_value=-1,
                    ),
                    CATEGORICAL,
                ),
            ]
        )
        # categorical_features makes HGB keep an internal preprocessor holding a
        # functools.partial of check_array, which DEFAULT_TRUSTED_TYPES must cover.
        clf = HistGradientBoostingClassifier(
            max_iter=10, categorical_features=[2, 3], random_state=0
        )
        return Pipeline([("pre", pre), ("clf", clf)])
    raise ValueError(kind)


def fit_model(kind: str) -> Pipeline:
    """Fit a fresh pipeline of ``kind`` on the fixed frame."""
    from threadpoolctl import threadpool_limits

    frame, target = make_frame()
    # One OpenMP thread: HistGradientBoosting sums histograms in parallel, so its trees
    # (and bytes) depend on the thread count; the pipeline's train stage pins it the same way.
    with threadpool_limits(limits=1, user_api="openmp"):
        return make_pipeline(kind).fit(frame, target)


def scoring_frame() -> pd.DataFrame:
    """Rows to predict on, including an unseen category and missing values."""
    frame, _ = make_frame(n=40, seed=1)
    frame.loc[0, "city"] = "oslo"
    frame.loc[1, "age"] = np.nan
    return frame


@pytest.fixture(scope="module", params=KINDS)
def fitted(request: pytest.FixtureRequest) -> Pipeline:
    return fit_model(request.param)


def _schema(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("schema.json"))


def _rezip(data: bytes, schema: dict[str, Any] | None = None, **extra: bytes) -> bytes:
    """Copy the skops zip ``data``, optionally with another schema and more entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name == "schema.json" and schema is not None:
                dst.writestr(name, json.dumps(schema))
            else:
                dst.writestr(name, src.read(name))
        for name, content in extra.items():
            dst.writestr(name, content)
    return out.getvalue()


def _walk_nodes(value: object) -> list[dict[str, Any]]:
    """All skops node states in ``value``, in document order (pre-order)."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if isinstance(value.get("__loader__"), str):
            found.append(value)
        for child in value.values():
            found.extend(_walk_nodes(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(_walk_nodes(child))
    return found


# --- byte stability ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_identical_fits_give_identical_files(kind: str, tmp_path: Path) -> None:
    first, second = fit_model(kind), fit_model(kind)

    md5_a = save_model(first, tmp_path / "a.skops")
    md5_b = save_model(second, tmp_path / "b.skops")

    bytes_a = (tmp_path / "a.skops").read_bytes()
    assert bytes_a == (tmp_path / "b.skops").read_bytes()
    assert md5_a == md5_b == file_md5(tmp_path / "a.skops")
    assert md5_a == hashlib.md5(bytes_a).hexdigest()

    # Why the re-pack exists: both models are alive, so no two of their arrays share
    # an id(), and skops names array entries after id() -- the raw dumps always
    # differ. The canonical form of each raw dump is the saved file.
    raw_a, raw_b = sio.dumps(first), sio.dumps(second)
    assert raw_a != raw_b
    assert raw_a != bytes_a
    assert canonicalize_skops(raw_a) == canonicalize_skops(raw_b) == bytes_a


_CHILD_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from test_storage import KINDS, fit_model
from gitml.storage import save_model
for kind in KINDS:
    print(kind, save_model(fit_model(kind), f"{sys.argv[2]}/{kind}.skops"))
"""


@pytest.mark.slow
def test_separate_process_gives_identical_files(tmp_path: Path) -> None:
    # A fresh interpreter with its own hash seed: different id()s, different
    # str/set hashing and a different dump time than this process.
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    cmd = [sys.executable, "-c", _CHILD_SCRIPT, str(Path(__file__).parent), str(there)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr

    for kind in KINDS:
        md5 = save_model(fit_model(kind), here / f"{kind}.skops")
        assert f"{kind} {md5}" in proc.stdout.splitlines()
        assert (here / f"{kind}.skops").read_bytes() == (there / f"{kind}.skops").read_bytes()


def test_canonicalize_is_idempotent(fitted: Pipeline) -> None:
    once = canonicalize_skops(sio.dumps(fitted))
    assert canonicalize_skops(once) == once


def test_canonical_layout(fitted: Pipeline) -> None:
    data = canonicalize_skops(sio.dumps(fitted))

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names)
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.external_attr == 0o100644 << 16
            assert info.create_system == 3
            assert info.extra == b""
        schema = json.loads(archive.read("schema.json"))
        data_names = set(names) - {"schema.json"}

    nodes = _walk_nodes(schema)
    # ids are 1..n in order of first appearance, files 0..m-1 likewise.
    first_seen_ids: list[int] = []
    first_seen_files: list[str] = []
    for node in nodes:
        if node["__id__"] not in first_seen_ids:
            first_seen_ids.append(node["__id__"])
        if "file" in node and node["file"] not in first_seen_files:
            first_seen_files.append(node["file"])
    assert first_seen_ids == list(range(1, len(first_seen_ids) + 1))
    assert first_seen_files == [f"{i}.npy" for i in range(len(first_seen_files))]
    assert set(first_seen_files) == data_names
    # Shared objects (e.g. the interned False) keep sharing one id.
    assert len(first_seen_ids) < len(nodes)


def test_bytes_entries_named_by_uuid_are_canonicalised() -> None:
    obj = {"blob": b"\x00\x01\x02", "copy": bytearray(b"xyz")}
    raw_a, raw_b = sio.dumps(obj), sio.dumps(obj)
    assert raw_a != raw_b  # uuid4() entry names
    canonical = canonicalize_skops(raw_a)
    assert canonical == canonicalize_skops(raw_b)
    assert sio.loads(canonical) == obj


def test_dict_key_order_and_key_types_survive() -> None:
    # skops pairs DictNode content with key_types by position; sorting the schema's
    # keys would turn "a" into int("a"). The canonical form keeps the order.
    obj = {"b": 1, 2: "two", "a": 3.5}
    loaded = sio.loads(canonicalize_skops(sio.dumps(obj)))
    assert loaded == obj
    assert list(loaded) == ["b", 2, "a"]


def test_set_order_does_not_matter() -> None:
    obj = {"tags": {"alpha", "beta", "gamma", "delta", "epsilon"}}
    raw = sio.dumps(obj)
    schema = _schema(raw)
    (set_node,) = [node for node in _walk_nodes(schema) if node["__loader__"] == "SetNode"]
    set_node["content"].reverse()
    shuffled = _rezip(raw, schema)

    canonical = canonicalize_skops(raw)
    assert canonicalize_skops(shuffled) == canonical
    assert sio.loads(canonical) == obj


# --- loading --------------------------------------------------------------------


def test_roundtrip_predicts_identically(fitted: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    md5 = save_model(fitted, path)
    rows = scoring_frame()

    loaded = load_model(path, expected_md5=md5)
    from_raw = sio.loads(sio.dumps(fitted), trusted=list(DEFAULT_TRUSTED_TYPES))

    expected = fitted.predict_proba(rows)
    assert np.array_equal(loaded.predict_proba(rows), expected)
    assert np.array_equal(from_raw.predict_proba(rows), expected)
    # A loaded model saves to the very same bytes.
    assert save_model(loaded, tmp_path / "again.skops") == md5


def test_default_trusted_types_cover_the_models(fitted: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    save_model(fitted, path)
    assert set(trusted_types(path)) <= set(DEFAULT_TRUSTED_TYPES)
    # Every non-builtin type in the file is named in the allowlist.
    types = {f"{n['__module__']}.{n['__class__']}" for n in _walk_nodes(_schema(path.read_bytes()))}
    assert {t for t in types if not t.startswith("builtins.")} <= set(DEFAULT_TRUSTED_TYPES)


def test_default_trusted_types_resolve() -> None:
    assert len(set(DEFAULT_TRUSTED_TYPES)) == len(DEFAULT_TRUSTED_TYPES)
    for name in DEFAULT_TRUSTED_TYPES:
        module, _, attr = name.rpartition(".")
        assert getattr(importlib.import_module(module), attr) is not None, name


@pytest.mark.parametrize("expected_md5", ["flip", "0" * 32])
def test_tampered_file_is_refused_before_loading(
    expected_md5: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.skops"
    md5 = save_model(fit_model("logreg"), path)
    if expected_md5 == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        expected_md5 = md5

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("skops must not be called on a tampered file")

    monkeypatch.setattr(sio, "loads", forbidden)
    monkeypatch.setattr(sio, "get_untrusted_types", forbidden)
    with pytest.raises(StorageError, match="md5 mismatch") as info:
        load_model(path, expected_md5=expected_md5)
    message = str(info.value)
    assert str(path) in message
    assert expected_md5 in message
    assert file_md5(path) in message
    assert isinstance(info.value, GitmlError)


def _double(values: Any) -> Any:
    return values * 2


class Doubler(TransformerMixin, BaseEstimator):
    """A custom transformer skops does not know."""

    def fit(self, X: Any, y: Any = None) -> Doubler:
        return self

    def transform(self, X: Any) -> Any:
        return X * 2


@pytest.mark.parametrize(
    ("step", "type_suffix"),
    [
        (FunctionTransformer(_double), "._double"),
        (Doubler(), ".Doubler"),
    ],
)
def test_untrusted_types_are_refused_and_listed(
    step: Any, type_suffix: str, tmp_path: Path
) -> None:
    frame, target = make_frame()
    model = Pipeline([("custom", step), ("clf", LogisticRegression())])
    model.fit(frame[NUMERIC].fillna(0.0), target)
    path = tmp_path / "custom.skops"
    save_model(model, path)

    (custom,) = [name for name in trusted_types(path) if name.endswith(type_suffix)]
    with pytest.raises(StorageError, match="untrusted types") as info:
        load_model(path)
    assert custom in str(info.value)
    # Listing the type explicitly is the (reviewed) way to load it.
    loaded = load_model(path, trusted=[*DEFAULT_TRUSTED_TYPES, custom])
    assert np.array_equal(
        loaded.predict(frame[NUMERIC].fillna(0.0)), model.predict(frame[NUMERIC].fillna(0.0))
    )


def test_explicit_trusted_list_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "hgb.skops"
    save_model(fit_model("hgb"), path)
    with pytest.raises(StorageError, match="TreePredictor"):
        load_model(path, trusted=[])


@pytest.mark.parametrize("trusted", [True, "sklearn.pipeline.Pipeline", [1]])
def test_trust_everything_is_impossible(trusted: Any, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    save_model(fit_model("logreg"), path)
    with pytest.raises(TypeError, match="trusted"):
        load_model(path, trusted=trusted)


# --- malformed input ------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"definitely not a zip file", b"PK\x03\x04broken"])
def test_not_a_zip_is_refused(data: bytes, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a valid zip archive"):
        canonicalize_skops(data)
    path = tmp_path / "junk.skops"
    path.write_bytes(data)
    with pytest.raises(StorageError, match="not a skops file"):
        load_model(path)
    with pytest.raises(StorageError, match="not a skops file"):
        trusted_types(path)


def test_zip_without_schema_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(StorageError, match=r"no schema\.json"):
        canonicalize_skops(out.getvalue())


def test_invalid_schema_is_refused() -> None:
    raw = sio.dumps({"a": 1})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("schema.json", "{not json")
    with pytest.raises(StorageError, match="not valid JSON"):
        canonicalize_skops(out.getvalue())
    with pytest.raises(StorageError, match="no skops root node"):
        canonicalize_skops(_rezip(raw, {"a": 1}))


def test_unreferenced_and_missing_entries_are_refused() -> None:
    raw = sio.dumps(np.arange(3))
    with pytest.raises(StorageError, match=r"does not reference: stray\.npy"):
        canonicalize_skops(_rezip(raw, **{"stray.npy": b"x"}))
    schema = _schema(raw)
    schema["file"] = "gone.npy"
    with pytest.raises(StorageError, match=r"missing entry 'gone\.npy'"):
        canonicalize_skops(_rezip(raw, schema))


def test_unserialisable_model_is_a_storage_error(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    # skops (like pickle) cannot capture a running generator.
    with pytest.raises(StorageError, match="cannot serialise"):
        save_model({"rows": (i for i in range(3))}, models / "gen.skops")
    assert list(models.iterdir()) == []


# --- atomic writes --------------------------------------------------------------


def test_save_overwrites_atomically_without_leftovers(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    path = models / "model.skops"
    path.write_bytes(b"old content")

    md5 = save_model(fit_model("logreg"), path)

    assert [p.name for p in models.iterdir()] == ["model.skops"]
    assert file_md5(path) == md5
    assert path.stat().st_mode & 0o777 == 0o644
    assert load_model(path, expected_md5=md5) is not None


def test_failed_replace_keeps_old_file_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    path = models / "model.skops"
    path.write_bytes(b"old content")

    def failing_replace(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StorageError, match="cannot write model file"):
        save_model(fit_model("logreg"), path)

    assert path.read_bytes() == b"old content"
    assert [p.name for p in models.iterdir()] == ["model.skops"]


def test_file_md5_streams_large_files(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    payload = os.urandom(3 * (1 << 20) + 17)
    path.write_bytes(payload)
    assert file_md5(path) == hashlib.md5(payload).hexdigest()


def test_string_identity_does_not_change_the_bytes(tmp_path: Path) -> None:
    """Equal feature names that are (or are not) the same objects give the same file."""
    from sklearn.linear_model import LogisticRegression

    frame, target = make_frame()
    fresh = frame.copy()
    # Column names rebuilt character by character: equal strings, new objects.
    fresh.columns = ["".join(list(str(name))) for name in frame.columns]
    numeric = frame.select_dtypes("number").fillna(0.0)
    a = LogisticRegression(random_state=0).fit(numeric, target)
    b = LogisticRegression(random_state=0).fit(fresh[list(numeric.columns)].fillna(0.0), target)
    # Make one model share its name objects with another attribute, as pipelines do.
    a.shared_names_ = list(a.feature_names_in_)
    b.shared_names_ = ["".join(list(n)) for n in b.feature_names_in_]
    first = save_model(a, tmp_path / "a.skops")
    second = save_model(b, tmp_path / "b.skops")
    assert first == second
