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
    from gitml.config import Config, ModelConfig
    from gitml.report.sides import SideFiles, SideReader

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
    config = sides.reading_config(base_side, head_side)
    if config is None:
        raise ConfigError(
            f"no model to compare: neither {base_side.label} nor {head_side.label} has a "
            "gitml.yaml or a dvc.yaml `artifacts:` entry of type model (declare the model "
            "in dvc.yaml, or run `gitml init`)"
        )
    rescore_root = sides.root if rescore else None
    models = []
    for model in _compared(config, base_side, head_side):
        if _removed_on_head(model.name, base_side, head_side):
            models.append(collect.removed_model(base_side, model))
        else:
            models.append(collect.model_report(base_side, head_side, model, rescore_root))
    head_label = head or WORKSPACE
    stage = stage or stage_for_base(base, config.stages, config.stage_branch)
    if stage != "main" and head_commit is not None:
        # A promotion: the candidate is a registered version, whose dossier is linked.
        from gitml.report.promotion import promotion_details

        models = promotion_details(sides.root, stage, base_commit, head_commit, models)
    return Report(
        base=Side(base, base_commit, base),
        head=Side(head_label, head_commit, head_label),
        stage=stage,
        models=tuple(models),
        params=collect.params_report(base_side, head_side, config),
        data=collect.data_report(base_side, head_side),
        pipeline=pipeline_status(repro_log),
        reproduce=reproduce_command(base, head_commit),
    )


def _compared(config: Config, base: SideFiles, head: SideFiles) -> list[ModelConfig]:
    """Every model either side declares, each as the reading configuration has it (then
    the head's, for a model the pull request proposes, then the base's)."""
    models = dict(config.models)
    for side in (head, base):
        if side.config is not None:
            models.update({n: m for n, m in side.config.models.items() if n not in models})
    return list(models.values())


def _removed_on_head(name: str, base: SideFiles, head: SideFiles) -> bool:
    """The base declares the model and the head's configuration no longer does."""
    declared_on_base = base.config is not None and name in base.config.models
    return declared_on_base and (head.config is None or name not in head.config.models)


def reproduce_command(base: str, head_commit: str | None) -> str:
    """The commands that rebuild this report on a developer's machine."""
    checkout = f"git checkout {head_commit[:12]} && " if head_commit else ""
    return f"{checkout}dvc repro --pull --allow-missing && gitml report --base {base}"
