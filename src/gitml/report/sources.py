"""Where a report side's files come from: a git commit (through one cat-file) or the workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.gitio import CatFile, GitRepo


class Tree(Protocol):
    """Read-only access to the files of one side of a report."""

    label: str

    @property
    def commit(self) -> str | None:
        """The commit this side is, or None for the uncommitted workspace."""
        ...

    def read(self, path: str) -> bytes | None:
        """The bytes at ``path``, or None when it does not exist on this side."""
        ...

    def dvc_files(self) -> list[str]:
        """Paths of the ``.dvc`` pointer files on this side."""
        ...


class CommitTree:
    """The files of one commit, read through a shared ``git cat-file --batch``."""

    def __init__(self, repo: GitRepo, catfile: CatFile, commit: str, label: str):
        self._repo = repo
        self._catfile = catfile
        self.commit = commit
        self.label = label

    def read(self, path: str) -> bytes | None:
        """The blob at ``commit:path``."""
        return self._catfile.read(f"{self.commit}:{path}")

    def dvc_files(self) -> list[str]:
        """``*.dvc`` files in the commit's tree (one ``git ls-tree``)."""
        listing = self._repo.run("ls-tree", "-r", "--name-only", "-z", self.commit).stdout
        return sorted(p for p in listing.split("\0") if p.endswith(".dvc"))


class WorkspaceTree:
    """The files of the working tree (after ``dvc repro``)."""

    label = "workspace"
    commit = None

    def __init__(self, root: Path, repo: GitRepo | None = None):
        self._root = root
        self._repo = repo

    def read(self, path: str) -> bytes | None:
        """The file at ``root/path``."""
        try:
            return (self._root / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def dvc_files(self) -> list[str]:
        """``*.dvc`` files in the working tree, tracked or new, as git sees them (one
        ``git ls-files``, which skips ignored folders such as virtualenvs)."""
        if self._repo is not None:
            listing = self._repo.run(
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
                "*.dvc",
                ":(glob)**/*.dvc",
            ).stdout
            return sorted({p for p in listing.split("\0") if p.endswith(".dvc")})
        found = []
        for path in self._root.rglob("*.dvc"):
            relative = path.relative_to(self._root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts[:-1]):
                found.append(relative.as_posix())
        return sorted(found)
