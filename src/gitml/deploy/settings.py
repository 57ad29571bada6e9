"""``gitml.yaml`` ``deploy:``: how a stage runs on a cluster, parsed once into frozen values.

```yaml
deploy:
  base_image: python:3.11-slim@sha256:<64 hex>   # pinned by digest: the same bytes every build
  image: ghcr.io/acme/credit                     # where the built image is pushed
  namespace: ml
  replicas: 2                                    # the autoscaler's floor
  max_replicas: 6                                # its ceiling (default: twice replicas)
  target_cpu: 70                                 # average CPU use it scales towards, percent
  port: 8080
  directory: deploy/{stage}                      # where the rendered files go ({model} too)
  targets: [kubernetes]                          # what promotion pull requests render there
  log_claim: gitml-logs                          # a ReadWriteMany claim: a prediction log per pod
  resources:
    requests: {cpu: 250m, memory: 512Mi}
    limits: {cpu: "1", memory: 1Gi}
  stages:
    production: {replicas: 3, resources: {limits: {memory: 2Gi}}}
```

The JSON Schema says the same for ``gitml validate``; this module checks again (it also
compares requests with limits, which a schema cannot), one line naming the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gitml.deploy.quantity import parse_quantity, quantity_text
from gitml.errors import ConfigError
from gitml.files import CONFIG_FILE

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_PORT = 8080
DEFAULT_DIRECTORY = "deploy/{stage}"
DEFAULT_REPLICAS = 2
DEFAULT_TARGET_CPU = 70
RESOURCE_NAMES = ("cpu", "memory")
# Pinned by digest: a tag can be moved to other bytes, a sha256 digest cannot.
_PINNED_IMAGE = re.compile(r"[a-z0-9][a-z0-9._/:-]*(?::[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}")
# An image reference without tag or digest: registry host, optional port, path.
_REPOSITORY = re.compile(
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+"
)
# A namespace is a DNS-1123 label.
_NAMESPACE = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
_KEYS = (
    "base_image", "image", "namespace", "replicas", "max_replicas", "target_cpu", "port",
    "directory", "targets", "log_claim", "resources", "stages",
)  # fmt: skip
# What gitml renders (``gitml deploy render --target``; ``deploy.targets`` in the loop).
TARGETS = ("kubernetes", "kserve")
DEFAULT_TARGETS = ("kubernetes",)
_STAGE_KEYS = ("namespace", "replicas", "max_replicas", "target_cpu", "resources", "log_claim")
# A PersistentVolumeClaim's name is a DNS-1123 subdomain.
_CLAIM = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")


@dataclass(frozen=True)
class Resources:
    """Requests and limits by resource name (``cpu``, ``memory``), as quantity strings."""

    requests: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    limits: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, dict[str, str]]:
        """The Kubernetes ``resources`` object (empty parts left out)."""
        return {
            part: dict(sorted(values.items()))
            for part, values in (("limits", self.limits), ("requests", self.requests))
            if values
        }


@dataclass(frozen=True)
class StageDeploy:
    """The settings one stage is rendered with (the defaults, with its overrides)."""

    stage: str
    base_image: str
    image: str
    namespace: str
    replicas: int
    max_replicas: int
    target_cpu: int
    port: int
    directory: str  # {stage} replaced; {model} is replaced by :meth:`directory_of`
    resources: Resources
    targets: tuple[str, ...] = DEFAULT_TARGETS
    log_claim: str | None = None  # where each pod writes its prediction log, if anywhere

    def directory_of(self, model: str) -> str:
        """Where ``model``'s rendered files for this stage go, relative to the root."""
        return self.directory.replace("{model}", model)


@dataclass(frozen=True)
class DeploySettings:
    """The whole ``deploy:`` section, unresolved: call :meth:`for_stage`."""

    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    file: str = CONFIG_FILE

    @property
    def configured(self) -> bool:
        """Whether ``gitml.yaml`` has a ``deploy:`` section: then promotion and rollback
        pull requests carry the rendered stage, and a stage branch without it is refused."""
        return bool(self.raw)

    def for_stage(self, stage: str) -> StageDeploy:
        """The settings of ``stage``; a ConfigError naming the key when one is missing."""
        return _stage_settings(dict(self.raw), stage, self.file)


def _error(
    file: str, path: str, expected: str, value: Any = None, shown: bool = True
) -> ConfigError:
    got = f", got {value!r}" if shown else ""
    return ConfigError(f"{file}: {path}: expected {expected}{got}", [(file, path, expected)])


