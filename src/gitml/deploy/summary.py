"""What a change to a stage's deploy folder changes, in a reviewer's words: version, image,
canary share, replicas, resources, namespace and base image, before and after.

Read from the files themselves (either side may come from a pull request: each manifest
is parsed with the size and depth budget every gitml document gets, and a value that is
not where gitml puts it is shown as unknown, never trusted into anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

UNKNOWN = "?"
NONE = "none"
# Rows in the order a reviewer reads them.
FIELDS = (
    ("version", "version"),
    ("md5", "artefact md5"),
    ("image", "image"),
    ("canary", "canary share (KServe)"),
    ("replicas", "replicas (min–max)"),
    ("resources", "resources (requests / limits)"),
    ("namespace", "namespace"),
    ("base_image", "base image"),
)


@dataclass(frozen=True)
class DeployFacts:
    """What one side's deploy folder deploys (each value as text, ``none`` when absent)."""

    version: str = NONE
    md5: str = NONE
    image: str = NONE
    canary: str = NONE
    replicas: str = NONE
    resources: str = NONE
    namespace: str = NONE
    base_image: str = NONE


@dataclass(frozen=True)
class DeployChange:
    """A stage's deploy folder before and after: the rows that differ, and the files."""

    directory: str
    rows: tuple[tuple[str, str, str], ...]  # (what, before, after), only what changed
    files_changed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (the report's ``deployment``)."""
        return {
            "directory": self.directory,
            "rows": [list(row) for row in self.rows],
            "files_changed": list(self.files_changed),
        }


def _document(name: str, data: bytes) -> dict[str, Any] | None:
    from gitml.documents import parse_text

    try:
        document = parse_text(data.decode("utf-8"), name)
    except (UnicodeDecodeError, ConfigError):
        return None
    return document if isinstance(document, dict) else None


def _get(document: Any, *path: str | int) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(document, list) or len(document) <= part:
                return None
            document = document[part]
        elif isinstance(document, dict):
            document = document.get(part)
        else:
            return None
    return document


def _word(value: Any) -> str:
    """A scalar as one short line of text; anything else is unknown."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return UNKNOWN
    text = str(value)
    return text if len(text) <= 200 and "\n" not in text else UNKNOWN


def _resources(container: Any) -> str:
    resources = _get(container, "resources")
    if not isinstance(resources, dict):
        return NONE

    def part(name: str) -> str:
        values = resources.get(name)
        if not isinstance(values, dict):
            return "-"
        return ", ".join(f"{_word(k)} {_word(v)}" for k, v in sorted(values.items(), key=str))

    return f"{part('requests')} / {part('limits')}"


def _base_image(dockerfile: bytes | None) -> str:
    if dockerfile is None:
        return NONE
    for line in dockerfile.decode("utf-8", "replace").splitlines():
        if line.startswith("FROM "):
            return _word(line.removeprefix("FROM ").strip())
    return UNKNOWN


def facts(files: Mapping[str, bytes]) -> DeployFacts:
    """What the folder's files deploy (paths relative to the folder)."""
    if not files:
        return DeployFacts()
    deployment = _document(
        "kubernetes/deployment.yaml", files.get("kubernetes/deployment.yaml", b"")
    )
    hpa = _document("kubernetes/hpa.yaml", files.get("kubernetes/hpa.yaml", b""))
    service = _document(
        "kserve/inferenceservice.yaml", files.get("kserve/inferenceservice.yaml", b"")
    )
    primary = deployment or service
    annotations = _get(primary, "metadata", "annotations")
    if deployment is not None:
        container = _get(deployment, "spec", "template", "spec", "containers", 0)
        floor, ceiling = _get(hpa, "spec", "minReplicas"), _get(hpa, "spec", "maxReplicas")
    else:
        container = _get(service, "spec", "predictor", "containers", 0)
        floor = _get(service, "spec", "predictor", "minReplicas")
        ceiling = _get(service, "spec", "predictor", "maxReplicas")
    canary = _get(service, "spec", "predictor", "canaryTrafficPercent")
    return DeployFacts(
        version=_word(_get(annotations, "gitml.dev/version")),
        md5=_word(_get(annotations, "gitml.dev/md5")),
        image=_word(_get(container, "image")),
        canary=NONE if canary is None else f"{_word(canary)}%",
        replicas=f"{_word(floor)}–{_word(ceiling)}" if floor is not None else NONE,
        resources=_resources(container),
        namespace=_word(_get(primary, "metadata", "namespace")),
        base_image=_base_image(files.get("Dockerfile")),
    )


def change(
    directory: str, before: Mapping[str, bytes], after: Mapping[str, bytes]
) -> DeployChange | None:
    """What changes from ``before`` to ``after``; None when the folders are identical."""
    changed = tuple(
        sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    )
    if not changed:
        return None
    old, new = facts(before), facts(after)
    rows = tuple(
        (label, getattr(old, key), getattr(new, key))
        for key, label in FIELDS
        if getattr(old, key) != getattr(new, key)
    )
    return DeployChange(directory, rows, changed)


def markdown_lines(deploy: DeployChange) -> list[str]:
    """The change as a short markdown table, every value escaped as untrusted text."""
    from gitml.report.escape import code, text

    files = len(deploy.files_changed)
    lines = [
        f"**Deployment** ({code(deploy.directory + '/')}, {files} file"
        f"{'s' if files != 1 else ''} changed)",
        "",
    ]
    if deploy.rows:
        lines += ["| | before | after |", "|---|---|---|"]
        lines += [f"| {text(what)} | {text(old)} | {text(new)} |" for what, old, new in deploy.rows]
    else:
        lines.append("Same version, image, replicas and resources; other lines changed.")
    return lines
