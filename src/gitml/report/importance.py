"""Explanations base vs head: the model's top features by permutation importance.

The pipeline writes permutation importance into the model card (``importance:``: the
method, the scoring, and every feature with its mean decrease and its spread, sorted by
mean). This module compares two cards' rankings, already parsed: the head's top
features with the rank each had on the base, and the base's top features that left.
A feature that enters the top three (:data:`FLAG_TOP`) without having been in the base's
is flagged: what drives the model's decisions changed, which a reviewer of a lending
model wants to see before the metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gitml.report.model import Availability, FeatureRank, ImportanceDiff

TOP = 5
FLAG_TOP = 3


@dataclass(frozen=True)
class _Ranking:
    method: str | None
    scoring: str | None
    means: dict[str, float | None]  # by rank: most important first


class MalformedImportance(ValueError):
    """A card's ``importance`` that is not a ranking; the message says where and why."""


def _mean(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedImportance(f"{where}: expected a number, got {str(value)[:40]!r}")
    return float(value) if math.isfinite(value) else None


def parse_importance(card: Any, name: str) -> _Ranking | None:
    """The ranking in a parsed model card (None: the card has no ``importance``).

    Features are ranked by mean decrease, largest first; a feature without a finite
    mean ranks last, and ties keep the card's order.
    """
    if not isinstance(card, dict):
        raise MalformedImportance(f"{name}: expected a mapping, got {type(card).__name__}")
    section = card.get("importance")
    if section is None:
        return None
    if not isinstance(section, dict) or not isinstance(section.get("features"), list):
        raise MalformedImportance(f"{name}: importance.features: expected a list of features")
    means: dict[str, float | None] = {}
    for index, item in enumerate(section["features"]):
        where = f"{name}: importance.features[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise MalformedImportance(f"{where}: expected a mapping with a name")
        if item["name"] in means:
            raise MalformedImportance(f"{where}: {item['name']!r} is listed twice")
        means[item["name"]] = _mean(item.get("mean"), f"{where}.mean")
    ranked = sorted(means.items(), key=lambda kv: -kv[1] if kv[1] is not None else math.inf)
    method, scoring = section.get("method"), section.get("scoring")
    return _Ranking(
        method if isinstance(method, str) else None,
        scoring if isinstance(scoring, str) else None,
        dict(ranked),
    )


def _side(
    card: Any, error: str | None, unavailable: str | None, name: str
) -> tuple[Availability, _Ranking | None, str]:
    if error is not None:
        return Availability.MALFORMED, None, f"{name}: not read: {error}"
    if unavailable is not None:
        return Availability.UNAVAILABLE, None, f"{name}: unavailable: {unavailable}"
    if card is None:
        return Availability.MISSING, None, ""
    try:
        ranking = parse_importance(card, name)
    except MalformedImportance as problem:
        return Availability.MALFORMED, None, f"no feature ranking: {problem}"
    return (Availability.PRESENT if ranking else Availability.MISSING), ranking, ""


def compare_importance(
    base: Any,
    head: Any,
    *,
    card: str = "card",
    base_label: str = "base",
    head_label: str = "head",
    base_error: str | None = None,
    head_error: str | None = None,
    base_unavailable: str | None = None,
    head_unavailable: str | None = None,
) -> ImportanceDiff | None:
    """Compare the rankings of two parsed model cards (None: the side has no card).

    None when neither side ranks features: there is nothing to show. ``*_error`` says
    why a side's card could not be parsed at all, ``*_unavailable`` why the bytes DVC
    tracks for it could not be had.
    """
    base_state, old, base_note = _side(
        base, base_error, base_unavailable, f"{card} at {base_label}"
    )
    head_state, new, head_note = _side(
        head, head_error, head_unavailable, f"{card} at {head_label}"
    )
    if old is None and new is None and not (base_note or head_note):
        return None
    old_ranks = {name: rank for rank, name in enumerate(old.means if old else (), 1)}
    new_ranks = {name: rank for rank, name in enumerate(new.means if new else (), 1)}
    shown = [name for name, rank in new_ranks.items() if rank <= TOP]
    shown += [name for name, rank in old_ranks.items() if rank <= TOP and name not in shown]
    features = []
    for name in shown:
        before, after = old_ranks.get(name), new_ranks.get(name)
        # Only against a base that ranked features: a first ranking flags nothing.
        entered = (
            old is not None
            and after is not None
            and after <= FLAG_TOP
            and (before is None or before > FLAG_TOP)
        )
        features.append(
            FeatureRank(
                name,
                before,
                after,
                old.means.get(name) if old else None,
                new.means.get(name) if new else None,
                entered,
            )
        )
    source = new or old
    return ImportanceDiff(
        card,
        base_state,
        head_state,
        source.method if source else None,
        source.scoring if source else None,
        tuple(features),
        tuple(note for note in (base_note, head_note) if note),
    )
