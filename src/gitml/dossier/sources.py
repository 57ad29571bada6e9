"""Where the dossier's facts come from: files at a commit, tag objects and commit logs,
each read through the registry reader's one ``cat-file --batch`` or one git command per
question (never one per version), and each turned into a :class:`Proof` on the way."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from gitml.dossier.model import Proof
from gitml.gitio.repo import GitRepo
from gitml.gitio.snapshot import ref_listing

if TYPE_CHECKING:
    from gitml.registry.reader import RegistryReader

# A retraining commit's reason line, as `gitml retrain --drift-report` writes it
# (gitml.retrain._drift_summary): "Why: gitml drift: verdict drift for credit on 4000 rows".
DRIFT_LINE = "Why: gitml drift: verdict "


class GitSources:
    """The facts git holds about versions of one registry, with their git objects."""

    def __init__(self, reader: RegistryReader):
        self.reader = reader
        self.repo = GitRepo(reader.root)
        self._trees: dict[str, dict[str, str]] = {}
        self._documents: dict[tuple[str, str], Any] = {}

    @cached_property
    def tag_objects(self) -> dict[str, str]:
        """``{tag name: tag object id}`` from one ref listing."""
        found = {}
        for line in ref_listing(self.reader.root).decode("utf-8", "replace").splitlines():
            oid, _, ref = line.partition(" ")
            if ref.startswith("refs/tags/"):
                found[ref.removeprefix("refs/tags/")] = oid
        return found

    def _tree(self, commit: str) -> dict[str, str]:
        """``{path: blob id}`` of every file at ``commit`` (one ``ls-tree`` per commit)."""
        if commit not in self._trees:
            listing = self.repo.run("ls-tree", "-r", "-z", "--full-tree", commit).stdout
            tree = {}
            for entry in listing.split("\0"):
                meta, _, path = entry.partition("\t")
                parts = meta.split()
                if len(parts) == 3 and parts[1] == "blob":
                    tree[path] = parts[2]
            self._trees[commit] = tree
        return self._trees[commit]

    def read(self, commit: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``commit`` (None when it has no such file)."""
        if path not in self._tree(commit):
            return None
        return self.reader.read_blob(commit, path)

    def document(self, commit: str, path: str | None) -> Any:
        """``path`` at ``commit`` parsed as YAML or JSON (None when absent)."""
        from gitml.documents import parse_text

        if not path:
            return None
        key = (commit, path)
        if key not in self._documents:
            data = self.read(commit, path)
            text = data.decode("utf-8", "replace") if data is not None else None
            self._documents[key] = (
                parse_text(text, f"{path} at {commit[:12]}") if text is not None else None
            )
        return self._documents[key]

    def tag(self, name: str | None) -> Proof | None:
        """The tag object of ``name``."""
        oid = self.tag_objects.get(name) if name else None
        return Proof("tag", name, oid, name) if name and oid else None

    def commit(self, sha: str) -> Proof:
        """A commit, proven by itself."""
        return Proof("commit", sha, sha, f"commit {sha[:12]}")

    def blob(self, commit: str, path: str | None) -> Proof | None:
        """The blob of ``path`` at ``commit`` (None when the commit has no such file)."""
        oid = self._tree(commit).get(path) if path else None
        return Proof("blob", path, oid, f"{path} at {commit[:12]}") if path and oid else None

    def md5(self, md5: str | None, commit: str, recorded_in: str) -> Proof | None:
        """An md5, proven by the blob of the DVC file that records it at ``commit``."""
        holder = self.blob(commit, recorded_in)
        if not md5 or holder is None:
            return None
        return Proof("md5", md5, holder.object, holder.label)

    def default_branch(self) -> tuple[str, str]:
        """The branch retraining commits land on, as a revision and as a name: the
        remote's default (``origin/HEAD``), else ``main``. The name leaves out the remote,
        so a clone and the repository it came from name it alike."""
        remote = self.reader.remote
        found = self.repo.run(
            "symbolic-ref", "-q", "--short", f"refs/remotes/{remote}/HEAD", check=False
        )
        revision = found.stdout.strip() if found.returncode == 0 else ""
        if not revision:
            branches = self.reader.snapshot.branches
            candidates = (f"{remote}/main", "main")
            revision = next((b for b in candidates if b in branches), "HEAD")
        return revision, revision.removeprefix(f"{remote}/")

    def is_ancestor(self, commit: str, of: str) -> bool:
        """Whether ``commit`` is in the history of ``of`` (itself included)."""
        found = self.repo.run("merge-base", "--is-ancestor", commit, of, check=False)
        return found.returncode == 0

    def drift_commits(self, revisions: list[str]) -> list[tuple[str, int, str]]:
        """``(commit, committer time, reason line)`` of every commit reachable from
        ``revisions`` whose message cites ``gitml drift``: one log, however long."""
        fmt = "--format=%H%x00%ct%x00%B%x1e"
        args = ["log", fmt, "--fixed-strings", f"--grep={DRIFT_LINE}", *revisions, "--"]
        found = []
        for record in self.repo.run(*args).stdout.split("\x1e"):
            sha, _, rest = record.strip("\n").partition("\0")
            stamp, _, body = rest.partition("\0")
            line = next((x for x in body.splitlines() if x.startswith(DRIFT_LINE)), None)
            if sha and line is not None:
                found.append((sha, int(stamp), line.removeprefix("Why: ")))
        return found
