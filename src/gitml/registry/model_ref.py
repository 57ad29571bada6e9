"""Model references users type: ``credit@v1.2.0``, ``credit@production``,
``credit#production`` (GTO's form), ``credit@latest`` and plain ``credit`` (= latest)."""

from __future__ import annotations

import re
from typing import NamedTuple

from gitml.errors import RegistryError

_REF = re.compile(r"^(?P<model>[a-zA-Z0-9][a-zA-Z0-9-/_]*?)(?:(?P<sep>[@#])(?P<what>[^@#]+))?$")


class ModelRef(NamedTuple):
    """What a reference asks for: a model, and one of version, stage or latest."""

    model: str
    version: str | None = None
    stage: str | None = None

    @property
    def latest(self) -> bool:
        """Whether the reference means the latest version."""
        return self.version is None and self.stage is None

    def __str__(self) -> str:
        if self.version:
            return f"{self.model}@{self.version}"
        if self.stage:
            return f"{self.model}@{self.stage}"
        return f"{self.model}@latest"


def parse_ref(text: str) -> ModelRef:
    """Parse a model reference; a RegistryError says what forms are accepted."""
    match = _REF.match(text.strip())
    if not match:
        raise RegistryError(
            f"{text!r} is not a model reference: expected MODEL, MODEL@vX.Y.Z, MODEL@STAGE, "
            "MODEL#STAGE or MODEL@latest"
        )
    model, sep, what = match["model"], match["sep"], match["what"]
    if what is None or (sep == "@" and what in ("latest", "greatest")):
        return ModelRef(model)
    if sep == "@" and what.startswith("v") and what[1:2].isdigit():
        from gitml.registry.names import SemVer  # only for version references

        if SemVer.parse(what) is None:
            raise RegistryError(f"{text!r}: {what!r} is not a version like v1.2.3")
        return ModelRef(model, version=what)
    return ModelRef(model, stage=what)
