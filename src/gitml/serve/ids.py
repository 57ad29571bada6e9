"""Prediction ids: one per scored record, so a label sent later finds its prediction.

An id is ``<process>-<n>``: ``process`` names this server process (its start time in hex
and 48 random bits), ``n`` counts the records it scored. Why not a UUID4 per record:

* cost: a 10,000-record batch needs 10,000 ids; a counter range is one addition under a
  lock and cheap string formatting, where ``uuid4`` reads the OS's random source per id;
* order: ids of one process sort by when they were issued (``n``), so a prediction log
  read by a person, or a replay, shows the order of predictions;
* the memory of recent ids is a ring indexed by ``n``, exact and bounded, with no hash
  table of 100,000 strings to keep and prune;
* uniqueness across processes (replicas, restarts) comes from the process part, with a
  chance of collision of about one in 2^48 per pair of processes started in one second.

:class:`PredictionIds` remembers the answer (version and role) of the last ``capacity``
ids it issued, and whether each got its label already.
"""

from __future__ import annotations

import os
import threading
import time
from array import array
from enum import StrEnum

__all__ = ["DEFAULT_KNOWN_IDS", "LabelOutcome", "PredictionIds"]

# Predictions whose labels the server can still match to their version: at 1,000 records
# a second, the last 100 seconds; labels usually arrive in bulk later and are then joined
# offline (the feedback log and the prediction log share the ids).
DEFAULT_KNOWN_IDS = 100_000
# Longer than any id this module writes: the rest are unknown without parsing.
_MAX_ID_CHARS = 64


class LabelOutcome(StrEnum):
    """What became of one label: accepted, its id unknown, or its id labelled before."""

    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    DUPLICATE = "duplicate"


class PredictionIds:
    """Issues ids and remembers the answers of the most recent ``capacity`` of them.

    Thread-safe: requests scored in worker threads issue ids, ``/feedback`` labels them.
    """

    def __init__(self, capacity: int = DEFAULT_KNOWN_IDS, *, process: str | None = None):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.process = process or f"{int(time.time()):x}{os.urandom(6).hex()}"
        self._prefix = self.process + "-"
        self._lock = threading.Lock()
        self._next = 0
        # Slot n % capacity holds id n (or -1), the code of its answer, and whether it
        # was labelled. Codes index _answers, one per (version, role) ever answered.
        self._numbers = array("q", [-1]) * capacity
        self._codes = array("I", [0]) * capacity
        self._labelled = bytearray(capacity)
        self._answers: list[tuple[str | None, str]] = []
        self._code_of: dict[tuple[str | None, str], int] = {}

    def issue(self, count: int, version: str | None, role: str) -> list[str]:
        """``count`` new ids, remembered as answered by ``version`` in ``role``."""
        if count <= 0:
            return []
        with self._lock:
            start = self._next
            self._next += count
            answer = (version, role)
            code = self._code_of.get(answer)
            if code is None:
                code = self._code_of[answer] = len(self._answers)
                self._answers.append(answer)
            self._remember(start, count, code)
        prefix = self._prefix
        return [f"{prefix}{n}" for n in range(start, start + count)]

    def _remember(self, start: int, count: int, code: int) -> None:
        """Fill the ring's slots for ids ``start .. start+count-1`` (lock held)."""
        capacity = self.capacity
        if count > capacity:  # only the newest ``capacity`` ids fit
            start, count = start + count - capacity, capacity
        first = start % capacity
        head = min(count, capacity - first)  # up to the end of the ring, then wrap
        for offset, length in ((0, head), (head, count - head)):
            if length == 0:
                continue
            slot = (first + offset) % capacity
            number = start + offset
            self._numbers[slot : slot + length] = array("q", range(number, number + length))
            self._codes[slot : slot + length] = array("I", [code]) * length
            self._labelled[slot : slot + length] = bytes(length)

    def _slot(self, prediction_id: str) -> int | None:
        """The ring slot of a remembered id of this process (lock held), else None."""
        if len(prediction_id) > _MAX_ID_CHARS or not prediction_id.startswith(self._prefix):
            return None
        digits = prediction_id[len(self._prefix) :]
        if not (digits.isascii() and digits.isdigit()) or (len(digits) > 1 and digits[0] == "0"):
            return None
        number = int(digits)
        slot = number % self.capacity
        return slot if self._numbers[slot] == number else None

    def answer(self, prediction_id: str) -> tuple[str | None, str] | None:
        """``(version, role)`` of a remembered id, else None."""
        with self._lock:
            slot = self._slot(prediction_id)
            return None if slot is None else self._answers[self._codes[slot]]

    def label(self, prediction_id: str) -> tuple[LabelOutcome, tuple[str | None, str] | None]:
        """Record that ``prediction_id`` got its label: accepted the first time (with the
        answer it labels), a duplicate after, unknown when not remembered."""
        with self._lock:
            slot = self._slot(prediction_id)
            if slot is None:
                return LabelOutcome.UNKNOWN, None
            if self._labelled[slot]:
                return LabelOutcome.DUPLICATE, None
            self._labelled[slot] = 1
            return LabelOutcome.ACCEPTED, self._answers[self._codes[slot]]
