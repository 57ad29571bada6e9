"""Small, deterministic file writers shared by the pipeline stages."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file and a rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rounded(value: Any, digits: int = 6) -> Any:
    """Round floats recursively to ``digits`` significant digits so files stay readable."""
    if isinstance(value, float):
        if not math.isfinite(value) or value == 0:
            return value
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item, digits) for item in value]
    return value


def write_json(path: Path | str, data: Any) -> None:
    """Write JSON with sorted keys and a trailing newline (byte-stable for equal data)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_yaml(path: Path | str, data: Any) -> None:
    """Write YAML with keys in insertion order (byte-stable for equal data)."""
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def file_md5(path: Path | str) -> str:
    """The md5 of a file's bytes: DVC's hash for a single file in ``dvc.lock``."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
