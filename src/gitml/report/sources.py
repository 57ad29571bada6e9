"""Where a report side's files come from: a git commit (through one cat-file) or the workspace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gitml.errors import ConfigError

if TYPE_CHECKING:
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

    def files_under(self, directory: str) -> list[str]:
        """Paths of the files under ``directory`` on this side (none when it has none)."""
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

    def files_under(self, directory: str) -> list[str]:
        """The files git holds under ``directory`` in the commit (one ``git ls-tree``)."""
        listing = self._repo.run(
            "ls-tree", "-r", "--name-only", "-z", self.commit, "--", f"{directory}/"
        ).stdout
        return sorted(p for p in listing.split("\0") if p)


class WorkspaceTree:
    """The files of the working tree (after ``dvc repro``)."""

    label = "workspace"
    commit = None

    def __init__(self, root: Path, repo: GitRepo | None = None):
        self._root = root
        self._repo = repo

    def read(self, path: str) -> bytes | None:
        """The file at ``root/path``. A path that leads out of the repository (``..``, or
        a symbolic link a pull request committed) is refused: a report must never quote a
        file of the machine it runs on."""
        target = self._root / path
        try:
            inside = target.resolve().is_relative_to(self._root.resolve())
        except (OSError, RuntimeError):  # a symlink loop
            inside = False
        if not inside:
            raise ConfigError(
                f"{path}: leads out of the repository (`..` or a symbolic link): not read"
            )
        try:
            return target.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def files_under(self, directory: str) -> list[str]:
        """The regular files under ``root/directory`` (symbolic links are not followed:
        a link must not lead the report out of the repository)."""
        top = self._root / directory
        root = self._root.resolve()
        if top.is_symlink() or not top.is_dir() or not top.resolve().is_relative_to(root):
            return []
        found = []
        for folder, subfolders, names in os.walk(top):
            subfolders[:] = [d for d in subfolders if not (Path(folder) / d).is_symlink()]
            for name in names:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    found.append(path.relative_to(self._root).as_posix())
        return sorted(found)

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
