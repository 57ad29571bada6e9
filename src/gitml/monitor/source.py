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

A batch may carry a **recipe**: a file ``<batch>.recipe.json`` next to it, describing how
it was made (the example's generator writes its rows, seed and shift there).
``gitml drift --save-batch PATH`` copies the batch and its recipe (to ``PATH.recipe.json``)
so ``gitml retrain --data PATH`` adds exactly the bytes that were checked.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

RECIPE_SUFFIX = ".recipe.json"
FORMATS = ("csv", "parquet", "jsonl")


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


@contextmanager
def open_batch(root: Path, data: str | None, setting: MonitorData | None) -> Iterator[Path]:
    """The batch file to check: ``data`` if given, else ``setting`` made concrete.

    A command's output lives in a temporary directory removed on exit.
    """
    if data:
        yield Path(data)
        return
    if setting is None:
        raise ConfigError("no data: pass --data FILE or set monitor.data in gitml.yaml")
    if setting.kind == "path":
        yield root / setting.value
        return
    # Fetching a batch (DVC, a configured command, a temporary directory) is gitml drift's
    # business alone: every command that reads gitml.yaml imports this module for
    # MonitorData, and loads none of that.
    if setting.kind == "dvc":
        from gitml.dvcio.workspace import refresh

        refresh(root, setting.value)
        yield root / setting.value
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
