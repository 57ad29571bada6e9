"""What is deployed: one registered version of a model, for one stage, as plain values.

Rendering reads only this record and the stage's settings, never git, so the same record
gives the same bytes (:mod:`gitml.deploy.resolve` builds it from the registry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LABEL_PREFIX = "gitml.dev/"
# A label value: at most 63 characters, alphanumerics at both ends, '-', '_', '.' inside.
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?")
_NOT_NAME = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class Release:
    """A model version headed for (or held by) a stage: what every rendered file names."""

    model: str
    version: str  # vX.Y.Z
    md5: str  # the artefact's md5, as dvc.lock and the registry record hold it
    commit: str  # the version's commit
    tag: str  # the registry tag that records the version, e.g. credit@v0.1.0
    artifact: str  # the artefact's path in the repository, e.g. models/credit.skops
    stage: str

    @property
    def name(self) -> str:
        """The objects' name: ``<model>-<stage>`` as a DNS-1035 label (Services need one)."""
        name = _NOT_NAME.sub("-", f"{self.model}-{self.stage}".lower()).strip("-")
        if not name[:1].isalpha():
            name = f"m-{name}"
        return name[:63].rstrip("-")

    @property
    def image_tag(self) -> str:
        """The built image's tag: one repository can hold several models' images."""
        return label_value(f"{self.model}-{self.version}")[:128]

    def selector(self) -> dict[str, str]:
        """Labels that pick this stage's pods whatever version they run (a Deployment's
        selector cannot change after creation, so no version goes in it)."""
        return {
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/name": label_value(self.model),
        }

    def labels(self) -> dict[str, str]:
        """Labels of every object: the selector's, plus model, stage, version and md5."""
        return {
            **self.selector(),
            "app.kubernetes.io/component": "predictor",
            "app.kubernetes.io/managed-by": "gitml",
            "app.kubernetes.io/version": label_value(self.version),
            f"{LABEL_PREFIX}md5": label_value(self.md5),
            f"{LABEL_PREFIX}model": label_value(self.model),
            f"{LABEL_PREFIX}stage": label_value(self.stage),
            f"{LABEL_PREFIX}version": label_value(self.version),
        }

    def annotations(self) -> dict[str, str]:
        """The exact values, some of which no label may hold (``@`` in the tag)."""
        return {
            f"{LABEL_PREFIX}artifact": self.artifact,
            f"{LABEL_PREFIX}commit": self.commit,
            f"{LABEL_PREFIX}md5": self.md5,
            f"{LABEL_PREFIX}model": self.model,
            f"{LABEL_PREFIX}registry-tag": self.tag,
            f"{LABEL_PREFIX}stage": self.stage,
            f"{LABEL_PREFIX}version": self.version,
        }


def label_value(text: str) -> str:
    """``text`` as a valid label value: characters outside ``[A-Za-z0-9._-]`` become
    ``_``, trimmed to 63 and to alphanumerics at both ends (the exact text goes in an
    annotation beside it)."""
    value = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:63]
    value = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)
    assert _LABEL_VALUE.fullmatch(value)
    return value
