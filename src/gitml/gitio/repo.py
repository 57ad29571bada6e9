"""Short git commands over one repository, each returning a typed value."""

from __future__ import annotations

import subprocess  # noqa: TID251 - gitio is the one place that runs git
from dataclasses import dataclass
from pathlib import Path

from gitml.errors import GitError

SHALLOW_HINT = (
    "the clone may be shallow or lack the branch: run `git fetch origin main` "
    "(or check out with `fetch-depth: 0` in GitHub Actions)"
)


class GitRepo:
    """A git working tree at ``root``."""

    def __init__(self, root: Path | str = "."):
        self.root = Path(root)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``git ARGS`` in the repository and return the finished process."""
        try:
            result = subprocess.run(
                ["git", *args], cwd=self.root, capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc}") from None
        if check and result.returncode != 0:
            message = (result.stderr.strip() or result.stdout.strip()).splitlines()
            first = message[-1] if message else f"exit code {result.returncode}"
            raise GitError(f"git {' '.join(args[:2])}: {first}")
        return result

    def run_input(
        self, args: list[str], stdin: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``git ARGS`` with ``stdin`` as its standard input."""
        result = subprocess.run(
            ["git", *args],
            cwd=self.root,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise GitError(f"git {' '.join(args[:2])}: {result.stderr.strip() or 'failed'}")
        return result

    def first_parent_log(self, rev: str, path: str | None = None) -> list[CommitInfo]:
        """Commits on ``rev``'s first-parent line (newest first), touching ``path`` if given."""
        fmt = "--format=%H%x00%s%x00%an%x00%ae%x00%cn%x00%P%x1e"
        args = ["log", "--first-parent", fmt, self.resolve(rev)]
        if path:
            args += ["--", path]
        return _log_records(self.run(*args).stdout)

    def commit_info(self, rev: str) -> CommitInfo:
        """One commit's identity."""
        fmt = "--format=%H%x00%s%x00%an%x00%ae%x00%cn%x00%P%x1e"
        return _log_records(self.run("log", "-1", fmt, self.resolve(rev)).stdout)[0]

    def resolve(self, rev: str) -> str:
        """The full commit sha of ``rev``; a GitError with the shallow-clone fix otherwise."""
        if rev.startswith("-"):
            raise GitError(f"invalid revision {rev!r}")
        result = self.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False
        )
        if result.returncode != 0:
            raise GitError(f"unknown revision {rev!r}: {SHALLOW_HINT}")
        return result.stdout.strip()

    def is_shallow(self) -> bool:
        """Whether this clone has truncated history."""
        return self.run("rev-parse", "--is-shallow-repository").stdout.strip() == "true"

    def complete_history(self, remote: str, purpose: str) -> None:
        """Make a shallow clone whole from ``remote`` (every commit and tag), or refuse.

        What a shallow clone lacks is silent: versions between its tip and the last tag
        go unregistered, a missing tag looks like a free version number, a stage looks
        empty. So ``purpose`` (registering, judging, verifying) never runs on part of the
        history: the clone is deepened, or the command stops with the fix.
        """
        if not self.is_shallow():
            return
        fix = "clone without --depth (actions/checkout: `fetch-depth: 0`)"
        if remote not in self.run("remote").stdout.split():
            raise GitError(
                f"this clone is shallow and has no remote {remote!r} to complete it from: "
                f"{purpose} needs the whole history and every tag; {fix}"
            )
        fetched = self.run("fetch", "--quiet", "--unshallow", "--tags", remote, check=False)
        if fetched.returncode != 0 or self.is_shallow():
            reason = (fetched.stderr.strip().splitlines() or ["still shallow"])[-1]
            raise GitError(
                f"this clone is shallow and `git fetch --unshallow --tags {remote}` failed "
                f"({reason}): {purpose} needs the whole history and every tag; {fix}"
            )


@dataclass(frozen=True)
class CommitInfo:
    """A commit's identity and the people on it."""

    sha: str
    subject: str
    author: str
    author_email: str
    committer: str
    parents: tuple[str, ...]


class TagPushRejected(GitError):
    """The remote already has a tag of that name (another run got there first)."""


def _log_records(output: str) -> list[CommitInfo]:
    commits = []
    for record in output.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, subject, author, email, committer, parents = record.split("\0")
        commits.append(CommitInfo(sha, subject, author, email, committer, tuple(parents.split())))
    return commits


