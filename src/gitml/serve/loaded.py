"""One registered model version in memory: verified bytes, skops-loaded, with its files.

Everything here is read from the version's own commit (signature, card, metrics, even
``gitml.yaml``), never from the working tree: a server that follows
``credit@production`` must validate requests against the signature the served model was
trained with, not the one on whatever branch happens to be checked out.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.config import CONFIG_FILE, ModelConfig, config_from_text
from gitml.documents import parse_text
from gitml.dvcio.fetch import read_output
from gitml.errors import ConfigError, RegistryError
from gitml.registry.fetch import ResolvedArtifact, resolve_artifact
from gitml.registry.model_ref import parse_ref
from gitml.registry.reader import RegistryReader
from gitml.signature import Signature, signature_from_text

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "LoadedModel",
    "VersionFiles",
    "fetch_verified",
    "load_resolved",
    "load_version",
    "read_version_files",
]


@dataclass(frozen=True)
class VersionFiles:
    """The text of a version's companion files, exactly as committed with it."""

    signature_path: str
    signature_text: str
    signature: Signature
    card_path: str | None = None
    card_text: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def card(self) -> dict[str, Any] | None:
        """The parsed model card, if the version has one."""
        if self.card_text is None:
            return None
        document = parse_text(self.card_text, self.card_path or "model card")
        return document if isinstance(document, dict) else None


@dataclass(frozen=True)
class LoadedModel:
    """A fitted model ready to predict, with the registry facts that identify it.

    ``version`` is None only when the reference named a plain git revision
    (``credit@HEAD``) rather than a registered version; ``stage`` is set when the
    reference named a stage (``credit@production``).
    """

    name: str
    version: str | None
    md5: str
    commit: str
    stage: str | None
    model: Any
    signature: Signature
    metrics: Mapping[str, Any]
    card: Mapping[str, Any] | None
    artifact: str = ""
    ref: str = ""

    @property
    def key(self) -> tuple[str | None, str]:
        """What identifies the served bytes: a new version or a new md5 is a new model."""
        return (self.version, self.md5)

    def describe(self) -> dict[str, Any]:
        """Everything but the model object, as JSON-ready data (``GET /metadata``)."""
        return {
            "name": self.name,
            "version": self.version,
            "md5": self.md5,
            "commit": self.commit,
            "stage": self.stage,
            "ref": self.ref,
            "artifact": self.artifact,
            "metrics": dict(self.metrics),
            "card": dict(self.card) if self.card is not None else None,
            "signature": signature_document(self.signature),
        }


def signature_document(signature: Signature) -> dict[str, Any]:
    """The signature as the JSON document its file holds (None-valued keys left out)."""
    features = []
    for feature in signature.features:
        entry: dict[str, Any] = {
            "name": feature.name,
            "type": feature.type,
            "nullable": feature.nullable,
        }
        for key in ("missing_rate", "min", "max"):
            value = getattr(feature, key)
            if value is not None:
                entry[key] = value
        if feature.categories is not None:
            entry["categories"] = list(feature.categories)
        features.append(entry)
    return {
        "name": signature.name,
        "target": signature.target,
        "threshold": signature.threshold,
        "features": features,
    }


def fetch_verified(root: Path | str, resolved: ResolvedArtifact) -> bytes:
    """The artefact's bytes from the DVC cache or remote, checked against its md5."""
    return read_output(root, resolved.path, resolved.commit, resolved.md5)


def _model_config(reader: RegistryReader, resolved: ResolvedArtifact) -> ModelConfig:
    """The model's entry in ``gitml.yaml`` as committed with the version.

    Falls back to the working tree's config when the commit has none (a GTO-only
    history), so older versions still load.
    """
    data = reader.read_blob(resolved.commit, CONFIG_FILE)
    config = (
        config_from_text(data.decode("utf-8"), f"{CONFIG_FILE} at {resolved.commit[:12]}")
        if data
        else reader.config
    )
    if config is None or resolved.model not in config.models:
        raise ConfigError(
            f"{CONFIG_FILE} at {resolved.commit[:12]}: model {resolved.model!r} is not declared, "
            "so its signature is unknown"
        )
    return config.models[resolved.model]


