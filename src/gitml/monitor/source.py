"""Where the scheduled drift check gets its batch: ``monitor.data`` in ``gitml.yaml``.

Three shapes (schema: ``gitml/schemas/gitml.schema.json``, ``monitor.data``)::

    monitor:
      data: live/batch.csv                     # a file in the workspace (= {path: ...})
      data: {dvc: live/batch.csv}              # DVC-tracked: an import (`dvc import`,
                                               #   `dvc import-url`) is updated from its
                                               #   source first (`dvc update`), any other
                                               #   tracked file checked out (pulled when
                                               #   missing)
      data: {command: "make-batch -o {output}", format: csv}
                                               # a command that writes the batch to {output}

Paths are relative to the repository root. A command runs in the repository root with
``{output}`` replaced by a fresh temporary file ``batch.<format>`` (default ``csv``); it
is split like a shell would split it but never run by one.

``--data`` (or a ``path``/``dvc`` setting) may also name **many prediction logs**, one
per server replica (``gitml serve --log 'DIR/predictions-{host}.jsonl'``):

* a directory: every ``*.jsonl``, ``*.jsonl.gz``, ``*.ndjson`` and ``*.ndjson.gz``
  directly in it, except feedback logs (``NAME.feedback.jsonl``, the labels the server
  writes beside its log) and hidden files; other files are not read;
* a glob (``'logs/predictions-*.jsonl'``, quoted so gitml expands it, not the shell),
  when no file has that very name: the prediction logs it matches, by the same rule.

They are read in name order (full path for a glob) as one batch
(:func:`~gitml.monitor.logset.join_logs`): their lines one after another in one
temporary JSONL file. That file is the batch the check reads, hashes (the batch sha256
``gitml drift --record`` keeps: the logs' decompressed bytes joined in name order, the
same digest as ``cat`` of them into one file) and saves (``--save-batch``).

A batch may carry a **recipe**: a file ``<batch>.recipe.json`` next to it, describing how
it was made (the example's generator writes its rows, seed and shift there).
``gitml drift --save-batch PATH`` copies the batch and its recipe (to ``PATH.recipe.json``)
so ``gitml retrain --data PATH`` adds exactly the bytes that were checked.
"""

from __future__ import annotations

import glob
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

RECIPE_SUFFIX = ".recipe.json"
FORMATS = ("csv", "parquet", "jsonl")
# What a directory or glob batch reads: prediction logs, as served or as shipped (gzip).
LOG_SUFFIXES = (".jsonl", ".ndjson")
_GLOB_CHARS = frozenset("*?[")
_LOGS = "prediction logs: *.jsonl, *.jsonl.gz, *.ndjson or *.ndjson.gz, not NAME.feedback.jsonl"


@dataclass(frozen=True)
class MonitorData:
    """The validated ``monitor.data`` setting: ``kind`` is path, dvc or command."""

    kind: str
    value: str
    format: str = "csv"

    @classmethod
    def from_document(cls, raw: Any) -> MonitorData | None:
        """Build from the (schema-validated) YAML value; None when unset."""
        if raw is None:
            return None
        if isinstance(raw, str):
            return cls("path", raw)
        for kind in ("path", "dvc", "command"):
            if kind in raw:
                return cls(kind, raw[kind], raw.get("format", "csv"))
        raise ConfigError("gitml.yaml: monitor.data: expected a path, {dvc: ...} or {command: ...}")

    def describe(self) -> str:
        """A short human description, e.g. ``command `make-batch -o {output}```."""
        return {"path": "file", "dvc": "DVC-tracked file", "command": "command"}[
            self.kind
        ] + f" {self.value}"


def recipe_of(batch: Path) -> Path:
    """The recipe file that travels with ``batch`` (it may not exist)."""
    return batch.with_name(batch.name + RECIPE_SUFFIX)


def is_log_name(name: str) -> bool:
    """Whether a directory or glob batch reads the file ``name`` (see the module docstring).

    Feedback logs are told apart by the name ``gitml serve`` gives them
    (:func:`gitml.serve.prediction_log.feedback_path`): ``.feedback`` before the suffix.
    """
    lower = name.lower()
    base = lower.removesuffix(".gz")
    stem, _, suffix = base.rpartition(".")
    return (
        not lower.startswith(".")
        and bool(stem)
        and f".{suffix}" in LOG_SUFFIXES
        and not stem.endswith(".feedback")
    )


