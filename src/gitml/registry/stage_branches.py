"""Stage branches: which stage a pull request's base branch holds, and which tips roll back.

Both the gate (the stage a pull request targets; rollbacks skip metric gates) and
promotion (a rollback is recorded as one) ask these questions of a stage branch, so they
are answered here, below both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gitml.gitio.repo import TreeWriter

if TYPE_CHECKING:
    from gitml.gitio.repo import GitRepo

# Trailers of the commits `gitml promote` and `gitml rollback` prepare on stage branches.
PROMOTE_TRAILER = "Gitml-Promote:"
ROLLBACK_TRAILER = "Gitml-Rollback:"

# A base named as a remote-tracking or full ref still names the stage branch behind it.
_REMOTE_PREFIX = re.compile(r"^(refs/remotes/[^/]+/|refs/heads/|origin/|upstream/)")


def stage_for_base(base: str, stages: tuple[str, ...], stage_branch: str) -> str:
    """The stage a pull request into ``base`` targets; ``main`` for anything else.

    ``stage_branch`` is gitml.yaml's branch pattern (``{stage}`` or ``{stage}/{model}``).
    """
    branch = _REMOTE_PREFIX.sub("", base)
    for stage in stages:
        pattern = re.escape(stage_branch).replace(r"\{stage\}", re.escape(stage))
        pattern = pattern.replace(r"\{model\}", r"[^/]+")
        if re.fullmatch(pattern, branch):
            return stage
    return "main"


def is_rollback(repo: GitRepo, tip: str) -> bool:
    """Whether the tip (or the branch it merged) is a commit made by ``gitml rollback``.

    This reads the commit message, which anyone who can push a branch can write; the
    trust model asks for the stage's own assignment history instead (tracked apart).
    """
    writer = TreeWriter(repo)
    info = repo.commit_info(tip)
    revs = [tip, *info.parents[1:2]]
    return any(ROLLBACK_TRAILER in writer.message(rev) for rev in revs)
