"""The record a gitml registry tag carries: one structured line, parsed strictly.

A registry tag's message is a subject line for people, then one line
``gitml-record: {...}`` holding a JSON object. JSON escapes every newline and quote, so
no value can start another field or another line, and the object is parsed whole: a
key that gitml does not know, a value of the wrong type or shape, or a second record
line makes the message no record at all. Whether a record also agrees with git (the
artefact md5 at the tagged commit's ``dvc.lock``) is checked by the reader, which has
git at hand.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gitml.registry.names import Action, TagName, is_version

if TYPE_CHECKING:
    from collections.abc import Mapping

RECORD_PREFIX = "gitml-record: "
FORMAT = 1
# A record is a few hundred bytes; a larger line is no record gitml wrote.
MAX_RECORD_BYTES = 16_384
MAX_TEXT = 500
MAX_METRICS = 50

_MD5 = re.compile(r"[0-9a-f]{32}(?:\.dir)?")  # DVC writes a directory's as <md5>.dir
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# A GitHub login (managed users add ``_shortcode``); never a space, ``/`` or markup.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98}[A-Za-z0-9])?(?:\[bot\])?")
# The CI run that wrote the record: one http(s) URL, printable, no spaces or quotes.
_RUN_URL = re.compile(r"https?://[A-Za-z0-9.:-]+(?:/[A-Za-z0-9._~%+-]+)*/?")
MAX_LINEAGE = 50  # data inputs, stages, approvers: a record stays a few KB


class Kind(StrEnum):
    """What a record says happened (a rollback is an assignment, told apart)."""

    REGISTRATION = "registration"
    PROMOTION = "promotion"
    ROLLBACK = "rollback"
    UNASSIGNMENT = "unassignment"
    DEREGISTRATION = "deregistration"
    DEPRECATION = "deprecation"


# Which tag action each kind of record belongs on.
_ACTIONS = {
    Kind.REGISTRATION: Action.REGISTER,
    Kind.PROMOTION: Action.ASSIGN,
    Kind.ROLLBACK: Action.ASSIGN,
    Kind.UNASSIGNMENT: Action.UNASSIGN,
    Kind.DEREGISTRATION: Action.DEREGISTER,
    Kind.DEPRECATION: Action.DEPRECATE,
}
_REQUIRED = {
    Kind.REGISTRATION: ("version", "md5", "artifact", "commit"),
    Kind.PROMOTION: ("version", "md5", "stage"),
    Kind.ROLLBACK: ("version", "md5", "stage"),
    Kind.UNASSIGNMENT: ("version", "stage"),
    Kind.DEREGISTRATION: ("version",),
    Kind.DEPRECATION: (),
}


class RecordError(ValueError):
    """A record gitml was asked to write would not be a valid record."""


@dataclass(frozen=True)
class Record:
    """The facts one registry tag records."""

    kind: Kind
    model: str
    version: str | None = None
    stage: str | None = None
    md5: str | None = None
    artifact: str | None = None
    commit: str | None = None
    branch_commit: str | None = None
    pull_request: int | None = None
    merged_by: str | None = None
    reason: str | None = None
    metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    writer: str = ""
    # Lineage (registrations) and oversight (registrations and promotions): who proposed
    # and approved, the run that wrote the record, and what the artefact was built from
    # as dvc.lock at ``commit`` says it (re-derivable, so ``gitml lineage`` checks it).
    author: str | None = None
    approvers: tuple[str, ...] = ()
    run_url: str | None = None
    inputs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    params_digest: str | None = None
    stages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the record line (unset fields left out)."""
        data: dict[str, Any] = {"format": FORMAT, "kind": self.kind.value, "model": self.model}
        for key in (
            "version",
            "stage",
            "md5",
            "artifact",
            "commit",
            "branch_commit",
            "pull_request",
            "merged_by",
            "reason",
            "writer",
            "author",
            "run_url",
            "params_digest",
        ):
            value = getattr(self, key)
            if value not in (None, ""):
                data[key] = value
        if self.approvers:
            data["approvers"] = list(self.approvers)
        for key in ("metrics", "inputs", "stages"):
            if getattr(self, key):
                data[key] = dict(getattr(self, key))
        return data

    def agrees_with(self, tag: TagName) -> bool:
        """Whether the tag's name says what the record says (model, action, version, stage)."""
        if tag.model != self.model or tag.action is not _ACTIONS[self.kind]:
            return False
        if tag.action in (Action.REGISTER, Action.DEREGISTER):
            return tag.version == self.version
        if tag.action in (Action.ASSIGN, Action.UNASSIGN):
            return tag.stage == self.stage
        return True


