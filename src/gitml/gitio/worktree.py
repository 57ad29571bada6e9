"""A throw-away git worktree for preparing a branch without touching the user's checkout.

``gitml retrain`` builds its commit in a detached worktree of the base revision, so the
user's working tree, index and current branch stay exactly as they were, whatever state
they are in. The branch is created only once the commit exists, and removed again when a
later step (a push) fails: nothing is left half-done.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.errors import GitError
from gitml.gitio.repo import GitRepo

if TYPE_CHECKING:
    from collections.abc import Iterator


# The user's hooks belong to their own checkout, not to a commit gitml builds on the side.
NO_HOOKS = ("-c", f"core.hooksPath={os.devnull}")


@contextmanager
def temporary_worktree(repo: GitRepo, commit: str) -> Iterator[GitRepo]:
    """A detached worktree of ``commit`` in a temp directory, removed on exit."""
    parent = Path(tempfile.mkdtemp(prefix="gitml-worktree-"))
    path = parent / "tree"
    try:
        # No hooks: DVC's post-checkout hook would run `dvc checkout` with an empty cache.
        repo.run(*NO_HOOKS, "worktree", "add", "--quiet", "--detach", str(path), commit)
        yield GitRepo(path)
    finally:
        repo.run("worktree", "remove", "--force", str(path), check=False)
        shutil.rmtree(parent, ignore_errors=True)
        repo.run("worktree", "prune", check=False)


def commit_all(tree: GitRepo, message: str) -> str:
    """Stage every change in ``tree`` (a worktree) and commit it; return the commit sha."""
    tree.run("add", "--all")
    if tree.run("diff", "--cached", "--quiet", check=False).returncode == 0:
        raise GitError("nothing to commit: the change left the tree as it was")
    tree.run_input([*NO_HOOKS, "commit", "--quiet", "--no-verify", "-F", "-"], message)
    return tree.run("rev-parse", "HEAD").stdout.strip()


def changed_paths(tree: GitRepo, commit: str) -> list[str]:
    """Paths ``commit`` changes relative to its first parent."""
    out = tree.run("diff-tree", "--no-commit-id", "--name-only", "-r", f"{commit}^", commit)
    return [line for line in out.stdout.splitlines() if line]


def local_branch_exists(repo: GitRepo, name: str) -> bool:
    """Whether ``refs/heads/NAME`` exists."""
    result = repo.run("show-ref", "--verify", "--quiet", f"refs/heads/{name}", check=False)
    return result.returncode == 0


def has_remote(repo: GitRepo, remote: str) -> bool:
    """Whether ``remote`` is configured."""
    return remote in repo.run("remote", check=False).stdout.split()


def create_branch(repo: GitRepo, name: str, commit: str) -> None:
    """Create the local branch ``name`` at ``commit``; fails if it exists."""
    repo.run("check-ref-format", "--branch", name)
    repo.run("branch", "--", name, commit)


def delete_branch(repo: GitRepo, name: str) -> None:
    """Delete the local branch ``name`` (used to undo a branch whose push failed)."""
    repo.run("branch", "--delete", "--force", "--", name, check=False)


def push_new_branch(repo: GitRepo, remote: str, name: str, commit: str) -> None:
    """Push ``commit`` as the new branch ``name``; refused if the remote already has it."""
    result = repo.run(
        "push", "--quiet", "--porcelain", remote, f"{commit}:refs/heads/{name}", check=False
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip() or "failed").splitlines()[-1]
        raise GitError(
            f"git push {remote} {name}: {detail} (check the remote is reachable and the "
            "token may push branches)"
        )


def delete_remote_branch(repo: GitRepo, remote: str, name: str) -> None:
    """Delete branch ``name`` on ``remote`` (undo a push whose pull request failed)."""
    repo.run("push", "--quiet", remote, "--delete", f"refs/heads/{name}", check=False)
