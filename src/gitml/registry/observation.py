"""Observations: what was seen of a registered version after it shipped, as a tag record.

A drift check (and, later, a canary analysis) is a fact about one registered version at
one instant: which version and artefact md5 it judged, what it concluded, on how many
rows, and the figures behind the conclusion. gitml keeps it as an annotated tag on the
version's registered commit, named ``gitml.drift/<model>/<n>``, whose message carries one
``gitml-record:`` line in the registry's record format.

The name holds neither ``@`` nor ``#``, so GTO (and gitml's stage reading) never takes
it for a registry event: an observation moves no stage. The record parses as strictly
as a registry record (known keys only, every value shape-checked, one line); whether it
agrees with git (the tag's commit is the version's, the md5 is what ``dvc.lock`` says
there) is checked by :mod:`gitml.registry.observations`, which has git at hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gitml.registry.names import is_version
from gitml.registry.record import FORMAT, MAX_TEXT, one_line, record_line, record_object

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

MAX_FIGURES = 50  # a record stays a few KB: the figures that decided, not a report
_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?")
_MD5 = re.compile(r"[0-9a-f]{32}(?:\.dir)?")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_RUN_URL = re.compile(r"https?://[A-Za-z0-9.:-]+(?:/[A-Za-z0-9._~%+-]+)*/?")
TAG_PREFIX = "gitml."


class ObservationKind(StrEnum):
    """What was observed; the tag name's ``gitml.<kind>/`` prefix."""

    DRIFT = "drift"  # a drift check of a version against its baseline
    CANARY = "canary"  # a canary analysis of a candidate version against a stable one


# The verdicts each kind may record (a drift check's are gitml drift's own).
VERDICTS = MappingProxyType(
    {ObservationKind.DRIFT: ("ok", "warn", "drift"), ObservationKind.CANARY: ("passed", "stopped")}
)


class ObservationError(ValueError):
    """An observation gitml was asked to write would not be a valid record."""


@dataclass(frozen=True)
class Observation:
    """The facts one observation tag records.

    ``figures``: named numbers behind the verdict (``psi.income``, ``score.psi``,
    ``roc_auc``); ``names``: what the verdict is about, in rank order (the drifted
    features, the rules a canary failed); ``batch``: sha256 of the data judged;
    ``stage``: the stage the version was checked as, or a canary's target stage.
    A canary also records the stable version it was judged ``against``, how many
    ``windows`` were analysed and the ``rule`` that decided, in words.
    """

    kind: ObservationKind
    model: str
    version: str
    md5: str
    verdict: str
    rows: int
    stage: str | None = None
    figures: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    names: tuple[str, ...] = ()
    batch: str | None = None
    run_url: str | None = None
    writer: str = ""
    against: str | None = None
    windows: int | None = None
    rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the record line (unset fields left out)."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "kind": self.kind.value,
            "model": self.model,
            "version": self.version,
            "md5": self.md5,
            "verdict": self.verdict,
            "rows": self.rows,
        }
        for key in ("stage", "batch", "run_url", "writer", "against", "windows", "rule"):
            value = getattr(self, key)
            if value not in (None, ""):
                data[key] = value
        if self.figures:
            data["figures"] = dict(self.figures)
        if self.names:
            data["names"] = list(self.names)
        return data


def finite_figures(pairs: Iterable[tuple[str, float | None]]) -> Mapping[str, float]:
    """Named numbers as a record keeps them: the finite ones, to 6 decimals (a NaN or an
    infinity has no JSON, and None is a figure that does not apply)."""
    return MappingProxyType(
        {
            name: round(float(value), 6)
            for name, value in pairs
            if value is not None and math.isfinite(value)
        }
    )


def observation_tag(kind: ObservationKind, model: str, number: int) -> str:
    """``gitml.drift/credit/3``."""
    return f"{TAG_PREFIX}{kind.value}/{model}/{number}"


@dataclass(frozen=True)
class ObservationTag:
    """A parsed observation tag name."""

    kind: ObservationKind
    model: str
    number: int

    @classmethod
    def parse(cls, tag: str) -> ObservationTag | None:
        """The meaning of ``tag``, or None when it is no observation tag."""
        if not tag.startswith(TAG_PREFIX):
            return None
        kind_text, _, rest = tag[len(TAG_PREFIX) :].partition("/")
        model, _, number = rest.rpartition("/")
        try:
            kind = ObservationKind(kind_text)
        except ValueError:
            return None
        if not _NAME.fullmatch(model) or not number.isdigit() or number.startswith("0"):
            return None
        return cls(kind, model, int(number))


def observation_message(subject: str, observation: Observation) -> str:
    """A tag message: ``subject``, a blank line, then the record line.

    Raises ObservationError when the observation would not parse back as itself.
    """
    line = record_line(observation.to_dict())
    if parse_observation(line) != observation:
        raise ObservationError(f"not a valid observation record: {line[:200]}")
    return f"{one_line(subject)}\n\n{line}\n"


def parse_observation(message: str) -> Observation | None:
    """The observation in a tag message, or None when it holds none or anything malformed."""
    data = record_object(message)
    return _observation_from(data) if data is not None else None


_KNOWN_KEYS = frozenset({"format", "kind", *Observation.__dataclass_fields__})


def _observation_from(data: dict[str, Any]) -> Observation | None:
    if not data.keys() <= _KNOWN_KEYS:
        return None
    try:
        kind = ObservationKind(str(data.get("kind")))
    except ValueError:
        return None
    checks = (
        _fits(_NAME, data.get("model")),
        isinstance(data.get("version"), str) and is_version(data["version"]),
        _fits(_MD5, data.get("md5")),
        data.get("verdict") in VERDICTS[kind],
        type(data.get("rows")) is int and data["rows"] >= 0,
        data.get("stage") is None or _fits(_NAME, data["stage"]),
        data.get("batch") is None or _fits(_SHA256, data["batch"]),
        data.get("run_url") is None or _fits(_RUN_URL, data["run_url"]),
        _text(data.get("writer", "")),
        data.get("against") is None
        or (isinstance(data["against"], str) and is_version(data["against"])),
        data.get("windows") is None or (type(data["windows"]) is int and data["windows"] >= 0),
        data.get("rule") is None or (_text(data["rule"]) and bool(data["rule"])),
        _figures(data.get("figures", {})),
        _names(data.get("names", [])),
    )
    if not all(checks):
        return None
    values = {key: value for key, value in data.items() if key not in ("format", "kind")}
    values["figures"] = MappingProxyType(dict(values.get("figures", {})))
    values["names"] = tuple(values.get("names", ()))
    return Observation(kind=kind, **values)


def _fits(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT and not _CONTROL.search(value)


def _figures(value: object) -> bool:
    if not isinstance(value, dict) or len(value) > MAX_FIGURES:
        return False
    return all(
        _text(name) and bool(name) and type(number) in (int, float) and math.isfinite(number)
        for name, number in value.items()
    )


def _names(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= MAX_FIGURES
        and all(_text(name) and bool(name) for name in value)
    )
