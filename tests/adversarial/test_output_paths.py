"""Writes never clobber: a command's ``-o`` is written only to a new file in an existing
folder, or (with ``--force``) over a regular file; links, FIFOs, directories and devices
are refused with one line and exit 2, and nothing on disk changes."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from typing import TYPE_CHECKING

import pytest

from gitml import fsutil
from gitml.errors import EXIT_OK, EXIT_USAGE, GitmlError, UsageError
from gitml.fsutil import check_output_path, write_output
from tests.helpers import BIN_DIR, gitml

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# Each command with -o, with arguments it refuses on before doing any work: the output
# path is checked first, so the repository (a folder that does not exist) is never read.
COMMANDS = {
    "get": ["get", "credit@v0.1.0", "--root", "no-repo"],
    "report": ["report", "--base", "main", "--root", "no-repo"],
    "drift": ["drift", "credit@production", "--root", "no-repo"],
}


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A timeout: a regression that opened a FIFO for writing would block forever.
    return subprocess.run(
        [str(BIN_DIR / "gitml"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every entry under ``folder`` (links not followed): its type bits and content."""
    state = {}
    for path in sorted(folder.rglob("*")):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            content = "-> " + os.readlink(path)
        elif stat.S_ISREG(info.st_mode):
            content = path.read_text()
        else:
            content = ""
        state[str(path.relative_to(folder))] = (stat.S_IFMT(info.st_mode), content)
    return state


def _symlink_to_file(folder: Path) -> tuple[str, str]:
    (folder / "real.txt").write_text("keep me\n")
    os.symlink("real.txt", folder / "out")
    return "out", "is a symbolic link"


def _symlink_to_dev_null(folder: Path) -> tuple[str, str]:
    os.symlink(os.devnull, folder / "out")
    return "out", "is a symbolic link"


def _dangling_symlink(folder: Path) -> tuple[str, str]:
    os.symlink(folder / "elsewhere.txt", folder / "out")
    return "out", "is a symbolic link"


def _fifo(folder: Path) -> tuple[str, str]:
    os.mkfifo(folder / "out")
    return "out", "is a FIFO (named pipe)"


def _directory(folder: Path) -> tuple[str, str]:
    (folder / "out").mkdir()
    (folder / "out" / "inside.txt").write_text("keep me\n")
    return "out", "is a directory"


def _missing_folder(folder: Path) -> tuple[str, str]:
    return "missing/out", "folder missing does not exist"


REFUSED_WHATEVER_THE_FLAG: dict[str, Callable[[Path], tuple[str, str]]] = {
    "symlink-to-file": _symlink_to_file,
    "symlink-to-dev-null": _symlink_to_dev_null,
    "dangling-symlink": _dangling_symlink,
    "fifo": _fifo,
    "directory": _directory,
    "missing-folder": _missing_folder,
}


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize("kind", list(REFUSED_WHATEVER_THE_FLAG))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, command: str, kind: str, force: bool
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    name, expected = REFUSED_WHATEVER_THE_FLAG[kind](folder)
    before = _snapshot(folder)
    shown = _run(folder, *COMMANDS[command], "-o", name, *(["--force"] if force else []))
    assert shown.returncode == EXIT_USAGE, shown.stderr
    assert shown.stderr.startswith(f"gitml: error: {name}: {expected}"), shown.stderr
    assert shown.stderr.count("\n") == 1
    assert shown.stdout == ""
    assert _snapshot(folder) == before  # no byte changed, no temporary file left


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_existing_file_is_refused_without_force(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "out.md").write_text("keep me\n")
    before = _snapshot(folder)
    shown = _run(folder, *COMMANDS[command], "-o", "out.md")
    assert shown.returncode == EXIT_USAGE
    assert shown.stderr == "gitml: error: out.md: already exists (pass --force to replace it)\n"
    assert _snapshot(folder) == before
    # With --force the output check passes; the command then fails on its missing repository.
    forced = _run(folder, *COMMANDS[command], "-o", "out.md", "--force")
    assert forced.returncode != EXIT_OK
    assert "already exists" not in forced.stderr
    assert _snapshot(folder) == before  # nothing written when the command fails


