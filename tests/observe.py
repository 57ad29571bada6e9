"""Writing a recorded drift check into a test repository as ``gitml drift --record`` does
(its tag and record), at a chosen time, for scripted registries without a model to run."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from gitml.registry.observation import (
    Observation,
    ObservationKind,
    observation_message,
    observation_tag,
)
from gitml.registry.reader import RegistryReader

if TYPE_CHECKING:
    from pathlib import Path


def record_drift(
    repo: Path,
    model: str,
    version: str,
    number: int,
    verdict: str,
    when: int,
    *,
    names: tuple[str, ...] = (),
    stage: str | None = "production",
) -> str:
    """Tag ``model@version``'s commit with a drift check at Unix time ``when``; the tag."""
    with RegistryReader(repo, local=True) as reader:
        found = reader.model_state(model).versions[version]
        md5 = reader.version_md5(found)
    assert md5 is not None, f"{model}@{version}: no artefact md5 at its commit"
    seen = Observation(
        ObservationKind.DRIFT, model, version, md5, verdict, 1000, stage=stage, names=names
    )
    tag = observation_tag(ObservationKind.DRIFT, model, number)
    message = observation_message(f"Drift check of {model} {version}: {verdict}", seen)
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{when} +0000"}
    command = ["git", "tag", "-a", tag, found.commit, "-F", "-"]
    subprocess.run(command, cwd=repo, input=message, text=True, check=True, env=env)
    return tag


def record_canary(
    repo: Path,
    model: str,
    version: str,
    against: str,
    number: int,
    verdict: str,
    when: int,
    *,
    stage: str = "production",
    windows: int = 3,
    rule: str = "3 healthy windows in a row",
) -> str:
    """Tag ``model@version``'s commit with a canary decision at Unix time ``when``."""
    with RegistryReader(repo, local=True) as reader:
        found = reader.model_state(model).versions[version]
        md5 = reader.version_md5(found)
    assert md5 is not None, f"{model}@{version}: no artefact md5 at its commit"
    seen = Observation(
        ObservationKind.CANARY, model, version, md5, verdict, 750, stage=stage,
        against=against, windows=windows, rule=rule,
    )  # fmt: skip
    tag = observation_tag(ObservationKind.CANARY, model, number)
    message = observation_message(f"Canary of {model} {version}: {verdict}", seen)
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{when} +0000"}
    command = ["git", "tag", "-a", tag, found.commit, "-F", "-"]
    subprocess.run(command, cwd=repo, input=message, text=True, check=True, env=env)
    return tag
