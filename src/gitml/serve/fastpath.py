"""A fast scorer for small requests that returns exactly what ``predict_proba`` returns.

Scoring one record through the fitted Pipeline costs about 6 ms on our machines, and
almost none of it is arithmetic: pandas column selection, scikit-learn's input
validation in every step, two ColumnTransformers (the Pipeline's and the one
HistGradientBoosting keeps for its categorical features), and one Python call per
tree (250 of them). :func:`compile_scorer` reads the fitted objects once and builds a
scorer that goes from validated columns (:class:`gitml.serve.records.ValidBatch`)
straight to the numbers:

* numbers become float64 exactly as :func:`gitml.serve.records.build_frame` makes them;
* categories are looked up in tables built from the fitted encoders' ``categories_``
  (OrdinalEncoder codes, OneHotEncoder rows), missing and unseen values included;
* SimpleImputer and StandardScaler apply their fitted statistics with the same
  float64 operations, in the same order, as their ``transform``;
* a HistGradientBoostingClassifier's trees are walked for every record and tree at
  once with numpy, following the rules of scikit-learn's ``_predict_from_raw_data``
  (NaN and negative categories take the missing side, unseen categories too), and
  the leaf values are added in tree order, starting from the baseline, as
  ``_raw_predict`` adds them; its own loss turns that into probabilities;
* any other final estimator gets its own ``predict_proba`` on the matrix the
  ColumnTransformer would have built.

Same inputs, same float64 operations in the same order: the probabilities are equal
bit for bit, not approximately. :func:`compile_scorer` proves it on every load: it
scores a probe batch (every category of every feature, missing and unseen values,
each feature's range ends, random records) both ways and refuses the fast path
(returns None, logs why) unless every probability is bitwise identical. Models of any
other shape (not a Pipeline of a ColumnTransformer and an estimator, other
transformers, multi-class, sparse output...) get no fast path: the server scores them
with the plain ``predict_proba`` on a DataFrame.

The reads of fitted attributes are scikit-learn internals (``_predictors``,
``_bin_mapper``, ``_baseline_prediction``, ``_loss``, ``_preprocessor``): a
scikit-learn release that changes them fails compilation or the probe check, and the
server falls back to the plain path, slower but never different.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from gitml.serve.records import ValidBatch
    from gitml.signature import Signature

__all__ = ["FAST_MAX_RECORDS", "FastScorer", "NotCompilable", "compile_scorer", "probe_batch"]

logger = logging.getLogger("gitml.serve")

# Above this many records a HistGradientBoosting model scores faster on the plain path
# (its per-call overhead is spread over the batch, and its tree walk is compiled code).
FAST_MAX_RECORDS = 64
# scikit-learn's raw categorical values are read as uint8 by the tree walk; an index
# past the last possible code stands for "missing" in the tables below.
_MISSING_SLOT = 256
_PROBE_RANDOM_RECORDS = 200
_PROBE_SEED = 20261124


class NotCompilable(Exception):
    """The model has a shape the fast path does not cover (the message says which part)."""


# -- input columns --------------------------------------------------------------------------


@dataclass(frozen=True)
class _NumericInput:
    """A numeric feature: the float64 column build_frame makes (None is NaN)."""

    name: str

    def column(self, values: Sequence[Any]) -> np.ndarray:
        nan = math.nan
        return np.array([nan if v is None else v for v in values], dtype=np.float64)


# -- preprocessing blocks: each writes its columns of the transformed matrix ---------------


@dataclass(frozen=True)
class _Passthrough:
    """Numeric features copied unchanged (``"passthrough"`` in a ColumnTransformer)."""

    names: tuple[str, ...]

    def write(self, columns: Mapping[str, np.ndarray], out: np.ndarray, start: int) -> None:
        for offset, name in enumerate(self.names):
            out[:, start + offset] = columns[name]


@dataclass(frozen=True)
class _NumericSteps:
    """SimpleImputer (optionally with its missing indicator) and/or StandardScaler."""

    names: tuple[str, ...]
    statistics: np.ndarray | None  # imputed value per column; None: no imputer
    indicator: tuple[int, ...]  # columns whose missingness is appended as 0/1
    mean: np.ndarray | None
    scale: np.ndarray | None

    def write(self, columns: Mapping[str, np.ndarray], out: np.ndarray, start: int) -> None:
        block = np.column_stack([columns[name] for name in self.names])
        missing = np.isnan(block)
        if self.statistics is not None:
            block = np.where(missing, self.statistics, block)
            if self.indicator:
                block = np.hstack([block, missing[:, list(self.indicator)].astype(np.float64)])
        # StandardScaler.transform: X -= mean_, then X /= scale_ (elementwise float64).
        # A huge value may overflow to inf, as it does there; the estimator refuses it.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.mean is not None:
                block = block - self.mean
            if self.scale is not None:
                block = block / self.scale
        out[:, start : start + block.shape[1]] = block


@dataclass(frozen=True)
class _CategoryTable:
    """One categorical feature's output columns, looked up per value."""

    name: str
    known: dict[str, np.ndarray]  # category -> its output row
    missing: np.ndarray
    unseen: np.ndarray

    def rows(self, values: Sequence[Any]) -> np.ndarray:
        known, missing, unseen = self.known, self.missing, self.unseen
        return np.array(
            [missing if v is None else known.get(v, unseen) for v in values], dtype=np.float64
        ).reshape(len(values), -1)


