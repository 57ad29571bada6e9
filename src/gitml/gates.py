"""``gitml check``: run each model's gate for a stage against the model it would replace.

The baseline is the stage's recorded version (its latest assignment); for ``main`` it is
the pull request's base revision. The candidate is the workspace (after ``dvc repro``) or
a given revision. Gate logic itself is pure (:mod:`gitml.policy.evaluate`); this module
only gathers the numbers and files it judges, from the same report sides
(:mod:`gitml.report.sides`) that ``gitml report`` compares, and, for a gate with an
``approvals`` rule, the pull request's reviews (:mod:`gitml.github.reviews`).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.documents import packaged_schema, schema_problems
from gitml.errors import ConfigError, GitmlError
from gitml.policy.approvals import NotEvaluated
from gitml.policy.evaluate import GateResult, RuleResult, Status, approval_row, evaluate_gate
from gitml.registry.stage_branches import stage_for_base
from gitml.report import collect
from gitml.report.model import GateSummary
from gitml.report.sides import SideReader, reading_config

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.config import Config, ModelConfig
    from gitml.github.reviews import ReviewSource
    from gitml.policy.approvals import ApprovalResult
    from gitml.policy.model import Policy
    from gitml.registry.reader import RegistryReader
    from gitml.report.sides import SideFiles
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

    def summary(self) -> GateSummary:
        """The verdict line, failed and warning rules the pull-request report shows."""

        def rows(status: str) -> tuple[str, ...]:
            return tuple(
                f"{gate.model}: {rule.rule}: {rule.observed} (limit {rule.limit})"
                for gate in self.gates
                for rule in gate.rules
                if rule.status == status
            )

        return GateSummary(self.status, self.stage, rows("fail"), warnings=rows("warn"))


def _card_problems(side: SideFiles, model: ModelConfig) -> list[str]:
    if not model.card:
        return ["no model card configured for this model"]
    if side.tree.read(model.card) is None:
        return [f"{model.card}: missing"]
    schema = packaged_schema("model_card.schema.json")
    return [str(p) for p in schema_problems(side.document(model.card), schema, model.card)]


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
    schema = load_data_schema(schema_bytes.decode("utf-8"), model.data_schema)
    try:
        data = side.output_bytes(root, path, md5)  # the data the card names, verified
    except GitmlError as error:
        return [f"{path}: {error}"]
    return check_csv(data, schema, path)


def judge_approvals(
    policy: Policy, approvals: ReviewSource | NotEvaluated | None
) -> ApprovalResult | NotEvaluated | None:
    """The policy's approvals rule judged on the pull request ``approvals`` reads (None:
    no rule, or no pull request given; a NotEvaluated says why none could be read)."""
    if policy.approvals is None or approvals is None:
        return None
    if isinstance(approvals, NotEvaluated):
        return approvals
    from gitml.github.reviews import NotThisPullRequest
    from gitml.policy.approvals import judge_approvals as judge_rule
    from gitml.policy.approvals import membership_questions

    try:
        reviews = approvals.reviews()
    except NotThisPullRequest as error:
        return NotEvaluated(str(error))
    questions = membership_questions(policy.approvals, reviews)
    members = {team: approvals.members(team, logins) for team, logins in questions.items()}
    return judge_rule(policy.approvals, reviews, members)


def gate_for_model(
    root: Path,
    policy: Policy,
    model: ModelConfig,
    stage: str,
    candidate: SideFiles,
    baseline: SideFiles | None,
    baseline_label: str | None,
    approvals: ReviewSource | NotEvaluated | None = None,
    approvals_unevaluated: Status = "fail",
) -> GateResult:
    """Gather one model's numbers and checks and evaluate its policy (``approvals``: the
    pull request whose reviews the approvals rule judges)."""
    metrics, operational = collect.model_values(candidate, model, required=True)
    base_values: dict[str, Scalar] | None = None
    if baseline is not None:
        base_metrics, base_ops = collect.model_values(baseline, model, required=False)
        if base_metrics is not None:
            base_values = {**base_metrics, **base_ops}
    names = {*(metrics or {}), *operational, *(base_values or {})}
    return evaluate_gate(
        policy,
        model=model.name,
        stage=stage,
        candidate=metrics or {},
        operational=operational,
        baseline=base_values,
        baseline_label=baseline_label if base_values is not None else None,
        directions={n: d for n in names if (d := model.direction(n)) is not None},
        card_problems=_card_problems(candidate, model) if policy.model_card else None,
        data_problems=_data_problems(root, candidate, model) if policy.data else None,
        approvals=judge_approvals(policy, approvals),
        approvals_unevaluated=approvals_unevaluated,
    )


def check(
    root: Path | str = ".",
    stage: str | None = None,
    base: str | None = None,
    head: str | None = None,
    models: tuple[str, ...] | None = None,
    approvals: ReviewSource | NotEvaluated | None = None,
) -> CheckResult:
    """Evaluate the gates of ``stage`` for every model (or ``models``); ``approvals``:
    the pull request whose reviews an approvals rule judges."""
    with SideReader(root) as sides:
        return judge(sides, stage, base, head, models, approvals)


def judge(
    sides: SideReader,
    stage: str | None,
    base: str | None,
    head: str | None,
    models: tuple[str, ...] | None = None,
    approvals: ReviewSource | NotEvaluated | None = None,
    approvals_unevaluated: Status = "fail",
) -> CheckResult:
    """:func:`check` on sides already open, reusing any revision the caller has read.

    ``head`` is the candidate (None: the workspace). ``base``, when given, is the baseline
    of every model; otherwise a stage's baseline is the version it records. An approvals
    rule is judged on the reviews ``approvals`` reads; without it (or when it says why
    there is no pull request) the rule's row is ``approvals_unevaluated``: a failure,
    unless the caller only reports and judges approvals elsewhere.
    """
    candidate = sides.revision(head)
    base_side = sides.revision(base) if base else None
    config = sides.reading_config(base_side, candidate)
    if config is None:
        raise ConfigError(
            f"no model to judge: {candidate.label} has no gitml.yaml and dvc.yaml declares "
            "no artifact of type model (run `gitml init`)"
        )
    if stage is None:
        stage = stage_for_base(base, config.stages, config.stage_branch) if base else "main"
    if stage != "main" and stage not in config.stages:
        if not config.stages:  # no gitml.yaml: nothing declares stages, nor their gates
            raise ConfigError(
                f"--stage {stage!r}: no gitml.yaml declares stages or gates here "
                "(run `gitml init`; without one only pull requests into main are reported)"
            )
        raise ConfigError(
            f"--stage {stage!r}: not a stage of gitml.yaml (stages: main, "
            f"{', '.join(config.stages)})"
        )
    proposed = candidate.config.models if candidate.config else {}
    every = [*config.models, *(n for n in proposed if n not in config.models)]
    names = [name for name in every if not models or name in models]
    if stage != "main":
        # A stage is judged against the version it records: that needs every tag.
        sides.repo.complete_history("origin", f"judging a candidate for {stage}")
    results = []
    with ExitStack() as open_readers:
        # One registry read serves every model's recorded version and rollback question.
        registry = None
        if stage != "main":
            from gitml.registry.reader import RegistryReader

            registry = open_readers.enter_context(RegistryReader(sides.root))
        for name in names:
            results.append(
                _judge_model(
                    sides,
                    registry,
                    config,
                    name,
                    stage,
                    candidate,
                    (base_side, base),
                    (approvals, approvals_unevaluated),
                )
            )
    return CheckResult(stage, tuple(results))


def _judge_model(
    sides: SideReader,
    registry: RegistryReader | None,
    config: Config,
    name: str,
    stage: str,
    candidate: SideFiles,
    base: tuple[SideFiles | None, str | None],
    approvals: tuple[ReviewSource | NotEvaluated | None, Status],
) -> GateResult:
    """The gate of ``stage`` for model ``name`` (``registry``: set for a stage's gate;
    ``base``: the given baseline's side and revision; ``approvals``: what judges an
    approvals rule, and the status of the rule when it cannot be judged)."""
    (baseline, label), (source, unevaluated) = base, approvals
    if baseline is None and registry is not None:
        baseline, label = _recorded_side(sides, registry, name, stage)
    # The rules come from the target (the base revision, or the version the stage
    # records), never from the candidate, which could otherwise relax its own judge or
    # point it at files of its choosing. Only where the target has no gitml.yaml yet
    # (adoption, a first promotion into an empty stage) does the candidate's, reviewed
    # on main, apply.
    rules = (reading_config(baseline, candidate) if baseline is not None else None) or config
    target_model = rules.models.get(name)
    proposed = candidate.config.models.get(name) if candidate.config else None
    model = target_model or config.models.get(name) or proposed  # proposed: no target yet
    assert model is not None  # judge() lists only models some configuration declares
    policy = target_model.gate(stage) if target_model else None
    if policy is None:
        return GateResult(name, stage, False, False, None)
    if registry is not None and _returns_to_earlier_holder(registry, model, stage, candidate):
        return _rollback_result(name, stage, policy, source, unevaluated)
    return gate_for_model(
        sides.root, policy, model, stage, candidate, baseline, label, source, unevaluated
    )


def _returns_to_earlier_holder(
    registry: RegistryReader, model: ModelConfig, stage: str, candidate: SideFiles
) -> bool:
    """Whether the candidate's artefact is a registered version that held ``stage``
    before: a rollback, by the stage's own assignment history."""
    output = candidate.outputs.get(model.artifact)
    if output is None or not output.md5:
        return False
    state = registry.model_state(model.name)
    version = registry.version_for_md5(state, output.md5)
    holder = registry.stage_holder(state, stage)
    return (
        version is not None
        and (holder is None or holder.version != version.version)
        and state.held_before(stage, version.version)
    )


def _rollback_result(
    model: str,
    stage: str,
    policy: Policy,
    approvals: ReviewSource | NotEvaluated | None,
    unevaluated: Status,
) -> GateResult:
    """Rollbacks skip metric gates (hash, registration and remote checks still apply).

    An approvals rule still applies: the version passed its metric gates when it first
    held the stage, but putting it back is a new decision, and the rule is about who
    takes it.
    """
    rules = [
        RuleResult(
            "rollback: metric gates skipped",
            "a version this stage held before",
            "hash, registration and remote checked on merge",
            "pass",
        )
    ]
    if policy.approvals is not None:
        judged = judge_approvals(policy, approvals)
        rules.append(approval_row(policy.approvals, judged, unevaluated))
    return GateResult(model, stage, True, policy.required, None, tuple(rules))


def _recorded_side(
    sides: SideReader, registry: RegistryReader, model: str, stage: str
) -> tuple[SideFiles | None, str | None]:
    """The files of the version ``stage`` records for ``model`` (None if it holds none)."""
    holder = registry.stage_holder(registry.model_state(model), stage)
    if holder is None:
        return None, None
    label = f"{model}@{holder.version} ({stage})"
    return sides.at_commit(holder.commit, label), label
