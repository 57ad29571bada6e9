"""The views a search filters: one per registered version, from the registry reader.

A view holds what the version's events and record say; the files at its commit (the
metrics and params files, ``dvc.yaml``) are read only when the query, the sort or the
output asks for what they hold, and each distinct file content is parsed once. Whether
a record agrees with git is asked later, of the versions that match only
(:func:`gitml.search.run.search`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gitml.registry.names import Action
from gitml.search.views import LazyMapping, Scalar, VersionView, flatten

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from gitml.registry.reader import RegistryReader
    from gitml.registry.state import ModelState, VersionState

DEFAULT_PARAMS = "params.yaml"
_NONE: frozenset[str] = frozenset()


class ViewBuilder:
    """Views of every registered version active at ``at`` (or now), reading files at
    commits only as needed. ``used``: the ``(field, name)`` pairs the query and sort read."""

    def __init__(self, reader: RegistryReader, used: set[tuple[str, str]], at: datetime | None):
        self.reader = reader
        self.at = at
        self.need_project = any(field in ("label", "description") for field, _ in used)
        self._parsed: dict[tuple[str, bytes | None], Any] = {}

    def views(self) -> Iterator[VersionView]:
        """Each active registered version's view, model by model."""
        instant = self.at.timestamp() if self.at else float("inf")
        for name in self.reader.model_names():
            state = self.reader.model_state(name)
            holding = self._holding(state)
            for version in state.versions.values():
                if version.registration is not None:
                    view = self._view(version, holding.get(version.version, _NONE), instant)
                    if view is not None:
                        yield view

    def _holding(self, state: ModelState) -> dict[str, frozenset[str]]:
        """``{version: the stages it holds}`` now (or at the instant); the reader skips a
        holder whose record git contradicts, as ``gitml registry`` does."""
        held: dict[str, set[str]] = {}
        for stage in state.stages():
            if self.at is None:
                holder = self.reader.stage_holder(state, stage)
                version = holder.version if holder else None
            else:
                version = self.reader.held_at(state, stage, self.at).version
            if version is not None:
                held.setdefault(version, set()).add(stage)
        return {version: frozenset(stages) for version, stages in held.items()}

    def _view(
        self, version: VersionState, stages: frozenset[str], instant: float
    ) -> VersionView | None:
        """The view of ``version``; None when it was not active at the instant (not yet
        registered, or deregistered by then)."""
        registration = version.registration
        assert registration is not None
        # One pass: whether it was active then, and which stages it had been assigned to.
        active = False
        ever: set[str] = set()
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
        record = registration.record
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
            stages=stages,
            ever=frozenset(ever),
            # A tag GTO wrote has no record: who tagged it and when, nothing else.
            author=(record.author if record else None) or registration.author or None,
            approvers=record.approvers if record else (),
            pr=record.pull_request if record else None,
            metrics=LazyMapping(record.metrics if record else {}, lambda: self._metrics(version)),
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

    def _metrics(self, version: VersionState) -> dict[str, float]:
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