@dataclass(frozen=True)
class _Categories:
    """Categorical features encoded by tables (OrdinalEncoder or OneHotEncoder)."""

    tables: tuple[_CategoryTable, ...]

    def write(self, raw: Mapping[str, Sequence[Any]], out: np.ndarray, start: int) -> None:
        for table in self.tables:
            rows = table.rows(raw[table.name])
            out[:, start : start + rows.shape[1]] = rows
            start += rows.shape[1]


# -- fitted scikit-learn objects -> blocks -----------------------------------------------------


def _is_identity(transformer: Any) -> bool:
    from sklearn.preprocessing import FunctionTransformer

    return transformer == "passthrough" or (
        isinstance(transformer, FunctionTransformer)
        and transformer.func is None
        and not transformer.validate
    )


def _steps(transformer: Any) -> list[Any]:
    from sklearn.pipeline import Pipeline

    if isinstance(transformer, Pipeline):
        return [step for _, step in transformer.steps if step not in (None, "passthrough")]
    return [transformer]


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _numeric_block(names: tuple[str, ...], transformer: Any) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    steps = [s for s in _steps(transformer) if not _is_identity(s)]
    if not steps:
        return _Passthrough(names)
    statistics = mean = scale = None
    indicator: tuple[int, ...] = ()
    if isinstance(steps[0], SimpleImputer):
        imputer = steps.pop(0)
        if not _is_nan(imputer.missing_values):
            raise NotCompilable(f"SimpleImputer with missing_values={imputer.missing_values!r}")
        statistics = np.asarray(imputer.statistics_, dtype=np.float64)
        # A feature all-missing in training has a NaN statistic and is dropped.
        if statistics.shape != (len(names),) or not np.isfinite(statistics).all():
            raise NotCompilable("SimpleImputer dropped or could not impute a feature")
        if imputer.add_indicator:
            found = imputer.indicator_
            if found.features != "missing-only" or found.error_on_new:
                raise NotCompilable("MissingIndicator with features='all' or error_on_new")
            indicator = tuple(int(i) for i in found.features_)
    if steps and isinstance(steps[0], StandardScaler):
        scaler = steps.pop(0)
        width = len(names) + len(indicator)
        if scaler.with_mean:
            mean = np.asarray(scaler.mean_, dtype=np.float64)
        if scaler.with_std:
            scale = np.asarray(scaler.scale_, dtype=np.float64)
        if any(a is not None and a.shape != (width,) for a in (mean, scale)):
            raise NotCompilable("StandardScaler fitted on a different number of columns")
    if steps:
        raise NotCompilable(f"numeric step {type(steps[0]).__name__}")
    return _NumericSteps(names, statistics, indicator, mean, scale)


