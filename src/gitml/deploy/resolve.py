"""From the registry to a :class:`~gitml.deploy.release.Release`: the one place
``gitml deploy`` reads git (through :class:`~gitml.registry.reader.RegistryReader`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.deploy.release import Release
from gitml.deploy.render import Rendered, check_target, render
from gitml.deploy.stage_branch import config_at
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

    The settings come from the ``gitml.yaml`` of the version's registered commit
    (schema-checked), as promotion and rollback commits render it; a stage with no
    recorded version, or a reference that is not a stage, is refused.
    """
    check_target(target)
    ref = parse_ref(text)
    if ref.stage is None:
        raise UsageError(f"{text}: expected MODEL@STAGE (e.g. credit@production)")
    with RegistryReader(root, local=local) as reader:
        _config(reader)
        info = reader.resolve(ref)
        if not info.registered or not info.md5 or not info.artifact or not info.tag:
            raise RegistryError(
                f"{text}: {ModelRef(ref.model, info.version)} has no registered artefact to deploy"
            )
        # The version's own settings, as its promotion commit carries them
        # (gitml.deploy.stage_branch): the same render here and on the stage branch.
        config = config_at(reader, info.commit) or _config(reader)
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
