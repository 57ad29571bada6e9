"""Running a search over a repository's registry: versions read once, filtered, ordered,
then checked against git.

The git side is the :class:`~gitml.registry.reader.RegistryReader` (one ref listing, one
``cat-file --batch``); the views come from :mod:`gitml.search.build`, the filtering is
:func:`gitml.search.query.matches`, the order :mod:`gitml.search.order`.

A result is a fact, so each matching version's record is checked against git (the
artefact md5 it claims against ``dvc.lock`` at its commit) before it is returned, as
``gitml registry`` checks a stage holder; a record git contradicts is left out and named.
Only the matches are checked, in output order, and no further than ``limit`` asks: the
cost follows the result, not the registry.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError, UsageError
from gitml.search.build import ViewBuilder
from gitml.search.english import looks_like_english, translate
from gitml.search.grammar import parse_query
from gitml.search.order import ordered, parse_sort
from gitml.search.query import fields_used, matches

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from gitml.registry.reader import RegistryReader
    from gitml.registry.state import VersionState
    from gitml.search.query import Expr
    from gitml.search.views import VersionView


@dataclass(frozen=True)
class LeftOut:
    """A version the query matched but the result leaves out: git contradicts its record.

    ``recorded_md5``: the artefact md5 the record claims; ``git_md5``: what ``dvc.lock``
    (or the artefact's ``.dvc`` file) at ``commit`` holds, None when it holds none;
    ``reason``: the disagreement in words.
    """

    model: str
    version: str
    commit: str
    recorded_md5: str | None
    git_md5: str | None
    reason: str

    def brief(self) -> str:
        """``credit@v1.3.0 (record md5 3f2a9c1e, dvc.lock 9b8c7d6e)``, for a one-line
        warning."""
        claimed = (self.recorded_md5 or "none")[:8]
        held = (self.git_md5 or "none")[:8]
        return f"{self.model}@{self.version} (record md5 {claimed}, dvc.lock {held})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "model": self.model,
            "version": self.version,
            "commit": self.commit,
            "recorded_md5": self.recorded_md5,
            "git_md5": self.git_md5,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class SearchResult:
    """The versions a query matched, in order; ``query``: the query as understood (an
    English sentence translated); ``english``: the text was a sentence; ``left_out``:
    matches whose record git contradicts, not in ``versions``."""

    query: str
    english: bool
    at: datetime | None
    versions: tuple[VersionView, ...]
    metrics: tuple[str, ...]  # the metric names the query or sort reads (table columns)
    left_out: tuple[LeftOut, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "query": self.query,
            "english": self.english,
            "at": self.at.isoformat() if self.at else None,
            "versions": [v.to_dict() for v in self.versions],
            "left_out": [v.to_dict() for v in self.left_out],
        }


def understand(
    text: str, stages: Callable[[], tuple[str, ...]], now: datetime
) -> tuple[Expr, bool]:
    """The AST of ``text``: a query, or a sentence of the documented English family
    (``stages()``: its stage words, asked only of a sentence)."""
    if looks_like_english(text):
        return parse_query(translate(text, stages(), now)), True
    return parse_query(text), False


def search(
    reader: RegistryReader,
    text: str,
    *,
    at: datetime | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> SearchResult:
    """The versions of every model that ``text`` matches (at ``at``, or now), ordered by
    ``sort`` (:func:`gitml.search.order.parse_sort`), at most ``limit`` of them, each one
    whose record git contradicts left out."""
    if limit is not None and limit < 0:
        raise UsageError(f"--limit {limit}: expected a count of versions, 0 or more")
    from datetime import UTC

    order = parse_sort(sort)
    expr, english = understand(text, reader.known_stages, at or datetime.now(UTC))
    used = fields_used(expr)
    if order is not None:
        used.add((order.field, order.name))
    builder = ViewBuilder(reader, used, at)
    # Building 10,000 views allocates in bursts that make the cyclic collector rescan the
    # whole registry state each time; nothing here makes cycles, so it pauses meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = [view for view in builder.views() if matches(expr, view)]
        kept, left_out = _believed(reader, ordered(found, order), limit)
    finally:
        if collecting:
            gc.enable()
    metrics = tuple(sorted({name for field, name in used if field == "metric"}))
    return SearchResult(expr.text(), english, at, tuple(kept), metrics, tuple(left_out))


def _believed(
    reader: RegistryReader, found: list[VersionView], limit: int | None
) -> tuple[list[VersionView], list[LeftOut]]:
    """The views in ``found`` whose record git does not contradict, in order, until
    ``limit`` of them are found; and the ones it contradicts on the way.

    A version without a gitml record (a tag GTO wrote, in a registry that accepts them)
    claims no md5 and stays, as in ``gitml registry``.
    """
    kept: list[VersionView] = []
    left_out: list[LeftOut] = []
    for view in found:
        if limit is not None and len(kept) >= limit:
            break
        version = reader.model_state(view.model).versions[view.version]
        disagreement = _disagreement(reader, version)
        if disagreement is None:
            kept.append(view)
            continue
        held, reason = disagreement
        left_out.append(
            LeftOut(view.model, view.version, view.commit, version.recorded_md5, held, reason)
        )
    return kept, left_out


def _disagreement(reader: RegistryReader, version: VersionState) -> tuple[str | None, str] | None:
    """What git holds for the version's artefact and why that contradicts its record; None
    when git agrees (or the version has no record to contradict)."""
    try:
        if not reader.contradicted(version):
            return None
        held = reader.version_md5(version)
    except ConfigError as error:  # a dvc.lock that cannot be read confirms nothing
        return None, str(error)
    path = reader.version_path(version) or "the artefact"
    reason = (
        f"its record claims artefact md5 {version.recorded_md5}, but dvc.lock at "
        f"{version.commit[:12]} holds {held or 'none'} for {path}"
    )
    return held, reason


def run_search(
    root: Path | str,
    text: str,
    *,
    local: bool = False,
    at: datetime | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> SearchResult:
    """:func:`search` over the registry of the repository at ``root``."""
    from gitml.registry.reader import RegistryReader

    with RegistryReader(root, local=local) as reader:
        return search(reader, text, at=at, sort=sort, limit=limit)
