"""``gitml.yaml`` → a frozen :class:`Config`, validated against the shipped JSON Schema.

The rest of gitml never sees the raw dictionaries: it gets :class:`Config` and
:class:`ModelConfig` values (named tuples: a registry query builds them, and importing
``dataclasses`` would cost more than its work). Config is loaded when a command runs,
never at import.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from gitml.errors import ConfigError
from gitml.files import CONFIG_FILE
from gitml.monitor.source import MonitorData
from gitml.policy.model import Policy, policy_from_dict
from gitml.validation import (
    known_valid,
    packaged_schema,
    parse_text,
    raise_for,
    remember_valid,
    schema_problems,
    valid_marker,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_STAGES = ("staging", "production")
DEFAULT_STAGE_BRANCH = "{stage}"

Direction = Literal["higher", "lower"]


class ModelConfig(NamedTuple):
    """One model of the registry, as declared in ``gitml.yaml``."""

    name: str
    artifact: str
    metrics: tuple[str, ...]
    operational_metrics: tuple[str, ...] = ()
    operational_keys: tuple[str, ...] = ()
    plots: str | None = None
    card: str | None = None
    signature: str | None = None
    description: str = ""
    directions: Mapping[str, Direction] = MappingProxyType({})
    gates: Mapping[str, Policy] = MappingProxyType({})
    data_schema: str | None = None
    baseline: str | None = None

    def gate(self, stage: str) -> Policy | None:
        """The gate of ``stage`` (``main`` for pull requests into main), if one is set."""
        return self.gates.get(stage)


class RetrainConfig(NamedTuple):
    """``retrain:`` in ``gitml.yaml``: where new batches go and how a project adopts one.

    ``data`` is the DVC-tracked directory (``<data>.dvc``) a batch joins; ``adopt`` is an
    optional command (placeholders ``{file}``, the batch, and ``{dir}``, the directory)
    that places the batch there itself, e.g. recording its recipe in ``params.yaml``.
    """

    data: str
    adopt: str | None = None


class Config(NamedTuple):
    """The whole registry configuration of one repository."""

    models: Mapping[str, ModelConfig]
    stages: tuple[str, ...] = DEFAULT_STAGES
    stage_branch: str = DEFAULT_STAGE_BRANCH
    params_file: str | None = None
    params_schema: str | None = None
    drift: Mapping[str, float] = MappingProxyType({})
    monitor_data: MonitorData | None = None
    retrain: RetrainConfig | None = None

    def model(self, name: str) -> ModelConfig:
        """The model called ``name``; a ConfigError lists the known ones otherwise."""
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models)) or "none"
            raise ConfigError(f"{CONFIG_FILE}: unknown model {name!r} (known: {known})") from None

    def branch_for(self, stage: str, model: str) -> str:
        """The branch holding ``stage`` of ``model`` (``production`` or ``production/credit``)."""
        return self.stage_branch.replace("{stage}", stage).replace("{model}", model)

    def direction(self, model: str, metric: str) -> Direction | None:
        """Which way ``metric`` of ``model`` is better, or None when undeclared."""
        return self.models[model].directions.get(metric) if model in self.models else None


def config_from_document(document: Any, file: str = CONFIG_FILE, validate: bool = True) -> Config:
    """Validate a parsed ``gitml.yaml`` and build the frozen Config."""
    if validate:
        raise_for(schema_problems(document, packaged_schema("gitml.schema.json"), file))
    global_directions: dict[str, Direction] = dict(document.get("metrics") or {})
    global_gates = {
        stage: policy_from_dict(raw) for stage, raw in (document.get("gates") or {}).items()
    }
    models = {}
    for name, raw in document["models"].items():
        directions = {**global_directions, **(raw.get("metrics_directions") or {})}
        models[name] = ModelConfig(
            name=name,
            artifact=raw["artifact"],
            metrics=tuple(raw["metrics"]),
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
        )
    stage_branch = document.get("stage_branch", DEFAULT_STAGE_BRANCH)
    if len(models) > 1 and "{model}" not in stage_branch:
        raise ConfigError(
            f"{file}: stage_branch: {stage_branch!r} must contain {{model}} when there are "
            "several models (e.g. '{stage}/{model}'), so promoting one never moves another",
            [(file, "stage_branch", "must contain {model} with several models")],
        )
    params = document.get("params") or {}
    return Config(
        models=models,
        stages=tuple(document.get("stages") or DEFAULT_STAGES),
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
    )


def load_config(root: Path | str = ".") -> Config:
    """Read ``gitml.yaml`` at the repository root ``root``."""
    path = Path(root) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{CONFIG_FILE}: not found in {Path(root).resolve()} "
            "(run `gitml init` to create one, or run gitml from the repository root)"
        ) from None
    return config_from_text(text)


def config_from_text(text: str, file: str = CONFIG_FILE) -> Config:
    """Parse and validate ``gitml.yaml`` text (e.g. read from a git revision).

    Schema validation (and the jsonschema import it needs) runs once per distinct file
    content: a valid file's digest is remembered in the user cache, so registry queries
    and reports on an unchanged config stay fast.
    """
    document = parse_text(text, file)
    if document is None:
        document = {}
    marker = valid_marker(text, "gitml.schema.json")
    already_valid = known_valid(marker)
    config = config_from_document(document, file, validate=not already_valid)
    if not already_valid:
        remember_valid(marker)
    return config
