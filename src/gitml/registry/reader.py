"""Answering registry queries from one ref listing and one ``cat-file --batch``.

A stage's *recorded* version is its latest assignment tag (what queries, fetches and
serving follow); its *desired* version is what the stage branch tip holds. When the two
differ the stage is shown as pending.

Every answer is computed from the refs as they are now: there is no cache of answers.
Only tag objects are cached, by object id (:mod:`gitml.gitio.tag_objects`).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.errors import ConfigError, RegistryError
from gitml.files import CONFIG_FILE
from gitml.gitio.snapshot import RefSnapshot, read_refs
from gitml.registry.names import Action
from gitml.registry.records import HistoryEntry, ModelSummary, StageInfo, VersionInfo
from gitml.registry.state import ModelState, RegistryState, build_state

if TYPE_CHECKING:
    from types import TracebackType

    from gitml.config import Config
    from gitml.gitio.catfile import CatFile
    from gitml.registry.model_ref import ModelRef
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

    @cached_property
    def config(self) -> Config | None:
        """``gitml.yaml`` of the working tree (of ``HEAD`` in a bare ``--repo`` clone).

        Parsed, not schema-validated: a query only reads it, and a malformed file is
        still a one-line error. The commands that judge or write validate it in full.
        """
        try:
            text = (self.root / CONFIG_FILE).read_bytes()
        except OSError:
            return self._config_from_head()
        from gitml.config import config_from_text

        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError(f"{CONFIG_FILE}: not UTF-8 text ({error.reason})") from None
        return config_from_text(decoded, validate=False)

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
        records_only = config is not None and not config.accept_gto_tags
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

    def _config_from_head(self) -> Config | None:
        """In a bare repository (``--repo`` cache), ``gitml.yaml`` of the default branch."""
        if (self.root / ".git").exists() or not (self.root / "HEAD").is_file():
            return None
        from gitml.config import config_from_text

        data = self.read_blob("HEAD", CONFIG_FILE)
        if not data:
            return None
        text = data.decode("utf-8", "replace")
        return config_from_text(text, f"{CONFIG_FILE} at HEAD", validate=False)

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
        """The model file's path, from ``gitml.yaml`` (None for GTO-only repositories)."""
        if self.config and model in self.config.models:
            return self.config.models[model].artifact
        return None

    def stage_names(self, model: str) -> tuple[str, ...]:
        """Configured stages, then any other stage the model's tags mention."""
        configured = self.config.stages if self.config else ()
        extra = [s for s in self.model_state(model).stages() if s not in configured]
        return (*configured, *extra)

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
        """The artefact hash of a version: what ``dvc.lock`` at its commit says, always.

        A record's own md5 is a claim; this is the fact it is checked against (see
        :meth:`contradicted`), and the hash every fetch verifies bytes with.
        """
        record = version.record
        path = record.artifact if record and record.artifact else self.artifact_path(version.model)
        return self.lock_md5s(version.commit).get(path) if path else None

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
        path = self.artifact_path(model)
        if tip and path:
            tip_md5 = self.lock_md5s(tip).get(path)
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
                )
            )
        return rows

    def version_info(self, version: VersionState) -> VersionInfo:
        """The full record of one version, with the stages that currently hold it."""
        state = self.model_state(version.model)
        registration = version.registration
        record = version.record
        stages = tuple(
            s
            for s in state.stages()
            if (h := self.stage_holder(state, s)) and h.version == version.version
        )
        return VersionInfo(
            model=version.model,
            version=version.version,
            commit=version.commit,
            md5=self.version_md5(version),
            artifact=(record.artifact if record else None) or self.artifact_path(version.model),
            registered_at=registration.created_at if registration else None,
            author=registration.author if registration else "",
            email=registration.email if registration else "",
            tag=registration.tag if registration else None,
            pull_request=record.pull_request if record else None,
            merged_by=record.merged_by if record else None,
            active=version.active,
            stages=stages,
            record=record.to_dict() if record else {},
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
            stages = self.stage_names(ref.model)
            if self.config and ref.stage not in stages:
                raise RegistryError(
                    f"{ref}: unknown stage {ref.stage!r} (stages: {', '.join(stages)})"
                )
            holder = self.stage_holder(state, ref.stage)
            if holder is None:
                raise RegistryError(f"{ref}: no version of {ref.model} is recorded in {ref.stage}")
            return self.version_info(holder)
        latest = self.latest(state)
        if latest is None:
            raise RegistryError(f"{ref.model}: no version is registered yet (run `gitml register`)")
        return self.version_info(latest)

    def history(self, model: str, stage: str | None = None) -> list[HistoryEntry]:
        """Registrations, promotions, rollbacks, unassignments and deprecations, oldest first."""
        state = self.model_state(model)
        entries = []
        for event in state.events:
            if stage is not None and event.stage != stage:
                continue
            kind = _EVENT_KINDS[event.action]
            if event.action == Action.ASSIGN and event.is_rollback:
                kind = "rollback"
            version = event.recorded_version
            if version is None and event.action in (Action.ASSIGN, Action.UNASSIGN):
                holder = state.version_at(event.commit)
                version = holder.version if holder else event.commit[:12]
            entries.append(
                HistoryEntry(
                    timestamp=event.created_at,
                    model=model,
                    event=kind,
                    version=version,
                    stage=event.stage,
                    commit=event.commit,
                    author=event.author,
                    email=event.email,
                    tag=event.tag,
                    pull_request=event.pull_request,
                )
            )
        return entries


# What ``gitml history`` calls each kind of event (an assignment is a promotion).
_EVENT_KINDS = {
    Action.REGISTER: "registration",
    Action.DEREGISTER: "deregistration",
    Action.ASSIGN: "promotion",
    Action.UNASSIGN: "unassignment",
    Action.DEPRECATE: "deprecation",
}
