"""Batch files for ``gitml drift``: CSV, Parquet and the JSONL prediction log.

:func:`read_batch` reads a file whole, by its extension:

* ``.csv`` (also ``.csv.gz``): a header row with the feature names;
* ``.parquet`` / ``.pq``: one column per feature (needs ``pyarrow``);
* ``.jsonl`` / ``.ndjson`` (also ``.gz``): the prediction log, one JSON object per line::

      {"ts": "2025-01-31T12:00:00Z", "model": "credit", "version": "v0.2.0",
       "features": {"age": 41, "annual_income": 52000, ..., "region": "north"},
       "score": 0.12, "decision": 0}

  Each line's ``features`` object becomes one row (a feature absent from a line is
  missing there); ``score``, when any line has one, becomes the column ``score``
  (null or absent: missing). ``ts``, ``id`` and ``decision`` are not read; ``model`` and
  ``version``, when the caller says which model version is checked, must name that
  one (a log of another version holds another model's scores). Blank lines are skipped.

  A server with a canary or a shadow (``gitml serve --canary/--shadow``) logs two
  versions in one file, each line with its ``role``: ``stable`` or ``candidate`` for
  the version that answered, ``shadow`` for the candidate's scores of a request the
  stable version answered (the same features again). Lines with a role that name
  another version than the one checked are left out, not refused: such a log holds
  each version's rows, and checking one version reads its rows only (a shadow
  candidate's are all the traffic). Without a version to check, ``shadow`` lines are
  left out, so each request counts once.

The drift check itself reads in pieces instead (:mod:`gitml.monitor.scan`): a CSV file
in row chunks (:func:`csv_chunks`), a Parquet file one column at a time or in row chunks
(:class:`ParquetColumns`), so memory follows the chunk, not the file.

Many prediction logs (one per server replica) become one batch through
:func:`gitml.monitor.logset.join_logs`.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

SCORE_COLUMN = "score"

_FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def batch_format(file: Path, name: str) -> tuple[str, bool]:
    """The batch format by extension and whether it is gzip-compressed; checks the file."""
    suffixes = [s.lower() for s in file.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    suffix = suffixes[-2] if compressed and len(suffixes) > 1 else (suffixes or [""])[-1]
    fmt = _FORMATS.get(suffix)
    if fmt is None or (compressed and fmt == "parquet"):
        message = "unknown batch format (expected .csv, .parquet, .pq, .jsonl or .ndjson)"
        raise ConfigError(f"{name}: {message}", [(name, "", message)])
    if not file.is_file():
        problem = "a directory, not a batch file" if file.is_dir() else "file not found"
        raise ConfigError(f"{name}: {problem}", [(name, "", problem)])
    if file.stat().st_size == 0:
        raise ConfigError(f"{name}: empty file", [(name, "", "empty file")])
    return fmt, compressed


def read_batch(path: str | Path, *, checked: tuple[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV, Parquet or JSONL prediction-log batch (formats in the module docstring).

    A missing or unreadable file, an unknown extension, an empty file, a file without
    rows and a malformed line raise ConfigError naming the file (and the line), as does
    a prediction log naming another model version than ``checked`` ``(model, version)``.
    """
    file = Path(path)
    name = str(path)
    fmt, compressed = batch_format(file, name)
    try:
        if fmt == "csv":
            frame = _read_csv(file)
        elif fmt == "parquet":
            frame = _read_parquet(file, name)
        else:
            frame = read_jsonl(file, name, compressed, checked)
    except ConfigError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        unreadable(name, exc)
    if len(frame) == 0:
        raise ConfigError(f"{name}: no rows", [(name, "", "no rows")])
    return frame


def unreadable(name: str, exc: Exception) -> NoReturn:
    """Raise the one-line ConfigError for a file that cannot be parsed."""
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    raise ConfigError(f"{name}: cannot read: {detail}", [(name, "", detail)]) from None


