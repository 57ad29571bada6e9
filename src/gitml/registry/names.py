"""GTO's tag-name grammar and semantic versions, as small frozen values.

``credit@v1.2.0`` registers, ``credit@v1.2.0!`` deregisters, ``credit#prod#3`` assigns
a stage, ``credit#prod!#4`` unassigns, ``credit@deprecated`` deprecates the model.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple


class Action(StrEnum):
    """What a registry tag records."""

    REGISTER = "registration"
    DEREGISTER = "deregistration"
    ASSIGN = "assignment"
    UNASSIGN = "unassignment"
    DEPRECATE = "deprecation"


_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_SEMVER = (
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_TAG = re.compile(
    rf"^(?P<name>{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)|@(?P<deprecated>deprecated))"
    r"(?:#(?P<counter>[0-9]+))?$"
)
_VERSION = re.compile(rf"^v{_SEMVER}$")
# Nearly every version: a short regex, far cheaper than the whole semantic version's.
_PLAIN_VERSION = re.compile(r"v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")


class SemVer(NamedTuple):
    """A ``vMAJOR.MINOR.PATCH[-pre][+build]`` version, compared as numbers.

    A named tuple whose orderings are semantic-version precedence, not the tuple's
    (equality stays field by field, so builds differ while neither sorts first).
    """

    major: int
    minor: int
    patch: int
    prerelease: str | None = None
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> SemVer | None:
        """The version ``text`` names (with its ``v``), or None if it is not one."""
        match = _VERSION.match(text)
        if not match:
            return None
        major, minor, patch, pre, build = match.groups()
        return cls(int(major), int(minor), int(patch), pre, build)

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        # A release sorts after its pre-releases; numeric identifiers before text ones.
        pre = tuple(
            (0, int(part)) if part.isdigit() else (1, part)  # type: ignore[misc]
            for part in (self.prerelease or "").split(".")
            if part
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key() or self == other

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, SemVer):
            return NotImplemented
        return other._key() < self._key()

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, SemVer):
            return NotImplemented
        return other._key() < self._key() or self == other

    def bump(self, part: str) -> SemVer:
        """The next ``major``, ``minor`` or ``patch`` release."""
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        if part == "patch":
            return SemVer(self.major, self.minor, self.patch + 1)
        raise ValueError(f"unknown version part {part!r} (major, minor or patch)")

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text


FIRST_VERSION = SemVer(0, 1, 0)
_ZERO_KEY = SemVer(0, 0, 0)._key()


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """A sort key ordering versions as :class:`SemVer` does (non-versions as v0.0.0).

    Plain ``vX.Y.Z`` names, nearly every tag, take a fast path without the regex.
    """
    plain = _PLAIN_VERSION.match(version)
    if plain:
        return (int(plain[1]), int(plain[2]), int(plain[3]), 1, ())
    parsed = SemVer.parse(version)
    return parsed._key() if parsed else _ZERO_KEY


class TagName(NamedTuple):
    """A parsed registry tag name."""

    model: str
    action: Action
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    @classmethod
    def parse(cls, tag: str) -> TagName | None:
        """The registry meaning of ``tag``, or None for a tag of another tool."""
        parsed = parse_tag(tag)
        return cls(*parsed) if parsed else None


def parse_tag(tag: str) -> tuple[str, Action, str | None, str | None, int | None] | None:
    """``(model, action, version, stage, counter)`` of a registry tag, or None.

    The tuple form of :meth:`TagName.parse`, for reading thousands of tags per query:
    the two shapes nearly every tag has (``model@vX.Y.Z`` and ``model#stage#N``) are read
    without the full grammar's regex, which answers everything else.
    """
    at = tag.find("@")
    if at < 0:
        parts = tag.split("#")
        if (
            len(parts) == 3
            and parts[2].isascii()
            and parts[2].isdigit()
            and _is_name(parts[0])
            and _is_name(parts[1])
        ):
            return parts[0], Action.ASSIGN, None, parts[1], int(parts[2])
    elif "#" not in tag:
        version = tag[at + 1 :]
        if _is_plain_version(version) and _is_name(tag[:at]):
            return tag[:at], Action.REGISTER, version, None, None
    return parse_tag_by_grammar(tag)


def parse_tag_by_grammar(
    tag: str,
) -> tuple[str, Action, str | None, str | None, int | None] | None:
    """:func:`parse_tag` through the whole grammar, without its fast paths."""
    match = _TAG.match(tag)
    if not match:
        return None
    name, stage, version, cancel, deprecated, counter_text = match.group(
        "name", "stage", "version", "cancel", "deprecated", "counter"
    )
    counter = int(counter_text) if counter_text else None
    if deprecated:
        return name, Action.DEPRECATE, None, None, counter
    if version:
        return name, Action.DEREGISTER if cancel else Action.REGISTER, version, None, counter
    return name, Action.UNASSIGN if cancel else Action.ASSIGN, None, stage, counter


_NAME_ONLY = re.compile(rf"{_NAME}\Z")
_names_seen: dict[str, bool] = {}


def _is_name(text: str) -> bool:
    """Whether ``text`` is a model or stage name (remembered: a registry repeats a few)."""
    known = _names_seen.get(text)
    if known is None:
        known = _names_seen[text] = _NAME_ONLY.match(text) is not None
    return known


def _is_plain_version(text: str) -> bool:
    """Whether ``text`` is ``vX.Y.Z`` with ASCII numbers and no leading zeros."""
    return _PLAIN_VERSION.match(text) is not None


def version_tag(model: str, version: SemVer | str) -> str:
    """``credit@v1.2.0``."""
    return f"{model}@{version}"


def deregister_tag(model: str, version: str, counter: int) -> str:
    """``credit@v1.2.0!#5``."""
    return f"{model}@{version}!#{counter}"


def assign_tag(model: str, stage: str, counter: int) -> str:
    """``credit#production#3``."""
    return f"{model}#{stage}#{counter}"


def unassign_tag(model: str, stage: str, counter: int) -> str:
    """``credit#production!#4``."""
    return f"{model}#{stage}!#{counter}"


def deprecate_tag(model: str, counter: int) -> str:
    """``credit@deprecated#6``."""
    return f"{model}@deprecated#{counter}"
