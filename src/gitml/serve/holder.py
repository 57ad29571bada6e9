"""The served model as one atomic reference, and a way to wait for it to change.

A request reads :attr:`ModelHolder.served` once and uses that model (and its fast
scorer) to the end, so a hot swap never changes the model under a request in flight.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.serve.fastpath import Fallback, FastPath, compile_fast_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitml.serve.loaded import LoadedModel

__all__ = ["ModelHolder", "ServedModel"]

logger = logging.getLogger("gitml.serve")


@dataclass(frozen=True)
class ServedModel:
    """A model being served: how its small requests are scored, and since when."""

    model: LoadedModel
    fast_path: FastPath
    since: float  # Unix time of the swap that put it in service


class ModelHolder:
    """The served model, replaced whole by :meth:`swap`.

    Readers take :attr:`served` (or :attr:`current`) once per request. :meth:`swap`
    replaces it in one assignment (atomic in CPython), then wakes :meth:`wait_for`
    callers, which is how tests observe a hot reload without sleeping.
    """

    def __init__(self, *, fast_path: bool = True):
        self.fast_path = fast_path
        self._served: ServedModel | None = None
        self._error: str | None = None
        self._changed = threading.Condition()

    @property
    def served(self) -> ServedModel | None:
        """The model serving new requests with its fast path (None until the first load)."""
        return self._served

    @property
    def current(self) -> LoadedModel | None:
        """The model serving new requests (None until the first load finished)."""
        served = self._served
        return served.model if served is not None else None

    @property
    def error(self) -> str | None:
        """Why the initial load failed, while no model is loaded."""
        return self._error

    def swap(self, model: LoadedModel) -> LoadedModel | None:
        """Serve ``model`` from now on; return the model it replaces.

        Its fast scorer is compiled (and checked) first, in the caller's thread, while
        the old model still serves.
        """
        fast_path = compile_fast_path(model.model, model.signature, enabled=self.fast_path)
        _log_fallback(model, fast_path)
        with self._changed:
            old = self._served
            self._served = ServedModel(model, fast_path, time.time())
            self._error = None
            self._changed.notify_all()
        return old.model if old is not None else None

    def fail(self, message: str) -> None:
        """Record that loading failed (shown by ``/health`` while nothing is loaded)."""
        with self._changed:
            self._error = message
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[LoadedModel | None], bool], timeout: float | None = None
    ) -> LoadedModel | None:
        """Block until ``predicate(current)`` holds; TimeoutError after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.current), timeout):
                raise TimeoutError(f"the served model did not change as expected in {timeout} s")
            return self.current


def _log_fallback(model: LoadedModel, fast_path: FastPath) -> None:
    """Say when a model's small requests will be slower than they could be, and why.

    A warning unless the operator chose it (``--no-fast-path``): then it is expected.
    """
    if fast_path.fallback is None:
        return
    level = logging.INFO if fast_path.fallback is Fallback.DISABLED else logging.WARNING
    logger.log(
        level,
        "%s %s: no fast path (%s: %s); every request is scored with predict_proba",
        model.name,
        model.version or model.md5,
        fast_path.fallback,
        fast_path.detail,
    )