def _pairs(listing: str) -> list[tuple[str, str]]:
    """``(object id, ref name)`` of each ``<id> <ref>`` line (tab or space separated)."""
    pairs = []
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 2:
            pairs.append((fields[0], fields[1]))
    return pairs


class TagWriter:
    """Creating and publishing annotated tags (registry records), never rewriting one."""

    def __init__(self, repo: GitRepo):
        self.repo = repo

    def has_remote(self, remote: str) -> bool:
        """Whether ``remote`` is configured."""
        return self.repo.run("remote", check=False).stdout.split().count(remote) > 0

    def fetch_tags(self, remote: str) -> None:
        """Bring every tag of ``remote`` (and its branches) up to date, overwriting none.

        A local tag the remote has under the same name with other content stops the
        fetch; the error names the tags (git says "would clobber existing tag").
        """
        result = self.repo.run("fetch", "--tags", "--no-write-fetch-head", remote, check=False)
        if result.returncode == 0:
            return
        clobbered = [
            line.split("]", 1)[1].split("->")[0].strip()
            for line in result.stderr.splitlines()
            if "would clobber existing tag" in line and "]" in line
        ]
        if clobbered:
            raise GitError(
                f"git fetch {remote}: local tag(s) {', '.join(clobbered)} differ from the "
                f"remote's; delete them (git tag -d NAME) to take the remote's"
            )
        lines = result.stderr.strip().splitlines()
        raise GitError(f"git fetch {remote}: {lines[-1] if lines else 'failed'}")

    def local_tags(self) -> dict[str, str]:
        """``{name: object id}`` of every local tag."""
        out = self.repo.run("for-each-ref", "--format=%(objectname) %(refname)", "refs/tags").stdout
        return {ref.removeprefix("refs/tags/"): oid for oid, ref in _pairs(out)}

    def fetch_tag(self, remote: str, tag: str) -> None:
        """Replace the local ``tag`` with the remote's (after a lost race)."""
        self.repo.run(
            "fetch",
            "--quiet",
            "--no-write-fetch-head",
            remote,
            f"+refs/tags/{tag}:refs/tags/{tag}",
        )

    def create(self, name: str, commit: str, message: str) -> None:
        """Create the annotated tag ``name`` on ``commit``; fails if it exists."""
        result = self.repo.run_input(["tag", "-a", name, commit, "-F", "-"], message, check=False)
        if result.returncode != 0:
            raise GitError(f"git tag {name}: {result.stderr.strip() or 'failed'}")

    def remote_tags(self, remote: str) -> dict[str, str]:
        """``{name: object id}`` of the tags ``remote`` has (one ``git ls-remote``)."""
        out = self.repo.run("ls-remote", "--tags", "--refs", remote).stdout
        return {ref.removeprefix("refs/tags/"): oid for oid, ref in _pairs(out)}

    def delete_local(self, name: str) -> None:
        """Delete a local tag that was never pushed (the remote's wins)."""
        self.repo.run("tag", "-d", name, check=False)

    def push(self, remote: str, name: str) -> None:
        """Push one tag; TagPushRejected if the remote already has that name."""
        result = self.repo.run(
            "push",
            "--quiet",
            "--porcelain",
            remote,
            f"refs/tags/{name}:refs/tags/{name}",
            check=False,
        )
        if result.returncode == 0:
            return
        text = result.stdout + result.stderr
        if "already exists" in text or "rejected" in text or "[rejected]" in text:
            raise TagPushRejected(f"tag {name} already exists on {remote}")
        raise GitError(
            f"git push {remote} {name}: {result.stderr.strip() or 'failed'} (make sure the "
            "remote is reachable and the token may push tags)"
        )


class TreeWriter:
    """Commits built from existing trees (promotion and rollback branches), never a checkout."""

    def __init__(self, repo: GitRepo):
        self.repo = repo

    def tree_of(self, rev: str) -> str:
        """The tree sha of ``rev``."""
        return self.repo.run("rev-parse", f"{self.repo.resolve(rev)}^{{tree}}").stdout.strip()

    def commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        """A new commit with ``tree`` and ``parents``; returns its sha."""
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.repo.run_input([*args, "-F", "-"], message).stdout.strip()

    def set_branch(self, name: str, commit: str) -> None:
        """Create or move the local branch ``name`` to ``commit``."""
        self.repo.run("branch", "--force", "--", name, commit)

    def push_branch(self, remote: str, name: str, commit: str) -> None:
        """Push ``commit`` to ``remote`` as branch ``name`` (a new branch or a fast-forward)."""
        self.repo.run("push", "--quiet", remote, f"{commit}:refs/heads/{name}")