def _read_text(root: Path | str, reader: RegistryReader, commit: str, path: str) -> str | None:
    """A file of ``commit``: from git, or from DVC when ``dvc.lock`` tracks it there."""
    data = reader.read_blob(commit, path)
    if data is None:
        md5 = reader.lock_md5s(commit).get(path)
        if not md5:
            return None
        data = read_output(root, path, commit, md5)
    return data.decode("utf-8")


def read_version_files(
    root: Path | str, resolved: ResolvedArtifact, *, local: bool = False
) -> VersionFiles:
    """Signature (required), card and metrics committed with the resolved version."""
    with RegistryReader(root, local=local) as reader:
        config = _model_config(reader, resolved)
        if not config.signature:
            raise ConfigError(
                f"{CONFIG_FILE}: models.{resolved.model}.signature is not set; serving and "
                "export need the model's signature (features, types, threshold)"
            )
        where = f"{resolved.model} at {resolved.commit[:12]}"
        signature_text = _read_text(root, reader, resolved.commit, config.signature)
        if signature_text is None:
            raise RegistryError(f"{where}: signature file {config.signature} is missing")
        card_text = _read_text(root, reader, resolved.commit, config.card) if config.card else None
        metrics: dict[str, Any] = {}
        for path in config.metrics:
            text = _read_text(root, reader, resolved.commit, path)
            if text is None:
                continue  # a version committed before the metrics file existed
            # Bounded and strict like every document gitml reads (gitml.documents).
            document = parse_text(text, f"{path} at {resolved.commit[:12]}")
            if isinstance(document, dict):
                # Several metrics files merge in declaration order, like the report does.
                metrics.update(document)
    return VersionFiles(
        signature_path=config.signature,
        signature_text=signature_text,
        # Parsed (and schema-checked) here, so a broken signature fails the load,
        # never a request.
        signature=signature_from_text(signature_text, f"{config.signature} in {where}"),
        card_path=config.card if card_text is not None else None,
        card_text=card_text,
        metrics=metrics,
    )


def load_resolved(
    root: Path | str, ref: str, resolved: ResolvedArtifact, *, local: bool = False
) -> LoadedModel:
    """Fetch, verify and skops-load the artefact ``resolved`` names, with its files."""
    from gitml.storage import load_model

    data = fetch_verified(root, resolved)
    files = read_version_files(root, resolved, local=local)
    with tempfile.TemporaryDirectory(prefix="gitml-serve-") as tmp:
        path = Path(tmp) / Path(resolved.path).name
        path.write_bytes(data)
        # load_model re-checks the md5 on the bytes it parses, and refuses any type
        # outside the trusted list: the file is never unpickled.
        model = load_model(path, expected_md5=resolved.md5)
    parsed = parse_ref(ref)
    # A stage reference that resolved to a git revision (``credit@HEAD``) is not a stage.
    stage = parsed.stage if resolved.version is not None else None
    return LoadedModel(
        name=resolved.model,
        version=resolved.version,
        md5=resolved.md5,
        commit=resolved.commit,
        stage=stage,
        model=model,
        signature=files.signature,
        metrics=files.metrics,
        card=files.card,
        artifact=resolved.path,
        ref=ref,
    )


def load_version(root: Path | str, ref: str, *, local: bool = False) -> LoadedModel:
    """Load the model ``ref`` names (``credit@production``: the stage's recorded version).

    A stage follows its latest assignment tag, not the branch tip, so a promotion whose
    checks have not passed yet is never served. The bytes come from the DVC cache or
    remote and must match the registered md5 before skops parses them.
    """
    resolved = resolve_artifact(root, ref, local=local)
    return load_resolved(root, ref, resolved, local=local)
