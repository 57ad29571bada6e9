"""The user's gitml cache, ``$XDG_CACHE_HOME/gitml`` (default ``~/.cache/gitml``).

Everything in it is derived data, keyed by a digest of what it was computed from: an
entry is either exactly right or never found, and deleting the directory only costs
speed. ``GITML_NO_CACHE=1`` turns every such cache off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

NO_CACHE_VARIABLE = "GITML_NO_CACHE"


def enabled() -> bool:
    """Whether caches are on (``GITML_NO_CACHE`` unset, empty or ``0``)."""
    return os.environ.get(NO_CACHE_VARIABLE, "") in ("", "0")


def cache_dir(kind: str) -> Path:
    """``$XDG_CACHE_HOME/gitml/KIND`` (default ``~/.cache/gitml/KIND``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitml" / kind


def digest(data: bytes | str) -> str:
    """A short hex digest (BLAKE2b, 160 bits) of ``data``."""
    try:
        # The builtin module: hashlib's import loads OpenSSL, a cost on every query.
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - CPython always has it
        from hashlib import blake2b
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return blake2b(data, digest_size=20).hexdigest()


def read_json(path: Path) -> Any:
    """The JSON document at ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def write_json(path: Path, document: Any) -> None:
    """Write ``document`` atomically (temp file, then rename); failures are ignored."""
    try:
        data = json.dumps(document, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):
        return
    write_bytes(path, data)


def read_bytes(path: Path) -> bytes | None:
    """The bytes at ``path``, or None when it is missing or unreadable."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (temp file, then rename); failures are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # readers see the whole entry or none
    except OSError:
        pass  # a cache only costs speed
