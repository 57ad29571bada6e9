"""Promotion: record what a stage branch holds (the branches themselves are prepared by
:mod:`gitml.registry.prepare`).

``promote --on-push STAGE`` runs after every push to a stage branch. For each model whose
branch tip holds another artefact than the stage's latest assignment it requires, in
order: the artefact is a registered version; it is in the DVC remote; the stage's
required gate passes (rollbacks skip metric gates, never the other checks, nor an
``approvals`` rule); when the version's commit configures ``deploy:``, the branch's deploy
folder is what gitml renders for it or what the stage ran it with before
(:mod:`gitml.deploy.stage_branch`). Only then it records ``MODEL#STAGE#N`` (GTO's format) on the
version's registered commit, with the pull request that was merged, its author and
approvers (read through GitHub's API when ``GITHUB_TOKEN`` is set) and the CI run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml import __version__
from gitml.deploy.stage_branch import (
    folder_problem,
)
from gitml.errors import GateFailed, GitmlError, RegistryError, VerificationError
from gitml.github.run_url import run_url_from_environment
from gitml.gitio.repo import GitRepo, TagPushRejected, TagWriter
from gitml.registry.names import assign_tag
from gitml.registry.publish import sync_registry_tags
from gitml.registry.reader import RegistryReader
from gitml.registry.record import MAX_LINEAGE, Kind, Record, one_line, record_message
from gitml.registry.register import MAX_RACE_RETRIES, pull_request_number
from gitml.zero_config import load_config

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from gitml.config import Config
    from gitml.github.reviews import PullRequestReviews, ReviewSource


class _PullRequest:
    """The pull request a stage branch's tip merged, and its reviews, read at most once.

    Its reviews count only if it goes into ``branch`` and ``commit`` is its head or merge
    commit (:func:`gitml.github.reviews.check_target`).
    """

    def __init__(self, number: int | None, repository: str | None, commit: str, branch: str):
        self.number = number
        self.missing = (
            "no pull request: the branch tip is no merge of one (give --pull-request)"
            if number is None
            else ""
        )
        self._repository = repository
        self.source: ReviewSource | None = None
        if number is not None:
            from gitml.github.reviews import Expected, ReviewSource

            self.source = ReviewSource(number, repository, expected=Expected(commit, branch))

    def reviews_if_token(self) -> PullRequestReviews | None:
        """The reviews, when a token and the repository are there to read them (for the
        record: without them a promotion is recorded without its approvers)."""
        import os

        from gitml.github.client import GitHubClient
        from gitml.github.reviews import NotThisPullRequest

        repository = self._repository or os.environ.get("GITHUB_REPOSITORY")
        if self.source is None or not repository or GitHubClient.from_environment() is None:
            return None
        try:
            return self.source.reviews()
        except NotThisPullRequest:
            # e.g. a stage branch created at a merge commit of main: that pull request's
            # approvers did not approve this promotion (an approvals rule says so).
            return None


@dataclass(frozen=True)
class _Run:
    """How ``promote --on-push`` was asked to run, the same for every model."""

    push: bool
    remote: str
    verify_remote: bool
    dry_run: bool


@dataclass(frozen=True)
class Promotion:
    """What ``promote --on-push`` did for one model."""

    model: str
    stage: str
    version: str | None
    status: str  # recorded | would-record | up-to-date | refused | absent
    kind: str = "promotion"  # promotion | rollback
    tag: str | None = None
    reason: str = ""
    exit_code: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON shape of one outcome."""
        return dict(self.__dict__)


def _refused(
    model: str, stage: str, version: str | None, kind: str, reason: str, error: type[GitmlError]
) -> Promotion:
    """A refusal, with the exit code of the error class it amounts to."""
    return Promotion(
        model, stage, version, "refused", kind, reason=reason, exit_code=error.exit_code
    )


def _gate_failure(
    root: Path | str, stage: str, model: str, commit: str, approvals: _PullRequest
) -> str | None:
    """Why ``stage``'s required gate refuses ``commit`` of ``model``; None when it passes."""
    # Imported here: preparing a branch never loads the gate and the report readers it uses.
    from gitml.gates import check
    from gitml.policy.approvals import NotEvaluated

    source = approvals.source
    judged = source if source is not None else NotEvaluated(approvals.missing)
    result = check(root, stage, None, commit, models=(model,), approvals=judged)
    failed = [g for g in result.gates if g.status == "failed" and g.required]
    if not failed:
        return None
    rules = "; ".join(f"{r.rule}: {r.observed} (limit {r.limit})" for r in failed[0].failures)
    return f"gate {stage} failed: {rules}"


