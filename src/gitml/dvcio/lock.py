"""Parsing ``dvc.lock`` and ``.dvc`` pointer files (plain YAML; no DVC import).

These give what the report and the registry need: the md5 of every stage output (the
model's content hash), which params each stage read, and what DVC-tracked data is.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from gitml.documents import parse_text
from gitml.errors import ConfigError

DVC_LOCK = "dvc.lock"


class Output(NamedTuple):
    """One DVC-tracked output or data pointer: path and content hash (md5 or .dir md5)."""

    path: str
    md5: str | None
    size: int | None = None
    nfiles: int | None = None
    stage: str | None = None

    @property
    def is_dir(self) -> bool:
        """Whether DVC tracks a directory here (its md5 ends with ``.dir``)."""
        return bool(self.md5 and self.md5.endswith(".dir"))


def _output(entry: Any, file: str, stage: str | None) -> Output:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise ConfigError(f"{file}: expected outs entries with a `path`, got {entry!r}")
    md5 = entry.get("md5")
    return Output(
        path=entry["path"],
        md5=str(md5) if md5 is not None else None,
        size=entry.get("size"),
        nfiles=entry.get("nfiles"),
        stage=stage,
    )


def lock_outputs(text: str | None, file: str = DVC_LOCK) -> dict[str, Output]:
    """Every output recorded in ``dvc.lock`` text, by path ({} when there is no lock)."""
    if text is None:
        return {}
    document = parse_text(text, file) or {}
    stages = document.get("stages") if isinstance(document, dict) else None
    if not isinstance(stages, dict):
        raise ConfigError(f"{file}: expected a `stages:` mapping (is it a DVC 2+ lock file?)")
    outputs: dict[str, Output] = {}
    for name, stage in stages.items():
        for entry in (stage or {}).get("outs") or []:
            out = _output(entry, file, str(name))
            outputs[out.path] = out
    return outputs


def pointer_outputs(text: str, file: str) -> list[Output]:
    """The outputs of a ``.dvc`` pointer file (``data.dvc``)."""
    document = parse_text(text, file) or {}
    outs = document.get("outs") if isinstance(document, dict) else None
    if not isinstance(outs, list):
        raise ConfigError(f"{file}: expected an `outs:` list")
    return [_output(entry, file, None) for entry in outs]
