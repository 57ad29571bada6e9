"""What a search sees of one version: a flat, immutable view (pure: built elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from datetime import datetime

V = TypeVar("V")

Scalar = str | int | float | bool
# The fields :meth:`VersionView.value` reads straight from the view's attribute.
_SINGLE_FIELDS = frozenset(("model", "version", "registered", "author", "pr"))


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class VersionView:
    """One registered version as a query reads it.

    ``stages``: held now (or at ``--at``); ``ever``: held at any time up to then.
    ``metrics``: the record's headline metrics, completed by the metrics files at the
    version's commit when a query asks for one the record lacks; ``params`` flattened with
    dots (``train.max_depth``); ``inputs``: DVC data path -> md5, as recorded.
    """

    model: str
    version: str
    commit: str
    registered: datetime | None
    stages: frozenset[str] = frozenset()
    ever: frozenset[str] = frozenset()
    author: str | None = None
    approvers: tuple[str, ...] = ()
    pr: int | None = None
    metrics: Mapping[str, float] = field(default_factory=_empty)
    params: Mapping[str, Scalar] = field(default_factory=_empty)
    inputs: Mapping[str, str] = field(default_factory=_empty)
    labels: tuple[str, ...] = ()
    description: str = ""

    def value(self, name: str, key: str = "") -> Scalar | datetime | None:
        """The single value of field ``name`` (``key``: the metric or param name)."""
        if name == "metric":
            return self.metrics.get(key)
        if name == "param":
            return self.params.get(key)
        if name == "description":
            return self.description or None
        if name not in _SINGLE_FIELDS:
            raise KeyError(name)
        found: Scalar | datetime | None = getattr(self, name)
        return found

    def members(self, name: str, *, ever: bool = False) -> Collection[str]:
        """The values of a set field; ``data`` is every input path and md5."""
        if name == "stage":
            return self.ever if ever else self.stages
        if name == "approver":
            return self.approvers
        if name == "label":
            return self.labels
        return (*self.inputs, *self.inputs.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601)."""
        return {
            "model": self.model,
            "version": self.version,
            "commit": self.commit,
            "registered": self.registered.isoformat() if self.registered else None,
            "stages": sorted(self.stages),
            "ever": sorted(self.ever),
            "author": self.author,
            "approvers": list(self.approvers),
            "pr": self.pr,
            "metrics": dict(self.metrics),
            "params": dict(self.params),
            "inputs": dict(self.inputs),
            "labels": list(self.labels),
            "description": self.description,
        }


class LazyMapping(Mapping[str, V]):
    """``first`` (what the record holds), completed by ``load()`` only when a key is not in
    ``first`` or the whole mapping is asked: a query that a version fails on its stage or
    date never reads that version's files."""

    def __init__(self, first: Mapping[str, V], load: Callable[[], Mapping[str, V]]):
        self._first = first
        self._load = load
        self._all: dict[str, V] | None = None

    def _complete(self) -> dict[str, V]:
        if self._all is None:
            self._all = {**self._load(), **self._first}
        return self._all

    def __getitem__(self, key: str) -> V:
        if key in self._first:
            return self._first[key]
        return self._complete()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._complete())

    def __len__(self) -> int:
        return len(self._complete())


def flatten(data: object, prefix: str = "") -> dict[str, Scalar]:
    """Nested mappings as ``{"a.b": value}``; only scalar leaves are kept."""
    found: dict[str, Scalar] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            found.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(data, str | int | float | bool) and prefix:
        found[prefix[:-1]] = data
    return found
