"""A fixed family of English sentences, translated to the query language (pure).

The family (clauses in any order, each at most once; the words in ``FILLER`` may appear
anywhere):

* a stage word, e.g. ``production`` -> ``stage = production`` (the configured stages);
* ``trained on X data`` -> ``data ~ X`` (an input path or md5 containing X);
* ``in Q3 [2026]`` or ``in 2026-Q3`` -> ``registered = 2026-Q3`` (no year: this year);
* ``with METRIC above|over|below|under N[%]`` -> ``metric.METRIC > N`` (or ``<``);
* ``by AUTHOR`` -> ``author = AUTHOR``.

Any other word is refused by name: a sentence is never half-understood or guessed at.
Text with any of ``= != < > ~ ( ) "`` is a query, never a sentence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gitml.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

QUERY_CHARACTERS = frozenset("=<>~!()\"'")
FILLER = frozenset(
    [
        "all",
        "show",
        "find",
        "list",
        "me",
        "the",
        "models",
        "model",
        "versions",
        "version",
        "which",
        "that",
        "are",
        "were",
        "is",
    ]
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)%?"
_CLAUSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("data", re.compile(r"\btrained on (\S+) data\b", re.IGNORECASE)),
    ("quarter", re.compile(r"\bin (\d{4})-q([1-4])\b", re.IGNORECASE)),
    ("quarter", re.compile(r"\bin q([1-4])(?: (\d{4}))?\b", re.IGNORECASE)),
    ("metric", re.compile(rf"\bwith (\S+) (above|over|below|under) ({_NUMBER})(?!\S)", re.I)),
    ("author", re.compile(r"\bby (\S+)", re.IGNORECASE)),
)
_COMPARISON = {"above": ">", "over": ">", "below": "<", "under": "<"}
_VALUE = re.compile(r"[^\s()\"'=<>!~]+")


def looks_like_english(text: str) -> bool:
    """A sentence has none of the query language's operator or grouping characters."""
    return bool(text.strip()) and not QUERY_CHARACTERS & set(text)


def translate(text: str, stages: tuple[str, ...], now: datetime) -> str:
    """The query a sentence of the family means; a UsageError names the words that fit no
    clause. ``stages``: the stage words; ``now``: the year of ``in Q3`` without one."""
    rest = f" {' '.join(text.split())} "
    clauses: dict[str, str] = {}
    for kind, pattern in _CLAUSES:
        found = pattern.search(rest)
        if found is None or (kind in clauses):
            continue
        clauses[kind] = _clause(kind, found, now)
        rest = rest[: found.start()] + " " + rest[found.end() :]
    stage_words = {s.lower(): s for s in stages}
    unplaced = []
    held = []
    for word in rest.split():
        stage = stage_words.get(word.lower())
        if stage is not None and stage not in held:
            held.append(stage)
        elif word.lower() not in FILLER:
            unplaced.append(word)
    if unplaced:
        raise UsageError(
            f"search: could not place {' '.join(unplaced)!r} in {text.strip()!r}: the sentences "
            "understood are stage words, 'trained on X data', 'in Q3 [2026]', 'with METRIC "
            "above|below N[%]' and 'by AUTHOR'; write a query (e.g. metric.auc > 0.8) instead"
        )
    parts = [f"stage = {s}" for s in held] + list(clauses.values())
    if not parts:
        raise UsageError(f"search: {text.strip()!r} asks nothing: name a stage, data or metric")
    return " AND ".join(parts)


def _clause(kind: str, found: re.Match[str], now: datetime) -> str:
    if kind == "data":
        return f"data ~ {_word(found[1])}"
    if kind == "quarter":
        if found[1] and len(found[1]) == 4:
            year, quarter = found[1], found[2]
        else:
            quarter, year = found[1], found[2] or str(now.year)
        return f"registered = {year}-Q{quarter}"
    if kind == "metric":
        return f"metric.{_word(found[1])} {_COMPARISON[found[2].lower()]} {found[3]}"
    return f"author = {_word(found[1])}"


def _word(text: str) -> str:
    """A word as a query value (quoted when the query language would split it)."""
    return text if _VALUE.fullmatch(text) else f'"{text}"'
