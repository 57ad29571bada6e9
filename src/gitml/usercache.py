"""The user's gitml cache, ``$XDG_CACHE_HOME/gitml`` (default ``~/.cache/gitml``).

Everything in it is derived data, keyed by a digest of what it was computed from: an
entry is either exactly right or never found, and deleting the directory only costs
speed. ``GITML_NO_CACHE=1`` turns every such cache off.
"""

from __future__ import annotations

import os
import sys
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
    import json  # here: the registry's caches are marshal files

    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def write_json(path: Path, document: Any) -> None:
    """Write ``document`` atomically (temp file, then rename); failures are ignored."""
    import json

    try:
        data = json.dumps(document, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):
        return
    write_bytes(path, data)


def read_marshal(path: Path, format_name: str) -> Any:
    """What :func:`write_marshal` wrote at ``path`` under ``format_name``, or None.

    marshal (Python's format for ``.pyc`` files) loads large caches several times faster
    than JSON. Its format may change between Python versions, so the interpreter that
    wrote a file is part of its header, and another one's file reads as missing.
    """
    import marshal

    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if type(stored) is tuple and len(stored) == 2 and stored[0] == _header(format_name):
        return stored[1]
    return None


def write_marshal(path: Path, format_name: str, payload: Any) -> None:
    """Write ``payload`` (plain data) atomically for :func:`read_marshal`; failures are ignored."""
    import marshal

    try:
        data = marshal.dumps((_header(format_name), payload))
    except ValueError:  # an object marshal cannot write: no entry
        return
    write_bytes(path, data)


def _header(format_name: str) -> str:
    return f"{format_name} {sys.implementation.cache_tag}"


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (temp file, then rename); failures are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # readers see the whole entry or none
    except OSError:
        pass  # a cache only costs speed
