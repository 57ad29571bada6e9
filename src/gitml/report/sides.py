"""The sides a report and a gate compare: each revision's files, read once per command.

A side is a :class:`~gitml.report.sources.Tree` (a commit or the workspace) with its
configuration (``gitml.yaml`` over ``dvc.yaml``, see :mod:`gitml.zero_config`) and
``dvc.lock`` parsed and every document it is asked for kept. A file git does not hold is
read through DVC when the side's ``dvc.lock`` tracks it (a cached metrics file, or one
inside a cached directory such as DVCLive's ``eval/``). A :class:`SideReader` hands out
one side per revision, git ones through one ``cat-file``, so ``gitml report`` builds the
diff and judges the gate from the same reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.config import CONFIG_FILE, Config
from gitml.documents import parse_text
from gitml.dvcio.lock import DVC_LOCK, Output, lock_outputs
from gitml.dvcio.project import project_from_reader
from gitml.errors import ConfigError, GitmlError
from gitml.gitio.catfile import CatFile
from gitml.gitio.repo import GitRepo
from gitml.report.sources import CommitTree, WorkspaceTree
from gitml.zero_config import effective_config

if TYPE_CHECKING:
    from types import TracebackType

    from gitml.report.sources import Tree


@dataclass
class SideFiles:
    """What one side holds: config, lock outputs and parsed documents, read once.

    ``config`` is the side's own configuration (None: no ``gitml.yaml`` and no model in
    ``dvc.yaml``); ``unavailable`` says, per path, why DVC-tracked bytes could not be had.
    """

    tree: Tree
    config: Config | None
    outputs: dict[str, Output]
    root: Path | None = None  # the repository, for DVC's cache and remote
    unavailable: dict[str, str] = field(default_factory=dict)
    _documents: dict[str, Any] = field(default_factory=dict)
    _bytes: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The side's name in messages (``main``, ``workspace``, ``credit@v1.2.0``)."""
        return self.tree.label

    def read(self, path: str) -> bytes | None:
        """The bytes at ``path`` on this side: from git (or the working tree), else from
        DVC's cache or remote when this side's ``dvc.lock`` tracks the file, verified by
        its md5. None when the side has no such file, or its bytes cannot be had (the
        reason is kept in :attr:`unavailable`)."""
        if path not in self._bytes:
            data = self.tree.read(path)
            if data is None and self.root is not None:
                data = self._read_tracked(path)
            self._bytes[path] = data
        return self._bytes[path]

    def _read_tracked(self, path: str) -> bytes | None:
        from gitml.dvcio.tracked import read_tracked

        assert self.root is not None
        try:
            return read_tracked(self.root, self.outputs, path, self.tree.commit)
        except GitmlError as error:
            self.unavailable[path] = str(error)
            return None

    def files_under(self, directory: str) -> list[str]:
        """The files under ``directory`` on this side: in git (or the working tree), else
        as the manifest of the DVC directory output holding it lists them (a reason kept
        in :attr:`unavailable` when that manifest cannot be had)."""
        found = self.tree.files_under(directory)
        if found or self.root is None:
            return found
        from gitml.dvcio.tracked import list_tracked

        try:
            return list(list_tracked(self.root, self.outputs, directory, self.tree.commit) or ())
        except GitmlError as error:
            self.unavailable[directory] = str(error)
            return []

    def document(self, path: str, required: bool = False) -> Any:
        """The parsed YAML/JSON at ``path``; None if absent (an error if ``required``,
        unless DVC tracks it but its bytes cannot be had: see :attr:`unavailable`)."""
        if path not in self._documents:
            data = self.read(path)
            if data is None:
                if required and path not in self.unavailable:
                    raise ConfigError(f"{path}: missing in {self.label} (run `dvc repro` first?)")
                self._documents[path] = None
            else:
                name = f"{path} at {self.label}"
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


def read_side(tree: Tree, root: Path | None = None) -> SideFiles:
    """Read a side's configuration and ``dvc.lock`` (either may be absent on a base)."""
    config_data = tree.read(CONFIG_FILE)
    declared = None
    if config_data is not None:
        try:
            declared = config_data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError(
                f"{CONFIG_FILE} at {tree.label}: not UTF-8 text ({error.reason})"
            ) from None
    project = project_from_reader(tree.read, tree.label)
    config = effective_config(declared, project, f"{CONFIG_FILE} at {tree.label}")
    lock = tree.read(DVC_LOCK)
    outputs = lock_outputs(
        lock.decode("utf-8") if lock is not None else None, f"{DVC_LOCK} at {tree.label}"
    )
    return SideFiles(tree, config, outputs, root)


def reading_config(target: SideFiles, other: SideFiles) -> Config | None:
    """The configuration both sides of a comparison are read with.

    The target's ``gitml.yaml`` decides what is read and how it is judged (a candidate
    must not point its judge at files of its choosing); where the target has none (the
    pull request that adopts gitml) the other side's does, then the target's ``dvc.yaml``,
    then the other side's.
    """
    for side in (target, other):
        if side.config is not None and side.config.declared:
            return side.config
    return target.config or other.config


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
            tree = CommitTree(self.repo, self._catfile, commit, label)
            self._sides[key] = read_side(tree, self.root)
        return self._sides[key]

    def reading_config(self, target: SideFiles | None, other: SideFiles) -> Config | None:
        """:func:`reading_config` of the two sides; where neither has a configuration
        (two commits before adoption), the working tree's (``gitml init`` just ran)."""
        config = reading_config(target, other) if target is not None else other.config
        if config is None and other.tree.commit is not None:
            config = self.workspace().config
        return config

    def workspace(self) -> SideFiles:
        """The working tree's side (after ``dvc repro``)."""
        key = (None, WorkspaceTree.label)
        if key not in self._sides:
            self._sides[key] = read_side(WorkspaceTree(self.root, self.repo), self.root)
        return self._sides[key]
