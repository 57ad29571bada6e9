"""A batch read into what the drift check compares, a piece at a time.

``gitml drift`` must not need memory for the whole batch: a million-row batch as a
DataFrame costs several times the file. :func:`scan_file` therefore reads

* a **Parquet** file one column at a time: each feature is converted and summarised, then
  dropped, before the next is read;
* a **CSV** file (and a JSONL prediction log, which is parsed whole) in row chunks of
  :data:`CHUNK_ROWS`: each chunk's numeric features are checked and their present values
  kept as float64 (8 bytes a value), its categories counted, then the chunk is dropped.

When the batch has no ``score`` column and a *scorer* is given (``gitml drift`` passes one
that loads the version's model on first use), the model scores the batch in row chunks
too. Values are always checked before a model sees them: a non-numeric or infinite value
in a numeric feature is a one-line ConfigError naming the file, the column, the row and
the value, never a model's exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gitml.errors import ConfigError
from gitml.monitor.batchfile import (
    SCORE_COLUMN,
    ParquetColumns,
    batch_format,
    csv_chunks,
    read_batch,
)
from gitml.monitor.columns import (
    CategoricalColumn,
    Column,
    NumericColumn,
    category_counts,
    check_columns,
    feature_column,
    numeric_values,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd
    from numpy.typing import ArrayLike

    from gitml.signature import Feature, Signature

    Scorer = Callable[[pd.DataFrame], ArrayLike]

CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Scan:
    """What the drift check needs of a batch.

    ``column`` yields each feature's values once, in the signature's order (the caller
    drops them before asking for the next); ``scores`` and ``labels`` are asked for after
    every feature, so the features are checked before any model scores them. ``scored``
    says whether ``scores`` returns an array (labels count only with scores).
    """

    names: list[str]
    rows: int
    column: Callable[[Feature], Column]
    scored: bool
    scores: Callable[[], ArrayLike | None]
    labels: Callable[[], ArrayLike | None]


def frame_scan(
    frame: pd.DataFrame,
    signature: Signature,
    scores: ArrayLike | None,
    labels: ArrayLike | None,
    source: str,
) -> Scan:
    """A DataFrame already in memory, with its scores and labels given."""
    names = [str(c) for c in frame.columns]
    check_columns(names, len(frame), signature, source)
    return Scan(
        names=names,
        rows=len(frame),
        column=lambda feature: feature_column(frame[feature.name], feature, source),
        scored=scores is not None,
        scores=lambda: scores,
        labels=lambda: labels,
    )


def scan_file(
    path: str | Path,
    signature: Signature,
    *,
    scores: ArrayLike | None = None,
    scorer: Scorer | None = None,
    chunk_rows: int = CHUNK_ROWS,
    checked: tuple[str, str] | None = None,
) -> Scan:
    """Read the batch file ``path`` in pieces (see the module docstring).

    The scores are ``scores`` when given, else the file's ``score`` column, else
    ``scorer`` applied to row chunks of the raw batch columns, else there are none. The
    labels are the target column, when there are scores. ``checked`` ``(model, version)``
    is the version a prediction log must name. Errors name ``path``.
    """
    file, name = Path(path), str(path)
    fmt = batch_format(file, name)[0]
    if fmt == "parquet":
        reader = ParquetColumns(file, name)
        return _parquet_scan(reader, name, signature, scores, scorer, chunk_rows)
    if fmt == "csv":
        names, chunks = csv_chunks(file, name, chunk_rows)
    else:
        frame = read_batch(file, checked=checked)
        names = [str(c) for c in frame.columns]
        chunks = _row_chunks(frame, chunk_rows)
    check_columns(names, None, signature, name)
    tally = _Tally(signature, name, names, scores, scorer)
    for chunk in chunks:
        tally.add(chunk)
    if tally.rows == 0:
        raise ConfigError(f"{name}: no rows", [(name, "", "no rows")])
    return tally.scan()


def _parquet_scan(
    reader: ParquetColumns,
    name: str,
    signature: Signature,
    scores: ArrayLike | None,
    scorer: Scorer | None,
    chunk_rows: int,
) -> Scan:
    names, rows = reader.names, reader.rows
    check_columns(names, rows, signature, name)
    in_file = scores is None and SCORE_COLUMN in names
    scored = scores is not None or in_file or scorer is not None

    def read_scores() -> ArrayLike | None:
        if scores is not None:
            return scores
        if in_file:
            return numeric_values(reader.column(SCORE_COLUMN), SCORE_COLUMN, name)
        if scorer is None:
            return None
        features = list(signature.feature_names)
        parts = [_scored(scorer, chunk) for chunk in reader.row_chunks(features, chunk_rows)]
        return np.concatenate(parts) if parts else np.empty(0)

    def read_labels() -> ArrayLike | None:
        if not scored or signature.target not in names:
            return None
        return numeric_values(reader.column(signature.target), signature.target, name)

    return Scan(
        names=names,
        rows=rows,
        column=lambda feature: feature_column(reader.column(feature.name), feature, name),
        scored=scored,
        scores=read_scores,
        labels=read_labels,
    )


def _scored(scorer: Scorer, chunk: pd.DataFrame) -> np.ndarray:
    return np.asarray(scorer(chunk), dtype=np.float64).ravel()


class _Tally:
    """Row chunks summarised as they pass: present numeric values, category counts, scores."""

    def __init__(
        self,
        signature: Signature,
        source: str,
        names: list[str],
        scores: ArrayLike | None,
        scorer: Scorer | None,
    ) -> None:
        self._signature = signature
        self._source = source
        self._names = names
        self._given = scores
        self._in_file = scores is None and SCORE_COLUMN in names
        self._scorer = None if scores is not None or self._in_file else scorer
        self._scored = scores is not None or self._in_file or self._scorer is not None
        self._values: dict[str, list[np.ndarray]] = {}
        self._counts: dict[str, dict[str, int]] = {}
        for feature in signature.features:
            if feature.type == "category":
                self._counts[feature.name] = {}
            else:
                self._values[feature.name] = []
        self._scores: list[np.ndarray] = []
        self._labels: list[np.ndarray] | None = (
            [] if self._scored and signature.target in names else None
        )
        self.rows = 0

    def add(self, chunk: pd.DataFrame) -> None:
        """Check and summarise one chunk; score it after its features were checked."""
        start, source = self.rows, self._source
        for feature in self._signature.features:
            column = chunk[feature.name]
            if feature.name in self._counts:
                counts = self._counts[feature.name]
                for category, n in category_counts(column).items():
                    counts[category] = counts.get(category, 0) + n
            else:
                values = numeric_values(column, feature.name, source, start=start)
                self._values[feature.name].append(values[~np.isnan(values)])
        if self._in_file:
            self._scores.append(
                numeric_values(chunk[SCORE_COLUMN], SCORE_COLUMN, source, start=start)
            )
        elif self._scorer is not None:
            self._scores.append(_scored(self._scorer, chunk))
        if self._labels is not None:
            target = self._signature.target
            self._labels.append(numeric_values(chunk[target], target, source, start=start))
        self.rows += len(chunk)

    def _column(self, feature: Feature) -> Column:
        if feature.name in self._counts:
            return CategoricalColumn(feature.name, self._counts.pop(feature.name), self.rows)
        # Joined only when asked for, and the pieces let go: one feature's copy at a time.
        values = _joined(self._values.pop(feature.name))
        values.sort()
        return NumericColumn(feature.name, values, self.rows)

    def _scores_read(self) -> ArrayLike | None:
        if self._given is not None:
            return self._given
        return _joined(self._scores) if self._scored else None

    def scan(self) -> Scan:
        """The tallied batch."""
        return Scan(
            names=self._names,
            rows=self.rows,
            column=self._column,
            scored=self._scored,
            scores=self._scores_read,
            labels=lambda: None if self._labels is None else _joined(self._labels),
        )


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0)


def _row_chunks(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), rows):
        yield frame.iloc[start : start + rows]
