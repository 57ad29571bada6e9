"""Answering registry queries from one ref listing and one ``cat-file --batch``.

A stage's *recorded* version is its latest assignment tag (what queries, fetches and
serving follow); its *desired* version is what the stage branch tip holds. When the two
differ the stage is shown as pending.

A version's artefact is the path the repository declares for the model at the version's
registered commit (``dvc.yaml`` ``artifacts:``, else GTO's ``artifacts.yaml``, else
``gitml.yaml``), and its hash is what DVC recorded for that path at that commit
(``dvc.lock``, else the path's ``.dvc`` file): never a claim a tag makes. An artefact that
moved keeps its old path for its old versions.

Every answer is computed from the refs as they are now: there is no cache of answers.
Only tag objects are cached, by object id (:mod:`gitml.gitio.tag_objects`).
"""

from __future__ import annotations

import posixpath
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.errors import RegistryError
from gitml.files import CONFIG_FILE
from gitml.gitio.snapshot import RefSnapshot, read_refs
from gitml.registry.names import version_precedence
from gitml.registry.records import (
    HistoryEntry,
    ModelSummary,
    ModelVersions,
    RecordedLineage,
    StageInfo,
    VersionInfo,
)
from gitml.registry.state import ModelState, RegistryState, build_state

if TYPE_CHECKING:
    from datetime import datetime
    from types import TracebackType

    from gitml.config import Config
    from gitml.gitio.catfile import CatFile
    from gitml.registry.model_ref import ModelRef
    from gitml.registry.records import HeldAt, ModelAt, Tenure
    from gitml.registry.state import VersionState

DEFAULT_REMOTE = "origin"


