"""Small, deterministic file writers shared by the pipeline stages (atomic, via gitml)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from gitml.fsutil import atomic_write_text as _atomic_write_text
from gitml.storage import file_md5

__all__ = ["atomic_write_text", "file_md5", "rounded", "write_json", "write_yaml"]


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file and a rename: never half-written."""
    _atomic_write_text(Path(path), text)


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
