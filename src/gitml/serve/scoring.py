"""One request body to probabilities: parse, validate against the signature, score.

Runs in a worker thread, so the event loop keeps answering health checks and metrics
while a large batch is scored. Small batches take the model's fast scorer when it has
one (:mod:`gitml.serve.fastpath`); larger ones, and models without one, take
``predict_proba`` on a DataFrame.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from gitml.serve.records import (
    FieldError,
    InvalidRecords,
    ValidBatch,
    build_frame,
    parse_csv,
    parse_json,
    validate_records,
)

if TYPE_CHECKING:
    from gitml.serve.fastpath import FastScorer
    from gitml.serve.loaded import LoadedModel
    from gitml.serve.settings import ServeSettings

__all__ = ["TooLarge", "parse_body", "score_batch", "score_body", "score_records"]


class TooLarge(Exception):
    """The body or the batch exceeds its limit (HTTP 413)."""


_thread_state = threading.local()


def _limit_openmp(threads: int | None) -> None:
    """Cap OpenMP threads for this worker thread, once per thread.

    OpenMP's thread count is per calling thread, so setting it once in the main
    thread would not reach the worker threads that score requests.
    """
    if threads is None or getattr(_thread_state, "openmp_threads", None) == threads:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="openmp")
    _thread_state.openmp_threads = threads


def parse_body(body: bytes, is_csv: bool, settings: ServeSettings) -> list[Any]:
    """The records of a body (JSON or CSV), refused beyond ``settings.max_batch``."""
    records = parse_csv(body) if is_csv else parse_json(body)
    if len(records) > settings.max_batch:
        raise TooLarge(
            f"batch of {len(records)} records exceeds the limit of {settings.max_batch}; "
            "split it into smaller requests"
        )
    return records


def score_batch(
    model: LoadedModel, scorer: FastScorer | None, batch: ValidBatch, settings: ServeSettings
) -> tuple[list[float], str]:
    """Scores of a validated, non-empty batch, and the path that scored it (``fast`` or
    ``plain``). Values the model cannot score are :class:`InvalidRecords`."""
    try:
        if scorer is not None and batch.count <= scorer.max_records:
            return scorer.scores(batch), "fast"
        _limit_openmp(settings.predict_threads)
        frame = build_frame(model.signature, batch)
        # Column 1 is the positive class: the pipeline is trained on 0/1 labels.
        scores: list[float] = model.model.predict_proba(frame)[:, 1].tolist()
    except (ValueError, ArithmeticError) as exc:
        # Valid but unscorable values: a finite number so large that a scaler
        # overflows it to inf, which scikit-learn refuses (ValueError), or a model's
        # own arithmetic overflowing on them. The records cause it: a 422.
        error = FieldError(None, None, f"the model cannot score these records: {exc}")
        raise InvalidRecords([error], 1) from None
    return scores, "plain"


def score_records(
    model: LoadedModel,
    scorer: FastScorer | None,
    records: list[Any],
    is_csv: bool,
    settings: ServeSettings,
    *,
    also_allowed: frozenset[str] = frozenset(),
) -> tuple[ValidBatch, list[float], str]:
    """Validate and score parsed records; ``also_allowed`` names fields that are not
    features but may be sent (a canary's routing key)."""
    batch = validate_records(model.signature, records, from_text=is_csv, also_allowed=also_allowed)
    if batch.count == 0:
        return batch, [], "none"
    scores, path = score_batch(model, scorer, batch, settings)
    return batch, scores, path


def score_body(
    model: LoadedModel,
    scorer: FastScorer | None,
    body: bytes,
    is_csv: bool,
    settings: ServeSettings,
) -> tuple[ValidBatch, list[float], str]:
    """Parse, validate and score a body.

    Returns the batch, its scores and which path scored it: ``fast``, ``plain``, or
    ``none`` for an empty batch.
    """
    return score_records(model, scorer, parse_body(body, is_csv, settings), is_csv, settings)
