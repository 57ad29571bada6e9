"""``gitml lineage MODEL@REF``: data -> run -> version -> promotions, each with its proof.

The chain is read from the registry and checked against git: the registration record
says what the version was built from, and ``dvc.lock`` at the registered commit says it
again (:mod:`gitml.registry.lineage_read`). Every disagreement is listed as "record says
X, dvc.lock at <commit> says Y". A version registered before gitml recorded lineage (or
by GTO) gets its lineage derived from the lock, marked "derived, not recorded".

Proofs are git objects anyone can inspect (``git cat-file -p <id>``): the blob of
``dvc.lock`` and of each ``.dvc`` file at the commit, the commit itself, the annotated
tag objects of the registration and of every promotion; and URLs: the pull request
(when the origin remote is on GitHub) and the CI run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.registry.lineage import Lineage
from gitml.registry.lineage_read import derive_lineage
from gitml.registry.model_ref import parse_ref
from gitml.registry.names import Action
from gitml.registry.reader import RegistryReader
from gitml.registry.record import MAX_LINEAGE, Kind

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from gitml.registry.events import Event
    from gitml.registry.lineage_read import DerivedLineage
    from gitml.registry.records import RecordedLineage

RECORDED = "recorded"
DERIVED = "derived, not recorded"
NONE = "none"  # no pipeline stage produces the artefact (``dvc add``)

# ``https://github.com/OWNER/NAME(.git)``, ``git@github.com:OWNER/NAME(.git)`` and
# ``ssh://git@github.com/OWNER/NAME(.git)``: the host and the repository's path.
_REMOTE = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/"
    r"|[^@/]+@(?P<scp_host>[^/:]+):)"
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class InputLink:
    """One DVC data input: its md5, and the blobs at the commit that prove it."""

    path: str
    md5: str
    lock_blob: str | None  # dvc.lock at the commit, which names the md5 the stage used
    pointer: str | None = None  # the .dvc file that tracks the data, and its blob
    pointer_blob: str | None = None
    pointer_md5: str | None = None  # what that .dvc file says now (stale pipeline: differs)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: every field."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class PullRequestLink:
    """The pull request whose merge made the version."""

    number: int
    url: str | None  # None: the origin remote is not on GitHub (or there is none)
    author: str | None  # None: reviews were not read at registration
    approvers: tuple[str, ...]
    merged_by: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: every field, ``approvers`` a list."""
        return {**self.__dict__, "approvers": list(self.approvers)}


@dataclass(frozen=True)
class StageEvent:
    """A promotion, rollback, unassignment or deregistration of the version."""

    event: str
    stage: str | None
    at: datetime
    tag: str
    tag_object: str | None
    actor: str
    pull_request: int | None = None
    approvers: tuple[str, ...] = ()
    run_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: every field, ``at`` in ISO 8601, ``approvers`` a list."""
        return {**self.__dict__, "at": self.at.isoformat(), "approvers": list(self.approvers)}


@dataclass(frozen=True)
class LineageChain:
    """Everything ``gitml lineage`` prints about one version (see the module docstring).

    ``source`` says where ``inputs``, ``params_digest`` and ``stages`` come from:
    ``recorded`` (the registration record, checked against the lock), ``derived, not
    recorded`` (the lock alone) or ``none`` (no pipeline stage produces the artefact).
    """

    model: str
    version: str
    artifact: str | None
    md5: str | None
    commit: str
    tag: str | None
    tag_object: str | None
    registered_at: datetime | None
    source: str
    inputs: tuple[InputLink, ...]
    params_digest: str | None
    stages: dict[str, str]
    lock_blob: str | None
    pull_request: PullRequestLink | None
    run_url: str | None
    events: tuple[StageEvent, ...]
    disagreements: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """Whether git agrees with everything the record says."""
        return not self.disagreements

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: every field; ``inputs`` and ``events`` lists of objects,
        ``pull_request`` an object or null, times in ISO 8601, plus ``verified``."""
        data = dict(self.__dict__)
        data["registered_at"] = self.registered_at.isoformat() if self.registered_at else None
        data["inputs"] = [i.to_dict() for i in self.inputs]
        data["stages"] = dict(self.stages)
        data["pull_request"] = self.pull_request.to_dict() if self.pull_request else None
        data["events"] = [e.to_dict() for e in self.events]
        data["disagreements"] = list(self.disagreements)
        data["notes"] = list(self.notes)
        data["verified"] = self.verified
        return data


