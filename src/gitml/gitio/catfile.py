"""One ``git cat-file --batch`` process serving every object a query needs.

Reading a report or the registry never spawns a process per file or per revision: the
objects are requested through this long-lived pipe, one line in, one object out.
"""

from __future__ import annotations

import subprocess  # noqa: TID251 - gitio is the one place that runs git
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gitml.errors import GitError

if TYPE_CHECKING:
    from types import TracebackType


class CatFile:
    """A ``git cat-file --batch`` process; use as a context manager or call :meth:`close`."""

    def __init__(self, repo: Path | str):
        self._repo = Path(repo)
        self._process: subprocess.Popen[bytes] | None = None

    def _pipe(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._process is None:
            try:
                self._process = subprocess.Popen(
                    ["git", "cat-file", "--batch"],
                    cwd=self._repo,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as exc:
                raise GitError(f"cannot run git in {self._repo}: {exc}") from None
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        return self._process.stdin, self._process.stdout

    def read(self, spec: str) -> bytes | None:
        """The content of object ``spec`` (``REV:path``, a sha...), or None if it is missing."""
        if "\n" in spec:
            raise GitError(f"invalid object name {spec!r}")
        stdin, stdout = self._pipe()
        try:
            stdin.write(spec.encode("utf-8") + b"\n")
            stdin.flush()
            header = stdout.readline()
        except BrokenPipeError:
            header = b""
        if not header:
            raise GitError(
                f"git cat-file stopped answering in {self._repo} (is it a git repository?)"
            )
        parts = header.split()
        if len(parts) == 2 and parts[1] in (b"missing", b"ambiguous"):
            return None
        if len(parts) != 3:
            raise GitError(f"unexpected answer from git cat-file for {spec!r}: {header!r}")
        size = int(parts[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after every object
        return data

    def read_text(self, spec: str) -> str | None:
        """Like :meth:`read`, decoded as UTF-8."""
        data = self.read(spec)
        return None if data is None else data.decode("utf-8", errors="replace")

    def close(self) -> None:
        """Stop the git process."""
        if self._process is not None:
            if self._process.stdin:
                self._process.stdin.close()
            self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None

    def __enter__(self) -> CatFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
