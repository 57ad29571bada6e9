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
:func:`join_logs`: their lines one after another in one JSONL file, read like any log;
an error names the log and its line, never the joined file (:meth:`JoinedLogs.renamed`).
A row number in an error about a feature's values counts the batch's rows, the logs' in
name order.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

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
    text = _without_torn_tail(text, name)
    records: list[dict[str, Any]] = []
    scores: list[float] = []
    has_score = False
    others = _OtherVersions(name, checked)
    for number, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            _line_error(name, number, f"not valid JSON: {exc}")
        if not isinstance(entry, dict) or not isinstance(entry.get("features"), dict):
            _line_error(name, number, "expected an object with a 'features' object")
        if others.left_out(entry):
            continue
        others.see(number, entry)
        score = entry.get(SCORE_COLUMN)
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float):
                _line_error(name, number, f"'score' must be a number, got {score!r}")
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


def _without_torn_tail(text: str, name: str) -> str:
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


def _line_error(name: str, number: int, message: str) -> NoReturn:
    raise ConfigError(f"{name}: line {number}: {message}", [(name, f"line {number}", message)])


# The roles of a prediction log's lines that answered requests (see join_logs).
_ANSWERING_ROLES = (None, "stable")


@dataclass(frozen=True)
class JoinedLogs:
    """Prediction logs written one after another into one batch file (:func:`join_logs`).

    ``label`` names the batch as the user gave it (a directory or a glob); ``parts``
    holds each log's name and how many lines of the joined file come before it.
    """

    label: str
    parts: tuple[tuple[str, int], ...]

    def locate(self, line: int) -> tuple[str, int]:
        """The log and its own line number of the joined file's line ``line``."""
        name, before = self.parts[0]
        for part, offset in self.parts:
            if offset >= line:
                break
            name, before = part, offset
        return name, line - before

    def renamed(self, error: ConfigError, joined: str) -> ConfigError:
        """``error``, raised reading the joined file ``joined``, told in the logs' terms:
        a line of it as that log's line, anything else as the batch's label."""
        head = re.compile(rf"{re.escape(joined)}: line (\d+)")
        found = head.match(str(error))
        message = str(error)
        if found:
            name, line = self.locate(int(found.group(1)))
            message = f"{name}: line {line}{message[found.end() :]}"
        problems = []
        for file, key, text in error.problems:
            numbered = re.fullmatch(r"line (\d+)", key)
            if file == joined and numbered:
                file, line = self.locate(int(numbered.group(1)))
                key, text = f"line {line}", re.sub(rf"^{key}\b", f"line {line}", text)
            problems.append((self.label if file == joined else file, key, text))
        return ConfigError(message.replace(joined, self.label), problems)


def join_logs(files: Sequence[Path], dest: Path, label: str) -> JoinedLogs:
    """Write the prediction logs ``files`` one after another into ``dest``: one batch.

    Each log is copied as it is (decompressed when it ends in ``.gz``), in the order
    given; a last line without its newline gets one, and an interrupted last line is left
    out, as when the log is read alone. So ``dest`` holds what ``cat`` of the logs would
    (for logs a server closed cleanly: byte for byte), and the same rows in the same order.
    An empty log (a replica that served nothing yet) adds nothing.

    The logs must have served the same model version(s): a log of another version on the
    same volume (pods of an earlier rollout) is refused, naming both logs. A replica
    serves one version all its life (a new version is a rollout: new pods, new logs), so
    a log's version is read from its first and last lines that answered a request
    (``role`` stable, or none; a canary's or shadow's lines name the candidate on
    purpose). Every line is checked when ``dest`` is read, each as the version checked
    wants (:func:`read_jsonl`); :meth:`JoinedLogs.renamed` names the log and its line.
    """
    parts: list[tuple[str, int]] = []
    served: tuple[str, frozenset[str]] | None = None  # the first log naming versions
    lines = 0
    with dest.open("wb") as out:
        for file in files:
            name = str(file)
            try:
                raw = file.read_bytes()
                text = (gzip.decompress(raw) if file.suffix.lower() == ".gz" else raw).decode()
            except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
                unreadable(name, exc)
            text = _without_torn_tail(text, name)
            if not text:
                continue
            if not text.endswith("\n"):
                text += "\n"
            count = text.count("\n")
            versions = frozenset(
                version
                for version in (
                    _answering_version(_lines_forward(text), name),
                    _answering_version(_lines_backward(text, count), name),
                )
                if version is not None
            )
            if versions and served is None:
                served = (name, versions)
            elif versions and served is not None and versions != served[1]:
                _mixed_versions(label, served, (name, versions))
            parts.append((name, lines))
            lines += count
            out.write(text.encode())
    if not parts:
        message = "no rows (every prediction log is empty)"
        raise ConfigError(f"{label}: {message}", [(label, "", message)])
    return JoinedLogs(label, tuple(parts))


def _lines_forward(text: str) -> Iterator[tuple[int, str]]:
    """The lines of ``text`` (which ends in a newline) with their numbers, first to last."""
    start, number = 0, 1
    while start < len(text):
        end = text.index("\n", start)
        yield number, text[start:end]
        start, number = end + 1, number + 1


def _lines_backward(text: str, count: int) -> Iterator[tuple[int, str]]:
    """The ``count`` lines of ``text`` (which ends in a newline), last to first."""
    end = len(text) - 1
    for number in range(count, 0, -1):
        start = text.rfind("\n", 0, end) + 1
        yield number, text[start:end]
        end = start - 1


def _answering_version(lines: Iterator[tuple[int, str]], name: str) -> str | None:
    """``model@version`` of the first of ``lines`` that answered a request (None when it
    names neither, or there is none); a line that is no prediction log's on the way is a
    ConfigError naming ``name`` and the line."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            _line_error(name, number, f"not valid JSON: {exc}")
        if not isinstance(entry, dict) or not isinstance(entry.get("features"), dict):
            _line_error(name, number, "expected an object with a 'features' object")
        if entry.get("role") not in _ANSWERING_ROLES:
            continue
        model, version = entry.get("model"), entry.get("version")
        if (model, version) == (None, None):
            return None
        return f"{model or '(no model)'}@{version or '(no version)'}"
    return None


def _mixed_versions(
    label: str, first: tuple[str, frozenset[str]], other: tuple[str, frozenset[str]]
) -> NoReturn:
    (name, versions), (other_name, other_versions) = first, other
    message = (
        f"{name} logs predictions of {', '.join(sorted(versions))} but {other_name} of "
        f"{', '.join(sorted(other_versions))}: one drift check reads one version's logs "
        "(move the other version's logs aside, or pass a glob naming only its replicas' files)"
    )
    raise ConfigError(f"{label}: {message}", [(other_name, "", message)])
