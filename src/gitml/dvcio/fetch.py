"""Getting the bytes of a DVC-tracked object by its md5, verified.

DVC stores every cached file, and every directory's manifest (``<md5>.dir``), as an object
named by its md5, in the local cache and in the remote alike. The local cache is tried
first (no DVC import); otherwise DVC's API opens the default remote, once per reader,
however many objects are read through it. Either way the bytes are checked against the
md5 that ``dvc.lock`` (or a directory manifest) records before anyone uses them.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.dvcio.workspace import quiet_dvc
from gitml.errors import ConfigError, DvcError, GitmlError, VerificationError

if TYPE_CHECKING:
    from types import TracebackType

MIB = 1024 * 1024
# A DVC 3 object id: the md5 of the content, plus ``.dir`` for a directory's manifest. The
# id becomes a path in the cache and the remote, so nothing else is accepted (a lock file
# or manifest from an untrusted branch must not steer reads elsewhere).
_OID = re.compile(r"[0-9a-f]{32}(\.dir)?")


def _refuse_if_over(
    size: int, md5: str, what: str, max_bytes: int | None, reason: str, source: str
) -> None:
    if max_bytes is not None and size > max_bytes:
        raise DvcError(
            f"{what} (md5 {md5}): larger than {max_bytes / MIB:g} MiB in {source}"
            f"{'; ' + reason if reason else ''}"
        )


def cache_path(root: Path, md5: str) -> Path:
    """Where DVC 3 keeps the object with this md5 in the repository's local cache."""
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class ObjectReader:
    """The objects of one DVC project by md5: local cache first, then the default remote.

    The remote (a DVC ``Repo``, hence the DVC import) is opened on the first object the
    local cache lacks and kept until :meth:`close`, so a directory's manifest and the file
    read through it cost one opening. Use as a context manager.
    """

    def __init__(self, root: Path | str, repo_url: str | None = None):
        self.root = Path(root)
        self.repo_url = repo_url
        self._stack = ExitStack()
        self._odb: Any = None

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the DVC repository if one was opened."""
        self._odb = None
        self._stack.close()

    def read(
        self, md5: str, what: str, max_bytes: int | None = None, limit_reason: str = ""
    ) -> bytes:
        """The bytes of object ``md5``, verified; ``what`` names it in errors
        (``eval/metrics.json at 1a2b3c``).

        ``max_bytes`` refuses a larger object (``limit_reason`` says why, in the error)
        without reading more than one byte past the limit.
        """
        if not _OID.fullmatch(md5):
            raise ConfigError(
                f"{what}: md5 {md5!r} is not a DVC object id "
                "(expected 32 lowercase hex digits, plus `.dir` for a directory)"
            )
        path = cache_path(self.root, md5)
        source = f"the local DVC cache ({path})"
        data: bytes | None = None
        try:
            # Refused before reading: what is too big to use is too big to load.
            _refuse_if_over(path.stat().st_size, md5, what, max_bytes, limit_reason, source)
            with path.open("rb") as handle:
                data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        except (FileNotFoundError, NotADirectoryError):
            pass  # not cached here: the remote has it, or nobody does
        except OSError as exc:
            raise DvcError(f"{what} (md5 {md5}): cannot read {source} ({_one_line(exc)})") from None
        if data is None:
            data, source = self._remote(md5, what, max_bytes)
        _refuse_if_over(len(data), md5, what, max_bytes, limit_reason, source)
        # A directory's manifest is named by the md5 of its own bytes plus ``.dir``: DVC
        # hashes exactly the bytes it stores, and checks its objects the same way.
        actual = _md5(data)
        if actual != md5.removesuffix(".dir"):
            raise VerificationError(
                f"{what}: content md5 {actual} differs from the recorded {md5} "
                f"(the object in {source} is corrupt or was altered)"
            )
        return data

    def _remote(self, md5: str, what: str, max_bytes: int | None) -> tuple[bytes, str]:
        """The object from the default remote of the checkout at ``root`` (or of
        ``repo_url``'s default branch).

        Objects are content-addressed, so the current remote configuration (and its
        credentials) serves any revision, even one committed before the remote was added.
        """
        prefix = f"{what} (md5 {md5}): not in the local DVC cache and"
        odb = self._remote_odb(prefix)
        location = odb.oid_to_path(md5)
        try:
            with quiet_dvc(), odb.fs.open(location, mode="rb") as handle:
                data: bytes = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        except FileNotFoundError:
            raise DvcError(
                f"{prefix} not in the DVC remote ({odb.path}); run `dvc push` where it was produced"
            ) from None
        except Exception as exc:  # each filesystem raises its own types: one message for all
            raise DvcError(
                f"{prefix} cannot be fetched from the DVC remote ({_one_line(exc)}); "
                "check the remote and your credentials"
            ) from None
        return data, f"the DVC remote ({location})"

    def _remote_odb(self, prefix: str) -> Any:
        if self._odb is None:
            try:
                from dvc.repo import Repo

                with quiet_dvc():
                    repo = Repo.open(self.repo_url) if self.repo_url else Repo(str(self.root))
                    self._stack.enter_context(repo)
                    self._odb = repo.cloud.get_remote_odb(None, "fetch")
            except GitmlError:
                raise
            except Exception as exc:  # DVC raises many unrelated types; one message for all
                if type(exc).__name__ == "NoRemoteError":
                    hint = "add one with `dvc remote add -d NAME URL`"
                else:
                    hint = "check the remote and your credentials"
                raise DvcError(f"{prefix} cannot be fetched ({_one_line(exc)}); {hint}") from None
        return self._odb


def read_output(
    root: Path | str, path: str, rev: str | None, md5: str, repo_url: str | None = None
) -> bytes:
    """The bytes of ``path`` as recorded at ``rev`` (md5 ``md5``), verified.

    ``repo_url`` makes DVC read another repository (e.g. a ``--repo`` URL) instead.
    """
    with ObjectReader(root, repo_url) as objects:
        return objects.read(md5, f"{path} at {rev or 'workspace'}")
