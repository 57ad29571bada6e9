"""A canary's decision kept in the registry, and the pull request it calls for.

The decision becomes an observation tag ``gitml.canary/<model>/<n>`` on the candidate's
registered commit (see :mod:`gitml.registry.observation`): the candidate and its md5,
the verdict, the stable version it was judged against, the target stage, how many
windows were analysed, the deciding rule in words, the rules that failed and the
deciding window's figures. ``gitml history`` and the dossier read it from there.

With ``open_pr`` (a GitHub token is needed), the decision is acted on through the
commands a person would run: a passed candidate gets the promotion pull request of
``gitml promote MODEL --to STAGE --version V --push``; a stopped candidate that already
holds the stage gets the rollback pull request of ``gitml rollback MODEL --stage STAGE
--push`` (back to the stage's previous promotion, by its own history). The record is
written first: it is the fact, the pull request is what follows from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml import __version__
from gitml.errors import RegistryError
from gitml.github.run_url import run_url_from_environment
from gitml.registry.observation import MAX_FIGURES, Observation, ObservationKind, finite_figures
from gitml.registry.observations import write_observation
from gitml.registry.record import one_line

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.canary.analysis import CanaryDecision
    from gitml.canary.versions import CanaryPair
    from gitml.registry.prepare import PreparedBranch


@dataclass(frozen=True)
class RecordedCanary:
    """The tag written, whether it was pushed, and the pull-request branch prepared."""

    tag: str
    pushed: bool
    branch: PreparedBranch | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "tag": self.tag,
            "pushed": self.pushed,
            "branch": self.branch.to_dict() if self.branch else None,
        }


def canary_observation(
    decision: CanaryDecision, pair: CanaryPair, run_url: str | None = None
) -> Observation:
    """The observation that records ``decision`` about ``pair``."""
    candidate = pair.candidate
    if candidate.md5 is None:
        raise RegistryError(
            f"{pair.model}@{candidate.version}: git records no artefact md5 at "
            f"{candidate.commit[:12]}, so its canary cannot be recorded"
        )
    return Observation(
        kind=ObservationKind.CANARY,
        model=pair.model,
        version=candidate.version,
        md5=candidate.md5,
        verdict=decision.verdict,
        rows=decision.rows,
        stage=decision.stage,
        figures=finite_figures(list(decision.figures.items())[:MAX_FIGURES]),
        names=decision.failed[:MAX_FIGURES],
        run_url=run_url,
        writer=f"gitml {__version__}",
        against=pair.stable.version,
        windows=decision.windows,
        rule=one_line(decision.rule),
    )


def record_decision(
    root: Path | str,
    decision: CanaryDecision,
    pair: CanaryPair,
    *,
    push: bool = False,
    remote: str = "origin",
    open_pr: bool = False,
    repository: str | None = None,
) -> RecordedCanary:
    """Tag the candidate's commit with ``decision`` (pushed with ``push``); with
    ``open_pr``, push and open the promotion or rollback pull request it calls for."""
    if open_pr:
        from gitml.github.client import GitHubClient

        # Refuse before writing anything: a token and a repository are needed.
        _, repository = GitHubClient.for_repository(repository, "--open-pr")
    observation = canary_observation(decision, pair, run_url_from_environment())
    subject = (
        f"Canary of {pair.model} {pair.candidate.version} against {pair.stable.version}: "
        f"{decision.verdict}"
    )
    tag = write_observation(
        root, observation, pair.candidate.commit, subject, push=push, remote=remote
    )
    branch = _pull_request(root, decision, pair, remote, repository) if open_pr else None
    return RecordedCanary(tag, push, branch)


def _pull_request(
    root: Path | str,
    decision: CanaryDecision,
    pair: CanaryPair,
    remote: str,
    repository: str | None,
) -> PreparedBranch | None:
    from gitml.registry.prepare import prepare_promotion, prepare_rollback

    if decision.verdict == "passed":
        return prepare_promotion(
            root,
            pair.model,
            decision.stage,
            pair.candidate.version,
            push=True,
            remote=remote,
            repository=repository,
        )
    if holds_stage(root, pair.model, pair.candidate.version, decision.stage, remote):
        return prepare_rollback(
            root, pair.model, decision.stage, push=True, remote=remote, repository=repository
        )
    return None


def holds_stage(root: Path | str, model: str, version: str, stage: str, remote: str) -> bool:
    """Whether ``version`` of ``model`` is the one recorded in ``stage``."""
    from gitml.registry.reader import RegistryReader

    with RegistryReader(root, remote=remote) as reader:
        holder = reader.stage_holder(reader.model_state(model), stage)
    return holder is not None and holder.version == version
