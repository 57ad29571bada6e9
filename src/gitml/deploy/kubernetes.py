"""A stage as plain Kubernetes objects: Deployment, Service, HorizontalPodAutoscaler and
PodDisruptionBudget, as dictionaries ready for :mod:`gitml.deploy.yaml_out`.

The pods run the image built from the rendered context (:mod:`gitml.deploy.context`) as
an unprivileged user on a read-only root filesystem; ``/tmp`` is the one writable place
(an ``emptyDir``), which is where ``HOME`` points so caches have somewhere to go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml.deploy.context import SERVICE_UID

if TYPE_CHECKING:
    from gitml.deploy.release import Release
    from gitml.deploy.settings import StageDeploy

CONTAINER_NAME = "predictor"
# Where each pod writes its prediction log when deploy.log_claim is set: one file per pod
# (``{host}`` is the pod's name), all on one ReadWriteMany volume `gitml drift` reads.
LOG_DIR = "/var/log/gitml"
LOG_FILE = f"{LOG_DIR}/predictions-{{host}}.jsonl"
LOG_VOLUME = "prediction-logs"
PORT_NAME = "http"
HEALTH_PATH = "/health"


def metadata(release: Release, settings: StageDeploy) -> dict[str, Any]:
    """Name, namespace, labels and annotations every object carries."""
    return {
        "annotations": release.annotations(),
        "labels": release.labels(),
        "name": release.name,
        "namespace": settings.namespace,
    }


def image_reference(release: Release, settings: StageDeploy) -> str:
    """The image the pods run: the configured repository, tagged by model and version."""
    return f"{settings.image}:{release.image_tag}"


def _probe(period: int, failures: int) -> dict[str, Any]:
    return {
        "failureThreshold": failures,
        "httpGet": {"path": HEALTH_PATH, "port": PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
    }


def container(
    release: Release, settings: StageDeploy, name: str = CONTAINER_NAME
) -> dict[str, Any]:
    """The serving container: the image's entrypoint, probes on /health, locked down;
    with ``deploy.log_claim``, its prediction log on the claim (arguments after the
    image's entrypoint)."""
    mounts = [{"mountPath": "/tmp", "name": "tmp"}]
    extra: dict[str, Any] = {}
    if settings.log_claim:
        mounts.append({"mountPath": LOG_DIR, "name": LOG_VOLUME})
        extra["args"] = ["--log", LOG_FILE]
    return {
        **extra,
        "env": [{"name": "HOME", "value": "/tmp"}],
        "image": image_reference(release, settings),
        "imagePullPolicy": "IfNotPresent",
        # Ready once the model is loaded and answering; alive while /health answers at all.
        "livenessProbe": _probe(period=10, failures=3),
        "name": name,
        "ports": [{"containerPort": settings.port, "name": PORT_NAME, "protocol": "TCP"}],
        "readinessProbe": _probe(period=5, failures=3),
        "resources": settings.resources.to_dict(),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # A model can take a while to load; give it up to 2 minutes before liveness counts.
        "startupProbe": _probe(period=2, failures=60),
        "volumeMounts": mounts,
    }


def pod_security_context() -> dict[str, Any]:
    """The pod's identity: the image's unprivileged user, never root."""
    return {
        "fsGroup": SERVICE_UID,
        "runAsGroup": SERVICE_UID,
        "runAsNonRoot": True,
        "runAsUser": SERVICE_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def tmp_volume() -> dict[str, Any]:
    """The one writable place: a small in-pod scratch directory mounted at /tmp."""
    return {"emptyDir": {"sizeLimit": "256Mi"}, "name": "tmp"}


def volumes(settings: StageDeploy) -> list[dict[str, Any]]:
    """The pod's volumes: /tmp, and the prediction logs' claim when there is one."""
    found = [tmp_volume()]
    if settings.log_claim:
        found.append(
            {"name": LOG_VOLUME, "persistentVolumeClaim": {"claimName": settings.log_claim}}
        )
    return found


def deployment(release: Release, settings: StageDeploy) -> dict[str, Any]:
    """The Deployment; ``replicas`` is left to the autoscaler, which owns it (a value here
    would be reapplied by GitOps on every sync and fight the autoscaler)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(release, settings),
        "spec": {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": release.selector()},
            # A new version's pods must be ready before an old one goes: no capacity dip.
            "strategy": {
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
                "type": "RollingUpdate",
            },
            "template": {
                "metadata": {"annotations": release.annotations(), "labels": release.labels()},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [container(release, settings)],
                    "securityContext": pod_security_context(),
                    "terminationGracePeriodSeconds": 30,
                    "volumes": volumes(settings),
                },
            },
        },
    }


def service(release: Release, settings: StageDeploy) -> dict[str, Any]:
    """A ClusterIP Service on port 80 in front of the ready pods."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(release, settings),
        "spec": {
            "ports": [{"name": PORT_NAME, "port": 80, "protocol": "TCP", "targetPort": PORT_NAME}],
            "selector": release.selector(),
            "type": "ClusterIP",
        },
    }


def autoscaler(release: Release, settings: StageDeploy) -> dict[str, Any]:
    """An autoscaling/v2 HorizontalPodAutoscaler between replicas and max_replicas on CPU."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(release, settings),
        "spec": {
            "maxReplicas": settings.max_replicas,
            "metrics": [
                {
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "averageUtilization": settings.target_cpu,
                            "type": "Utilization",
                        },
                    },
                    "type": "Resource",
                }
            ],
            "minReplicas": settings.replicas,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": release.name},
        },
    }


def disruption_budget(release: Release, settings: StageDeploy) -> dict[str, Any]:
    """A policy/v1 PodDisruptionBudget: node drains take one pod at a time (``maxUnavailable``
    rather than ``minAvailable``, so a single-replica stage can still be drained)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(release, settings),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": release.selector()}},
    }


def manifests(release: Release, settings: StageDeploy) -> dict[str, dict[str, Any]]:
    """Every object of the ``kubernetes`` target by file name."""
    return {
        "deployment.yaml": deployment(release, settings),
        "hpa.yaml": autoscaler(release, settings),
        "pdb.yaml": disruption_budget(release, settings),
        "service.yaml": service(release, settings),
    }
