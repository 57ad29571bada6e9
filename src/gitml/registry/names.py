"""GTO's tag-name grammar and semantic versions, as small frozen values.

``credit@v1.2.0`` registers, ``credit@v1.2.0!`` deregisters, ``credit#prod#3`` assigns
a stage, ``credit#prod!#4`` unassigns, ``credit@deprecated`` deprecates the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import semver


class Action(StrEnum):
    """What a registry tag records."""

    REGISTER = "registration"
    DEREGISTER = "deregistration"
    ASSIGN = "assignment"
    UNASSIGN = "unassignment"
    DEPRECATE = "deprecation"


@dataclass(frozen=True)
class SemVer:
    """A ``vMAJOR.MINOR.PATCH[-pre][+build]`` version, ordered by semantic-version precedence.

    Parsing and precedence are the ``semver`` library's, as in GTO, so gitml and GTO agree
    on which version is the latest. Equality stays field by field: two builds of one
    version differ while neither sorts first.
    """

    major: int
    minor: int
    patch: int
    prerelease: str | None = None
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> SemVer | None:
        """The version ``text`` names (with its ``v``), or None if it is not one."""
        parsed = _library_version(text)
        if parsed is None:
            return None
        return cls(parsed.major, parsed.minor, parsed.patch, parsed.prerelease, parsed.build)

    def _precedence(self) -> Precedence:
        library = semver.Version(self.major, self.minor, self.patch, self.prerelease, self.build)
        return _precedence(library)

    def __lt__(self, other: SemVer) -> bool:
        return self._precedence() < other._precedence()

    def __gt__(self, other: SemVer) -> bool:
        return other._precedence() < self._precedence()

    def __le__(self, other: SemVer) -> bool:
        return self < other or self == other

    def __ge__(self, other: SemVer) -> bool:
        return self > other or self == other

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

# Numbers first, so that sorting thousands of releases compares integers; the library
# decides between pre-releases of one version.
Precedence = tuple[int, int, int, semver.Version]
_NOT_A_VERSION = semver.Version(0, 0, 0)


def _precedence(version: semver.Version) -> Precedence:
    return (version.major, version.minor, version.patch, version)


def _library_version(text: str) -> semver.Version | None:
    """``text`` (with its ``v``) as the ``semver`` library parses it, or None."""
    if not text.startswith("v"):
        return None
    try:
        return semver.Version.parse(text[1:])
    except ValueError:
        return None


def is_version(text: str) -> bool:
    """Whether ``text`` is a ``v``-prefixed semantic version, as :meth:`SemVer.parse` reads it."""
    return _library_version(text) is not None


def version_precedence(version: str) -> Precedence:
    """A sort key ordering version names as :class:`SemVer` does (non-versions as v0.0.0)."""
    return _precedence(_library_version(version) or _NOT_A_VERSION)


# GTO's tag grammar. A version is whatever follows ``@`` up to ``!`` or ``#``; it must
# then parse as a semantic version (:meth:`SemVer.parse`), so there is one definition.
_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_TAG = re.compile(
    rf"(?P<name>{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v[^@#!]+))(?P<cancel>!?)|@(?P<deprecated>deprecated))"
    r"(?:#(?P<counter>[0-9]+))?"
)


@dataclass(frozen=True)
class TagName:
    """A parsed registry tag name."""

    model: str
    action: Action
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    @classmethod
    def parse(cls, tag: str) -> TagName | None:
        """The registry meaning of ``tag``, or None for a tag of another tool."""
        match = _TAG.fullmatch(tag)
        if not match:
            return None
        name, stage, version, cancel, deprecated, counter_text = match.group(
            "name", "stage", "version", "cancel", "deprecated", "counter"
        )
        counter = int(counter_text) if counter_text else None
        if deprecated:
            return cls(name, Action.DEPRECATE, counter=counter)
        if version:
            if _library_version(version) is None:
                return None
            action = Action.DEREGISTER if cancel else Action.REGISTER
            return cls(name, action, version=version, counter=counter)
        action = Action.UNASSIGN if cancel else Action.ASSIGN
        return cls(name, action, stage=stage, counter=counter)


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
