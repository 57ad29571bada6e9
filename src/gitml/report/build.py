"""``report()``: resolve the two revisions, read them, and assemble the Report."""

from __future__ import annotations

import re
from pathlib import Path

from gitml.errors import ConfigError
from gitml.gitio import CatFile, GitRepo
from gitml.report import collect
from gitml.report.model import GateSummary, Report, Side
from gitml.report.sources import CommitTree, Tree, WorkspaceTree

WORKSPACE = "workspace"
_REMOTE_PREFIX = re.compile(r"^(refs/remotes/[^/]+/|refs/heads/|origin/|upstream/)")


def stage_for_base(base: str, stages: tuple[str, ...], stage_branch: str) -> str:
    """The stage a pull request into ``base`` targets; ``main`` for anything else."""
    branch = _REMOTE_PREFIX.sub("", base)
    for stage in stages:
        pattern = re.escape(stage_branch).replace(r"\{stage\}", re.escape(stage))
        pattern = pattern.replace(r"\{model\}", r"[^/]+")
        if re.fullmatch(pattern, branch):
            return stage
    return "main"


def pipeline_status(repro_log: str | None) -> str:
    """Whether ``dvc repro`` ran stages or restored them from DVC's run-cache."""
    if repro_log is None:
        return "unknown"
    ran = "Running stage" in repro_log
    restored = "is cached - skipping run" in repro_log or "Restored stage" in repro_log
    if ran and restored:
        return "partly-restored"
    if ran:
        return "ran"
    if restored:
        return "restored"
    return "up-to-date"


def build_report(
    root: Path | str = ".",
    base: str = "main",
    head: str | None = None,
    stage: str | None = None,
    repro_log: str | None = None,
    no_rescore: bool = False,
) -> Report:
    """Compare ``head`` (default: the workspace) with ``base``; see :func:`gitml.api.report`."""
    repo = GitRepo(root)
    base_commit = repo.resolve(base)
    head_commit = repo.resolve(head) if head else None
    with CatFile(root) as catfile:
        base_tree: Tree = CommitTree(repo, catfile, base_commit, base)
        head_tree: Tree = (
            CommitTree(repo, catfile, head_commit, head)
            if head and head_commit
            else WorkspaceTree(Path(root), repo)
        )
        base_side = collect.read_side(base_tree)
        head_side = collect.read_side(head_tree)
        config = head_side.config
        if config is None:
            raise ConfigError(f"gitml.yaml: not found in {head_tree.label} (run `gitml init`)")
        models = [
            collect.model_report(base_side, head_side, m, None if no_rescore else Path(root))
            for m in config.models.values()
        ]
        if base_side.config:
            models += [
                collect.removed_model(base_side, m)
                for name, m in base_side.config.models.items()
                if name not in config.models
            ]
        params = collect.params_report(base_side, head_side, config)
        data = collect.data_report(base_side, head_side)
    target = stage or stage_for_base(base, config.stages, config.stage_branch)
    head_label = head or WORKSPACE
    gate = _gate_summary(root, target, base, head)
    return Report(
        base=Side(base, base_commit, base),
        head=Side(head_label, head_commit, head_label),
        stage=target,
        models=tuple(models),
        params=params,
        data=data,
        gate=gate,
        pipeline=pipeline_status(repro_log),
        reproduce=reproduce_command(base, head_commit),
    )


def _gate_summary(root: Path | str, stage: str, base: str, head: str | None) -> GateSummary:
    """The gate verdict for the report: against ``base`` for main, else the stage's record."""
    from gitml.gates import check

    result = check(root, stage, base if stage == "main" else None, head)
    failures = tuple(
        f"{gate.model}: {rule.rule}: {rule.observed} (limit {rule.limit})"
        for gate in result.gates
        for rule in gate.rules
        if rule.status == "fail"
    )
    return GateSummary(result.status, stage, failures)


def reproduce_command(base: str, head_commit: str | None) -> str:
    """The commands that rebuild this report on a developer's machine."""
    checkout = f"git checkout {head_commit[:12]} && " if head_commit else ""
    return f"{checkout}dvc repro --pull --allow-missing && gitml report --base {base}"
