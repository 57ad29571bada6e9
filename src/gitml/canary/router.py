"""The traffic split: which version answers a request, the same way every time for a key.

A request's key (a header or a field of its record, see :func:`request_key`) is hashed
with BLAKE2b into one of 10,000 buckets; buckets below ``percent * 100`` go to the
candidate. The hash is of the key's bytes alone, never Python's per-process salted
``hash``, so a key lands on the same side in every server process, after every restart
and in ``gitml canary replay``; and raising the percent only adds buckets, so a key the
candidate answered at 10% is still the candidate's at 20%. A request without a key is
a seeded random draw: the share holds on average, stickiness does not.

:meth:`Router.stop` sends everything to the stable version from then on: the first
failing window must take the candidate out of traffic at once.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.canary.policy import KeySpec

Side = Literal["candidate", "stable"]
BUCKETS = 10_000  # 0.01% resolution: percent may have two decimals


def bucket_of(key: str) -> int:
    """The bucket, in ``[0, BUCKETS)``, of ``key``: the same in every process and run."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


class Router:
    """Routes requests to ``"candidate"`` or ``"stable"``; safe to share between threads."""

    def __init__(self, percent: float, key: KeySpec | None = None, seed: int = 0) -> None:
        if not 0 <= percent <= 100:
            raise ValueError(f"percent must be in [0, 100], got {percent}")
        self.percent = percent
        self.key = key
        self._cut = round(percent * BUCKETS / 100)
        self._random = random.Random(seed)
        self._stopped = threading.Event()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called: the candidate answers nothing more."""
        return self._stopped.is_set()

    def stop(self) -> None:
        """Send every later request to the stable version (idempotent, at once)."""
        self._stopped.set()

    def route(self, key: str | None) -> Side:
        """The side that answers a request with ``key`` (None: no key, a random draw)."""
        if self._stopped.is_set():
            return "stable"
        if key is None:
            # Random.random is one C call: atomic between threads, no lock needed.
            return "candidate" if self._random.random() * BUCKETS < self._cut else "stable"
        return "candidate" if bucket_of(key) < self._cut else "stable"

    def key_of(
        self, headers: Mapping[str, str] | None = None, record: Mapping[str, object] | None = None
    ) -> str | None:
        """The key this router's policy reads from a request (see :func:`request_key`)."""
        return request_key(self.key, headers, record)


def request_key(
    spec: KeySpec | None,
    headers: Mapping[str, str] | None = None,
    record: Mapping[str, object] | None = None,
) -> str | None:
    """The stickiness key of a request: header ``spec.name`` (any case) or the record's
    field ``spec.name``; None when there is no spec, no such value or an empty one.

    A field's value is keyed by its JSON text (``42`` and ``"42"`` are different keys,
    as they are different values), a string by itself.
    """
    if spec is None:
        return None
    value: object = None
    if spec.source == "header" and headers:
        wanted = spec.name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    elif spec.source == "field" and record:
        value = record.get(spec.name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
