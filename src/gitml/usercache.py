"""The user's gitml cache, ``$XDG_CACHE_HOME/gitml`` (default ``~/.cache/gitml``).

Everything in it is derived data, keyed by a digest of what it was computed from: an
entry is either exactly right or never found, and deleting the directory only costs
speed. ``GITML_NO_CACHE=1`` turns every such cache off.
"""

from __future__ import annotations

import os
import sys

# Not ``typing.TYPE_CHECKING``: a replayed query (gitml.cli.replay) imports neither typing
# nor pathlib, about 8 ms of its start-up. Type checkers treat the name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    StrPath = str | os.PathLike[str]

NO_CACHE_VARIABLE = "GITML_NO_CACHE"


def enabled() -> bool:
    """Whether caches are on (``GITML_NO_CACHE`` unset, empty or ``0``)."""
    return os.environ.get(NO_CACHE_VARIABLE, "") in ("", "0")


def cache_dir(kind: str) -> Path:
    """``$XDG_CACHE_HOME/gitml/KIND`` (default ``~/.cache/gitml/KIND``)."""
    from pathlib import Path

    return Path(cache_path(kind))


def cache_path(kind: str, name: str = "") -> str:
    """``cache_dir(kind) / name`` as a string, without importing pathlib."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gitml", kind, name) if name else os.path.join(base, "gitml", kind)


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


def read_marshal(path: StrPath, format_name: str) -> Any:
    """What :func:`write_marshal` wrote at ``path`` under ``format_name``, or None.

    marshal (Python's format for ``.pyc`` files) loads large caches several times faster
    than JSON. Its format may change between Python versions, so the interpreter that
    wrote a file is part of its header, and another one's file reads as missing.
    """
    import marshal

    try:
        with open(path, "rb") as stored_file:
            stored = marshal.loads(stored_file.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if type(stored) is tuple and len(stored) == 2 and stored[0] == _header(format_name):
        return stored[1]
    return None


def write_marshal(path: StrPath, format_name: str, payload: Any) -> None:
    """Write ``payload`` (plain data) atomically for :func:`read_marshal`; failures are ignored."""
    import marshal

    try:
        data = marshal.dumps((_header(format_name), payload))
    except ValueError:  # an object marshal cannot write: no entry
        return
    write_bytes(path, data)


def _header(format_name: str) -> str:
    return f"{format_name} {sys.implementation.cache_tag}"


def write_bytes(path: StrPath, data: bytes) -> None:
    """Write ``data`` atomically (temp file, then rename); failures are ignored."""
    folder, name = os.path.split(os.fspath(path))
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temporary, "wb") as temporary_file:
            temporary_file.write(data)
        os.replace(temporary, path)  # readers see the whole entry or none
    except OSError:  # a cache only costs speed
        try:  # noqa: SIM105 - not contextlib.suppress: its import slows replayed queries
            os.unlink(temporary)
        except OSError:
            pass