def test_get_writes_and_replaces_through_the_real_cli(repo: Path, tmp_path: Path) -> None:
    model = (repo / "models" / "credit.skops").read_bytes()
    out = tmp_path / "model.skops"
    assert gitml(repo, "get", "credit@HEAD", "-o", str(out)).returncode == EXIT_OK
    assert out.read_bytes() == model
    out.write_bytes(b"an older model")
    refused = gitml(repo, "get", "credit@HEAD", "-o", str(out), check=False)
    assert refused.returncode == EXIT_USAGE
    assert out.read_bytes() == b"an older model"
    gitml(repo, "get", "credit@HEAD", "-o", str(out), "--force")
    assert out.read_bytes() == model
    # A link to a regular file is refused even with --force: neither it nor its target moves.
    link = tmp_path / "link.skops"
    os.symlink(out, link)
    refused = gitml(repo, "get", "credit@HEAD", "-o", str(link), "--force", check=False)
    assert refused.returncode == EXIT_USAGE
    assert link.is_symlink()
    assert os.readlink(link) == str(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_report_replaces_a_regular_file_with_force(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    out.write_text("last week's report\n")
    refused = gitml(repo, "report", "--base", "HEAD", "-o", str(out), check=False)
    assert refused.returncode == EXIT_USAGE
    assert out.read_text() == "last week's report\n"
    gitml(repo, "report", "--base", "HEAD", "-o", str(out), "--force")
    assert "credit" in out.read_text()


def test_export_refuses_a_symlink_even_to_an_empty_directory(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    os.symlink(empty, tmp_path / "out")
    shown = _run(tmp_path, "export", "credit@v0.1.0", "-o", "out", "--root", "no-repo")
    assert shown.returncode == 1
    assert shown.stderr.startswith("gitml: error: out: is a symbolic link")
    assert (tmp_path / "out").is_symlink()
    assert list(empty.iterdir()) == []


# The writer itself.


def test_a_new_output_gets_the_usual_permissions_and_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    out = folder / "new.txt"
    write_output(out, "hello\n", force=False)
    assert out.read_text() == "hello\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert out.stat().st_nlink == 1
    assert [p.name for p in folder.iterdir()] == ["new.txt"]


def test_a_file_appearing_while_writing_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check passed, then something appeared at the path before the write: without
    --force it is kept (the hard link refuses), not renamed over."""
    folder = tmp_path / "work"
    folder.mkdir()
    out = folder / "out.txt"
    write_temporary = fsutil._temporary_copy

    def then_a_link_appears(path: Path, data: bytes, mode: int | None) -> str:
        tmp = write_temporary(path, data, mode)
        os.symlink(os.devnull, out)
        return tmp

    monkeypatch.setattr(fsutil, "_temporary_copy", then_a_link_appears)
    with pytest.raises(UsageError, match=r"out.txt: is a symbolic link"):
        write_output(out, b"data", force=False)
    assert out.is_symlink()
    assert [p.name for p in folder.iterdir()] == ["out.txt"]


def test_with_force_a_link_appearing_while_writing_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    out = folder / "out.txt"
    out.write_text("old\n")
    write_temporary = fsutil._temporary_copy

    def then_swapped_for_a_fifo(path: Path, data: bytes, mode: int | None) -> str:
        tmp = write_temporary(path, data, mode)
        out.unlink()
        os.mkfifo(out)
        return tmp

    monkeypatch.setattr(fsutil, "_temporary_copy", then_swapped_for_a_fifo)
    with pytest.raises(UsageError, match=r"is a FIFO"):
        write_output(out, b"data", force=True)
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert [p.name for p in folder.iterdir()] == ["out.txt"]


def test_a_write_that_fails_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Path, data: bytes, mode: int | None) -> str:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil, "_temporary_copy", disk_full)
    with pytest.raises(GitmlError, match=r"^\S*out.txt: cannot write: No space left on device$"):
        write_output(tmp_path / "out.txt", b"data", force=False)
    assert not (tmp_path / "out.txt").exists()


def test_a_path_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match=r"is not a folder"):
        check_output_path(tmp_path / "file" / "out.txt", force=True)