def _ordinal(encoder: Any, index: int) -> Callable[[Any], float]:
    """What OrdinalEncoder.transform makes of one value of its ``index``-th column."""
    categories = list(encoder.categories_[index])
    codes = {c: float(i) for i, c in enumerate(categories) if not _is_nan(c)}
    has_nan = any(_is_nan(c) for c in categories)
    unknown = float(encoder.unknown_value) if encoder.unknown_value is not None else None

    def code(value: Any) -> float:
        if _is_nan(value):
            if has_nan:
                return float(encoder.encoded_missing_value)
            # NaN never seen in fit is an unknown category.
        elif value in codes:
            return codes[value]
        if unknown is None:
            raise NotCompilable("OrdinalEncoder with handle_unknown='error'")
        return unknown

    if encoder.handle_unknown != "use_encoded_value" and encoder.handle_unknown != "error":
        raise NotCompilable(f"OrdinalEncoder handle_unknown={encoder.handle_unknown!r}")
    if getattr(encoder, "_infrequent_enabled", False):
        raise NotCompilable("OrdinalEncoder with infrequent categories")
    if np.dtype(encoder.dtype) != np.float64:
        raise NotCompilable(f"OrdinalEncoder dtype {encoder.dtype}")
    return code


_UNSEEN = object()  # any category the encoder never saw


def _category_tables(
    names: tuple[str, ...], transformer: Any, inner: Mapping[str, Callable[[float], float]]
) -> _Categories:
    """Tables of the categorical block: imputer? then OrdinalEncoder or OneHotEncoder.

    ``inner`` maps a feature to the second encoding HistGradientBoosting applies to
    its ordinal code (its own OrdinalEncoder), when it has one.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    steps = [s for s in _steps(transformer) if not _is_identity(s)]
    fill: list[Any] | None = None
    if steps and isinstance(steps[0], SimpleImputer):
        imputer = steps.pop(0)
        if not _is_nan(imputer.missing_values) or imputer.add_indicator:
            raise NotCompilable("categorical SimpleImputer other than NaN without indicator")
        fill = list(imputer.statistics_)
    if len(steps) != 1:
        raise NotCompilable("categorical block is not one encoder (after an optional imputer)")
    encoder = steps[0]
    tables = []
    for index, name in enumerate(names):
        filled = fill[index] if fill is not None else math.nan
        encode: Callable[[Any], np.ndarray]
        if isinstance(encoder, OrdinalEncoder):
            encode = _ordinal_row(_ordinal(encoder, index), inner.get(name))
        elif isinstance(encoder, OneHotEncoder):
            encode = _one_hot(encoder, index)
        else:
            raise NotCompilable(f"categorical encoder {type(encoder).__name__}")
        categories = [c for c in encoder.categories_[index] if isinstance(c, str)]
        tables.append(
            _CategoryTable(
                name=name,
                known={c: encode(c) for c in categories},
                missing=encode(filled),
                unseen=encode(_UNSEEN),
            )
        )
    return _Categories(tuple(tables))


def _ordinal_row(
    code: Callable[[Any], float], then: Callable[[Any], float] | None
) -> Callable[[Any], np.ndarray]:
    """One ordinal column's value, re-encoded by ``then`` when the estimator does."""

    def encode(value: Any) -> np.ndarray:
        encoded = code(value)
        return np.array([then(encoded) if then is not None else encoded], dtype=np.float64)

    return encode


