"""Writing files so that a failure never leaves one half-written, and a user-named
output (``-o``) never replaces anything but a regular file."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from gitml.errors import GitmlError, UsageError


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the new one, never a part; after a crash the data and
    the rename are on disk (both are fsynced). ``mode`` is the new file's permissions;
    by default those a plain ``open()`` would give (0o666 less the umask). Missing parent
    folders are created. Raises OSError, leaving no temporary file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_copy(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a stray temporary file behind.
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _temporary_copy(path: Path, data: bytes, mode: int | None) -> str:
    """``data`` in a new, fsynced temporary file beside ``path``; its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)  # mkstemp creates 0o600
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_output_path(path: Path, *, force: bool) -> None:
    """Refuse an output path a command was given (``-o``) unless writing it is safe.

    Safe is: nothing there yet, in an existing folder; or, with ``force``, a regular file
    to replace. Anything else that exists is refused, whatever ``force`` says: a symbolic
    link (even to a regular file: the link is never followed, nor replaced), a directory,
    a FIFO, a device or a socket. Raises :class:`~gitml.errors.UsageError` (exit 2) with
    one line saying what is there and what to do.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        _check_folder(path)
        return
    except NotADirectoryError:
        raise UsageError(f"{path}: {path.parent} is not a folder") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot check the output path: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(
            f"{path}: is {_kind(info.st_mode)}; an output is written only to a new or a "
            "regular file (choose another path)"
        )
    if not force:
        raise UsageError(f"{path}: already exists (pass --force to replace it)")


def write_output(path: Path, data: bytes | str, *, force: bool) -> None:
    """Write a command's output file (``-o``) atomically, never clobbering.

    :func:`check_output_path` decides first; the bytes then go to a temporary file in
    the same folder. Without ``force`` the file is put in place with a hard link, which
    fails if anything appeared at ``path`` meanwhile (no check-then-write race); with it,
    the path is checked once more and the temporary file renamed over the regular file
    (a rename never writes through a link or into a device; swapping one in between the
    check and the rename needs write access to the folder).
    Failing to write is a one-line :class:`~gitml.errors.GitmlError`.
    """
    check_output_path(path, force=force)
    content = data.encode("utf-8") if isinstance(data, str) else data
    try:
        tmp = _temporary_copy(path, content, None)
    except OSError as exc:
        raise GitmlError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        _put_in_place(tmp, path, force=force)
    except OSError as exc:
        raise GitmlError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    _fsync_directory(path.parent)


def _put_in_place(tmp: str, path: Path, *, force: bool) -> None:
    if not force:
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            check_output_path(path, force=False)  # names what appeared there
            raise
        except OSError as exc:
            # A filesystem without hard links: check again, then rename.
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
    check_output_path(path, force=force)
    os.replace(tmp, path)


def _check_folder(path: Path) -> None:
    folder = path.parent
    if not folder.exists():
        raise UsageError(f"{path}: folder {folder} does not exist (create it first)")
    if not folder.is_dir():
        raise UsageError(f"{path}: {folder} is not a folder")


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _fsync_directory(directory: Path) -> None:
    """Persist the rename itself; best effort where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows: directories cannot be opened for fsync
    try:
        with contextlib.suppress(OSError):  # some filesystems refuse fsync on directories
            os.fsync(fd)
    finally:
        os.close(fd)