def _read_csv(file: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(file)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def csv_chunks(file: Path, name: str, rows: int) -> tuple[list[str], Iterator[pd.DataFrame]]:
    """The header's column names, and the file's rows ``rows`` at a time.

    Parse errors, at the header or in any chunk, raise ConfigError naming the file.
    """
    import pandas as pd

    try:
        names = [str(c) for c in pd.read_csv(file, nrows=0).columns]
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{name}: no rows", [(name, "", "no rows")]) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        unreadable(name, exc)

    def chunks() -> Iterator[pd.DataFrame]:
        try:
            with pd.read_csv(file, chunksize=rows) as reader:
                yield from reader
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            unreadable(name, exc)

    return names, chunks()


def _require_pyarrow(name: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{name}: reading Parquet needs pyarrow (pip install pyarrow)",
            [(name, "", "pyarrow not installed")],
        ) from None


def _read_parquet(file: Path, name: str) -> pd.DataFrame:
    import pandas as pd

    _require_pyarrow(name)
    from pyarrow import ArrowException

    try:
        return pd.read_parquet(file)
    except ArrowException as exc:
        unreadable(name, exc)


class ParquetColumns:
    """A Parquet file read one column at a time (the pandas index columns left out)."""

    def __init__(self, file: Path, name: str) -> None:
        _require_pyarrow(name)
        import pyarrow.parquet as pq
        from pyarrow import ArrowException

        self._name = name
        try:
            self._file = pq.ParquetFile(file)
        except (ArrowException, OSError) as exc:
            unreadable(name, exc)
        schema = self._file.schema_arrow
        metadata = schema.pandas_metadata or {}
        index = {c for c in metadata.get("index_columns", []) if isinstance(c, str)}
        self.names = [n for n in schema.names if n not in index]
        self.rows = int(self._file.metadata.num_rows)

    def column(self, column: str) -> pd.Series:
        """One column as a pandas Series, read from the file now."""
        from pyarrow import ArrowException

        try:
            table = self._file.read(columns=[column])
        except (ArrowException, OSError) as exc:
            unreadable(self._name, exc)
        series: pd.Series = table.column(0).to_pandas()
        return series

    def row_chunks(self, columns: list[str], rows: int) -> Iterator[pd.DataFrame]:
        """``columns`` of the file, ``rows`` rows at a time."""
        from pyarrow import ArrowException

        try:
            for batch in self._file.iter_batches(batch_size=rows, columns=columns):
                yield batch.to_pandas()
        except (ArrowException, OSError) as exc:
            unreadable(self._name, exc)


def read_jsonl(
    file: Path, name: str, compressed: bool, checked: tuple[str, str] | None = None
) -> pd.DataFrame:
    """A prediction log as a frame of its features (and ``score``); see the module docstring."""
    import pandas as pd

    raw = file.read_bytes()
    text = (gzip.decompress(raw) if compressed else raw).decode("utf-8")
    text = without_torn_tail(text, name)
    records: list[dict[str, Any]] = []
    scores: list[float] = []
    has_score = False
    others = _OtherVersions(name, checked)
    for number, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        entry = log_entry(name, number, line)
        if others.left_out(entry):
            continue
        others.see(number, entry)
        score = entry.get(SCORE_COLUMN)
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float):
                line_error(name, number, f"'score' must be a number, got {score!r}")
            has_score = True
        records.append(entry["features"])
        scores.append(math.nan if score is None else float(score))
    others.check(len(records))
    others.check_any(len(records))
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    if has_score:
        if SCORE_COLUMN in frame.columns:
            message = f"a feature is named {SCORE_COLUMN!r}, like the prediction's score"
            raise ConfigError(f"{name}: {message}", [(name, "", message)])
        frame[SCORE_COLUMN] = np.asarray(scores, dtype=np.float64)
    return frame


def without_torn_tail(text: str, name: str) -> str:
    """``text`` less a last line that has no newline and is no JSON: a writer stopped
    mid-record (``kill -9``, power loss). It is dropped with a warning; a bad line
    anywhere else still refuses the file, since it cannot be such an interruption."""
    if not text or text.endswith("\n"):
        return text
    head, _, tail = text.rpartition("\n")
    try:
        json.loads(tail)
    except ValueError:
        logging.getLogger(__name__).warning(
            "%s: skipped an incomplete last line of %d characters (a writer interrupted "
            "mid-record)",
            name,
            len(tail),
        )
        return head + "\n" if head else ""
    return text


