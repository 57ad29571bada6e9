"""Stage branches: which stage a pull request's base branch holds, and the trailers of
the commits ``gitml promote`` and ``gitml rollback`` prepare on them.

The trailers are for people reading the branch's log. Whether a change of a stage is a
rollback is decided by the stage's own assignment history
(:meth:`gitml.registry.state.ModelState.held_before`), never by a commit message.
"""

from __future__ import annotations

import re

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
