"""Preparing promotion and rollback branches: a commit whose tree is the registered
commit's (with the stage's rendered deployment, when ``deploy:`` is set), on top of the
stage branch, and the pull request into it (opened through GitHub's API when a token is
there, else the ``gh`` command to open it). ``gitml promote --on-push``
(:mod:`gitml.registry.promote`) records what such a branch holds once it is merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.deploy.stage_branch import deploy_summary, stage_tree, summary_markdown
from gitml.errors import RegistryError
from gitml.gitio.repo import GitRepo, TreeWriter
from gitml.registry.names import Action
from gitml.registry.promote import require_stage
from gitml.registry.reader import RegistryReader
from gitml.registry.stage_branches import PROMOTE_TRAILER, ROLLBACK_TRAILER

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.deploy.stage_branch import StagedTree
    from gitml.deploy.summary import DeployChange
    from gitml.registry.state import ModelState, VersionState


@dataclass(frozen=True)
class PreparedBranch:
    """A branch ready for a pull request into a stage branch (or a new stage branch)."""

    model: str
    stage: str
    version: str
    branch: str
    base: str
    commit: str
    kind: str  # promotion | rollback | new-stage | up-to-date
    pushed: bool = False
    pull_request: str | None = None
    command: str | None = None
    note: str = ""
    dispatched: bool = False  # propose.yml started for the pull request (opened from CI)
    deploy_directory: str | None = None  # the stage's rendered folder, when deploy: is set
    deploy: DeployChange | None = None  # what the branch changes in that folder

    def to_dict(self) -> dict[str, object]:
        """JSON shape of a prepared branch."""
        data = dict(self.__dict__)
        data["deploy"] = self.deploy.to_dict() if self.deploy else None
        return data


def active_version(
    reader: RegistryReader, state: ModelState, model: str, version: str | None
) -> VersionState:
    """``version`` of ``model`` (default latest): registered, active, its record not
    contradicted by git."""
    target = state.versions.get(version) if version else reader.latest(state)
    if target is None or not target.registered or not target.active:
        raise RegistryError(f"{model}@{version or 'latest'}: no such active registered version")
    if reader.contradicted(target):
        raise RegistryError(
            f"{model}@{target.version}: its record disagrees with git; run `gitml verify`"
        )
    return target


def _open_pull_request(
    prepared: PreparedBranch, title: str, body: str, repository: str | None
) -> PreparedBranch:
    import os
    import shlex

    from gitml.github.client import GitHubClient

    client = GitHubClient.from_environment()
    repository = repository or os.environ.get("GITHUB_REPOSITORY")
    command = (
        f"gh pr create --base {shlex.quote(prepared.base)} --head {shlex.quote(prepared.branch)} "
        f"--title {shlex.quote(title)} --body {shlex.quote(body)}"
    )
    if client is None or not repository or not prepared.pushed:
        return PreparedBranch(**{**prepared.__dict__, "command": command})
    pull = client.create_pull_request(repository, prepared.branch, prepared.base, title, body)
    opened = PreparedBranch(**{**prepared.__dict__, "pull_request": pull.url})
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return opened  # a person's token: GitHub starts the pull request's workflows itself
    # A pull request opened with GITHUB_TOKEN triggers no workflow: start its checks. The
    # default branch's propose.yml runs (the stage branch may carry an older copy) and
    # resolves the number to the stage job (verify, gate, report; no retraining).
    from gitml.github.client import PROPOSE_WORKFLOW, GitHubError

    try:
        ref = client.default_branch(repository)
    except GitHubError as error:
        raise GitHubError(
            f"pull request #{pull.number} ({pull.url}) is open, but finding the default "
            f"branch to start {PROPOSE_WORKFLOW} on failed: {error}; run it by hand with "
            f"input pr={pull.number}"
        ) from None
    client.start_checks(repository, PROPOSE_WORKFLOW, ref, pull)
    return PreparedBranch(**{**opened.__dict__, "dispatched": True})


def _write_branch(
    trees: TreeWriter,
    staged: StagedTree,
    name: str,
    parents: list[str],
    message: str,
    *,
    push: bool,
    remote: str,
) -> tuple[str, DeployChange | None]:
    """Commit ``staged``'s tree on ``parents`` as branch ``name`` (pushed when asked);
    the commit and what it changes in the stage's deploy folder against the stage tip
    (``parents[0]``)."""
    commit = trees.commit_tree(staged.tree, parents, message)
    trees.set_branch(name, commit)
    if push:
        trees.push_branch(remote, name, commit)
    return commit, deploy_summary(trees.repo, staged, parents[0], commit)


def prepare_promotion(
    root: Path | str,
    model: str,
    stage: str,
    version: str | None = None,
    *,
    push: bool = False,
    remote: str = "origin",
    repository: str | None = None,
) -> PreparedBranch:
    """A branch whose tree is the version's registered commit, on top of the stage branch."""
    require_stage(root, stage)
    repo = GitRepo(root)
    trees = TreeWriter(repo)
    with RegistryReader(root, remote=remote) as reader:
        state = reader.model_state(model)
        target = active_version(reader, state, model, version)
        branch = reader.branch_name(stage, model)
        tip = reader.branch_commit(branch)
        holder = reader.stage_holder(state, stage)
        staged = stage_tree(reader, repo, target, stage)
    if tip is None:
        start = target.commit
        note = f"created {branch} at {model}@{target.version}'s commit"
        if staged.tree != trees.tree_of(target.commit):
            start = trees.commit_tree(
                staged.tree,
                [target.commit],
                f"Deploy {model} {target.version} to {stage}\n\n{staged.note}\n\n"
                f"{PROMOTE_TRAILER} {model} {target.version}\n",
            )
            note += f", with its rendered stage in {staged.directory}/"
        trees.set_branch(branch, start)
        if push:
            trees.push_branch(remote, branch, start)
        return PreparedBranch(
            model, stage, target.version, branch, branch, start, "new-stage", push, note=note,
            deploy_directory=staged.directory,
        )  # fmt: skip
    if trees.tree_of(tip) == staged.tree:
        return PreparedBranch(
            model,
            stage,
            target.version,
            branch,
            branch,
            tip,
            "up-to-date",
            note=f"{branch} already holds {model}@{target.version}",
        )
    current = holder.version if holder else "none"
    title = f"Promote {model} {target.version} to {stage}"
    message = (
        f"{title}\n\nReplaces {current} in {stage}. The tree is exactly the registered commit "
        f"{target.commit[:12]} of main{staged.with_note}.\n\n"
        f"{PROMOTE_TRAILER} {model} {target.version}\n"
    )
    name = f"promote/{model}-{target.version}-to-{stage}"
    commit, summary = _write_branch(
        trees, staged, name, [tip, target.commit], message, push=push, remote=remote
    )
    prepared = PreparedBranch(
        model, stage, target.version, name, branch, commit, "promotion", push,
        deploy_directory=staged.directory, deploy=summary,
    )  # fmt: skip
    body = (
        f"Promotes **{model} {target.version}** to `{stage}` (currently {current}).\n\n"
        "Prepared by `gitml promote`; the gate runs as this pull request's status check and "
        "`gitml promote --on-push` records the promotion after the merge."
        f"{summary_markdown(summary)}"
    )
    return _open_pull_request(prepared, title, body, repository)


