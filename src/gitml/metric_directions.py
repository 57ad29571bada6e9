"""Which way a metric is better, from its name: what a reviewer would read into it.

A project without ``gitml.yaml`` (or one that declares only some directions) still needs
verdicts: ``roc_auc`` going up is good, ``log_loss`` going up is bad. Names are matched a
dotted segment at a time, from the last one back, because DVCLive nests the split under
the metric (``roc_auc.test``, ``avg_prec.train``) and step metrics under the split
(``train.loss``): the first segment that names a known metric decides. A name nothing
matches has no direction: the report says so rather than guess.

Fairness gaps (gitml.fairness) follow their definitions: a difference or gap between
groups is better small, a ratio of the lowest to the highest group rate better near 1.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

Direction = Literal["higher", "lower"]

# Whole segments whose direction no single word gives: min/max ratios between groups.
KNOWN_SEGMENTS: dict[str, Direction] = {
    "demographic_parity_ratio": "higher",
    "equalized_odds_ratio": "higher",
    "equal_opportunity_ratio": "higher",
}

# Words inside a segment (``avg_prec``, ``f1-score``, ``rocAuc`` → avg, prec, f1, score, ...).
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# Lower is better. Checked first: ``accuracy_loss`` and ``error_rate`` are costs.
LOWER_PARTS = ("loss", "error", "brier", "perplexity", "latency", "seconds")
LOWER_WORDS = frozenset(
    {
        "rmse",
        "mse",
        "mae",
        "mape",
        "smape",
        "rmsle",
        "logloss",
        "ece",
        "wer",
        "cer",
        "fpr",
        "fnr",
        "err",
        "time",
        "ms",
        "bytes",
        "size",
        "divergence",
        "distance",
        # spreads between groups (demographic_parity_difference, calibration_gap)
        "difference",
        "gap",
        "disparity",
    }
)
# Higher is better.
HIGHER_PARTS = (
    "auc",
    "acc",
    "prec",
    "recall",
    "ndcg",
    "bleu",
    "rouge",
    "specificity",
    "sensitivity",
)
HIGHER_WORDS = frozenset(
    {
        "f1",
        "f2",
        "fbeta",
        "r2",
        "ap",
        "map",
        "mrr",
        "iou",
        "miou",
        "dice",
        "kappa",
        "mcc",
        "tpr",
        "tnr",
        "gini",
        "score",
        "hit",
        "hits",
    }
)


def _words(segment: str) -> list[str]:
    return _WORD.findall(_CAMEL.sub("_", segment).lower())


def _segment_direction(segment: str) -> Direction | None:
    known = KNOWN_SEGMENTS.get(segment.lower())
    if known is not None:
        return known
    words = _words(segment)
    if not words:
        return None
    if any(w in LOWER_WORDS for w in words) or any(p in w for w in words for p in LOWER_PARTS):
        return "lower"
    if any(w in HIGHER_WORDS for w in words) or any(p in w for w in words for p in HIGHER_PARTS):
        return "higher"
    return None


def _segments_last_first(name: str) -> Iterator[str]:
    # DVCLive writes `train/loss`, which DVC's own diff shows with slashes: both separate.
    yield from reversed(re.split(r"[./]", name))


def guess_direction(name: str) -> Direction | None:
    """The direction well-known names imply (``roc_auc.test`` → higher), else None."""
    for segment in _segments_last_first(name):
        direction = _segment_direction(segment)
        if direction is not None:
            return direction
    return None


def declared_direction(name: str, declared: Mapping[str, Direction]) -> Direction | None:
    """The direction ``gitml.yaml`` declares for ``name``: the full dotted name first, then
    its segments from the last back (``roc_auc: higher`` covers ``roc_auc.test``)."""
    if name in declared:
        return declared[name]
    for segment in _segments_last_first(name):
        if segment in declared:
            return declared[segment]
    return None


def direction_of(name: str, declared: Mapping[str, Direction]) -> Direction | None:
    """What ``gitml.yaml`` declares for ``name``, else what its name implies, else None."""
    return declared_direction(name, declared) or guess_direction(name)