def _one_hot(encoder: Any, index: int) -> Callable[[Any], np.ndarray]:
    if encoder.drop_idx_ is not None or getattr(encoder, "_infrequent_enabled", False):
        raise NotCompilable("OneHotEncoder with drop or infrequent categories")
    if encoder.handle_unknown != "ignore" or np.dtype(encoder.dtype) != np.float64:
        raise NotCompilable("OneHotEncoder other than handle_unknown='ignore', float64")
    categories = list(encoder.categories_[index])
    positions = {c: i for i, c in enumerate(categories) if not _is_nan(c)}
    nan_position = next((i for i, c in enumerate(categories) if _is_nan(c)), None)

    def encode(value: Any) -> np.ndarray:
        row = np.zeros(len(categories), dtype=np.float64)
        position = nan_position if _is_nan(value) else positions.get(value)
        if position is not None:
            row[position] = 1.0
        return row

    return encode


# -- HistGradientBoostingClassifier's trees ---------------------------------------------------


@dataclass(frozen=True)
class _Forest:
    """Every tree of a binary HistGradientBoostingClassifier as flat node arrays.

    Leaves point to themselves, so ``depth`` steps of the walk take every record in
    every tree to its leaf. ``go_left[table, slot]`` is a categorical node's decision
    for category code ``slot`` (``_MISSING_SLOT``: NaN or negative).
    """

    roots: np.ndarray  # (trees,)
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    is_categorical: np.ndarray
    table: np.ndarray  # categorical nodes: row of go_left; others 0
    go_left: np.ndarray  # (tables, 257) bool
    value: np.ndarray
    categorical_columns: np.ndarray  # input columns some categorical node splits on
    depth: int
    baseline: np.ndarray  # (1,) float64
    proba: Callable[[np.ndarray], np.ndarray]  # the model's own loss.predict_proba

    def raw(self, X: np.ndarray) -> np.ndarray:
        """``_raw_predict``: baseline + each tree's leaf value, added in tree order."""
        rows = X.shape[0]
        # Category codes as table slots (only categorical columns: numbers may be huge).
        slots = np.full(X.shape, _MISSING_SLOT, dtype=np.intp)
        codes = X[:, self.categorical_columns]
        present = ~np.isnan(codes) & (codes >= 0)
        # The tree walk reads a categorical value as uint8: truncate the same way.
        slots[:, self.categorical_columns] = np.where(
            present, np.where(present, codes, 0).astype(np.intp) & 0xFF, _MISSING_SLOT
        )
        row = np.arange(rows)[:, None]
        node = np.broadcast_to(self.roots, (rows, self.roots.size))
        for _ in range(self.depth):
            feature = self.feature[node]
            x = X[row, feature]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            categorical = self.is_categorical[node]
            if categorical.any():
                by_table = self.go_left[self.table[node], slots[row, feature]]
                go_left = np.where(categorical, by_table, go_left)
            node = np.where(go_left, self.left[node], self.right[node])
        leaves = self.value[node]
        # raw = zeros + baseline, then += each tree: add.accumulate adds left to right.
        start = np.zeros((rows, 1), dtype=np.float64) + self.baseline
        return np.add.accumulate(np.hstack([start, leaves]), axis=1)[:, -1:]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.proba(self.raw(X))


def _bits_of(bitset: np.ndarray) -> np.ndarray:
    """A scikit-learn bitset (8 x uint32) as 256 bools: value ``v`` is bit ``v % 32`` of
    word ``v // 32``, as its ``in_bitset`` reads it."""
    words = np.ascontiguousarray(bitset, dtype="<u4")
    return np.unpackbits(words.view(np.uint8), bitorder="little").astype(bool)