class _OtherVersions:
    """Log lines whose ``model``/``version`` name another model version than the one checked.

    A line that leaves either field out (or null) is taken to be the checked version's.
    A line with a ``role`` (a canary or shadow server's) of another version is left out
    (:meth:`left_out`); one without is an error (:meth:`check`).
    """

    def __init__(self, name: str, checked: tuple[str, str] | None) -> None:
        self._name = name
        self._checked = checked
        self._first: tuple[int, str] | None = None
        self._count = 0
        self._left_out: dict[str, int] = {}  # other versions' lines left out, by version

    def _other(self, entry: dict[str, Any]) -> bool:
        if self._checked is None:
            return False
        model, version = entry.get("model"), entry.get("version")
        want_model, want_version = self._checked
        return (model is not None and model != want_model) or (
            version is not None and version != want_version
        )

    def left_out(self, entry: dict[str, Any]) -> bool:
        """Whether a line is another version's in a two-version log (or, with no version
        checked, a shadow's repeat of an answered request): not a row of this batch."""
        role = entry.get("role")
        if role is None:
            return False
        if self._checked is None:
            return bool(role == "shadow")
        # A candidate's or shadow's line without a version (one served from a git
        # revision) cannot be told apart from the stable version's: never taken for the
        # checked version. A stable line without one is, as before.
        unversioned = role != "stable" and entry.get("version") is None
        if not self._other(entry) and not unversioned:
            return False
        named = f"{entry.get('model') or self._checked[0]}@{entry.get('version') or '(no version)'}"
        self._left_out[named] = self._left_out.get(named, 0) + 1
        return True

    def check_any(self, lines: int) -> None:
        """Say what was left out; refuse a log with none of the checked version's lines."""
        if not self._left_out or self._checked is None:
            return
        summary = ", ".join(f"{count:,} of {named}" for named, count in self._left_out.items())
        if lines == 0:
            checked = "@".join(self._checked)
            message = (
                f"no line logs a prediction of {checked}, the version checked; it holds "
                f"{summary} (a canary or shadow server's log): check one of those"
            )
            raise ConfigError(f"{self._name}: {message}", [(self._name, "", message)])
        logging.getLogger(__name__).info(
            "%s: read the %d lines of %s; left out %s",
            self._name,
            lines,
            "@".join(self._checked),
            summary,
        )

    def see(self, number: int, entry: dict[str, Any]) -> None:
        if self._checked is None or not self._other(entry):
            return
        self._count += 1
        if self._first is None:
            want_model, want_version = self._checked
            model, version = entry.get("model"), entry.get("version")
            self._first = (number, f"{model or want_model}@{version or want_version}")

    def check(self, lines: int) -> None:
        if self._first is None or self._checked is None:
            return
        number, named = self._first
        checked = "@".join(self._checked)
        more = f" (and {self._count - 1:,} more of {lines:,} records)" if self._count > 1 else ""
        message = (
            f"line {number}{more} logs a prediction of {named}, not of {checked}, the version "
            f"checked: check {named} instead, or keep only {checked}'s lines"
        )
        raise ConfigError(f"{self._name}: {message}", [(self._name, f"line {number}", message)])


def log_entry(name: str, number: int, line: str) -> dict[str, Any]:
    """Line ``number`` of the prediction log ``name`` as its JSON object, which must hold a
    ``features`` object; anything else is a one-line ConfigError naming the line."""
    try:
        entry = json.loads(line)
    except ValueError as exc:
        line_error(name, number, f"not valid JSON: {exc}")
    if not isinstance(entry, dict) or not isinstance(entry.get("features"), dict):
        line_error(name, number, "expected an object with a 'features' object")
    return entry


def line_error(name: str, number: int, message: str) -> NoReturn:
    """A one-line ConfigError naming the log ``name`` and its line ``number``."""
    raise ConfigError(f"{name}: line {number}: {message}", [(name, f"line {number}", message)])