def one_line(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` as a record may hold it: control characters as spaces, at most ``limit``
    characters (a reason typed on the command line, a committer's name)."""
    return _CONTROL.sub(" ", text).strip()[:limit]


def record_line(data: dict[str, Any]) -> str:
    """The record line holding ``data``: one line of JSON, every character escaped."""
    return RECORD_PREFIX + json.dumps(data, sort_keys=True, ensure_ascii=True, allow_nan=False)


def record_message(subject: str, record: Record) -> str:
    """A tag message: ``subject``, a blank line, then the record line.

    Raises RecordError when the record would not parse back as itself.
    """
    line = record_line(record.to_dict())
    if parse_record(line) != record:
        raise RecordError(f"not a valid registry record: {line[:200]}")
    return f"{one_line(subject)}\n\n{line}\n"


def record_object(message: str) -> dict[str, Any] | None:
    """The JSON object of a tag message's one record line, of gitml's format; None when
    the message holds no such line, two of them, an oversized one or broken JSON."""
    lines = [line for line in message.splitlines() if line.startswith(RECORD_PREFIX)]
    if len(lines) != 1 or len(lines[0]) > MAX_RECORD_BYTES:
        return None
    try:
        data = json.loads(lines[0][len(RECORD_PREFIX) :])
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def parse_record(message: str) -> Record | None:
    """The record in a tag message, or None when it holds none or anything malformed."""
    data = record_object(message)
    return _record_from(data) if data is not None else None


def _record_from(data: dict[str, Any]) -> Record | None:
    if not data.keys() <= _KNOWN_KEYS:
        return None
    try:
        kind = Kind(str(data.get("kind")))
    except ValueError:
        return None
    if not all(isinstance(data.get(key), str) for key in ("model", *_REQUIRED[kind])):
        return None
    checks = (
        _matches(_NAME, data["model"]),
        data.get("version") is None or is_version(data["version"]),
        data.get("stage") is None or _matches(_NAME, data["stage"]),
        data.get("md5") is None or _matches(_MD5, data["md5"]),
        data.get("commit") is None or _matches(_COMMIT, data["commit"]),
        data.get("branch_commit") is None or _matches(_COMMIT, data["branch_commit"]),
        data.get("pull_request") is None or _positive_int(data["pull_request"]),
        all(
            _text(data.get(key)) for key in ("artifact", "merged_by", "reason", "writer", "author")
        ),
        _metrics(data.get("metrics", {})),
        data.get("run_url") is None or _matches(_RUN_URL, data["run_url"]),
        data.get("params_digest") is None or _matches(_SHA256, data["params_digest"]),
        _logins(data.get("approvers", [])),
        _digests(data.get("inputs", {}), _MD5),
        _digests(data.get("stages", {}), _SHA256),
    )
    if not all(checks):
        return None
    values = {key: value for key, value in data.items() if key not in ("format", "kind")}
    for key in ("metrics", "inputs", "stages"):
        values[key] = MappingProxyType(dict(values.get(key, {})))
    values["approvers"] = tuple(values.get("approvers", ()))
    return Record(kind=kind, **values)


_KNOWN_KEYS = frozenset(Record.__dataclass_fields__) | {"format"}


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _positive_int(value: object) -> bool:
    return type(value) is int and value > 0


def _text(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and len(value) <= MAX_TEXT and not _CONTROL.search(value)


def _metrics(value: object) -> bool:
    if not isinstance(value, dict) or len(value) > MAX_METRICS:
        return False
    return all(
        _text(name) and bool(name) and type(number) in (int, float) and math.isfinite(number)
        for name, number in value.items()
    )


def _logins(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= MAX_LINEAGE
        and len(set(value)) == len(value)
        and all(_matches(_LOGIN, login) for login in value)
    )


def _digests(value: object, pattern: re.Pattern[str]) -> bool:
    """``{name: digest}``: a DVC input path or stage name, each with its md5 or sha256."""
    if not isinstance(value, dict) or len(value) > MAX_LINEAGE:
        return False
    return all(
        _text(name) and bool(name) and _matches(pattern, digest) for name, digest in value.items()
    )