def _forest(model: Any) -> _Forest:
    from sklearn.ensemble._hist_gradient_boosting.common import X_BITSET_INNER_DTYPE

    if model.n_trees_per_iteration_ != 1 or len(model.classes_) != 2:
        raise NotCompilable("HistGradientBoostingClassifier with more than two classes")
    if getattr(model, "_in_fit", False):
        raise NotCompilable("HistGradientBoostingClassifier in the middle of fit")
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    if np.dtype(known.dtype) != np.dtype(X_BITSET_INNER_DTYPE):
        raise NotCompilable("unexpected bitset dtype")

    parts: dict[str, list[np.ndarray]] = {
        k: []
        for k in (
            "feature",
            "threshold",
            "missing_left",
            "left",
            "right",
            "is_categorical",
            "table",
            "value",
        )
    }
    tables: list[np.ndarray] = [np.zeros(_MISSING_SLOT + 1, dtype=bool)]  # row 0: unused
    roots = []
    offset = 0
    depth = 0
    for iteration in model._predictors:
        (predictor,) = iteration
        nodes = predictor.nodes
        count = len(nodes)
        own = np.arange(offset, offset + count)
        leaf = nodes["is_leaf"].astype(bool)
        parts["feature"].append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        missing_left = nodes["missing_go_to_left"].astype(bool)
        parts["missing_left"].append(missing_left)
        parts["left"].append(np.where(leaf, own, nodes["left"].astype(np.intp) + offset))
        parts["right"].append(np.where(leaf, own, nodes["right"].astype(np.intp) + offset))
        categorical = nodes["is_categorical"].astype(bool) & ~leaf
        parts["is_categorical"].append(categorical)
        table = np.zeros(count, dtype=np.intp)
        for index in np.flatnonzero(categorical):
            node = nodes[index]
            raw_left = _bits_of(predictor.raw_left_cat_bitsets[node["bitset_idx"]])
            known_bits = _bits_of(known[f_idx_map[node["feature_idx"]]])
            missing_side = bool(node["missing_go_to_left"])
            row = np.full(_MISSING_SLOT + 1, missing_side)  # unknown categories: missing
            row[:_MISSING_SLOT] = raw_left | (~known_bits & missing_side)
            table[index] = len(tables)
            tables.append(row)
        parts["table"].append(table)
        parts["value"].append(nodes["value"].astype(np.float64))
        roots.append(offset)
        offset += count
        depth = max(depth, int(predictor.get_max_depth()))
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    baseline = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(1)
    loss = model._loss
    split_on = arrays["feature"][arrays["is_categorical"]]
    return _Forest(
        roots=np.asarray(roots, dtype=np.intp),
        categorical_columns=np.unique(split_on).astype(np.intp),
        go_left=np.vstack(tables),
        depth=depth,
        baseline=baseline,
        proba=loss.predict_proba,
        **arrays,
    )


def _inner_encoding(model: Any, outer_names: Sequence[str]) -> tuple[list[int], dict[str, Any]]:
    """HistGradientBoosting's own input layout: column order and category re-encoding.

    With categorical features it keeps a ColumnTransformer (its OrdinalEncoder first,
    then the numeric columns as they are). Returns, for each of its output columns,
    the input column it comes from, and the second encoding per categorical feature.
    """
    width = len(outer_names)
    preprocessor = getattr(model, "_preprocessor", None)
    if preprocessor is None:
        return list(range(width)), {}
    order = [0] * width
    inner: dict[str, Any] = {}
    for name, transformer, mask in preprocessor.transformers_:
        selected = np.asarray(mask)
        sources = np.flatnonzero(selected) if selected.dtype == bool else selected
        if name == "remainder":
            if transformer == "drop" and not len(sources):
                continue
            raise NotCompilable("HistGradientBoosting's preprocessor has a remainder")
        target = preprocessor.output_indices_[name]
        if target.stop - target.start != len(sources):
            raise NotCompilable("HistGradientBoosting's preprocessor changes the width")
        for position, source in enumerate(sources):
            order[target.start + position] = int(source)
        if name == "encoder":
            for position, source in enumerate(sources):
                inner[outer_names[int(source)]] = _ordinal(transformer, position)
        elif name != "numerical":
            raise NotCompilable(f"HistGradientBoosting's preprocessor step {name!r}")
    return order, inner