def _mapping(raw: Any, file: str, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _error(file, path, "a mapping", raw)
    unknown = sorted(str(k) for k in raw if k not in keys)
    if unknown:
        raise _error(
            file, path, f"only {', '.join(keys)} (unknown: {', '.join(unknown)})", shown=False
        )
    return raw


def _integer(raw: Any, file: str, path: str, low: int, high: int) -> int:
    if type(raw) is not int or not low <= raw <= high:
        raise _error(file, path, f"an integer from {low} to {high}", raw)
    return raw


def _resources(raw: Any, file: str, path: str) -> Resources:
    body = _mapping(raw, file, path, ("requests", "limits"))
    parts: dict[str, dict[str, str]] = {}
    for part in ("requests", "limits"):
        values = _mapping(body.get(part) or {}, file, f"{path}.{part}", RESOURCE_NAMES)
        parts[part] = {}
        for name, value in values.items():
            text = quantity_text(value)
            if text is None:
                raise _error(
                    file, f"{path}.{part}.{name}",
                    "a Kubernetes quantity such as 500m, 1, 512Mi or 1Gi", value,
                )  # fmt: skip
            parts[part][name] = text
    for name, request in parts["requests"].items():
        limit = parts["limits"].get(name)
        # The API server refuses a pod whose request exceeds its limit.
        if limit is not None and parse_quantity(request) > parse_quantity(limit):  # type: ignore[operator]
            raise _error(file, f"{path}.requests.{name}", f"at most the limit {limit}", request)
    return Resources(MappingProxyType(parts["requests"]), MappingProxyType(parts["limits"]))


def _merged_resources(base: Any, override: Any) -> Any:
    """``deploy.resources`` with a stage's ``resources`` laid over it, key by key."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override if override is not None else base
    merged = {part: dict(values) for part, values in base.items() if isinstance(values, dict)}
    for part, values in override.items():
        if isinstance(values, dict):
            merged[part] = {**merged.get(part, {}), **values}
        else:
            merged[part] = values
    return merged


def check_document(raw: Any, stages: tuple[str, ...], file: str = CONFIG_FILE) -> DeploySettings:
    """Check a ``deploy:`` section's shape and every value it sets (None: an empty one)."""
    if raw is None:
        return DeploySettings(file=file)
    body = _mapping(raw, file, "deploy", _KEYS)
    for stage, override in (body.get("stages") or {}).items():
        if stage not in stages:
            raise _error(
                file,
                f"deploy.stages.{stage}",
                f"one of the stages ({', '.join(stages)})",
                shown=False,
            )
        _mapping(override, file, f"deploy.stages.{stage}", _STAGE_KEYS)
    settings = DeploySettings(MappingProxyType(dict(body)), file)
    for stage in stages:
        _stage_settings(dict(body), stage, file, require_images=False)
    return settings


def _stage_settings(
    body: dict[str, Any], stage: str, file: str, *, require_images: bool = True
) -> StageDeploy:
    override = (body.get("stages") or {}).get(stage) or {}

    def pick(key: str, default: Any) -> tuple[Any, str]:
        if key in override:
            return override[key], f"deploy.stages.{stage}.{key}"
        return body.get(key, default), f"deploy.{key}"

    base_image = body.get("base_image")
    if base_image is None and require_images:
        raise _error(file, "deploy.base_image", "a base image pinned by digest "
                     "(e.g. python:3.11-slim@sha256:<64 hex>)", shown=False)  # fmt: skip
    if base_image is not None and (
        not isinstance(base_image, str) or not _PINNED_IMAGE.fullmatch(base_image)
    ):
        raise _error(
            file,
            "deploy.base_image",
            "an image pinned by digest, NAME[:TAG]@sha256:<64 hex>",
            base_image,
        )
    image = body.get("image")
    if image is None and require_images:
        raise _error(
            file,
            "deploy.image",
            "the registry/repository the built image is pushed to",
            shown=False,
        )
    if image is not None and (not isinstance(image, str) or not _REPOSITORY.fullmatch(image)):
        raise _error(
            file,
            "deploy.image",
            "REGISTRY/REPOSITORY without tag or digest (e.g. ghcr.io/acme/credit)",
            image,
        )
    namespace, namespace_at = pick("namespace", "default")
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise _error(
            file,
            namespace_at,
            "a Kubernetes namespace (lowercase letters, digits, '-', at most 63)",
            namespace,
        )
    replicas_raw, replicas_at = pick("replicas", DEFAULT_REPLICAS)
    replicas = _integer(replicas_raw, file, replicas_at, 1, 1000)
    ceiling_raw, ceiling_at = pick("max_replicas", 2 * replicas)
    max_replicas = _integer(ceiling_raw, file, ceiling_at, replicas, 1000)
    target_raw, target_at = pick("target_cpu", DEFAULT_TARGET_CPU)
    target_cpu = _integer(target_raw, file, target_at, 1, 100)
    # A non-root process cannot bind below 1024.
    port = _integer(body.get("port", DEFAULT_PORT), file, "deploy.port", 1024, 65535)
    directory = body.get("directory", DEFAULT_DIRECTORY)
    if (
        not isinstance(directory, str)
        or not directory
        or directory.startswith("/")
        or ".." in directory.split("/")
    ):
        raise _error(
            file,
            "deploy.directory",
            "a relative path inside the repository (e.g. deploy/{stage})",
            directory,
        )
    targets_raw = body.get("targets", list(DEFAULT_TARGETS))
    if (
        not isinstance(targets_raw, list)
        or not targets_raw
        or any(t not in TARGETS for t in targets_raw)
        or len(set(targets_raw)) != len(targets_raw)
    ):
        raise _error(
            file, "deploy.targets", f"a list of distinct targets from {', '.join(TARGETS)}",
            targets_raw,
        )  # fmt: skip
    log_claim, log_claim_at = pick("log_claim", None)
    if log_claim is not None and (
        not isinstance(log_claim, str) or len(log_claim) > 253 or not _CLAIM.fullmatch(log_claim)
    ):
        raise _error(
            file, log_claim_at,
            "a PersistentVolumeClaim name (lowercase letters, digits, '-', '.')", log_claim,
        )  # fmt: skip
    resources_at = (
        f"deploy.stages.{stage}.resources" if "resources" in override else "deploy.resources"
    )
    resources = _resources(
        _merged_resources(body.get("resources") or {}, override.get("resources")),
        file,
        resources_at,
    )
    return StageDeploy(
        stage=stage,
        base_image=base_image or "",
        image=image or "",
        namespace=namespace,
        replicas=replicas,
        max_replicas=max_replicas,
        target_cpu=target_cpu,
        port=port,
        directory=directory.replace("{stage}", stage),
        resources=resources,
        targets=tuple(targets_raw),
        log_claim=log_claim,
    )
