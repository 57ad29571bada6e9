"""``gitml check``: run each model's gate for a stage against the model it would replace.

The baseline is the stage's recorded version (its latest assignment); for ``main`` it is
the pull request's base revision. The candidate is the workspace (after ``dvc repro``) or
a given revision. Gate logic itself is pure (:mod:`gitml.policy.evaluate`); this module
only gathers the numbers and files it judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.errors import ConfigError, GitmlError
from gitml.gitio import CatFile, GitRepo
from gitml.policy.evaluate import GateResult, RuleResult, evaluate_gate
from gitml.report import collect
from gitml.report.build import stage_for_base
from gitml.report.sources import CommitTree, Tree, WorkspaceTree
from gitml.validation import (
    known_valid,
    packaged_schema,
    remember_valid,
    schema_problems,
    valid_marker,
)

if TYPE_CHECKING:
    from gitml.config import ModelConfig
    from gitml.policy.model import Policy
    from gitml.report.collect import SideFiles
    from gitml.report.values import Scalar


@dataclass(frozen=True)
class CheckResult:
    """The gates of one stage for every model."""

    stage: str
    gates: tuple[GateResult, ...]

    @property
    def status(self) -> str:
        """``failed`` if a required gate failed, else ``warned``/``passed``/``not_configured``."""
        statuses = [g.status for g in self.gates]
        if any(g.status == "failed" and g.required for g in self.gates):
            return "failed"
        if "failed" in statuses or "warned" in statuses:
            return "warned"
        if "passed" in statuses:
            return "passed"
        return "not_configured"

    def to_dict(self) -> dict[str, object]:
        """JSON shape: ``{stage, status, gates: [...]}``."""
        return {
            "stage": self.stage,
            "status": self.status,
            "gates": [g.to_dict() for g in self.gates],
        }


def _card_problems(side: SideFiles, model: ModelConfig) -> list[str]:
    if not model.card:
        return ["no model card configured for this model"]
    data = side.tree.read(model.card)
    if data is None:
        return [f"{model.card}: missing"]
    marker = valid_marker(data.decode("utf-8", "replace"), "model_card.schema.json")
    if known_valid(marker):
        return []  # this exact card passed before: skip jsonschema on the report path
    schema = packaged_schema("model_card.schema.json")
    problems = [str(p) for p in schema_problems(side.document(model.card), schema, model.card)]
    if not problems:
        remember_valid(marker)
    return problems


def _data_problems(root: Path, side: SideFiles, model: ModelConfig) -> list[str]:
    from gitml.policy.data_check import check_csv, load_data_schema

    if not model.data_schema:
        return [f"models.{model.name}.data_schema is not set in gitml.yaml"]
    schema_bytes = side.tree.read(model.data_schema)
    if schema_bytes is None:
        return [f"{model.data_schema}: missing"]
    card = side.document(model.card) if model.card else None
    training = card.get("training_data") if isinstance(card, dict) else None
    if not isinstance(training, dict) or not training.get("path"):
        return ["the model card does not name the training data"]
    path, md5 = str(training["path"]), str(training.get("md5", ""))
    # The same data against the same declared schema passed before: skip re-reading it.
    marker = valid_marker(f"{md5}\0{schema_bytes.decode('utf-8', 'replace')}", "data-check")
    if md5 and known_valid(marker):
        return []
    schema = load_data_schema(schema_bytes.decode("utf-8"), model.data_schema)
    try:
        data = side.output_bytes(root, path, md5)  # the data the card names, verified
    except GitmlError as error:
        return [f"{path}: {error}"]
    problems = check_csv(data, schema, path)
    if not problems:
        remember_valid(marker)
    return problems


def gate_for_model(
    root: Path,
    policy: Policy,
    model: ModelConfig,
    stage: str,
    candidate: SideFiles,
    baseline: SideFiles | None,
    baseline_label: str | None,
) -> GateResult:
    """Gather one model's numbers and checks and evaluate its policy."""
    metrics, operational = collect.model_values(candidate, model, required=True)
    base_values: dict[str, Scalar] | None = None
    if baseline is not None and baseline.config and model.name in baseline.config.models:
        base_metrics, base_ops = collect.model_values(
            baseline, baseline.config.models[model.name], required=False
        )
        if base_metrics is not None:
            base_values = {**base_metrics, **base_ops}
    return evaluate_gate(
        policy,
        model=model.name,
        stage=stage,
        candidate=metrics or {},
        operational=operational,
        baseline=base_values,
        baseline_label=baseline_label if base_values is not None else None,
        directions=dict(model.directions),
        card_problems=_card_problems(candidate, model) if policy.model_card else None,
        data_problems=_data_problems(root, candidate, model) if policy.data else None,
    )


def check(
    root: Path | str = ".",
    stage: str | None = None,
    base: str | None = None,
    head: str | None = None,
    models: tuple[str, ...] | None = None,
) -> CheckResult:
    """Evaluate the gates of ``stage`` for every model (or ``models``)."""
    root = Path(root)
    repo = GitRepo(root)
    with CatFile(root) as catfile:
        head_tree: Tree = (
            CommitTree(repo, catfile, repo.resolve(head), head) if head else WorkspaceTree(root)
        )
        candidate = collect.read_side(head_tree)
        config = candidate.config
        if config is None:
            raise ConfigError(f"gitml.yaml: not found in {head_tree.label}")
        if stage is None:
            stage = stage_for_base(base, config.stages, config.stage_branch) if base else "main"
        if stage != "main" and stage not in config.stages:
            raise ConfigError(
                f"--stage {stage!r}: not a stage of gitml.yaml (stages: main, "
                f"{', '.join(config.stages)})"
            )
        if head and stage != "main" and _is_rollback(repo, repo.resolve(head)):
            return CheckResult(
                stage,
                tuple(
                    _rollback_result(n, stage) for n in config.models if not models or n in models
                ),
            )
        base_side = None
        if base:
            base_side = collect.read_side(CommitTree(repo, catfile, repo.resolve(base), base))
        results = []
        for name, model in config.models.items():
            if models and name not in models:
                continue
            policy = model.gate(stage)
            if policy is None:
                results.append(GateResult(name, stage, False, False, None))
                continue
            baseline, label = base_side, base
            if baseline is None and stage != "main":
                baseline, label = _recorded_side(root, repo, catfile, name, stage)
            results.append(gate_for_model(root, policy, model, stage, candidate, baseline, label))
    return CheckResult(stage, tuple(results))


def _is_rollback(repo: GitRepo, commit: str) -> bool:
    from gitml.registry.promote import is_rollback

    return is_rollback(repo, commit)


def _rollback_result(model: str, stage: str) -> GateResult:
    """Rollbacks skip metric gates (hash, registration and remote checks still apply)."""
    rule = RuleResult(
        "rollback: metric gates skipped",
        "gitml rollback commit",
        "hash, registration and remote checked on merge",
        "pass",
    )
    return GateResult(model, stage, True, True, None, (rule,))


def _recorded_side(
    root: Path, repo: GitRepo, catfile: CatFile, model: str, stage: str
) -> tuple[SideFiles | None, str | None]:
    """The files of the version ``stage`` records for ``model`` (None if it holds none)."""
    from gitml.registry.reader import RegistryReader

    with RegistryReader(root) as reader:
        holder = reader.model_state(model).stage_holder(stage)
    if holder is None:
        return None, None
    label = f"{model}@{holder.version} ({stage})"
    return collect.read_side(CommitTree(repo, catfile, holder.commit, label)), label
