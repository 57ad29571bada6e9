"""Section 6: who decided each registry event of a version, as its tag's record says.

The record of a registration or promotion holds the pull request, its author, the
logins whose latest review approved it, who merged it and the CI run that wrote the tag;
the tag object itself is the proof of all of them. A pull request's URL is known when
the record names its run (``https://github.com/OWNER/REPO/actions/runs/ID``): the
pull request lives in the same repository.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.dossier.model import Decision, Proof, StageHold
from gitml.registry.names import Action

if TYPE_CHECKING:
    from gitml.dossier.sources import GitSources
    from gitml.registry.events import Event
    from gitml.registry.state import VersionState

_RUNS = "/actions/runs/"
_EVENTS = {
    Action.REGISTER: "registration",
    Action.DEREGISTER: "deregistration",
    Action.ASSIGN: "promotion",
    Action.UNASSIGN: "unassignment",
}


def pull_request_url(run_url: str | None, number: int) -> str | None:
    """The pull request's page, in the repository of the run that recorded it."""
    if not run_url or _RUNS not in run_url:
        return None
    return f"{run_url.split(_RUNS, 1)[0]}/pull/{number}"


def decision(sources: GitSources, event: Event) -> Decision | None:
    """The decision one tag records (None for a tag whose object cannot be found)."""
    tag = sources.tag(event.tag)
    if tag is None:
        return None
    kind = _EVENTS.get(event.action, event.action.value)
    if event.action is Action.ASSIGN and event.is_rollback:
        kind = "rollback"
    record = event.record
    pull = run = None
    if record is not None and record.pull_request:
        url = pull_request_url(record.run_url, record.pull_request)
        number = f"#{record.pull_request}"
        pull = Proof("pull_request", number, tag.object, tag.label, url)
    if record is not None and record.run_url:
        run = Proof("run", record.run_url, tag.object, tag.label, record.run_url)
    return Decision(
        event=kind,
        stage=event.stage,
        at=event.created_at.isoformat(),
        tag=tag,
        pull_request=pull,
        author=record.author if record else None,
        approvers=tuple(record.approvers) if record else (),
        merged_by=record.merged_by if record else None,
        run=run,
    )


def decisions(sources: GitSources, version: VersionState) -> tuple[Decision, ...]:
    """Every registry event of ``version``, oldest first."""
    found = (decision(sources, event) for event in version.events)
    return tuple(d for d in found if d is not None)


def holds(
    sources: GitSources, version: VersionState, stages: tuple[str, ...]
) -> tuple[StageHold, ...]:
    """The stages ``version`` holds now, each with the assignment that began the hold."""
    found = []
    for stage in stages:
        assigned = [e for e in version.events if e.stage == stage and e.action is Action.ASSIGN]
        since = version.holds_since(stage)
        found.append(
            StageHold(
                stage,
                since.isoformat() if since else None,
                sources.tag(assigned[-1].tag) if assigned else None,
            )
        )
    return tuple(found)
