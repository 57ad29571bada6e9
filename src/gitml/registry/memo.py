"""Registry answers remembered between queries, exact by construction.

A read query's answer is a function of four things only: the repository's refs, its
``gitml.yaml``, the reading options (``--local``, the remote) and gitml's own code. The
refs are identified by the bytes of git's ref files (:mod:`gitml.gitio.ref_store`), or
where those cannot be read directly by ``git show-ref``'s listing of names and object ids;
git objects are immutable, so equal refs mean equal tags, tag messages, branch tips and
files at those commits. The memo key digests all four, and an entry is used only when
its key matches: a new tag, a moved branch, an edited config or changed code recomputes
the answer. Asking "what is in production?" again then costs reading the ref files and
one small file, however many versions the registry holds.

One entry per repository and query, overwritten on change, so the cache stays small.
Entries are marshal files (see :func:`gitml.usercache.read_marshal`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitml import usercache

# Bump when the shape of a remembered answer changes.
_FORMAT = "registry-memo/2"
_KIND = "registry"


def code_stamp() -> str:
    """Size and modification time of the modules that compute registry answers.

    Keeps a memo from outliving the code that wrote it (an upgrade, or an edit in a
    development checkout), for a few ``stat`` calls.
    """
    package = Path(__file__).resolve().parents[1]
    parts = []
    # The packages an answer is computed by (report/ for show's flattened metrics).
    folders = ("", "registry", "gitio", "dvcio", "report")
    for folder in (package / name for name in folders):
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".py"):
                        stat = entry.stat()
                        parts.append(
                            f"{folder.name}/{entry.name}:{stat.st_size}:{stat.st_mtime_ns}"
                        )
        except OSError:
            continue
    return "\n".join(sorted(parts))


class QueryMemo:
    """Remembered answers for the repository at ``root`` in the state ``key`` identifies."""

    def __init__(self, root: Path, key: str, refs: bytes, listing: bytes | None = None):
        self._root = str(root.resolve())
        self._key = key
        self.refs = refs  # what identified the refs: ref files' bytes or a listing
        self.listing = listing  # the ``git show-ref`` listing, when that identified them

    @classmethod
    def for_state(
        cls,
        root: Path,
        refs: bytes,
        config_text: bytes | None,
        options: str,
        *,
        listing: bool = False,
    ) -> QueryMemo | None:
        """A memo keyed by the ``refs`` identity, the config's bytes and the read options.

        ``listing`` says ``refs`` is a ``git show-ref`` listing (else ref files' bytes).
        None when caches are turned off (``GITML_NO_CACHE``).
        """
        if not usercache.enabled():
            return None
        config_part = b"-" if config_text is None else usercache.digest(config_text).encode()
        key = usercache.digest(
            b"\0".join(
                (
                    _FORMAT.encode(),
                    code_stamp().encode(),
                    options.encode(),
                    config_part,
                    b"listing" if listing else b"files",
                    refs,
                )
            )
        )
        return cls(root, key, refs, refs if listing else None)

    def _file(self, query: str) -> Path:
        name = usercache.digest(self._root + "\0" + query)
        return usercache.cache_dir(_KIND) / f"{name}.marshal"

    def get(self, query: str) -> Any:
        """The remembered answer to ``query`` in this state, or None."""
        entry = usercache.read_marshal(self._file(query), _FORMAT)
        if type(entry) is tuple and len(entry) == 2 and entry[0] == self._key:
            return entry[1]
        return None

    def put(self, query: str, answer: Any) -> None:
        """Remember ``answer`` (plain data: lists, dicts, strings, numbers) to ``query``."""
        usercache.write_marshal(self._file(query), _FORMAT, (self._key, answer))