def lineage_chain(root: Path | str, text: str, *, local: bool = False) -> LineageChain:
    """The chain of the version ``text`` names (``credit@v0.2.0``, ``credit@production``,
    ``credit@latest``); unknown models and versions are the registry's one-line errors."""
    with RegistryReader(root, local=local) as reader:
        info = reader.resolve(parse_ref(text))
        version = reader.model_state(info.model).versions[info.version]
        derived = derive_lineage(reader, info.commit, info.artifact) if info.artifact else None
        tag_objects = _tag_objects(reader.root)
        repository_url = github_url(_remote_url(reader.root, reader.remote))
    recorded = info.lineage
    found = derived.lineage if derived else Lineage()
    problems = disagreements(recorded, found, info.commit) if recorded.recorded else []
    notes = []
    if recorded.recorded:
        source, shown = RECORDED, _as_lineage(recorded)
    else:
        source, shown = (NONE if found.empty else DERIVED), found
        if not found.empty and (len(found.inputs) > MAX_LINEAGE or len(found.stages) > MAX_LINEAGE):
            notes.append(f"more than {MAX_LINEAGE} inputs or stages: too many for a record")
    pull = None
    if info.pull_request is not None:
        pull = PullRequestLink(
            number=info.pull_request,
            url=f"{repository_url}/pull/{info.pull_request}" if repository_url else None,
            author=recorded.author,
            approvers=recorded.approvers,
            merged_by=info.merged_by,
        )
        if recorded.author is None:
            notes.append("the record names no pull request author: reviews were not read")
    stale = _stale_pointers(derived)
    return LineageChain(
        model=info.model,
        version=info.version,
        artifact=info.artifact,
        md5=info.md5,
        commit=info.commit,
        tag=info.tag,
        tag_object=tag_objects.get(info.tag) if info.tag else None,
        registered_at=info.registered_at,
        source=source,
        inputs=tuple(_input_link(path, md5, derived) for path, md5 in shown.inputs.items()),
        params_digest=shown.params_digest,
        stages=dict(shown.stages),
        lock_blob=derived.lock_blob if derived else None,
        pull_request=pull,
        run_url=recorded.run_url,
        events=tuple(_event(e, tag_objects) for e in version.events if _is_stage_event(e)),
        disagreements=tuple(problems),
        notes=(*notes, *stale),
    )


def disagreements(recorded: RecordedLineage, derived: Lineage, commit: str) -> list[str]:
    """Each way the record's lineage differs from the lock's: "record says X, dvc.lock at
    <commit> says Y"."""
    lock = f"dvc.lock at {commit[:12]}"
    found = []
    for what, claimed, actual in (
        ("input", recorded.inputs, derived.inputs),
        ("stage", recorded.pipeline_stages, derived.stages),
    ):
        for name in sorted(claimed.keys() | actual.keys()):
            said, says = claimed.get(name), actual.get(name)
            if said != says:
                found.append(
                    f"record says {what} {name} {_or_absent(said)}, {lock} says {_or_absent(says)}"
                )
    if recorded.params_digest != derived.params_digest:
        found.append(
            f"record says params digest {_or_absent(recorded.params_digest)}, "
            f"{lock} says {_or_absent(derived.params_digest)}"
        )
    return found


def _or_absent(value: str | None) -> str:
    return value if value is not None else "(none)"


def _as_lineage(recorded: RecordedLineage) -> Lineage:
    return Lineage(dict(recorded.inputs), recorded.params_digest, dict(recorded.pipeline_stages))


def _input_link(path: str, md5: str, derived: DerivedLineage | None) -> InputLink:
    pointer = derived.pointers.get(path) if derived else None
    return InputLink(
        path=path,
        md5=md5,
        lock_blob=derived.lock_blob if derived else None,
        pointer=pointer.file if pointer else None,
        pointer_blob=pointer.blob if pointer else None,
        pointer_md5=pointer.md5 if pointer and pointer.out == path else None,
    )


def _stale_pointers(derived: DerivedLineage | None) -> list[str]:
    """Data inputs whose ``.dvc`` file names other bytes than the lock: the data changed
    after the pipeline last ran, so the artefact was not built from what the commit tracks."""
    if derived is None:
        return []
    return [
        f"{path}: {p.file} at {derived.commit[:12]} says {p.md5}, but the pipeline ran on "
        f"{derived.lineage.inputs[path]} (dvc.lock): the data changed after `dvc repro`"
        for path, p in derived.pointers.items()
        if p.out == path and p.md5 and p.md5 != derived.lineage.inputs.get(path)
    ]


def _is_stage_event(event: Event) -> bool:
    return event.action in (Action.ASSIGN, Action.UNASSIGN, Action.DEREGISTER)


def _event(event: Event, tag_objects: dict[str, str]) -> StageEvent:
    record = event.record
    kind = {
        Action.ASSIGN: "promotion",
        Action.UNASSIGN: "unassignment",
        Action.DEREGISTER: "deregistration",
    }[event.action]
    if record is not None and record.kind is Kind.ROLLBACK:
        kind = "rollback"
    return StageEvent(
        event=kind,
        stage=event.stage,
        at=event.created_at,
        tag=event.tag,
        tag_object=tag_objects.get(event.tag),
        actor=event.author,
        pull_request=record.pull_request if record else None,
        approvers=tuple(record.approvers) if record else (),
        run_url=record.run_url if record else None,
    )


def _tag_objects(root: Path) -> dict[str, str]:
    """``{tag name: the object id its ref names}`` (an annotated tag's own object)."""
    from gitml.gitio.snapshot import ref_listing

    found = {}
    for line in ref_listing(root).decode("utf-8", "replace").splitlines():
        oid, _, name = line.partition(" ")
        if name.startswith("refs/tags/"):
            found[name.removeprefix("refs/tags/")] = oid
    return found


def _remote_url(root: Path, remote: str) -> str | None:
    from gitml.gitio.repo import GitRepo

    found = GitRepo(root).run("config", "--get", f"remote.{remote}.url", check=False)
    return found.stdout.strip() or None


def github_url(remote: str | None) -> str | None:
    """``https://HOST/OWNER/NAME`` of a git remote on GitHub (github.com, or the host of
    ``$GITHUB_SERVER_URL`` on Enterprise); None for any other remote."""
    match = _REMOTE.match(remote or "")
    if match is None:
        return None
    host = (match["host"] or match["scp_host"]).lower()
    server = os.environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    hosts = {"github.com": "https://github.com"}
    server_host = re.match(r"^https?://([^/:]+)", server)
    if server_host:
        hosts[server_host[1].lower()] = server
    base = hosts.get(host)
    return f"{base}/{match['owner']}/{match['name']}" if base else None
