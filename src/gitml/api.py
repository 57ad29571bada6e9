"""The Python API of gitml: one function per verb, each returning a typed value.

The ``gitml`` command calls these and renders what they return; they never print.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path
    from typing import Any

    from gitml.config import Config
    from gitml.deploy.render import Rendered
    from gitml.dossier.model import Dossier
    from gitml.gates import CheckResult
    from gitml.insights.model import Insights
    from gitml.registry.fetch import ResolvedArtifact
    from gitml.registry.lineage_chain import LineageChain
    from gitml.registry.prepare import PreparedBranch
    from gitml.registry.promote import Promotion
    from gitml.registry.records import (
        HistoryEntry,
        ModelAt,
        ModelSummary,
        ModelVersions,
        Tenure,
    )
    from gitml.registry.register import Registration
    from gitml.registry.show import StageAt, VersionDetails
    from gitml.registry.verify import VerifyReport
    from gitml.report.model import Report
    from gitml.retrain import RetrainResult
    from gitml.search.run import SearchResult
    from gitml.site.build import SiteBuild
    from gitml.validate import ValidationReport


def validate(root: Path | str = ".") -> ValidationReport:
    """Check ``gitml.yaml``, params, model cards, signatures and ``dvc.yaml`` artifacts.

    >>> report = validate("/nonexistent")
    >>> report.ok, report.problems[0].message.startswith("file not found (run `gitml init`")
    (False, True)
    """
    from gitml.validate import validate_repository

    return validate_repository(root)


def report(
    base: str,
    head: str | None = None,
    *,
    root: Path | str = ".",
    stage: str | None = None,
    repro_log: str | None = None,
    rescore: bool = True,
) -> Report:
    """Compare ``head`` (default: the workspace) with ``base``: the pull-request report.

    Reads metrics, params, plot data, ``dvc.lock`` and ``.dvc`` pointers of each git
    revision through one ``git cat-file --batch`` process, and the workspace from files.
    ``stage`` picks the gate (default: derived from ``base``; ``main`` otherwise);
    ``repro_log`` is ``dvc repro``'s output, to say whether the pipeline ran or was
    restored from the run-cache. When the data changed, the base model is also scored on
    the head's evaluation rows (``rescore=False`` skips that). Render with
    :func:`gitml.report.markdown.render` or :func:`gitml.report.jsondata.to_data`.
    """
    from dataclasses import replace

    from gitml.gates import judge
    from gitml.report.build import build_report
    from gitml.report.sides import SideReader

    with SideReader(root) as sides:
        compared = build_report(
            sides, base, head, stage=stage, repro_log=repro_log, rescore=rescore
        )
        # A pull request into main is judged against its base; one into a stage branch
        # against the version the stage records: the one the candidate would replace.
        gate_base = base if compared.stage == "main" else None
        # The report reads no reviews: an approvals rule is judged by `gitml check
        # --pull-request` (and on merge), so here its row only warns.
        verdict = judge(sides, compared.stage, gate_base, head, approvals_unevaluated="warn")
        summary = verdict.summary()
        if gate_base is not None:
            # The candidate is judged by the target's rules; if it changes them, say so.
            before, after = sides.revision(base).config, sides.revision(head).config
            if before and after and _gate_rules(before) != _gate_rules(after):
                summary = replace(summary, rules_changed=True)
    return replace(compared, gate=summary)


def _gate_rules(config: Config) -> dict[str, object]:
    return {name: dict(model.gates) for name, model in config.models.items()}


def check(
    *,
    root: Path | str = ".",
    stage: str | None = None,
    base: str | None = None,
    head: str | None = None,
    pull_request: int | None = None,
    repository: str | None = None,
) -> CheckResult:
    """Run the gates of ``stage`` (default: from ``base``, else ``main``) on the candidate.

    The baseline is the stage's recorded version, or ``base`` when given (pull requests
    into main). ``result.status == "failed"`` when a required gate failed. A gate's
    ``approvals`` rule reads the reviews of ``pull_request`` in ``repository`` (default
    ``$GITHUB_REPOSITORY``) with ``$GITHUB_TOKEN``; without ``pull_request`` it fails as
    not evaluated.
    """
    from gitml.gates import check as _check

    approvals = None
    if pull_request is not None:
        from gitml.github.reviews import ReviewSource

        approvals = ReviewSource(pull_request, repository)
    return _check(root, stage, base, head, approvals=approvals)


def register(
    *,
    root: Path | str = ".",
    ref: str = "main",
    bump: str = "minor",
    push: bool = False,
    remote: str = "origin",
    verify_remote: bool = True,
) -> list[Registration]:
    """Register every model artefact on ``ref`` that has no version yet (``MODEL@vX.Y.Z``).

    Idempotent; refuses artefacts missing from the DVC remote unless ``verify_remote`` is
    False; with ``push``, fetches tags first and resolves races with other runs.
    """
    from gitml.registry.register import register as _register

    return _register(root, ref, bump, push, remote, verify_remote)


@overload
def registry(
    *, root: Path | str = ..., local: bool = ..., at: None = ...
) -> list[ModelSummary]: ...
@overload
def registry(*, root: Path | str = ..., local: bool = ..., at: datetime | str) -> list[ModelAt]: ...
def registry(
    *, root: Path | str = ".", local: bool = False, at: datetime | str | None = None
) -> list[ModelSummary] | list[ModelAt]:
    """Every model with its latest version and what each stage holds (recorded, pending).

    With ``at`` (an aware datetime, or ISO 8601 text: a date alone is the end of that day,
    UTC), what each stage held at that instant instead, by the stage's assignment history;
    a version deregistered since is still what held it then, marked ``deregistered``.
    """
    from gitml.registry.reader import RegistryReader

    instant = _instant(at) if at is not None else None
    with RegistryReader(root, local=local) as reader:
        return reader.summary() if instant is None else reader.summary_at(instant)


@overload
def show(
    ref: str, *, root: Path | str = ..., local: bool = ..., at: None = ...
) -> VersionDetails: ...
@overload
def show(ref: str, *, root: Path | str = ..., local: bool = ..., at: datetime | str) -> StageAt: ...
def show(
    ref: str, *, root: Path | str = ".", local: bool = False, at: datetime | str | None = None
) -> VersionDetails | StageAt:
    """One version (``credit@v0.2.0``, ``credit@production``, ``credit@latest``) in full.

    With ``at``, ``ref`` must name a stage: what it held at that instant (``StageAt``,
    whose ``details`` is None when it held nothing then).
    """
    from gitml.registry.show import show as _show
    from gitml.registry.show import show_at

    if at is not None:
        return show_at(root, ref, _instant(at), local=local)
    return _show(root, ref, local=local)


def _instant(at: datetime | str) -> datetime:
    """``at`` as an aware datetime (text is parsed as ``--at`` is; naive times are UTC)."""
    from datetime import UTC

    from gitml.registry.timeline import parse_instant

    if isinstance(at, str):
        return parse_instant(at)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def versions(model: str, *, root: Path | str = ".", local: bool = False) -> ModelVersions:
    """Every version of ``model``, greatest first, as ``gto show MODEL`` lists them: stages
    held, registered or deregistered, and whether the model is deprecated."""
    from gitml.registry.show import versions as _versions

    return _versions(root, model, local=local)


def lineage(model_ref: str, *, root: Path | str = ".", local: bool = False) -> LineageChain:
    """What the version ``model_ref`` names was built from and where it went: DVC data
    inputs, params digest, pipeline stages, code commit, pull request (author, approvers),
    CI run, version tag and every promotion, each with the git object or URL that proves
    it. The record is checked against ``dvc.lock`` at the registered commit (``verified``
    is False with ``disagreements`` when they differ); a version whose record carries no
    lineage gets it derived from the lock (``source``: ``derived, not recorded``)."""
    from gitml.registry.lineage_chain import lineage_chain

    return lineage_chain(root, model_ref, local=local)


def history(
    model: str | None = None,
    *,
    stage: str | None = None,
    root: Path | str = ".",
    local: bool = False,
) -> list[HistoryEntry]:
    """Registrations, promotions, rollbacks, unassignments and deprecations, oldest first:
    of ``model``, or of every model (as ``gto history``) when it is None; with the
    recorded drift checks git backs (``gitml drift --record``) merged in."""
    from gitml.registry.observations import read_observations, with_observations
    from gitml.registry.reader import RegistryReader

    with RegistryReader(root, local=local) as reader:
        observed = read_observations(reader, model).believed
        return with_observations(reader.history(model, stage), list(observed), stage)


def tenures(
    model: str | None, stage: str, *, root: Path | str = ".", local: bool = False
) -> list[Tenure]:
    """Each unbroken hold of ``stage`` by one version, oldest first: of ``model``, or of
    every model when it is None. Each says from when to when (``end`` None: still
    holding), how it began (promotion, rollback, fallback) and how it ended (replaced,
    rolled back, unassigned, deregistered, still holding)."""
    from gitml.registry.reader import RegistryReader

    with RegistryReader(root, local=local) as reader:
        return reader.tenures(model, stage)


def search(
    query: str,
    *,
    root: Path | str = ".",
    local: bool = False,
    at: datetime | str | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> SearchResult:
    """The versions of every model matching ``query``: the query language of
    :mod:`gitml.search.query` or a sentence of :mod:`gitml.search.english`. With ``at``,
    the registry as it was then (stages held then, versions registered by then). ``sort``
    names a field (``-field`` descending); ``limit`` keeps the first N."""
    from gitml.search.run import run_search

    instant = _instant(at) if at is not None else None
    return run_search(root, query, local=local, at=instant, sort=sort, limit=limit)


def insights(
    model: str | None = None,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    failure_window_days: float = 7.0,
    root: Path | str = ".",
    local: bool = False,
) -> Insights:
    """The team's delivery figures over ``[since, until]`` (default: from the first
    registry event to now): deployment frequency, lead time, change-failure rate, time to
    restore, production tenure, PRs per author, share of proposals reaching production and
    retraining latency, each with the events behind it (``Figure.evidence``). A date
    alone is the start (``since``) or the end (``until``) of that day, UTC."""
    from datetime import UTC, datetime

    from gitml.errors import UsageError
    from gitml.insights.figures import compute
    from gitml.insights.gather import gather
    from gitml.insights.model import parse_bound
    from gitml.registry.reader import RegistryReader

    start = parse_bound(since, "--since", end=False) if isinstance(since, str) else since
    end = parse_bound(until, "--until", end=True) if isinstance(until, str) else until
    end = end or datetime.now(UTC).replace(microsecond=0)
    if start is not None and start > end:
        raise UsageError(f"--since {start.isoformat()} is after --until {end.isoformat()}")
    if not failure_window_days > 0:
        raise UsageError(f"--failure-window {failure_window_days}: expected a number of days > 0")
    with RegistryReader(root, local=local) as reader:
        history = gather(reader, model)
    return compute(history, end, start, model=model, failure_window_days=failure_window_days)


def dossier(ref: str, *, root: Path | str = ".", local: bool = False) -> Dossier:
    """The dossier of ``ref`` (``credit@v0.2.0``, ``credit@production``): every fact an
    auditor asks for, each with the git object that proves it, in the sections of the EU
    AI Act's Annex IV. Render with :func:`gitml.dossier.markdown.render` or
    :func:`gitml.dossier.html.render`; ``to_dict()`` is the JSON format."""
    from gitml.dossier.facts import build_dossier

    return build_dossier(root, ref, local=local)


def site(
    out: Path | str, *, root: Path | str = ".", local: bool = False, now: datetime | None = None
) -> SiteBuild:
    """Write the registry as a static web site into ``out``: models, per model its
    stages, metric trends, stage timeline and versions, per version its card, lineage,
    metrics, params and changes, and the insights; no server, no external request.

    ``now``: the instant the pages describe (default ``SOURCE_DATE_EPOCH``, else now)."""
    from gitml.site.build import build_site

    return build_site(root, out, local=local, now=now)


def deploy_render(
    ref: str,
    target: str,
    output: Path | str | None = None,
    *,
    root: Path | str = ".",
    local: bool = False,
) -> tuple[Rendered, list[Path]]:
    """Render what a cluster needs to run ``MODEL@STAGE``'s recorded version (``target``
    ``kubernetes`` or ``kserve``: the container build context and the manifests) and
    write it into ``output`` (default: gitml.yaml ``deploy.directory``, ``deploy/STAGE``);
    returns what was rendered and the paths written."""
    from pathlib import Path

    from gitml.deploy.resolve import render_stage
    from gitml.deploy.write import write_rendered

    rendered = render_stage(ref, target, root=root, local=local)
    directory = Path(output) if output else Path(root) / rendered.directory
    return rendered, write_rendered(rendered, directory)


def get(
    ref: str,
    output: Path | str,
    *,
    root: Path | str = ".",
    local: bool = False,
    repo: str | None = None,
) -> ResolvedArtifact:
    """Fetch the artefact ``ref`` names through DVC, verify its hash, write it atomically.

    ``repo`` reads another repository by URL (registry from cached refs, bytes from its
    DVC remote).
    """
    from gitml.registry.fetch import get as _get

    if repo is not None:
        from gitml.gitio.remote_cache import partial_clone

        return _get(partial_clone(repo), ref, output, local=True, repo_url=repo)
    return _get(root, ref, output, local=local)


def load(ref: str, *, root: Path | str = ".", repo: str | None = None, local: bool = False) -> Any:
    """The fitted model ``ref`` names (e.g. ``"credit@production"``), loaded safely.

    The bytes come from the DVC cache or remote, must match the registered md5, and are
    loaded by skops with an explicit trusted-type list (never unpickled). ``repo`` reads
    the registry of another repository by URL (its refs and tags are cached locally).
    """
    from gitml.registry.fetch import load as _load

    if repo is not None:
        from gitml.gitio.remote_cache import partial_clone

        return _load(ref, root=partial_clone(repo), local=True, repo_url=repo)
    return _load(ref, root=root, local=local)


def promote_on_push(
    stage: str,
    *,
    root: Path | str = ".",
    push: bool = True,
    remote: str = "origin",
    verify_remote: bool = True,
    dry_run: bool = False,
    tip: str | None = None,
    pull_request: int | None = None,
    repository: str | None = None,
) -> list[Promotion]:
    """Record ``MODEL#STAGE#N`` for each model whose ``stage`` branch tip holds a new version.

    Requires, in order: a registered version, its artefact in the DVC remote, and the
    stage's required gate (rollbacks skip metric gates, not an approvals rule).
    ``pull_request`` (default: the tip's merge subject) is judged by an approvals rule and
    named in the record, with its author and approvers when ``GITHUB_TOKEN`` can read
    them from ``repository`` (default ``$GITHUB_REPOSITORY``). Idempotent and race-safe.
    """
    from gitml.registry.promote import promote_on_push as _promote_on_push

    return _promote_on_push(
        root,
        stage,
        push=push,
        remote=remote,
        verify_remote=verify_remote,
        dry_run=dry_run,
        tip=tip,
        pull_request=pull_request,
        repository=repository,
    )


def promote(
    model: str,
    stage: str,
    *,
    version: str | None = None,
    root: Path | str = ".",
    push: bool = False,
    remote: str = "origin",
    repository: str | None = None,
) -> PreparedBranch:
    """Prepare the branch that promotes ``model`` (``version``, default latest) to ``stage``."""
    from gitml.registry.prepare import prepare_promotion

    return prepare_promotion(
        root, model, stage, version, push=push, remote=remote, repository=repository
    )


def rollback(
    model: str,
    stage: str,
    *,
    to: str | None = None,
    root: Path | str = ".",
    push: bool = False,
    remote: str = "origin",
    repository: str | None = None,
) -> PreparedBranch:
    """Prepare the branch that returns ``stage`` to an earlier version of ``model``."""
    from gitml.registry.prepare import prepare_rollback

    return prepare_rollback(root, model, stage, to, push=push, remote=remote, repository=repository)


def unassign(
    model: str,
    stage: str,
    *,
    root: Path | str = ".",
    reason: str = "",
    push: bool = False,
    remote: str = "origin",
) -> str:
    """Remove ``model`` from ``stage`` (GTO unassignment tag); returns the tag name."""
    from gitml.registry.lifecycle import unassign as _unassign

    return _unassign(root, model, stage, reason=reason, push=push, remote=remote)


def deprecate(
    ref: str,
    *,
    root: Path | str = ".",
    reason: str = "",
    push: bool = False,
    remote: str = "origin",
) -> str:
    """Deregister ``MODEL@vX.Y.Z`` or deprecate ``MODEL``; returns the tag name."""
    from gitml.registry.lifecycle import deprecate as _deprecate

    return _deprecate(root, ref, reason=reason, push=push, remote=remote)


def verify(
    *, root: Path | str = ".", check_remote: bool = True, local: bool = False, deep: bool = False
) -> VerifyReport:
    """Check stage tips are registered, artefacts are in the remote, tags are well formed."""
    from gitml.registry.verify import verify as _verify

    return _verify(root, check_remote=check_remote, local=local, deep=deep)


def retrain(
    model: str,
    data: Path | str,
    *,
    root: Path | str = ".",
    base: str = "main",
    branch: str | None = None,
    push: bool = False,
    open_pr: bool = False,
    remote: str = "origin",
    repository: str | None = None,
    drift_report: Path | str | None = None,
) -> RetrainResult:
    """Prepare the branch that adds the batch ``data`` to the DVC-tracked training data.

    Built in a temporary worktree of ``base`` (the checkout is never touched): the batch
    joins ``retrain.data`` (through ``retrain.adopt`` when set), ``dvc add`` gives its
    ``.dvc`` file a new hash, and the commit names the batch, its rows and the drift
    (``drift_report``, a ``gitml drift --json`` file). ``push`` pushes data and branch;
    ``open_pr`` (implies ``push``) opens the pull request and dispatches ``propose.yml``.
    """
    from gitml.retrain import retrain as _retrain

    return _retrain(
        root,
        model,
        data,
        base=base,
        branch=branch,
        push=push,
        open_pr=open_pr,
        remote=remote,
        repository=repository,
        drift_report=drift_report,
    )


__all__ = [
    "check",
    "deprecate",
    "dossier",
    "get",
    "history",
    "load",
    "promote",
    "promote_on_push",
    "register",
    "registry",
    "report",
    "retrain",
    "rollback",
    "show",
    "tenures",
    "unassign",
    "validate",
    "verify",
    "versions",
]