# -- the scorer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FastScorer:
    """Probabilities of the positive class straight from validated columns."""

    numeric: tuple[_NumericInput, ...]
    blocks: tuple[tuple[Any, int], ...]  # (block, first output column)
    width: int
    order: tuple[int, ...] | None  # the estimator's column order (HistGradientBoosting)
    forest: _Forest | None
    estimator: Any
    positive: int  # the column of predict_proba that holds the positive class
    max_records: int  # larger batches are faster on the plain path

    def matrix(self, columns: Mapping[str, Sequence[Any]], count: int) -> np.ndarray:
        """The estimator's input: what the ColumnTransformer would return."""
        numbers = {f.name: f.column(columns[f.name]) for f in self.numeric}
        out = np.empty((count, self.width), dtype=np.float64)
        for block, start in self.blocks:
            if isinstance(block, _Categories):
                block.write(columns, out, start)
            else:
                block.write(numbers, out, start)
        return out

    def predict_proba(self, columns: Mapping[str, Sequence[Any]], count: int) -> np.ndarray:
        """The full ``(count, 2)`` probability matrix, as ``predict_proba`` returns it."""
        matrix = self.matrix(columns, count)
        if self.forest is not None:
            assert self.order is not None
            return self.forest.predict_proba(matrix[:, list(self.order)])
        return np.asarray(self.estimator.predict_proba(matrix))

    def scores(self, batch: ValidBatch) -> list[float]:
        """Positive-class probabilities of a validated batch."""
        return self.predict_proba(batch.columns, batch.count)[:, self.positive].tolist()


def _build(model: Any, signature: Signature) -> FastScorer:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        raise NotCompilable(f"{type(model).__name__} is not a two-step Pipeline")
    (_, transformer), (_, estimator) = model.steps
    if not isinstance(transformer, ColumnTransformer):
        raise NotCompilable(f"first step {type(transformer).__name__}")
    if transformer.sparse_output_:
        raise NotCompilable("the ColumnTransformer's output is sparse")
    output = getattr(transformer, "_sklearn_output_config", {}).get("transform", "default")
    if output != "default":
        raise NotCompilable(f"the ColumnTransformer's output is set to {output!r}")
    if list(getattr(model, "classes_", [])) != [0, 1]:
        raise NotCompilable("the classes are not [0, 1]")
    kinds = {f.name: f.type for f in signature.features}

    is_forest = isinstance(estimator, HistGradientBoostingClassifier)
    outer_names: list[str] = []  # the input feature of each ColumnTransformer output column
    pending = []
    for name, step, columns in transformer.transformers_:
        if step == "drop":
            continue
        names = tuple(columns) if not isinstance(columns, str) else (columns,)
        if not all(isinstance(n, str) and n in kinds for n in names):
            raise NotCompilable(f"ColumnTransformer step {name!r} selects non-feature columns")
        pending.append((name, step, names))
        # For the trees, every step must make one column per feature (passthrough,
        # ordinal codes); the width check below refuses anything else.
        outer_names.extend(names)
    order, inner = _inner_encoding(estimator, outer_names) if is_forest else ([], {})

    blocks = []
    numeric: dict[str, _NumericInput] = {}
    for name, step, names in pending:
        target = transformer.output_indices_[name]
        if all(kinds[n] == "category" for n in names):
            block: Any = _category_tables(names, step, inner)
            width = sum(table.missing.size for table in block.tables)
        elif all(kinds[n] in ("number", "integer") for n in names):
            block = _numeric_block(names, step)
            numeric.update({n: _NumericInput(n) for n in names})
            width = len(names) + (len(block.indicator) if isinstance(block, _NumericSteps) else 0)
        else:
            raise NotCompilable(f"ColumnTransformer step {name!r} mixes numbers and categories")
        if target.stop - target.start != width:
            raise NotCompilable(f"ColumnTransformer step {name!r} has an unexpected width")
        blocks.append((block, target.start))
    width = sum(s.stop - s.start for s in transformer.output_indices_.values())
    if is_forest and len(order) != width:
        raise NotCompilable("HistGradientBoosting's input width differs")
    return FastScorer(
        numeric=tuple(numeric.values()),
        blocks=tuple(blocks),
        width=width,
        order=tuple(order) if is_forest else None,
        forest=_forest(estimator) if is_forest else None,
        estimator=estimator,
        positive=1,
        # The tree walk handles records x trees at once: past a few dozen records
        # scikit-learn's compiled walk wins. Other estimators score the matrix with
        # their own code, faster than the DataFrame path at any size.
        max_records=FAST_MAX_RECORDS if is_forest else sys.maxsize,
    )


