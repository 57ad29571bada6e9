"""Registry answers remembered between queries, exact by construction.

A read query's answer is a function of four things only: the repository's refs, its
``gitml.yaml``, the reading options (``--local``, the remote) and gitml's own code. The
refs are identified by git's ref files (:mod:`gitml.gitio.ref_store`), or
where those cannot be read directly by ``git show-ref``'s listing of names and object ids;
git objects are immutable, so equal refs mean equal tags, tag messages, branch tips and
files at those commits. The memo key digests all four, and an entry is used only when
its key matches: a new tag, a moved branch, an edited config or changed code recomputes
the answer. Asking "what is in production?" again then costs a ``stat`` of packed-refs,
reading the loose ref files and two small files, however many versions the registry
holds.

One entry per repository and query, overwritten on change, so the cache stays small.
Entries are marshal files (see :func:`gitml.usercache.read_marshal`).
"""

from __future__ import annotations

import os

from gitml import usercache
from gitml.files import CONFIG_FILE
from gitml.gitio.ref_store import ref_fingerprint

# Not typing.TYPE_CHECKING, and os.path rather than pathlib: a replayed query
# (gitml.cli.replay) keys its answer here and imports neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    StrPath = str | os.PathLike[str]

# Bump when the shape of a remembered answer changes.
_FORMAT = "registry-memo/2"
_KIND = "registry"


_code_stamp: str | None = None


def code_stamp() -> str:
    """Size and modification time of the modules that compute registry answers.

    Keeps a memo from outliving the code that wrote it (an upgrade, or an edit in a
    development checkout), for a few ``stat`` calls. Read once per process: the code a
    process runs is the code it loaded, whatever happens to the files afterwards.
    """
    global _code_stamp
    if _code_stamp is None:
        _code_stamp = _read_code_stamp()
    return _code_stamp


def _read_code_stamp() -> str:
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    parts = []
    # The packages an answer is computed by (report/ for show's flattened metrics), and
    # cli/ for the printed answers gitml.cli.replay remembers.
    for name in ("", "registry", "gitio", "dvcio", "report", "cli"):
        folder = os.path.join(package, name)
        label = name or os.path.basename(package)
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".py"):
                        stat = entry.stat()
                        parts.append(f"{label}/{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            continue
    return "\n".join(sorted(parts))


class QueryMemo:
    """Remembered answers for the repository at ``root`` in the state ``key`` identifies."""

    def __init__(
        self,
        root: StrPath,
        key: str,
        refs: bytes,
        listing: bytes | None = None,
        config_text: bytes | None = None,
    ):
        self._root = os.path.realpath(root)
        self._key = key
        self.refs = refs  # what identified the refs: their fingerprint, or a listing
        self.listing = listing  # the ``git show-ref`` listing, when that identified them
        self.config_text = config_text  # the gitml.yaml bytes of the key (None: none)

    @classmethod
    def for_state(
        cls,
        root: StrPath,
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
        return cls(root, key, refs, refs if listing else None, config_text)

    @classmethod
    def from_files(cls, root: StrPath, options: str) -> QueryMemo | None:
        """A memo keyed by what git's ref files and ``gitml.yaml`` at ``root`` hold now,
        read without running git.

        None when caching is off, or when the refs cannot be read from their files (see
        :func:`gitml.gitio.ref_store.ref_fingerprint`) or the working tree has no
        ``gitml.yaml``: the caller then asks git (:class:`gitml.registry.reader.RegistryReader`).
        """
        if not usercache.enabled():
            return None
        state = _files_state(root)
        if state is None:
            return None
        refs, config_text = state
        return cls.for_state(root, refs, config_text, options)

    def files_unchanged(self, root: StrPath) -> bool:
        """Whether the ref files and ``gitml.yaml`` at ``root`` still hold what this key was
        made of (the code is the process's own, so it cannot have changed)."""
        return self.listing is None and _files_state(root) == (self.refs, self.config_text)

    def _file(self, query: str) -> str:
        name = usercache.digest(self._root + "\0" + query)
        return usercache.cache_path(_KIND, f"{name}.marshal")

    def get(self, query: str) -> Any:
        """The remembered answer to ``query`` in this state, or None."""
        entry = usercache.read_marshal(self._file(query), _FORMAT)
        if type(entry) is tuple and len(entry) == 2 and entry[0] == self._key:
            return entry[1]
        return None

    def put(self, query: str, answer: Any) -> None:
        """Remember ``answer`` (plain data: lists, dicts, strings, numbers) to ``query``."""
        usercache.write_marshal(self._file(query), _FORMAT, (self._key, answer))


def _files_state(root: StrPath) -> tuple[bytes, bytes] | None:
    """The ref fingerprint (:func:`~gitml.gitio.ref_store.ref_fingerprint`) and the bytes of
    ``gitml.yaml`` at ``root``, or None when either cannot be read directly."""
    try:
        with open(os.path.join(root, CONFIG_FILE), "rb") as config_file:
            config_text = config_file.read()
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None
    refs = ref_fingerprint(root)
    return None if refs is None else (refs, config_text)
