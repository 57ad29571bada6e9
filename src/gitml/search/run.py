"""Running a search over a repository's registry: versions read once, then filtered.

The git side is the :class:`~gitml.registry.reader.RegistryReader` (one ref listing, one
``cat-file --batch``); files at a version's commit (metrics, params, ``dvc.yaml``) are
read only when the query or the sort asks for what they hold, each distinct file parsed
once. The filtering itself is :func:`gitml.search.query.matches`.
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gitml.errors import UsageError
from gitml.registry.names import Action, version_precedence
from gitml.search.english import looks_like_english, translate
from gitml.search.grammar import parse_query
from gitml.search.query import field_kind, fields_used, matches
from gitml.search.views import LazyMapping, Scalar, VersionView, flatten

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from gitml.registry.reader import RegistryReader
    from gitml.registry.state import ModelState, VersionState
    from gitml.search.query import Expr

DEFAULT_PARAMS = "params.yaml"


@dataclass(frozen=True)
class SearchResult:
    """The versions a query matched, in order; ``query``: the query as understood (an
    English sentence translated); ``english``: the text was a sentence."""

    query: str
    english: bool
    at: datetime | None
    versions: tuple[VersionView, ...]
    metrics: tuple[str, ...]  # the metric names the query or sort reads (table columns)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "query": self.query,
            "english": self.english,
            "at": self.at.isoformat() if self.at else None,
            "versions": [v.to_dict() for v in self.versions],
        }


def understand(text: str, stages: tuple[str, ...], now: datetime) -> tuple[Expr, bool]:
    """The AST of ``text``: a query, or a sentence of the documented English family."""
    if looks_like_english(text):
        return parse_query(translate(text, stages, now)), True
    return parse_query(text), False


def search(
    reader: RegistryReader,
    text: str,
    *,
    at: datetime | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> SearchResult:
    """The versions of every model that ``text`` matches (at ``at``, or now)."""
    if limit is not None and limit < 0:
        raise UsageError(f"--limit {limit}: expected a count of versions, 0 or more")
    from datetime import UTC

    expr, english = understand(text, reader.known_stages(), at or datetime.now(UTC))
    used = fields_used(expr)
    order = _sort_key(sort)
    if order is not None:
        used.add(order[0])
    builder = _ViewBuilder(reader, used, at)
    # Building 10,000 views allocates in bursts that make the cyclic collector rescan the
    # whole registry state each time; nothing here makes cycles, so it pauses meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = [view for view in builder.views() if matches(expr, view)]
    finally:
        if collecting:
            gc.enable()
    found = _sorted(found, order)
    if limit is not None:
        found = found[:limit]
    metrics = tuple(sorted({name for field, name in used if field == "metric"}))
    return SearchResult(expr.text(), english, at, tuple(found), metrics)


def _sort_key(sort: str | None) -> tuple[tuple[str, str], bool] | None:
    """``FIELD`` or ``-FIELD`` (descending) as ((field, name), descending)."""
    if not sort:
        return None
    descending = sort.startswith("-")
    field, _, name = sort.removeprefix("-").partition(".")
    try:
        kind = field_kind(field)
    except KeyError:
        kind = ""
    if not kind or kind == "set" or bool(name) != (field in ("metric", "param")):
        raise UsageError(
            f"--sort {sort!r}: expected a field like registered, version, model, author, pr, "
            "metric.NAME or param.NAME (a leading - sorts descending)"
        )
    return (field, name), descending


def _sorted(
    found: list[VersionView], order: tuple[tuple[str, str], bool] | None
) -> list[VersionView]:
    """By ``order`` (versions without the value last), else by model, newest version first."""
    found.sort(key=lambda v: version_precedence(v.version), reverse=True)
    found.sort(key=lambda v: v.model)
    if order is None:
        return found
    (field, name), descending = order

    def key(view: VersionView) -> Any:
        value = view.value(field, name)
        if field == "version":
            return version_precedence(str(value))
        return value if isinstance(value, int | float | datetime) else str(value)

    present = [v for v in found if v.value(field, name) is not None]
    missing = [v for v in found if v.value(field, name) is None]
    try:
        present.sort(key=key, reverse=descending)
    except TypeError:  # a param that is a number in one version and text in another
        present.sort(key=lambda v: str(key(v)), reverse=descending)
    return present + missing


class _ViewBuilder:
    """Views of every registered version, reading files at commits only as needed."""

    def __init__(self, reader: RegistryReader, used: set[tuple[str, str]], at: datetime | None):
        self.reader = reader
        self.at = at
        self.need_project = any(field in ("label", "description") for field, _ in used)
        self._parsed: dict[tuple[str, bytes | None], Any] = {}

    def views(self) -> list[VersionView]:
        found = []
        instant = self.at.timestamp() if self.at else float("inf")
        for name in self.reader.model_names():
            state = self.reader.model_state(name)
            holding: dict[str, set[str]] = {}
            for stage, held in self._holders(state).items():
                holding.setdefault(held, set()).add(stage)
            for version in state.versions.values():
                if version.registered:
                    view = self._view(version, holding.get(version.version, ()), instant)
                    if view is not None:
                        found.append(view)
        return found

    def _holders(self, state: ModelState) -> dict[str, str]:
        """``{stage: version}`` held now (or at the instant)."""
        held = {}
        for stage in state.stages():
            if self.at is None:
                holder = self.reader.stage_holder(state, stage)
                version = holder.version if holder else None
            else:
                version = self.reader.held_at(state, stage, self.at).version
            if version is not None:
                held[stage] = version
        return held

    def _view(
        self, version: VersionState, stages: Iterable[str], instant: float
    ) -> VersionView | None:
        """The view of ``version``; None when it was not active at the instant (not yet
        registered, or deregistered by then)."""
        registration = version.registration
        assert registration is not None
        record = version.record
        # One pass: whether it was active then, and which stages it had been assigned to.
        active = False
        ever = set()
        for event in version.events:
            if event.timestamp > instant:
                break
            action = event.action
            if action is Action.ASSIGN and event.stage:
                ever.add(event.stage)
            elif action is Action.REGISTER or action is Action.DEREGISTER:
                active = action is Action.REGISTER
        if not active:
            return None
        headline = record.metrics if record else {}
        metrics = LazyMapping(headline, lambda: self._metrics_files(version))
        labels: tuple[str, ...] = ()
        description = ""
        if self.need_project:
            artifact = self._project(version.commit).artifacts.get(version.model)
            if artifact is not None:
                labels, description = artifact.labels, artifact.description
        return VersionView(
            model=version.model,
            version=version.version,
            commit=version.commit,
            registered=registration.created_at,
            stages=frozenset(stages),
            ever=frozenset(ever),
            author=(record.author if record and record.author else registration.author) or None,
            approvers=record.approvers if record else (),
            pr=record.pull_request if record else None,
            metrics=metrics,
            params=LazyMapping({}, lambda: self._params(version.commit)),
            inputs=record.inputs if record else {},
            labels=labels,
            description=description,
        )

    def _parse(self, kind: str, data: bytes | None) -> Any:
        """Each distinct file content parsed once (most commits share their files)."""
        key = (kind, data)
        if key not in self._parsed:
            self._parsed[key] = _parse_file(kind, data)
        return self._parsed[key]

    def _metrics_files(self, version: VersionState) -> dict[str, float]:
        config = self.reader.config
        model = config.models.get(version.model) if config else None
        found: dict[str, float] = {}
        for path in model.metrics if model else ():
            kind = "yaml" if path.endswith((".yaml", ".yml")) else "json"
            values = self._parse(kind, self.reader.read_blob(version.commit, path))
            found.update({k: float(v) for k, v in values.items() if isinstance(v, int | float)})
        return found

    def _params(self, commit: str) -> dict[str, Scalar]:
        config = self.reader.config
        path = (config.params_file if config else None) or DEFAULT_PARAMS
        result: dict[str, Scalar] = self._parse("yaml", self.reader.read_blob(commit, path))
        return result

    def _project(self, commit: str) -> Any:
        from gitml.dvcio.project import DVC_YAML, project_from_reader

        data = self.reader.read_blob(commit, DVC_YAML)
        key = ("project", data)
        if key not in self._parsed:
            self._parsed[key] = project_from_reader({DVC_YAML: data}.get, commit[:12])
        return self._parsed[key]


def _parse_file(kind: str, data: bytes | None) -> dict[str, Scalar]:
    """A metrics or params file flattened; an unreadable one holds nothing to match."""
    if not data:
        return {}
    import yaml

    try:
        loaded = json.loads(data) if kind == "json" else yaml.safe_load(data)
    except (ValueError, yaml.YAMLError):
        return {}
    return flatten(loaded)


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