def probe_batch(signature: Signature, random_records: int = _PROBE_RANDOM_RECORDS) -> ValidBatch:
    """Records that touch every category, missing and unseen values and range ends.

    Column by column, valid for the signature: record ``i`` takes the ``i``-th special
    value of each feature (cycling), then random values in the training range.
    """
    from gitml.serve.records import ValidBatch

    rng = np.random.default_rng(_PROBE_SEED)
    specials: dict[str, list[Any]] = {}
    for feature in signature.features:
        values: list[Any]
        if feature.type == "category":
            values = [*(feature.categories or ()), "never-seen-in-training"]
        else:
            low = feature.min if feature.min is not None else 0.0
            high = feature.max if feature.max is not None else low + 100.0
            values = [low, high, (low + high) / 2, low - 1, high + 1]
            if feature.type == "integer":
                values = [math.floor(v) for v in values]
        if feature.nullable:
            values.append(None)
        specials[feature.name] = values
    count = max(len(v) for v in specials.values()) + random_records
    columns: dict[str, list[Any]] = {}
    for feature in signature.features:
        values = list(specials[feature.name])
        for _ in range(count - len(values)):
            if feature.type == "category":
                options = [*(feature.categories or ("a",)), None if feature.nullable else "a"]
                values.append(options[int(rng.integers(len(options)))])
            else:
                low = feature.min if feature.min is not None else 0.0
                high = feature.max if feature.max is not None else low + 100.0
                if feature.nullable and rng.random() < 0.1:
                    values.append(None)
                elif feature.type == "integer":
                    values.append(int(rng.integers(int(low), int(high) + 1)))
                else:
                    values.append(float(rng.uniform(low, high)))
        columns[feature.name] = values[:count]
    return ValidBatch(count=count, columns=columns)


def _bits(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def compile_scorer(model: Any, signature: Signature) -> FastScorer | None:
    """The fast scorer of ``model``, or None when it cannot be proven identical.

    Never raises: a model the fast path does not cover is logged (at debug level for
    shapes it does not know, as a warning when the probe check finds a difference) and
    served by the plain path.
    """
    from gitml.serve.records import build_frame

    try:
        scorer = _build(model, signature)
        probe = probe_batch(signature)
        fast = scorer.predict_proba(probe.columns, probe.count)
        plain = np.asarray(model.predict_proba(build_frame(signature, probe)))
    except NotCompilable as exc:
        logger.debug("no fast path for %s: %s", signature.name, exc)
        return None
    except Exception as exc:  # any surprise in scikit-learn's internals: plain path
        logger.warning("no fast path for %s: %s: %s", signature.name, type(exc).__name__, exc)
        return None
    if fast.shape != plain.shape or not np.array_equal(_bits(fast), _bits(plain)):
        logger.warning(
            "no fast path for %s: its probabilities differ from predict_proba's on the "
            "probe batch; scoring with predict_proba",
            signature.name,
        )
        return None
    return scorer
