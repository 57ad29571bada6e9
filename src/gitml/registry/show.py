"""``gitml show``: one version with its metrics, params, training data and model card;
or, for a bare model name, every version of the model (as ``gto show MODEL``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.registry.model_ref import parse_ref
from gitml.registry.reader import RegistryReader

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from gitml.registry.model_ref import ModelRef
    from gitml.registry.records import HeldAt, ModelVersions, VersionInfo


@dataclass(frozen=True)
class VersionDetails:
    """A version and what its registered commit says about it."""

    info: VersionInfo
    metrics: dict[str, Any]
    params: dict[str, Any]
    training_data_md5: str | None
    card: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: the version record plus metrics, params, training_data_md5, card."""
        return {
            **self.info.to_dict(),
            "metrics": self.metrics,
            "params": self.params,
            "training_data_md5": self.training_data_md5,
            "card": self.card,
        }


@dataclass(frozen=True)
class StageAt:
    """What ``MODEL@STAGE`` held at an instant (``gitml show MODEL@STAGE --at DATE``)."""

    model: str
    at: datetime
    held: HeldAt
    details: VersionDetails | None  # None: nothing held then

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{model, at, stage, held, version, assigned_at, deregistered,
        details}``; ``details`` is the version as ``gitml show MODEL@vX.Y.Z --json`` gives
        it (``stages``: what it holds now), or null with ``held`` false."""
        return {
            "model": self.model,
            "at": self.at.isoformat(),
            **self.held.to_dict(),
            "details": self.details.to_dict() if self.details else None,
        }


def _document(reader: RegistryReader, commit: str, path: str | None) -> Any:
    from gitml.documents import parse_text

    if not path:
        return None
    data = reader.read_blob(commit, path)
    return parse_text(data.decode("utf-8", "replace"), f"{path} at {commit[:12]}") if data else None


def show(root: Path | str, text: str, *, local: bool = False) -> VersionDetails:
    """Resolve ``text`` and read the version's metrics, params and card from its commit."""
    ref = parse_ref(text)
    with RegistryReader(root, local=local) as reader:
        return _details(reader, ref)


def show_at(root: Path | str, text: str, instant: datetime, *, local: bool = False) -> StageAt:
    """What the stage ``text`` names (``credit@production``) held at ``instant``, in full.

    A version reference, ``latest`` or a bare model name is a UsageError: only a stage's
    holder changes over time.
    """
    from gitml.errors import RegistryError, UsageError

    ref = parse_ref(text)
    if ref.stage is None:
        raise UsageError(
            f"--at needs MODEL@STAGE, got {text.strip()!r}: only stages change over time"
        )
    with RegistryReader(root, local=local) as reader:
        state = reader.model_state(ref.model)
        stages = reader.known_stages()
        if ref.stage not in stages:
            raise RegistryError(
                f"{ref}: unknown stage {ref.stage!r} (stages: {', '.join(stages) or 'none'})"
            )
        held = reader.held_at(state, ref.stage, instant)
        details = None
        if held.version is not None:
            # The version record as of now (a commit assigned without a version tag too).
            info = reader.version_info(state.versions[held.version])
            details = _details_of(reader, info)
        return StageAt(ref.model, instant, held, details)


def names_a_model(text: str) -> bool:
    """Whether ``text`` is a bare model name (``credit``), which ``gitml show`` answers
    with every version, rather than a reference to one (``credit@latest``, ``credit#prod``)."""
    ref = parse_ref(text)
    return ref.latest and "@" not in text and "#" not in text


def versions(root: Path | str, model: str, *, local: bool = False) -> ModelVersions:
    """Every version of ``model``: registered ones greatest first (deregistered included,
    marked), then commits assigned to a stage without a version tag."""
    with RegistryReader(root, local=local) as reader:
        return reader.versions(model)


def _details(reader: RegistryReader, ref: ModelRef) -> VersionDetails:
    return _details_of(reader, reader.resolve(ref))


def _details_of(reader: RegistryReader, info: VersionInfo) -> VersionDetails:
    from gitml.report.values import flatten

    model = reader.config.models.get(info.model) if reader.config else None
    metrics: dict[str, Any] = {}
    params: dict[str, Any] = {}
    card = None
    if model is not None:
        for file in model.metrics:
            document = _document(reader, info.commit, file)
            if isinstance(document, dict):
                metrics.update(flatten(document))
        params_doc = _document(
            reader,
            info.commit,
            (reader.config.params_file if reader.config else None) or "params.yaml",
        )
        params = flatten(params_doc) if isinstance(params_doc, dict) else {}
        card_doc = _document(reader, info.commit, model.card)
        card = card_doc if isinstance(card_doc, dict) else None
    training = card.get("training_data") if card else None
    training_md5 = training.get("md5") if isinstance(training, dict) else None
    return VersionDetails(info, metrics, params, training_md5, card)
