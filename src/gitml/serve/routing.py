"""The server's side of the traffic split: the key a request carries, and the splitter.

The split itself is the canary analysis' :class:`gitml.canary.router.Router` (a key's
BLAKE2b bucket out of 10,000, a seeded draw without a key), so a key lands on the same
version in every server process, after every restart, and in ``gitml canary replay``.
This module reads ``--canary-key`` into the policy's :class:`~gitml.canary.policy.KeySpec`
and finds a request's key: a header, or a field of the first record (a batch is
answered whole by one version, so one record's key routes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from gitml.canary.policy import KeySpec
from gitml.canary.router import Router, request_key

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Splitter", "default_splitter", "field_key", "header_key", "parse_key"]


class Splitter(Protocol):
    """Decides which side answers a request with this key (None: it has none)."""

    def route(self, key: str | None) -> str:
        """``"candidate"`` or ``"stable"``."""
        ...


def parse_key(text: str) -> KeySpec:
    """``header:NAME`` or ``field:NAME``; ValueError saying what was expected. The
    policy's own parser: a gitml.yaml key and ``--canary-key`` never disagree."""
    return KeySpec.parse(text)


def default_splitter(percent: float, key: KeySpec | None, seed: int = 0) -> Splitter:
    """The canary analysis' router for ``percent`` per cent of requests."""
    return Router(percent, key, seed)


def header_key(spec: KeySpec | None, headers: Mapping[str, str]) -> str | None:
    """A header key's value (None: no header key, or the request lacks it)."""
    if spec is None or spec.source != "header":
        return None
    return request_key(spec, headers, None)


def field_key(spec: KeySpec | None, records: list[Any]) -> str | None:
    """A field key's value in the first record (None: no field key, or no value)."""
    if spec is None or spec.source != "field" or not records or not isinstance(records[0], dict):
        return None
    return request_key(spec, None, records[0])
