"""Reading a DVC project's ``dvc.yaml`` (stages, artifacts) without importing DVC.

``dvc.yaml`` is plain YAML; parsing it directly keeps ``gitml validate`` and the
registry's read path free of DVC's 0.25 s import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.documents import parse_text
from gitml.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

DVC_YAML = "dvc.yaml"


@dataclass(frozen=True)
class Artifact:
    """One entry of ``dvc.yaml``'s ``artifacts:`` section."""

    name: str
    path: str
    type: str | None
    description: str
    labels: tuple[str, ...]


def artifacts_from_text(text: str, file: str = DVC_YAML) -> dict[str, Artifact]:
    """The ``artifacts:`` entries of ``dvc.yaml`` text, by name."""
    document: Any = parse_text(text, file) or {}
    if not isinstance(document, dict):
        raise ConfigError(f"{file}: expected a mapping at the top level")
    raw = document.get("artifacts") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: artifacts: expected a mapping of name to {{path, type}}")
    artifacts = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ConfigError(f"{file}: artifacts.{name}.path: expected a path string")
        artifacts[str(name)] = Artifact(
            name=str(name),
            path=entry["path"],
            type=entry.get("type"),
            description=entry.get("desc", ""),
            labels=tuple(entry.get("labels") or ()),
        )
    return artifacts


def read_artifacts(root: Path) -> dict[str, Artifact]:
    """The artifacts declared in ``root/dvc.yaml``; a missing file is a ConfigError."""
    path = root / DVC_YAML
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{DVC_YAML}: not found in {root.resolve()} (is this a DVC project?)"
        ) from None
    return artifacts_from_text(text)