def promote_on_push(
    root: Path | str = ".",
    stage: str = "staging",
    *,
    push: bool = True,
    remote: str = "origin",
    verify_remote: bool = True,
    dry_run: bool = False,
    tip: str | None = None,
    pull_request: int | None = None,
    repository: str | None = None,
) -> list[Promotion]:
    """Record every model whose ``stage`` branch tip moved to another registered version.

    ``dry_run`` runs every check and records nothing (status ``would-record``); with
    ``tip`` it judges that commit as the would-be branch tip — what a pull request into a
    stage branch runs as its status check. ``pull_request`` (default: the number in the
    tip's merge subject) is the pull request whose reviews an ``approvals`` rule judges
    and the record names, read from ``repository`` (default ``$GITHUB_REPOSITORY``).
    """
    config = require_stage(root, stage)
    repo = GitRepo(root)
    repo.complete_history(remote, "recording a promotion")
    writer = TagWriter(repo)
    if push:
        sync_registry_tags(writer, remote, set(config.models))
    tip_commit = repo.resolve(tip) if tip else None
    if pull_request is not None:
        from gitml.github import paths

        paths.pull_number(pull_request)
    pulls: dict[tuple[int | None, str, str], _PullRequest] = {}  # one read of each

    def pull_of(subject: str, commit: str, branch: str) -> _PullRequest:
        number = pull_request if pull_request is not None else pull_request_number(subject)
        key = (number, commit, branch)
        if key not in pulls:
            pulls[key] = _PullRequest(number, repository, commit, branch)
        return pulls[key]

    return [
        _promote_model(
            root,
            repo,
            writer,
            name,
            stage,
            _Run(push, remote, verify_remote, dry_run),
            tip_commit,
            pull_of,
        )
        for name in config.models
    ]


def _promote_model(
    root: Path | str,
    repo: GitRepo,
    writer: TagWriter,
    name: str,
    stage: str,
    run: _Run,
    tip: str | None,
    pull_of: Callable[[str, str, str], _PullRequest],
) -> Promotion:
    push, remote, verify_remote, dry_run = run.push, run.remote, run.verify_remote, run.dry_run
    for _ in range(MAX_RACE_RETRIES):
        with RegistryReader(root, remote=remote) as reader:
            info = reader.stage_info(name, stage, tip)
            state = reader.model_state(name)
            if info.tip_commit is None or info.tip_md5 is None:
                return Promotion(name, stage, None, "absent", reason=f"no {info.branch} branch tip")
            held = state.versions.get(info.tip_version) if info.tip_version else None
            # The deploy folder is checked even when the version is unchanged: a pull
            # request that only edits the stage's manifests changes what runs.
            deployed = folder_problem(reader, repo, held, stage, info.tip_commit) if held else None
            if not info.pending:
                if not deployed:
                    return Promotion(name, stage, info.version, "up-to-date")
                return _refused(name, stage, info.version, "promotion", deployed, VerificationError)
            if info.tip_version is None:
                return Promotion(
                    name,
                    stage,
                    None,
                    "refused",
                    reason=f"{info.branch} holds an unregistered artefact ({info.tip_md5}); "
                    "stage branches only take registered commits of main (gitml promote)",
                    exit_code=VerificationError.exit_code,
                )
            version = state.versions[info.tip_version]
            counter = state.max_counter() + 1
        # A rollback is a return to a version this stage held before, by the stage's own
        # assignment history; whatever a commit message says, anything else is a promotion.
        kind = "rollback" if state.held_before(stage, version.version) else "promotion"
        head = repo.commit_info(info.tip_commit)
        merge = repo.commit_info(head.parents[1]) if len(head.parents) > 1 else None
        pull = pull_of(head.subject, info.tip_commit, info.branch)
        if verify_remote:
            # The bytes, not their presence: what is recorded is what a deploy will fetch.
            from gitml.dvcio.remote import wrong_in_remote

            wrong = wrong_in_remote(root, [info.tip_md5]).get(info.tip_md5)
            if wrong:
                fix = "run `dvc push`" if wrong.startswith("not in") else "push the artefact again"
                return _refused(
                    name,
                    stage,
                    version.version,
                    kind,
                    f"artefact {info.tip_md5}: {wrong} ({fix})",
                    VerificationError,
                )
        # A rollback skips the metric rules (the gate says so) but not an approvals rule.
        failure = _gate_failure(root, stage, name, version.commit, pull)
        if failure:
            return _refused(name, stage, version.version, kind, failure, GateFailed)
        if deployed:  # after the gate: a failing gate is the first thing to know
            return _refused(name, stage, version.version, kind, deployed, VerificationError)
        if dry_run:
            return Promotion(name, stage, version.version, "would-record", kind)
        reviews = pull.reviews_if_token()
        message = record_message(
            f"{'Roll back' if kind == 'rollback' else 'Promote'} {name} {version.version} "
            f"{'in' if kind == 'rollback' else 'to'} {stage}",
            Record(
                kind=Kind(kind),
                model=name,
                version=version.version,
                stage=stage,
                md5=info.tip_md5,
                branch_commit=info.tip_commit,
                pull_request=pull.number,
                merged_by=one_line(head.committer if merge else head.author) or None,
                writer=f"gitml {__version__}",
                author=reviews.author if reviews else None,
                approvers=reviews.approvers[:MAX_LINEAGE] if reviews else (),
                run_url=run_url_from_environment(),
            ),
        )
        tag = assign_tag(name, stage, counter)
        writer.create(tag, version.commit, message)
        if not push:
            return Promotion(name, stage, version.version, "recorded", kind, tag)
        try:
            writer.push(remote, tag)
        except TagPushRejected:
            writer.delete_local(tag)
            writer.fetch_tags(remote)
            continue  # re-read: another run may have recorded it, or took the number
        return Promotion(name, stage, version.version, "recorded", kind, tag)
    raise RegistryError(f"{name}: gave up after {MAX_RACE_RETRIES} tag races; run again")


def require_stage(root: Path | str, stage: str) -> Config:
    """The validated config, after checking ``stage`` is one of its stages."""
    config = load_config(root)
    if stage not in config.stages:
        raise RegistryError(f"unknown stage {stage!r} (stages: {', '.join(config.stages)})")
    return config
