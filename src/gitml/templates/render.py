"""The shipped workflows, rendered for one repository: its setup action and its stages.

The templates under ``workflows/`` are gitml's own ``.github/workflows`` with the parts
that differ per repository replaced by placeholders: which setup action installs gitml
(gitml's own workflows use the checkout's ``./.github/actions/setup-gitml``; an adopting
repository pins gitml's action by commit), and the stage names (the branches that
trigger promotion, the GitHub environment of each stage, the stage drift is checked in,
the pull request bases whose reviews re-run the promotion checks).
A placeholder is a plain YAML word, so a template is still a YAML document; rendering
refuses to return text with a placeholder left in it.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

WORKFLOWS = (
    "propose.yml",
    "comment.yml",
    "register.yml",
    "promote.yml",
    "monitor.yml",
    "review.yml",
    "site.yml",
)
SETUP_ACTION = "__GITML_SETUP_ACTION__"
STAGE_BRANCHES = "__GITML_STAGE_BRANCHES__"
STAGE_ENVIRONMENT = "__GITML_STAGE_ENVIRONMENT__"
TOP_STAGE = "__GITML_TOP_STAGE__"
STAGE_BASES = "__GITML_STAGE_BASES__"
PLACEHOLDER_PREFIX = "__GITML_"

# gitml's own workflows: the setup action of the checkout at the workspace root (in a
# judging job, the trusted branch's), with the reason zizmor's self-repository audit
# is answered that way.
LOCAL_SETUP = (
    "./.github/actions/setup-gitml  # zizmor: ignore[self-repository] ./ resolves in the "
    "workspace, whose root holds the trusted checkout in a judging job; act and actionlint "
    "do not know $/"
)


def template(name: str) -> str:
    """The shipped template of workflow ``name`` (one of :data:`WORKFLOWS`)."""
    return resources.files("gitml.templates").joinpath("workflows", name).read_text("utf-8")


def stage_branches(stages: Sequence[str]) -> str:
    """The branch filter entries of the stages: each stage's branch, then ``STAGE/**``
    (``stage_branch: "{stage}/{model}"`` gives each model its own branch under it)."""
    return ", ".join([*stages, *(f'"{stage}/**"' for stage in stages)])


def stage_environment(stages: Sequence[str]) -> str:
    """The ``environment:`` of the promote job: the stage the pushed branch belongs to.

    A branch is ``STAGE`` or ``STAGE/MODEL``; longer names are tried first so that a stage
    whose name starts another's (``prod``, ``production``) is never taken for it, and the
    last one needs no test (the branch filter lets no other branch in).
    """
    ordered = sorted(stages, key=lambda stage: (-len(stage), list(stages).index(stage)))
    if len(ordered) == 1:
        return ordered[0]
    tests = [f"startsWith(github.ref_name, '{stage}') && '{stage}'" for stage in ordered[:-1]]
    return "${{ " + " || ".join([*tests, f"'{ordered[-1]}'"]) + " }}"


def stage_bases(stages: Sequence[str]) -> str:
    """An expression that is true when the reviewed pull request goes into a stage's
    branch (``STAGE`` or ``STAGE/...``): a review event has no branch filter.

    Stage names are lower-case letters, digits and dashes (gitml.yaml's schema), so they
    need no quoting inside the expression's string literals.
    """
    base = "github.event.pull_request.base.ref"
    return " || ".join(f"{base} == '{stage}' || startsWith({base}, '{stage}/')" for stage in stages)


def render(text: str, setup: str, stages: Sequence[str]) -> str:
    """``text`` (a template) with ``setup`` as every setup step's ``uses:`` value (comment
    included) and the stage placeholders filled from ``stages`` (lowest first)."""
    if not stages:
        raise ValueError("a workflow needs at least one stage")
    rendered = (
        text.replace(SETUP_ACTION, setup)
        .replace(STAGE_BRANCHES, stage_branches(stages))
        .replace(STAGE_ENVIRONMENT, stage_environment(stages))
        .replace(TOP_STAGE, stages[-1])
        .replace(STAGE_BASES, stage_bases(stages))
    )
    if PLACEHOLDER_PREFIX in rendered:
        line = next(line for line in rendered.splitlines() if PLACEHOLDER_PREFIX in line)
        raise ValueError(f"a placeholder is left after rendering: {line.strip()}")
    return rendered


def render_workflows(setup: str, stages: Sequence[str]) -> dict[str, str]:
    """Every workflow, rendered: ``{".github/workflows/NAME": text}``."""
    return {
        f".github/workflows/{name}": render(template(name), setup, stages) for name in WORKFLOWS
    }
