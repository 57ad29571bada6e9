"""Answering registry queries from one ref listing and one ``cat-file --batch``.

A stage's *recorded* version is its latest assignment tag (what queries, fetches and
serving follow); its *desired* version is what the stage branch tip holds. When the two
differ the stage is shown as pending.

The overview (:meth:`RegistryReader.summary`) and reference lookups
(:meth:`RegistryReader.resolve`) are remembered per registry state (see
:mod:`gitml.registry.memo`): when the refs have not changed since the last query, they
cost one ``git show-ref`` listing instead of reading every tag.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gitml.errors import ConfigError, RegistryError
from gitml.files import CONFIG_FILE
from gitml.gcpause import without_cyclic_gc
from gitml.gitio.ref_store import ref_fingerprint
from gitml.registry.memo import QueryMemo
from gitml.registry.records import HistoryEntry, ModelSummary, StageInfo, VersionInfo

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from gitml.config import Config
    from gitml.gitio.catfile import CatFile
    from gitml.gitio.refs import RefSnapshot
    from gitml.registry.refs import ModelRef
    from gitml.registry.state import ModelState, RegistryState, VersionState

DEFAULT_REMOTE = "origin"
_Answer = TypeVar("_Answer")


class RegistryReader:
    """Read-only registry of the repository at ``root``; close it (or use ``with``)."""

    def __init__(
        self, root: Path | str = ".", *, local: bool = False, remote: str = DEFAULT_REMOTE
    ):
        self.root = Path(root)
        self.local = local
        self.remote = remote
        self._catfile: CatFile | None = None
        self._config_text = _config_text(self.root)
        self._config: Config | None = None
        self._config_loaded = False
        self._refs: RefSnapshot | None = None
        self._state: RegistryState | None = None
        self._memo: QueryMemo | None = None
        self._memo_ready = False
        self._lock_cache: dict[str, dict[str, str | None]] = {}

    @property
    def config(self) -> Config | None:
        """``gitml.yaml`` (validated), loaded on first use: a remembered answer needs none."""
        if not self._config_loaded:
            self._config = _optional_config(self._config_text) or self._config_from_head()
            self._config_loaded = True
        return self._config

    @property
    def refs(self) -> RefSnapshot:
        """Every tag and branch, read on first use."""
        if self._refs is None:
            # Imported here: a remembered answer needs no listing (nor subprocess).
            from gitml.gitio.refs import read_refs

            memo = self.memo() if self._memo_ready else None
            # The memo's listing, when one identified the refs: the refs read are then
            # exactly the state its key names.
            self._refs = read_refs(self.root, memo.listing if memo else None)
        return self._refs

    @property
    def state(self) -> RegistryState:
        """The registry's events indexed per model and version, built on first use."""
        if self._state is None:
            from gitml.registry.state import build_state

            self._state = build_state(self.refs)
        return self._state

    def memo(self) -> QueryMemo | None:
        """Remembered answers for the current registry state (None: caching is off)."""
        if not self._memo_ready:
            self._memo_ready = True
            # A config read from HEAD (a bare cache) is not part of the key: no memo there.
            if self._config_text is not None or self.config is None:
                options = f"local={self.local} remote={self.remote}"
                if self._refs is not None:
                    # Refs already read (a command that reads, tags, then asks): key by
                    # exactly what was read, whatever the ref files hold by now.
                    self._memo = QueryMemo.for_state(
                        self.root, self._refs.listing, self._config_text, options, listing=True
                    )
                    return self._memo
                refs = ref_fingerprint(self.root)
                listing = refs is None
                if refs is None:  # ref files git's files backend would not read directly
                    from gitml.gitio.refs import ref_listing

                    refs = ref_listing(self.root)
                self._memo = QueryMemo.for_state(
                    self.root, refs, self._config_text, options, listing=listing
                )
        return self._memo

    def remembered(
        self,
        query: str,
        compute: Callable[[], _Answer],
        encode: Callable[[_Answer], Any],
        decode: Callable[[Any], _Answer],
    ) -> _Answer:
        """The memo's answer to ``query`` in this registry state, else ``compute()``'s."""
        memo = self.memo()
        if memo is not None:
            data = memo.get(query)
            if data is not None:
                try:
                    return decode(data)
                except (KeyError, TypeError, ValueError, IndexError):
                    pass  # an entry of another shape: compute it again
        answer = without_cyclic_gc(compute)
        if memo is not None and self._refs_unchanged(memo):
            memo.put(query, encode(answer))
        return answer

    def _refs_unchanged(self, memo: QueryMemo) -> bool:
        """Whether the answer just computed belongs to the state ``memo``'s key names.

        Only an answer computed from exactly those refs (or from answers remembered under
        the same key) may be filed under it: a push between identifying the refs and
        reading them would make it another state's.
        """
        if self._refs is None:
            return True  # computed from remembered answers only
        if memo.listing is not None:
            return self._refs.listing == memo.listing
        return ref_fingerprint(self.root) == memo.refs

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
        return config_from_text(data.decode("utf-8"), f"{CONFIG_FILE} at HEAD") if data else None

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
            from gitml.registry.state import ModelState

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
        branches = self.refs.branches
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
        return self.remembered(
            "summary",
            self._summary,
            lambda rows: [row.to_dict() for row in rows],
            lambda data: [ModelSummary.from_dict(row) for row in data],
        )

    def _summary(self) -> list[ModelSummary]:
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
        return self.remembered(
            f"resolve {ref}", lambda: self._resolve(ref), VersionInfo.to_dict, VersionInfo.from_dict
        )

    def _resolve(self, ref: ModelRef) -> VersionInfo:
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
        return self.remembered(
            f"history {model}#{stage or ''}",
            lambda: self._history(model, stage),
            lambda entries: [entry.to_row() for entry in entries],
            lambda data: [HistoryEntry.from_row(row) for row in data],
        )

    def _history(self, model: str, stage: str | None) -> list[HistoryEntry]:
        from gitml.registry.names import Action

        state = self.model_state(model)
        entries = []
        make_entry = HistoryEntry._make
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
            # Positional, through _make: a history builds one per event, and keyword
            # construction of a named tuple costs three times as much.
            entries.append(
                make_entry(
                    (
                        event.created_at,
                        model,
                        kind,
                        version,
                        event.stage,
                        event.commit,
                        event.author,
                        event.email,
                        event.tag,
                        event.pull_request,
                    )
                )
            )
        return entries


# Keyed by Action's values (a StrEnum member looks up as its string), so that answering
# from the memo does not import the registry's event code.
_EVENT_KINDS = {
    "registration": "registration",
    "deregistration": "deregistration",
    "assignment": "promotion",
    "unassignment": "unassignment",
    "deprecation": "deprecation",
}


def _config_text(root: Path) -> bytes | None:
    """The bytes of ``gitml.yaml`` in the working tree, read once per reader."""
    try:
        return (root / CONFIG_FILE).read_bytes()
    except OSError:
        return None


def _optional_config(text: bytes | None) -> Config | None:
    """``gitml.yaml`` from the bytes the memo key was made of (None: the working tree has
    none, as in GTO-only repositories)."""
    if text is None:
        return None
    from gitml.config import config_from_text

    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{CONFIG_FILE}: not UTF-8 text ({error.reason})") from None
    return config_from_text(decoded)
