"""The fitted ColumnTransformer's steps as tables and float64 arithmetic.

* numbers become float64 exactly as :func:`gitml.serve.records.build_frame` makes them;
* categories are looked up in tables built from the fitted encoders' ``categories_``
  (OrdinalEncoder codes, OneHotEncoder rows), missing and unseen values included;
* SimpleImputer and StandardScaler apply their fitted statistics with the same float64
  operations, in the same order, as their ``transform``.

Each block writes its columns of the matrix the ColumnTransformer would return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.serve.fastpath.support import NotCompilable

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "Categories",
    "CategoryTable",
    "NumericInput",
    "NumericSteps",
    "Passthrough",
    "category_tables",
    "numeric_block",
    "ordinal_codes",
]


# -- input columns --------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericInput:
    """A numeric feature: the float64 column build_frame makes (None is NaN)."""

    name: str

    def column(self, values: Sequence[Any]) -> np.ndarray:
        nan = math.nan
        return np.array([nan if v is None else v for v in values], dtype=np.float64)


# -- preprocessing blocks: each writes its columns of the transformed matrix ---------------


@dataclass(frozen=True)
class Passthrough:
    """Numeric features copied unchanged (``"passthrough"`` in a ColumnTransformer)."""

    names: tuple[str, ...]

    def write(self, columns: Mapping[str, np.ndarray], out: np.ndarray, start: int) -> None:
        for offset, name in enumerate(self.names):
            out[:, start + offset] = columns[name]


@dataclass(frozen=True)
class NumericSteps:
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
class CategoryTable:
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
class Categories:
    """Categorical features encoded by tables (OrdinalEncoder or OneHotEncoder)."""

    tables: tuple[CategoryTable, ...]

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


def numeric_block(names: tuple[str, ...], transformer: Any) -> Passthrough | NumericSteps:
    """The numeric step of a ColumnTransformer: passthrough, or imputer and/or scaler."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    steps = [s for s in _steps(transformer) if not _is_identity(s)]
    if not steps:
        return Passthrough(names)
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
    return NumericSteps(names, statistics, indicator, mean, scale)


def ordinal_codes(encoder: Any, index: int) -> Callable[[Any], float]:
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


def category_tables(
    names: tuple[str, ...], transformer: Any, inner: Mapping[str, Callable[[float], float]]
) -> Categories:
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
            encode = _ordinal_row(ordinal_codes(encoder, index), inner.get(name))
        elif isinstance(encoder, OneHotEncoder):
            encode = _one_hot(encoder, index)
        else:
            raise NotCompilable(f"categorical encoder {type(encoder).__name__}")
        categories = [c for c in encoder.categories_[index] if isinstance(c, str)]
        tables.append(
            CategoryTable(
                name=name,
                known={c: encode(c) for c in categories},
                missing=encode(filled),
                unseen=encode(_UNSEEN),
            )
        )
    return Categories(tuple(tables))


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
