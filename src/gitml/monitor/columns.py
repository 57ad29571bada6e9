"""A frame's feature columns as the statistics need them, with input errors named.

Reference data (for a baseline) and live batches (for drift) pass through
:func:`check_columns` and :func:`feature_column` alike, so both sides see the same values:
numbers as sorted float64 arrays of the present values, categories as counts per category
string. Missing values are NaN, None or empty strings, as in
:func:`gitml.signature.feature_frame`. Columns are converted one at a time, so a caller
can drop each before the next is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from gitml.signature import Feature, Signature


@dataclass(frozen=True)
class NumericColumn:
    """A numeric feature: its present values sorted ascending, and the row count."""

    name: str
    values: np.ndarray
    rows: int

    @property
    def missing(self) -> int:
        """Rows where the value is missing."""
        return self.rows - int(self.values.size)


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical feature: how many rows hold each category, and the row count."""

    name: str
    counts: dict[str, int]
    rows: int

    @property
    def missing(self) -> int:
        """Rows where the value is missing."""
        return self.rows - sum(self.counts.values())


Column = NumericColumn | CategoricalColumn


def check_columns(
    names: Sequence[str], rows: int | None, signature: Signature, source: str
) -> None:
    """Raise ConfigError naming ``source`` unless every feature is present and rows exist.

    All missing features are named at once; a name listed twice is an error too. ``rows``
    is None when the row count is not known yet (a file read in chunks).
    """
    absent = [name for name in signature.feature_names if name not in names]
    if absent:
        listed = ", ".join(repr(name) for name in absent)
        raise ConfigError(
            f"{source}: missing feature column(s) {listed} required by the "
            f"{signature.name!r} signature",
            [(source, name, "missing column") for name in absent],
        )
    twice = sorted({name for name in signature.feature_names if list(names).count(name) > 1})
    if twice:
        raise ConfigError(
            f"{source}: column {twice[0]!r} appears more than once",
            [(source, name, "duplicate column") for name in twice],
        )
    if rows == 0:
        raise ConfigError(f"{source}: no rows", [(source, "", "no rows")])


def feature_column(column: pd.Series, feature: Feature, source: str) -> Column:
    """One feature's values as the statistics need them.

    A numeric feature holding a value that is not a number, or an infinite one, raises
    ConfigError naming ``source``, the column, the row and the value.
    """
    if feature.type == "category":
        return CategoricalColumn(feature.name, category_counts(column), len(column))
    values = numeric_values(column, feature.name, source)
    present = np.sort(values[~np.isnan(values)])
    return NumericColumn(feature.name, present, len(column))


def numeric_values(column: pd.Series, name: str, source: str, *, start: int = 0) -> np.ndarray:
    """The column as float64 with NaN for missing values.

    Text that is not a number, and infinite values, raise ConfigError naming ``source``,
    the column, the first offending row and its value. Rows count from 1 after ``start``
    earlier rows, so a chunk of a file names the row of the file.
    """
    import pandas as pd
    from pandas.api import types

    if types.is_bool_dtype(column.dtype) or types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        coerced = pd.to_numeric(column, errors="coerce")
        blank = column.isna().to_numpy() | (column.astype(str).str.strip() == "").to_numpy()
        bad = coerced.isna().to_numpy() & ~blank
        if bad.any():
            row = int(np.argmax(bad))
            example = column.iloc[row]
            message = f"expected a number, row {start + row + 1} holds {str(example)[:60]!r}"
            raise ConfigError(f"{source}: column {name!r}: {message}", [(source, name, message)])
        values = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.argmax(infinite))
        message = f"expected a finite number, row {start + row + 1} holds {float(values[row])!r}"
        raise ConfigError(f"{source}: column {name!r}: {message}", [(source, name, message)])
    return values


def category_counts(column: pd.Series) -> dict[str, int]:
    """Rows per category string; missing values and empty strings are not counted."""
    counts: dict[str, int] = {}
    # value_counts hashes the column once in C; only the distinct values reach Python.
    for value, count in column.value_counts(dropna=True, sort=False).items():
        key = _category_key(value)
        if key:
            counts[key] = counts.get(key, 0) + int(count)
    return counts


def _category_key(value: object) -> str:
    """A category's string form; an integral float (an int column with NaN) reads as an int."""
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        if float(value).is_integer():
            return str(int(value))
    return str(value)