class RegistryReader:
    """Read-only registry of the repository at ``root``; close it (or use ``with``).

    Refs are read once, on first use, so every answer of one reader describes one state
    of the repository.
    """

    def __init__(
        self, root: Path | str = ".", *, local: bool = False, remote: str = DEFAULT_REMOTE
    ):
        self.root = Path(root)
        self.local = local
        self.remote = remote
        self._catfile: CatFile | None = None
        self._lock_cache: dict[str, dict[str, str | None]] = {}
        self._declared_cache: dict[str, dict[str, str]] = {}
        self._declared_by_content: dict[tuple[bytes | None, bytes | None], dict[str, str]] = {}
        self._pointer_cache: dict[tuple[str, str], str | None] = {}

    @cached_property
    def config(self) -> Config | None:
        """The configuration of the working tree (of ``HEAD`` in a bare ``--repo`` clone):
        ``gitml.yaml`` over what ``dvc.yaml`` and GTO's ``artifacts.yaml`` declare, so a
        GTO registry with no ``gitml.yaml`` still has its models' artefact paths.

        Parsed, not schema-validated: a query only reads it, and a malformed file is
        still a one-line error. The commands that judge or write validate it in full.
        """
        if self._is_bare():
            return self._config_from_head()
        from gitml.zero_config import working_config

        return working_config(self.root, validate=False)

    @cached_property
    def snapshot(self) -> RefSnapshot:
        """Every tag and branch tip, read on first use."""
        return read_refs(self.root)

    @cached_property
    def state(self) -> RegistryState:
        """The registry's events indexed per model and version, built on first use.

        A registry with a ``gitml.yaml`` believes only gitml records (unless it accepts
        GTO's tags); a GTO registry without one reads every tag as GTO does.
        """
        config = self.config
        records_only = config is not None and config.declared and not config.accept_gto_tags
        return build_state(self.snapshot, records_only=records_only)

    # -- plumbing ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop the git process, if one was started."""
        if self._catfile is not None:
            self._catfile.close()
            self._catfile = None

    def __enter__(self) -> RegistryReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def read_blob(self, commit: str, path: str) -> bytes | None:
        """The file at ``commit:path`` through the shared ``cat-file --batch``."""
        if self._catfile is None:
            from gitml.gitio.catfile import CatFile

            self._catfile = CatFile(self.root)
        return self._catfile.read(f"{commit}:{path}")

    def _is_bare(self) -> bool:
        """A bare repository (the ``--repo`` cache) has no working tree to read."""
        return not (self.root / ".git").exists() and (self.root / "HEAD").is_file()

    def _config_from_head(self) -> Config | None:
        """In a bare repository (``--repo`` cache), the configuration of the default branch."""
        from gitml.dvcio.project import project_from_reader
        from gitml.zero_config import effective_config

        def read(path: str) -> bytes | None:
            return self.read_blob("HEAD", path) or None

        data = read(CONFIG_FILE)
        text = data.decode("utf-8", "replace") if data else None
        project = project_from_reader(read, "HEAD")
        return effective_config(text, project, f"{CONFIG_FILE} at HEAD", validate=False)

    def lock_md5s(self, commit: str) -> dict[str, str | None]:
        """``{output path: md5}`` of ``dvc.lock`` at ``commit`` (cached per commit)."""
        if commit not in self._lock_cache:
            from gitml.dvcio.lock import DVC_LOCK, lock_outputs

            data = self.read_blob(commit, DVC_LOCK)
            outputs = lock_outputs(
                data.decode("utf-8") if data else None, f"{DVC_LOCK} at {commit[:12]}"
            )
            self._lock_cache[commit] = {path: out.md5 for path, out in outputs.items()}
        return self._lock_cache[commit]

    def declared_paths(self, commit: str) -> dict[str, str]:
        """``{artifact: path}`` that ``dvc.yaml`` ``artifacts:`` and GTO's ``artifacts.yaml``
        declare at ``commit`` (``dvc.yaml`` wins a name both declare; cached per commit)."""
        if commit not in self._declared_cache:
            from gitml.dvcio.project import ARTIFACTS_YAML, DVC_YAML, project_from_reader

            files = {name: self.read_blob(commit, name) for name in (DVC_YAML, ARTIFACTS_YAML)}
            # The files seldom change between versions: each distinct pair is parsed once.
            key = (files[DVC_YAML], files[ARTIFACTS_YAML])
            if key not in self._declared_by_content:
                project = project_from_reader(files.get, commit[:12])
                paths = {name: a.path for name, a in project.artifacts.items()}
                self._declared_by_content[key] = paths
            self._declared_cache[commit] = self._declared_by_content[key]
        return self._declared_cache[commit]

    def artifact_md5(self, commit: str, path: str) -> str | None:
        """What DVC recorded for ``path`` at ``commit``: its ``dvc.lock`` output, else the
        output of its ``.dvc`` file (``dvc add``); None when DVC tracks no such path."""
        md5 = self.lock_md5s(commit).get(path)
        if md5:
            return md5
        key = (commit, path)
        if key not in self._pointer_cache:
            self._pointer_cache[key] = self._pointer_md5(commit, path)
        return self._pointer_cache[key]

    def _pointer_md5(self, commit: str, path: str) -> str | None:
        from gitml.dvcio.lock import pointer_outputs

        pointer = f"{path}.dvc"
        data = self.read_blob(commit, pointer)
        if data is None:
            return None
        # A pointer's output path is relative to the pointer's folder: the file's name.
        name = posixpath.basename(path)
        text = data.decode("utf-8", "replace")
        outputs = pointer_outputs(text, f"{pointer} at {commit[:12]}")
        return next((o.md5 for o in outputs if o.path.removeprefix("./") == name), None)

    # -- models, stages, versions -----------------------------------------------------

    def model_names(self) -> list[str]:
        """Models named in ``gitml.yaml`` or in registry tags, sorted."""
        names = set(self.state.models)
        if self.config:
            names |= set(self.config.models)
        return sorted(names)

    def model_state(self, name: str) -> ModelState:
        """The events of ``name``; a RegistryError lists the known models otherwise."""
        if name in self.state.models:
            return self.state.models[name]
        if self.config and name in self.config.models:
            return ModelState(name)
        known = ", ".join(self.model_names()) or "none"
        raise RegistryError(f"unknown model {name!r} (known: {known})")

    def artifact_path(self, model: str) -> str | None:
        """The model file's path, from ``gitml.yaml`` (None when it declares none)."""
        if self.config and model in self.config.models:
            return self.config.models[model].artifact
        return None

    def artifact_path_at(self, model: str, commit: str) -> str | None:
        """The model's artefact path as the repository declares it at ``commit``:
        ``dvc.yaml`` ``artifacts:``, else ``artifacts.yaml``, else ``gitml.yaml``."""
        return self.declared_paths(commit).get(model) or self.artifact_path(model)

    def version_path(self, version: VersionState) -> str | None:
        """The artefact path of a version: its record's, else the one declared at its
        registered commit."""
        record = version.record
        if record is not None and record.artifact:
            return record.artifact
        return self.artifact_path_at(version.model, version.commit)

    def no_artifact_reason(self, model: str, commit: str, path: str | None) -> str:
        """Why ``model`` has no artefact hash at ``commit`` (``path``: the declared one)."""
        if path is None:
            return (
                f"no artefact path is declared for {model} at {commit[:12]} "
                "(dvc.yaml `artifacts:`, artifacts.yaml or gitml.yaml)"
            )
        return f"DVC tracks no {path} at {commit[:12]} (neither dvc.lock nor {path}.dvc names it)"

    def stage_names(self, model: str) -> tuple[str, ...]:
        """Configured stages, then any other stage the model's tags mention."""
        configured = self.config.stages if self.config else ()
        extra = [s for s in self.model_state(model).stages() if s not in configured]
        return (*configured, *extra)

    def known_stages(self) -> tuple[str, ...]:
        """Configured stages, then any other stage any model's tags mention (in a GTO
        registry without ``gitml.yaml``, the stages are those its tags use)."""
        found = dict.fromkeys(self.config.stages if self.config else ())
        for name in sorted(self.state.models):
            found.update(dict.fromkeys(self.state.models[name].stages()))
        return tuple(found)

    def branch_name(self, stage: str, model: str) -> str:
        """The branch that holds ``stage`` of ``model``."""
        if self.config:
            return self.config.branch_for(stage, model)
        return stage

    def branch_commit(self, branch: str) -> str | None:
        """The tip of the stage branch: remote-tracking by default, local with ``local``."""
        branches = self.snapshot.branches
        if self.local:
            return branches.get(branch)
        return branches.get(f"{self.remote}/{branch}") or branches.get(branch)

    def version_md5(self, version: VersionState) -> str | None:
        """The artefact hash of a version: what DVC recorded at its commit, always.

        A record's own md5 is a claim; this is the fact it is checked against (see
        :meth:`contradicted`), and the hash every fetch verifies bytes with.
        """
        path = self.version_path(version)
        return self.artifact_md5(version.commit, path) if path else None

    def contradicted(self, version: VersionState) -> bool:
        """Whether git contradicts the version's record: ``dvc.lock`` at the registered
        commit does not hold the artefact md5 the record claims. Reads skip such a
        version (``gitml verify`` reports it); a GTO tag claims no md5."""
        record = version.record
        if record is None or not version.registered:
            return False
        return self.version_md5(version) != record.md5

    def latest(self, model: ModelState) -> VersionState | None:
        """The greatest active version whose record git does not contradict."""
        return next((v for v in model._active_sorted if not self.contradicted(v)), None)

    def stage_holder(self, model: ModelState, stage: str) -> VersionState | None:
        """The version recorded in ``stage``: the latest assignment whose version's record
        git does not contradict."""
        return next((v for v in model.stage_holders(stage) if not self.contradicted(v)), None)

    def version_for_md5(self, model: ModelState, md5: str) -> VersionState | None:
        """The active registered version whose artefact hash (per git) is ``md5``."""
        for version in model._active_sorted:
            # A record's md5 finds the candidate without reading every dvc.lock; git
            # decides. A GTO tag records none: its dvc.lock is read.
            claimed = version.recorded_md5
            if (claimed is None or claimed == md5) and self.version_md5(version) == md5:
                return version
        return None

    def stage_info(self, model: str, stage: str, tip: str | None = None) -> StageInfo:
        """Recorded and desired state of one stage of one model.

        ``tip`` evaluates another commit as if it were the branch tip (a pull request's head).
        """
        state = self.model_state(model)
        holder = self.stage_holder(state, stage)
        branch = self.branch_name(stage, model)
        tip = tip or self.branch_commit(branch)
        tip_md5 = tip_version = None
        path = self.artifact_path_at(model, tip) if tip else None
        if tip and path:
            tip_md5 = self.artifact_md5(tip, path)
            if tip_md5:
                found = self.version_for_md5(state, tip_md5)
                tip_version = found.version if found else None
        return StageInfo(
            stage=stage,
            branch=branch,
            version=holder.version if holder else None,
            assigned_at=holder.holds_since(stage) if holder else None,
            tip_commit=tip,
            tip_md5=tip_md5,
            tip_version=tip_version,
        )

    def summary(self) -> list[ModelSummary]:
        """Every model with its latest version and what each stage holds."""
        rows = []
        for name in self.model_names():
            state = self.model_state(name)
            latest = self.latest(state)
            rows.append(
                ModelSummary(
                    model=name,
                    latest=latest.version if latest else None,
                    versions=state.active_count,
                    stages=tuple(self.stage_info(name, s) for s in self.stage_names(name)),
                    deprecated=state.deprecated,
                    deregistered=tuple(v.version for v in _deregistered(state)),
                )
            )
        return rows

    def _recorded_versions(self, state: ModelState) -> dict[str, str]:
        """``{stage: version recorded there}`` for one model."""
        holders = {}
        for stage in state.stages():
            holder = self.stage_holder(state, stage)
            if holder is not None:
                holders[stage] = holder.version
        return holders

    def version_info(
        self, version: VersionState, holders: dict[str, str] | None = None
    ) -> VersionInfo:
        """The full record of one version, with the stages that currently hold it
        (``holders``: :meth:`_recorded_versions` of its model, when the caller has it)."""
        state = self.model_state(version.model)
        if holders is None:
            holders = self._recorded_versions(state)
        registration = version.registration
        record = version.record
        return VersionInfo(
            model=version.model,
            version=version.version,
            commit=version.commit,
            md5=self.version_md5(version),
            artifact=self.version_path(version),
            registered_at=registration.created_at if registration else None,
            author=registration.author if registration else "",
            email=registration.email if registration else "",
            tag=registration.tag if registration else None,
            pull_request=record.pull_request if record else None,
            merged_by=record.merged_by if record else None,
            active=version.active,
            stages=tuple(s for s, held in holders.items() if held == version.version),
            record=record.to_dict() if record else {},
            registered=version.registered,
            model_deprecated=state.deprecated,
            lineage=RecordedLineage.of(record) if record else RecordedLineage(),
        )

    def versions(self, model: str) -> ModelVersions:
        """Every version of ``model`` the way ``gto show MODEL`` lists them: registered
        versions greatest first (deregistered ones too, marked), then commits assigned to
        a stage without a version tag, the latest assigned first. A model with no version
        at all is a RegistryError, as for ``MODEL@latest``."""
        state = self.model_state(model)
        if not state.versions:
            raise RegistryError(f"{model}: no version is registered yet (run `gitml register`)")
        holders = self._recorded_versions(state)
        registered = [v for v in state.versions.values() if v.registered]
        registered.sort(key=lambda v: version_precedence(v.version), reverse=True)
        commits = [v for v in state.versions.values() if not v.registered]
        commits.sort(key=lambda v: v.events[-1].timestamp, reverse=True)
        latest = self.latest(state)
        return ModelVersions(
            model=model,
            latest=latest.version if latest else None,
            deprecated=state.deprecated,
            versions=tuple(self.version_info(v, holders) for v in (*registered, *commits)),
        )

    def resolve(self, ref: ModelRef) -> VersionInfo:
        """The version a reference names (stage refs follow the recorded state)."""
        state = self.model_state(ref.model)
        if ref.version:
            version = state.versions.get(ref.version)
            if version is None or not version.registered:
                known = ", ".join(v.version for v in state.active_versions()[:5]) or "none"
                raise RegistryError(f"{ref}: version not found (latest versions: {known})")
            if self.contradicted(version):
                raise RegistryError(
                    f"{ref}: its record claims artefact {version.recorded_md5}, but dvc.lock at "
                    f"{version.commit[:12]} holds {self.version_md5(version)}; run `gitml verify`"
                )
            return self.version_info(version)
        if ref.stage:
            stages = self.known_stages()
            if ref.stage not in stages:
                raise RegistryError(
                    f"{ref}: unknown stage {ref.stage!r} (stages: {', '.join(stages) or 'none'})"
                )
            holder = self.stage_holder(state, ref.stage)
            if holder is None:
                raise RegistryError(f"{ref}: no version of {ref.model} is recorded in {ref.stage}")
            return self.version_info(holder)
        latest = self.latest(state)
        if latest is None:
            raise RegistryError(f"{ref.model}: no version is registered yet (run `gitml register`)")
        return self.version_info(latest)

    def history(self, model: str | None = None, stage: str | None = None) -> list[HistoryEntry]:
        """Registrations, promotions, rollbacks, unassignments and deprecations, oldest
        first: of ``model``, or of every model when it is None (as ``gto history``)."""
        from gitml.registry.history import history_entries, models_with_events

        models = models_with_events(self.state) if model is None else [self.model_state(model)]
        return history_entries(models, stage)

    # -- time travel ------------------------------------------------------------------

    def held_at(self, state: ModelState, stage: str, instant: datetime) -> HeldAt:
        """What ``stage`` of ``state`` held at ``instant``, by the events the registry
        believes today (:mod:`gitml.registry.timeline`); a version whose record git
        contradicts is skipped, as :meth:`stage_holder` skips it."""
        from gitml.registry.timeline import stage_at

        return stage_at(state, stage, instant, _Contradicted(self, state))

    def summary_at(self, instant: datetime) -> list[ModelAt]:
        """Every model with what each of its stages held at ``instant``."""
        from gitml.registry.timeline import model_at

        return [
            model_at(state, self.stage_names(name), instant, _Contradicted(self, state))
            for name in self.model_names()
            for state in [self.model_state(name)]
        ]

    def tenures(self, model: str | None, stage: str) -> list[Tenure]:
        """Every tenure of ``stage``, oldest first: of ``model``, or of every model."""
        from gitml.registry.timeline import stage_tenures

        if model is None:
            states = [self.state.models[name] for name in sorted(self.state.models)]
        else:
            states = [self.model_state(model)]
        found = [t for s in states for t in stage_tenures(s, stage, _Contradicted(self, s))]
        return sorted(found, key=lambda t: t.start)


class _Contradicted:
    """The versions of one model whose record git contradicts, asked lazily: only the
    candidates for holding a stage are ever checked (each check may read a ``dvc.lock``)."""

    def __init__(self, reader: RegistryReader, state: ModelState):
        self._reader = reader
        self._state = state

    def __contains__(self, version: object) -> bool:
        found = self._state.versions.get(version) if isinstance(version, str) else None
        return found is not None and self._reader.contradicted(found)


def _deregistered(state: ModelState) -> list[VersionState]:
    """The versions registered, then deregistered, greatest first."""
    found = [v for v in state.versions.values() if v.registered and not v.active]
    return sorted(found, key=lambda v: version_precedence(v.version), reverse=True)
