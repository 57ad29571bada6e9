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
        """The registry's events indexed per model and version, built on first use."""
        return build_state(self.snapshot)

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
        """The artefact hash of a version: recorded in its tag, else read from its commit."""
        if version.md5:
            return version.md5
        path = self.artifact_path(version.model)
        return self.lock_md5s(version.commit).get(path) if path else None

    def version_for_md5(self, model: ModelState, md5: str) -> VersionState | None:
        """The active registered version whose artefact hash is ``md5``."""
        latest = model.latest
        if latest is not None and self.version_md5(latest) == md5:
            return latest  # the usual case (a stage holds the newest), without sorting all
        for version in model._active_sorted:
            if self.version_md5(version) == md5:
                return version
        return None

    def stage_info(self, model: str, stage: str, tip: str | None = None) -> StageInfo:
        """Recorded and desired state of one stage of one model.

        ``tip`` evaluates another commit as if it were the branch tip (a pull request's head).
        """
        state = self.model_state(model)
        holder = state.stage_holder(stage)
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
            latest = state.latest
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
        stages = tuple(
            s
            for s in state.stages()
            if (h := state.stage_holder(s)) and h.version == version.version
        )
        fields = registration.fields if registration else {}
        return VersionInfo(
            model=version.model,
            version=version.version,
            commit=version.commit,
            md5=self.version_md5(version),
            artifact=fields.get("artifact") or self.artifact_path(version.model),
            registered_at=registration.created_at if registration else None,
            author=registration.author if registration else "",
            email=registration.email if registration else "",
            tag=registration.tag if registration else None,
            pull_request=registration.pull_request if registration else None,
            merged_by=fields.get("merged-by"),
            active=version.active,
            stages=stages,
            fields=dict(fields),
        )

    def resolve(self, ref: ModelRef) -> VersionInfo:
        """The version a reference names (stage refs follow the recorded state)."""
        state = self.model_state(ref.model)
        if ref.version:
            version = state.versions.get(ref.version)
            if version is None or not version.registered:
                known = ", ".join(v.version for v in state.active_versions()[:5]) or "none"
                raise RegistryError(f"{ref}: version not found (latest versions: {known})")
            return self.version_info(version)
        if ref.stage:
            stages = self.stage_names(ref.model)
            if self.config and ref.stage not in stages:
                raise RegistryError(
                    f"{ref}: unknown stage {ref.stage!r} (stages: {', '.join(stages)})"
                )
            holder = state.stage_holder(ref.stage)
            if holder is None:
                raise RegistryError(f"{ref}: no version of {ref.model} is recorded in {ref.stage}")
            return self.version_info(holder)
        latest = state.latest
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
            version = event.version or event.field("version")
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
