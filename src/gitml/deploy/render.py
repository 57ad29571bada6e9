"""Render a stage for a target: the build context plus the target's manifests, as file
name → text. Pure: the same release and settings give the same bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.deploy import kserve, kubernetes
from gitml.deploy.context import build_context
from gitml.deploy.settings import TARGETS
from gitml.deploy.yaml_out import manifest_text
from gitml.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.canary.policy import CanaryPolicy
    from gitml.deploy.release import Release
    from gitml.deploy.settings import StageDeploy


@dataclass(frozen=True)
class Rendered:
    """What ``gitml deploy render`` writes: relative path → text, and what it describes."""

    release: Release
    target: str
    directory: str  # the configured directory (``deploy.directory``) for the stage
    image: str
    canary_percent: int | None
    files: Mapping[str, str]


def check_target(target: str) -> str:
    """``target`` if it is one gitml renders; a UsageError listing them otherwise."""
    if target not in TARGETS:
        raise UsageError(f"--target: unknown target {target!r} (targets: {', '.join(TARGETS)})")
    return target


def render(
    release: Release, settings: StageDeploy, target: str, canary: CanaryPolicy | None = None
) -> Rendered:
    """The files of ``release`` for ``target``: build context at the top, manifests under
    ``<target>/`` (so both targets can live in one stage directory)."""
    check_target(target)
    header = (
        f"Rendered by `gitml deploy render {release.model}@{release.stage} --target {target}` "
        f"from {release.tag} (md5 {release.md5}); do not edit."
    )
    canary_percent = kserve.canary_traffic_percent(canary) if target == "kserve" else None
    if target == "kserve":
        objects = kserve.manifests(release, settings, canary_percent)
    else:
        objects = kubernetes.manifests(release, settings)
    files = dict(build_context(release, settings))
    for name, document in sorted(objects.items()):
        files[f"{target}/{name}"] = manifest_text(document, header)
    return Rendered(
        release=release,
        target=target,
        directory=settings.directory_of(release.model),
        image=kubernetes.image_reference(release, settings),
        canary_percent=canary_percent,
        files=dict(sorted(files.items())),
    )
