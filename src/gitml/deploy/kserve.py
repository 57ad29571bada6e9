"""A stage as a KServe ``InferenceService`` (``serving.kserve.io/v1beta1``): a custom
predictor running the image built from the rendered context.

KServe's canary works per rollout: when the predictor changes (a new version's image),
``canaryTrafficPercent`` sends that share to the new revision and the rest to the last
ready one. The stage's canary policy (``gitml.yaml`` ``canary.<stage>.percent``) sets it,
so the promotion PR that changes the version is also the one that starts the canary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml.deploy.kubernetes import container, metadata, pod_security_context, volumes
from gitml.errors import ConfigError
from gitml.files import CONFIG_FILE

if TYPE_CHECKING:
    from gitml.canary.policy import CanaryPolicy
    from gitml.deploy.release import Release
    from gitml.deploy.settings import StageDeploy

# KServe's name for the one container of a custom predictor.
KSERVE_CONTAINER = "kserve-container"


def canary_traffic_percent(policy: CanaryPolicy | None, file: str = CONFIG_FILE) -> int | None:
    """``canaryTrafficPercent`` for a stage's canary policy (None: no canary).

    KServe takes a whole percentage from 0 to 100; the policy's share must be one.
    """
    if policy is None:
        return None
    percent = policy.percent
    key = f"canary.{policy.stage}.percent"
    if not 0 <= percent <= 100 or percent != int(percent):
        raise ConfigError(
            f"{file}: {key}: expected a whole number from 0 to 100 for KServe's "
            f"canaryTrafficPercent, got {percent:g}",
            [(file, key, "a whole number from 0 to 100")],
        )
    return int(percent)


def inference_service(
    release: Release, settings: StageDeploy, canary_percent: int | None
) -> dict[str, Any]:
    """The InferenceService of a stage."""
    predictor: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "containers": [container(release, settings, name=KSERVE_CONTAINER)],
        "maxReplicas": settings.max_replicas,
        "minReplicas": settings.replicas,
        "securityContext": pod_security_context(),
        "volumes": volumes(settings),
    }
    if canary_percent is not None:
        predictor["canaryTrafficPercent"] = canary_percent
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata(release, settings),
        "spec": {"predictor": predictor},
    }


def manifests(
    release: Release, settings: StageDeploy, canary_percent: int | None
) -> dict[str, dict[str, Any]]:
    """Every object of the ``kserve`` target by file name."""
    return {"inferenceservice.yaml": inference_service(release, settings, canary_percent)}
