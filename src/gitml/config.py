"""``gitml.yaml`` → a frozen :class:`Config`, validated against the shipped JSON Schema.

The rest of gitml never sees the raw dictionaries: it gets frozen :class:`Config` and
:class:`ModelConfig` values. Config is loaded when a command runs, never at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gitml.canary.policy import policies_from_document
from gitml.deploy.settings import DeploySettings, check_document
from gitml.documents import packaged_schema, parse_text, raise_for, schema_problems
from gitml.errors import ConfigError
from gitml.files import CONFIG_FILE
from gitml.metric_directions import Direction, direction_of
from gitml.monitor.source import MonitorData
from gitml.policy.model import Policy, policy_from_dict

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.canary.policy import CanaryPolicy
    from gitml.deploy.settings import StageDeploy
    from gitml.dvcio.plot_specs import PlotSpec

DEFAULT_STAGES = ("staging", "production")
DEFAULT_STAGE_BRANCH = "{stage}"

__all__ = [
    "CONFIG_FILE",
    "Config",
    "Direction",
    "FairnessConfig",
    "ModelConfig",
    "RetrainConfig",
]


@dataclass(frozen=True)
class ModelConfig:
    """One model of the registry, as declared in ``gitml.yaml`` or inferred from
    ``dvc.yaml`` (see :mod:`gitml.zero_config`).

    ``directions`` holds what ``gitml.yaml`` declares; :meth:`direction` also reads
    well-known names. ``plot_specs`` are the plots ``dvc.yaml`` declares for the model.
    """

    name: str
    artifact: str
    metrics: tuple[str, ...]
    operational_metrics: tuple[str, ...] = ()
    operational_keys: tuple[str, ...] = ()
    plots: str | None = None
    card: str | None = None
    signature: str | None = None
    description: str = ""
    directions: Mapping[str, Direction] = field(default_factory=lambda: MappingProxyType({}))
    gates: Mapping[str, Policy] = field(default_factory=lambda: MappingProxyType({}))
    data_schema: str | None = None
    baseline: str | None = None
    plot_specs: tuple[PlotSpec, ...] = ()
    plot_notes: tuple[str, ...] = ()  # the dvc.yaml plots gitml cannot draw, and why
    fairness: FairnessConfig | None = None

    def direction(self, metric: str) -> Direction | None:
        """Which way ``metric`` is better: declared, else implied by its name, else None."""
        return direction_of(metric, self.directions)

    def gate(self, stage: str) -> Policy | None:
        """The gate of ``stage`` (``main`` for pull requests into main), if one is set."""
        return self.gates.get(stage)


@dataclass(frozen=True)
class FairnessConfig:
    """``fairness:`` of a model: the columns whose groups are compared, where the
    pipeline writes the per-group report, and the fewest rows a group may have."""

    segments: tuple[str, ...]
    report: str | None = None
    min_group_rows: int = 30


@dataclass(frozen=True)
class RetrainConfig:
    """``retrain:`` in ``gitml.yaml``: where new batches go and how a project adopts one.

    ``data`` is the DVC-tracked directory (``<data>.dvc``) a batch joins; ``adopt`` is an
    optional command (placeholders ``{file}``, the batch, and ``{dir}``, the directory)
    that places the batch there itself, e.g. recording its recipe in ``params.yaml``.
    """

    data: str
    adopt: str | None = None


@dataclass(frozen=True)
class Config:
    """The whole registry configuration of one repository."""

    models: Mapping[str, ModelConfig]
    stages: tuple[str, ...] = DEFAULT_STAGES
    stage_branch: str = DEFAULT_STAGE_BRANCH
    params_file: str | None = None
    params_schema: str | None = None
    drift: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    monitor_data: MonitorData | None = None
    retrain: RetrainConfig | None = None
    accept_gto_tags: bool = False  # believe tags without a gitml record, as GTO does
    writers: tuple[str, ...] = ()  # tagger emails allowed to write records (empty: anyone)
    declared: bool = True  # False: no gitml.yaml, everything inferred from dvc.yaml
    canaries: Mapping[str, CanaryPolicy] = field(default_factory=lambda: MappingProxyType({}))
    deploy_settings: DeploySettings = field(default_factory=DeploySettings)

    def model(self, name: str) -> ModelConfig:
        """The model called ``name``; a ConfigError lists the known ones otherwise."""
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models)) or "none"
            raise ConfigError(f"{CONFIG_FILE}: unknown model {name!r} (known: {known})") from None

    def canary(self, stage: str) -> CanaryPolicy | None:
        """The canary policy of a candidate heading for ``stage`` (``canary.<stage>``)."""
        return self.canaries.get(stage)

    def deploy(self, stage: str) -> StageDeploy:
        """How ``stage`` runs on a cluster (``deploy:`` with ``deploy.stages.<stage>`` laid
        over it); a ConfigError naming the key when a setting rendering needs is missing."""
        return self.deploy_settings.for_stage(stage)

    def branch_for(self, stage: str, model: str) -> str:
        """The branch holding ``stage`` of ``model`` (``production`` or ``production/credit``)."""
        return self.stage_branch.replace("{stage}", stage).replace("{model}", model)

    def direction(self, model: str, metric: str) -> Direction | None:
        """Which way ``metric`` of ``model`` is better, or None when no one can tell."""
        return self.models[model].direction(metric) if model in self.models else None


def config_from_document(document: Any, file: str = CONFIG_FILE, validate: bool = True) -> Config:
    """Validate a parsed ``gitml.yaml`` (unless told not to) and build the frozen Config.

    Without validation, a document of the wrong shape is still one ConfigError naming the
    file and the first thing that did not fit, never a traceback.
    """
    if validate:
        raise_for(schema_problems(document, packaged_schema("gitml.schema.json"), file))
    try:
        return _build_config(document, file)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        detail = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        raise ConfigError(
            f"{file}: not a gitml configuration ({detail}); `gitml validate` lists every problem"
        ) from None


def _build_config(document: Any, file: str) -> Config:
    global_directions: dict[str, Direction] = dict(document.get("metrics") or {})
    global_gates = {
        stage: policy_from_dict(raw) for stage, raw in (document.get("gates") or {}).items()
    }
    models = {}
    for name, raw in (document.get("models") or {}).items():
        directions = {**global_directions, **(raw.get("metrics_directions") or {})}
        if not raw.get("artifact"):
            raise ConfigError(
                f"{file}: models.{name}.artifact: not set, and dvc.yaml declares no artifact "
                f"{name!r} (add `artifacts: {{{name}: {{path: PATH, type: model}}}}` to "
                "dvc.yaml, or `artifact: PATH` here)",
                [(file, f"models.{name}.artifact", "not set and not declared in dvc.yaml")],
            )
        models[name] = ModelConfig(
            name=name,
            artifact=raw["artifact"],
            metrics=tuple(raw.get("metrics") or ()),
            operational_metrics=tuple(raw.get("operational_metrics") or ()),
            operational_keys=tuple(raw.get("operational_keys") or ()),
            plots=raw.get("plots"),
            card=raw.get("card"),
            signature=raw.get("signature"),
            description=raw.get("description", ""),
            directions=directions,
            gates={
                **global_gates,
                **{s: policy_from_dict(p) for s, p in (raw.get("gates") or {}).items()},
            },
            data_schema=raw.get("data_schema"),
            baseline=raw.get("baseline"),
            fairness=_fairness(raw.get("fairness")),
        )
    stage_branch = document.get("stage_branch", DEFAULT_STAGE_BRANCH)
    if len(models) > 1 and "{model}" not in stage_branch:
        raise ConfigError(
            f"{file}: stage_branch: {stage_branch!r} must contain {{model}} when there are "
            "several models (e.g. '{stage}/{model}'), so promoting one never moves another",
            [(file, "stage_branch", "must contain {model} with several models")],
        )
    params = document.get("params") or {}
    stages = tuple(document.get("stages") or DEFAULT_STAGES)
    return Config(
        models=models,
        stages=stages,
        stage_branch=stage_branch,
        params_file=params.get("file"),
        params_schema=params.get("schema"),
        drift=dict(document.get("drift") or {}),
        monitor_data=MonitorData.from_document((document.get("monitor") or {}).get("data")),
        retrain=(
            RetrainConfig(document["retrain"]["data"], document["retrain"].get("adopt"))
            if document.get("retrain")
            else None
        ),
        accept_gto_tags=(document.get("registry") or {}).get("accept_gto_tags") is True,
        writers=tuple(str(email) for email in (document.get("registry") or {}).get("writers", ())),
        canaries=policies_from_document(document.get("canary"), stages, file),
        deploy_settings=check_document(document.get("deploy"), stages, file),
    )


def _fairness(raw: Any) -> FairnessConfig | None:
    if not raw:
        return None
    return FairnessConfig(
        segments=tuple(raw["segments"]),
        report=raw.get("report"),
        min_group_rows=raw.get("min_group_rows", FairnessConfig.min_group_rows),
    )


def config_from_text(text: str, file: str = CONFIG_FILE, *, validate: bool = True) -> Config:
    """Parse ``gitml.yaml`` text (e.g. read from a git revision) into the frozen Config.

    ``validate`` checks it against the shipped JSON Schema first, naming every problem:
    the commands that judge or write do. Read-only queries skip the schema (and the
    jsonschema import) and still get a one-line error for a file they cannot read.
    """
    document = parse_text(text, file)
    if document is None:
        document = {}
    return config_from_document(document, file, validate=validate)
