"""From the registry to a :class:`~gitml.deploy.release.Release`: the one place
``gitml deploy`` reads git (through :class:`~gitml.registry.reader.RegistryReader`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.deploy.release import Release
from gitml.deploy.render import Rendered, check_target, render
from gitml.errors import ConfigError, RegistryError, UsageError
from gitml.files import CONFIG_FILE
from gitml.registry.model_ref import ModelRef, parse_ref
from gitml.registry.reader import RegistryReader

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.config import Config


def render_stage(
    text: str, target: str, *, root: Path | str = ".", local: bool = False
) -> Rendered:
    """Render ``MODEL@STAGE`` for ``target`` from the version the stage has recorded.

    The settings come from ``gitml.yaml`` as the registry reads it (schema-checked); a
    stage with no recorded version, or a reference that is not a stage, is refused.
    """
    check_target(target)
    ref = parse_ref(text)
    if ref.stage is None:
        raise UsageError(f"{text}: expected MODEL@STAGE (e.g. credit@production)")
    with RegistryReader(root, local=local) as reader:
        config = _config(reader)
        info = reader.resolve(ref)
        if not info.registered or not info.md5 or not info.artifact or not info.tag:
            raise RegistryError(
                f"{text}: {ModelRef(ref.model, info.version)} has no registered artefact to deploy"
            )
    release = Release(
        model=ref.model,
        version=info.version,
        md5=info.md5,
        commit=info.commit,
        tag=info.tag,
        artifact=info.artifact,
        stage=ref.stage,
    )
    return render(release, config.deploy(ref.stage), target, config.canary(ref.stage))


def _config(reader: RegistryReader) -> Config:
    config = reader.config
    if config is None:
        raise ConfigError(f"{CONFIG_FILE}: not found; the deploy: section says how to render")
    return config