def log_files(data: str, base: Path | None = None) -> list[Path] | None:
    """The prediction logs the directory or glob ``data`` names (relative to ``base``,
    else to the working directory), in name order; None when ``data`` is no directory and
    no glob (a file, or a name that does not exist: the reader says so)."""
    path = Path(data) if base is None else base / data
    if path.is_dir():
        entries = sorted(path.iterdir(), key=lambda entry: entry.name)
        if not entries:
            raise ConfigError(f"{data}: empty directory", [(data, "", "empty directory")])
        found = [entry for entry in entries if entry.is_file() and is_log_name(entry.name)]
        where = "in the directory"
    elif path.exists() or not _GLOB_CHARS.intersection(data):
        return None
    else:
        pattern = data if base is None else os.path.join(glob.escape(str(base)), data)
        matches = sorted((Path(match) for match in glob.glob(pattern)), key=str)
        found = [match for match in matches if match.is_file() and is_log_name(match.name)]
        where = "matches the glob"
    if not found:
        message = f"no prediction log {where} (expected {_LOGS})"
        raise ConfigError(f"{data}: {message}", [(data, "", message)])
    return found


@contextmanager
def _one_file(data: str, base: Path | None = None) -> Iterator[Path]:
    """``data`` as one batch file: itself, or the prediction logs it names joined into a
    temporary file (errors reading that file told in the logs' terms)."""
    files = log_files(data, base)
    if files is None:
        yield Path(data) if base is None else base / data
        return
    import tempfile

    from gitml.monitor.logset import join_logs

    with tempfile.TemporaryDirectory(prefix="gitml-batch-") as tmp:
        joined_path = Path(tmp) / "logs.jsonl"
        joined = join_logs(files, joined_path, data)
        try:
            yield joined_path
        except ConfigError as exc:
            named = str(joined_path)
            if named in str(exc) or any(file == named for file, _, _ in exc.problems):
                raise joined.renamed(exc, named) from None
            raise


@contextmanager
def open_batch(root: Path, data: str | None, setting: MonitorData | None) -> Iterator[Path]:
    """The batch file to check: ``data`` if given, else ``setting`` made concrete.

    A directory or glob of prediction logs becomes one file (see the module docstring).
    A command's output, and joined logs, live in a temporary directory removed on exit.
    """
    if data:
        with _one_file(data) as path:
            yield path
        return
    if setting is None:
        raise ConfigError("no data: pass --data FILE or set monitor.data in gitml.yaml")
    if setting.kind == "path":
        with _one_file(setting.value, root) as path:
            yield path
        return
    # Fetching a batch (DVC, a configured command, a temporary directory) is gitml drift's
    # business alone: every command that reads gitml.yaml imports this module for
    # MonitorData, and loads none of that.
    if setting.kind == "dvc":
        from gitml.dvcio.workspace import refresh

        refresh(root, setting.value)
        with _one_file(setting.value, root) as path:
            yield path
        return
    import tempfile

    from gitml.hooks import run_command

    with tempfile.TemporaryDirectory(prefix="gitml-batch-") as tmp:
        output = Path(tmp) / f"batch.{setting.format}"
        run_command(setting.value, {"output": str(output)}, root, "monitor.data.command")
        if not output.is_file():
            raise ConfigError(
                f"gitml.yaml: monitor.data.command: {setting.value!r} did not write {{output}}"
            )
        yield output


def save_batch(batch: Path, dest: Path) -> list[Path]:
    """Copy ``batch`` (and its recipe, if any) to ``dest``; return the files written."""
    import shutil  # as in open_batch: gitml.yaml's readers need none of this

    written = []
    for source, target in ((batch, dest), (recipe_of(batch), recipe_of(dest))):
        if source == batch or source.is_file():
            if source.resolve() != target.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                # Through a temp file and a rename: a reader never sees half a batch.
                tmp = target.with_name(f".{target.name}.tmp")
                shutil.copyfile(source, tmp)
                tmp.replace(target)
            written.append(target)
    return written
