"""The report's comparison: both revisions read, every model, param and data path diffed.

The gate verdict is not judged here. :func:`gitml.api.report` judges it with
:mod:`gitml.gates` from the same :class:`~gitml.report.sides.SideReader`, so each
revision is read once and the report never calls the gate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import ConfigError
from gitml.registry.stage_branches import stage_for_base
from gitml.report import collect
from gitml.report.model import Report, Side

if TYPE_CHECKING:
    from gitml.report.sides import SideReader

WORKSPACE = "workspace"


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
    sides: SideReader,
    base: str,
    head: str | None = None,
    *,
    stage: str | None = None,
    repro_log: str | None = None,
    rescore: bool = True,
) -> Report:
    """Compare ``head`` (default: the workspace) with ``base``; see :func:`gitml.api.report`.

    The returned report's ``gate`` is the unjudged default; the caller fills it in.
    """
    base_commit = sides.resolve(base)
    head_commit = sides.resolve(head) if head else None
    base_side = sides.revision(base)
    head_side = sides.revision(head)
    config = head_side.config
    if config is None:
        raise ConfigError(f"gitml.yaml: not found in {head_side.tree.label} (run `gitml init`)")
    rescore_root = sides.root if rescore else None
    models = [
        collect.model_report(base_side, head_side, m, rescore_root) for m in config.models.values()
    ]
    if base_side.config:
        models += [
            collect.removed_model(base_side, m)
            for name, m in base_side.config.models.items()
            if name not in config.models
        ]
    head_label = head or WORKSPACE
    return Report(
        base=Side(base, base_commit, base),
        head=Side(head_label, head_commit, head_label),
        stage=stage or stage_for_base(base, config.stages, config.stage_branch),
        models=tuple(models),
        params=collect.params_report(base_side, head_side, config),
        data=collect.data_report(base_side, head_side),
        pipeline=pipeline_status(repro_log),
        reproduce=reproduce_command(base, head_commit),
    )


def reproduce_command(base: str, head_commit: str | None) -> str:
    """The commands that rebuild this report on a developer's machine."""
    checkout = f"git checkout {head_commit[:12]} && " if head_commit else ""
    return f"{checkout}dvc repro --pull --allow-missing && gitml report --base {base}"
