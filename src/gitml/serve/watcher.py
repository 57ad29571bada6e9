"""Following a stage: poll the registry and hot-swap the served model when it moves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from gitml.errors import GitError
from gitml.gitio.repo import GitRepo, TagWriter
from gitml.registry.fetch import resolve_artifact
from gitml.serve.loaded import load_resolved
from gitml.serve.prediction_log import timestamp

if TYPE_CHECKING:
    from gitml.serve.holder import ModelHolder
    from gitml.serve.metrics import ServeMetrics

__all__ = ["RegistryWatcher"]

logger = logging.getLogger("gitml.serve")


class RegistryWatcher:
    """Polls the registry and hot-swaps the model when the reference moves.

    A poll re-resolves ``ref`` (a stage follows its latest assignment tag) and, when
    the version or md5 differs from the served model, loads the new one completely
    (bytes fetched, md5 checked, skops-loaded, signature parsed) before swapping it in.
    Any failure keeps the old model serving, is counted in ``/metrics``
    (``gitml_serve_reloads_total{result="failed"}``), logged, and shown by ``/health``
    (:meth:`status`) until a poll succeeds. With ``fetch``, tags are fetched from
    ``remote`` first when the repository has it, so a promotion recorded by CI
    elsewhere is seen.
    """

    def __init__(
        self,
        root: Path | str,
        ref: str,
        *,
        poll_seconds: float = 30.0,
        local: bool = False,
        fetch: bool = True,
        remote: str = "origin",
    ):
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be positive, got {poll_seconds!r}")
        self.root = Path(root)
        self.ref = ref
        self.poll_seconds = poll_seconds
        self.local = local
        self.fetch = fetch
        self.remote = remote
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.failed_polls = 0  # consecutive; 0 after a poll that succeeds

    def status(self) -> dict[str, Any]:
        """What ``/health`` says about reloading: the reference watched, and whether
        the latest polls failed (the served model is then older than the registry's)."""
        return {
            "ref": self.ref,
            "poll_seconds": self.poll_seconds,
            "failed_polls": self.failed_polls,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }

    def _fetch_tags(self) -> None:
        tags = TagWriter(GitRepo(self.root))
        if not tags.has_remote(self.remote):
            return
        try:
            tags.fetch_tags(self.remote)
        except GitError as exc:
            # An unreachable remote must not stop serving: the local tags still say
            # what was recorded, and the next poll tries again.
            logger.warning("cannot fetch tags from %s: %s", self.remote, exc)

    def poll(self, holder: ModelHolder) -> str:
        """One check (blocking): ``"swapped"`` or ``"unchanged"``; raises when it fails."""
        if self.fetch:
            self._fetch_tags()
        resolved = resolve_artifact(self.root, self.ref, local=self.local)
        current = holder.current
        if current is not None and current.key == (resolved.version, resolved.md5):
            return "unchanged"
        model = load_resolved(self.root, self.ref, resolved, local=self.local)
        old = holder.swap(model)
        logger.info(
            "now serving %s %s (md5 %s), was %s",
            model.name,
            model.version,
            model.md5,
            old.version if old else "nothing",
        )
        return "swapped"

    async def run(self, holder: ModelHolder, metrics: ServeMetrics, stop: asyncio.Event) -> None:
        """Poll every ``poll_seconds`` until ``stop`` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
                return
            try:
                result = await run_in_threadpool(self.poll, holder)
            except Exception as exc:  # any failure: keep serving the current model
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.last_error_at = timestamp()
                self.failed_polls += 1
                logger.warning(
                    "reload of %s failed (still serving %s): %s",
                    self.ref,
                    _served_version(holder),
                    self.last_error,
                )
                metrics.reloads.labels("failed").inc()
                continue
            self.last_error = None
            self.last_error_at = None
            self.failed_polls = 0
            metrics.reloads.labels(result).inc()


def _served_version(holder: ModelHolder) -> str:
    model = holder.current
    return "nothing" if model is None else (model.version or model.md5)