def rollback_target(reader: RegistryReader, model: str, stage: str) -> tuple[str, str]:
    """The version a rollback returns to, from the stage's assignment history.

    Rollbacks are skipped: the target is the promotion before the current one; after one
    rollback, a second goes one further back. Returns ``(version, explanation)``.
    """
    state = reader.model_state(model)
    assignments = [e for e in state.events if e.stage == stage and e.action == Action.ASSIGN]
    promotions: list[str] = []
    for event in assignments:
        if event.is_rollback:
            continue
        version = event.recorded_version
        if version is None:
            holder = state.version_at(event.commit)
            version = holder.version if holder else None
        if version and (not promotions or promotions[-1] != version):
            promotions.append(version)
    rollbacks = 0
    for event in reversed(assignments):
        if not event.is_rollback:
            break
        rollbacks += 1
    steps_back = rollbacks + 1
    if len(promotions) <= steps_back:
        raise RegistryError(
            f"{model}@{stage}: no earlier promotion to roll back to "
            f"({len(promotions)} promotion(s), {rollbacks} rollback(s) since the last one)"
        )
    target = promotions[-1 - steps_back]
    note = f"previous promotion before {promotions[-1]}"
    if rollbacks:
        note = f"{rollbacks} rollback(s) already recorded: going one further back"
    return target, note


def prepare_rollback(
    root: Path | str,
    model: str,
    stage: str,
    to: str | None = None,
    *,
    push: bool = False,
    remote: str = "origin",
    repository: str | None = None,
) -> PreparedBranch:
    """A new commit on the stage branch whose tree is the older version's registered commit."""
    require_stage(root, stage)
    repo = GitRepo(root)
    trees = TreeWriter(repo)
    with RegistryReader(root, remote=remote) as reader:
        state = reader.model_state(model)
        note = ""
        if to is None:
            to, note = rollback_target(reader, model, stage)
        target = active_version(reader, state, model, to)
        branch = reader.branch_name(stage, model)
        tip = reader.branch_commit(branch)
        holder = reader.stage_holder(state, stage)
        if tip is None:
            raise RegistryError(f"{branch}: no such stage branch to roll back")
        staged = stage_tree(reader, repo, target, stage, restore_from=tip)
    current = holder.version if holder else "none"
    title = f"Roll back {model} to {to} in {stage}"
    message = (
        f"{title}\n\nReplaces {current}; the tree is exactly the registered commit "
        f"{target.commit[:12]} of {model} {to}{staged.with_note}.\n\n"
        f"{ROLLBACK_TRAILER} {model} {to}\n"
    )
    name = f"rollback/{model}-{stage}-{to}"
    commit, summary = _write_branch(trees, staged, name, [tip], message, push=push, remote=remote)
    prepared = PreparedBranch(
        model, stage, to, name, branch, commit, "rollback", push, note=note,
        deploy_directory=staged.directory, deploy=summary,
    )  # fmt: skip
    body = (
        f"Rolls **{model}** back to **{to}** in `{stage}` (currently {current}).\n\n"
        "Metric gates are skipped for rollbacks; hash, registration and DVC-remote checks are "
        "not. `gitml promote --on-push` records it as a rollback after the merge."
        f"{summary_markdown(summary)}"
    )
    return _open_pull_request(prepared, title, body, repository)
