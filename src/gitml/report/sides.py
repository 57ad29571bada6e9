"""The sides a report and a gate compare: each revision's files, read once per command.

A side is a :class:`~gitml.report.sources.Tree` (a commit or the workspace) with its
``gitml.yaml`` and ``dvc.lock`` parsed and every document it is asked for kept. A
:class:`SideReader` hands out one side per revision, git ones through one ``cat-file``,
so ``gitml report`` builds the diff and judges the gate from the same reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.config import CONFIG_FILE, Config, config_from_text
from gitml.documents import parse_text
from gitml.dvcio.lock import DVC_LOCK, Output, lock_outputs
from gitml.errors import ConfigError
from gitml.gitio.catfile import CatFile
from gitml.gitio.repo import GitRepo
from gitml.report.sources import CommitTree, WorkspaceTree

if TYPE_CHECKING:
    from types import TracebackType

    from gitml.report.sources import Tree


@dataclass
class SideFiles:
    """What one side holds: config, lock outputs and parsed documents, read once."""

    tree: Tree
    config: Config | None
    outputs: dict[str, Output]
    _documents: dict[str, Any] = field(default_factory=dict)

    def document(self, path: str, required: bool = False) -> Any:
        """The parsed YAML/JSON at ``path``; None if absent (an error if ``required``)."""
        if path not in self._documents:
            data = self.tree.read(path)
            if data is None:
                if required:
                    raise ConfigError(
                        f"{path}: missing in {self.tree.label} (run `dvc repro` first?)"
                    )
                self._documents[path] = None
            else:
                name = f"{path} at {self.tree.label}"
                self._documents[path] = parse_text(data.decode("utf-8", errors="replace"), name)
        return self._documents[path]

    def output_bytes(self, root: Path, path: str, md5: str) -> bytes:
        """The bytes of a DVC-tracked output as this side records them (``md5``), verified.

        On the workspace side the file itself serves when it still matches the record;
        otherwise (and on commit sides) the DVC cache or remote does.
        """
        from gitml.dvcio.fetch import read_output

        commit = self.tree.commit
        if commit is None:
            data = self.tree.read(path)
            if data is not None and hashlib.md5(data, usedforsecurity=False).hexdigest() == md5:
                return data
        return read_output(root, path, commit, md5)


def read_side(tree: Tree) -> SideFiles:
    """Read a side's ``gitml.yaml`` and ``dvc.lock`` (either may be absent on a base)."""
    config_data = tree.read(CONFIG_FILE)
    config = None
    if config_data is not None:
        config = config_from_text(config_data.decode("utf-8"), f"{CONFIG_FILE} at {tree.label}")
    lock = tree.read(DVC_LOCK)
    outputs = lock_outputs(
        lock.decode("utf-8") if lock is not None else None, f"{DVC_LOCK} at {tree.label}"
    )
    return SideFiles(tree, config, outputs)


class SideReader:
    """The sides of one repository for one command; use as a context manager.

    Each revision is resolved and read once however many parts of the command ask for
    it; every git side shares one ``git cat-file --batch`` process.
    """

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.repo = GitRepo(self.root)
        self._catfile = CatFile(self.root)
        self._commits: dict[str, str] = {}
        self._sides: dict[tuple[str | None, str], SideFiles] = {}

    def __enter__(self) -> SideReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._catfile.close()

    def resolve(self, rev: str) -> str:
        """The commit ``rev`` names."""
        if rev not in self._commits:
            self._commits[rev] = self.repo.resolve(rev)
        return self._commits[rev]

    def revision(self, rev: str | None) -> SideFiles:
        """The side at ``rev``, labelled ``rev``; the workspace when ``rev`` is None."""
        if rev is None:
            return self.workspace()
        return self.at_commit(self.resolve(rev), rev)

    def at_commit(self, commit: str, label: str) -> SideFiles:
        """The side at ``commit``, named ``label`` in messages."""
        key = (commit, label)
        if key not in self._sides:
            self._sides[key] = read_side(CommitTree(self.repo, self._catfile, commit, label))
        return self._sides[key]

    def workspace(self) -> SideFiles:
        """The working tree's side (after ``dvc repro``)."""
        key = (None, WorkspaceTree.label)
        if key not in self._sides:
            self._sides[key] = read_side(WorkspaceTree(self.root, self.repo))
        return self._sides[key]
