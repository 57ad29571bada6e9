"""The rendered stage on its branch: what a promotion or rollback commit carries in the
stage's deploy folder, and the check that a stage branch carries exactly that.

When the version's registered commit has a ``deploy:`` section, a stage branch's deploy
folder (``deploy.directory``, ``deploy/<stage>``) must hold one of two things:

* what this gitml renders for the version and stage with the settings of the version's
  registered commit (never the pull request's own ``gitml.yaml``: a candidate does not
  choose how it is judged or deployed), or
* byte for byte, the folder the stage branch carried when the registry recorded that
  version in that stage before (a rollback restores what ran, even if gitml or its
  rendering changed since).

So the pull request's diff of that folder is the deployment change a reviewer approves
and a GitOps controller applies, and a registry record never claims a version runs in a
stage whose manifests deploy something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.deploy.release import Release
from gitml.deploy.render import render
from gitml.errors import ConfigError
from gitml.files import CONFIG_FILE
from gitml.gitio.trees import folder_files, is_ancestor, subtree, tree_files, tree_from_files
from gitml.registry.names import Action

if TYPE_CHECKING:
    from gitml.config import Config
    from gitml.deploy.summary import DeployChange
    from gitml.gitio.repo import GitRepo
    from gitml.registry.reader import RegistryReader
    from gitml.registry.state import VersionState


@dataclass(frozen=True)
class StageRender:
    """Every file a stage's deploy folder holds for one version, by path in the folder."""

    release: Release
    directory: str  # relative to the repository root, e.g. deploy/production
    files: dict[str, str]


def config_at(reader: RegistryReader, commit: str) -> Config | None:
    """The configuration of ``commit`` (its ``gitml.yaml`` over what its ``dvc.yaml``
    declares). Not checked against today's schema: an older version's file may predate a
    key; its ``deploy:`` section is still checked in full when it is parsed."""
    from gitml.dvcio.project import project_from_reader
    from gitml.zero_config import effective_config

    def read(path: str) -> bytes | None:
        return reader.read_blob(commit, path) or None

    data = read(CONFIG_FILE)
    text = data.decode("utf-8", "replace") if data else None
    project = project_from_reader(read, commit[:12])
    return effective_config(text, project, f"{CONFIG_FILE} at {commit[:12]}", validate=False)


def release_of(reader: RegistryReader, version: VersionState, stage: str) -> Release | None:
    """The version as a :class:`Release` for ``stage``; None when it has no registered
    artefact to deploy."""
    md5 = reader.version_md5(version)
    artifact = reader.version_path(version)
    tag = version.registration.tag if version.registration else None
    if not md5 or not artifact or not tag:
        return None
    return Release(version.model, version.version, md5, version.commit, tag, artifact, stage)


def render_for_stage(
    reader: RegistryReader, version: VersionState, stage: str
) -> StageRender | None:
    """What ``stage``'s deploy folder holds for ``version``; None when the version's
    registered commit configures no ``deploy:`` (nothing is rendered, nothing required).

    Every target of ``deploy.targets`` is rendered into the one folder: the build context
    at its top (the same for each target) and each target's manifests under its name.
    """
    config = config_at(reader, version.commit)
    if config is None or not config.deploy_settings.configured:
        return None
    release = release_of(reader, version, stage)
    if release is None:
        return None
    settings = config.deploy(stage)
    files: dict[str, str] = {}
    for target in settings.targets:
        files.update(render(release, settings, target, config.canary(stage)).files)
    return StageRender(release, settings.directory_of(version.model), dict(sorted(files.items())))


def rendered_tree(repo: GitRepo, rendered: StageRender) -> str:
    """The git tree of a rendered stage folder (its blobs written to the object store)."""
    return tree_from_files(repo, rendered.files)


def recorded_folders(
    reader: RegistryReader, repo: GitRepo, version: VersionState, stage: str, directory: str,
    tip: str,
) -> list[str]:  # fmt: skip
    """The deploy folder trees ``stage``'s branch carried each time the registry recorded
    ``version`` there, newest first: the recorded branch commit must be in ``tip``'s
    history (a record naming some other commit restores nothing)."""
    trees: list[str] = []
    for event in reversed(version.events):
        record = event.record
        if event.action is not Action.ASSIGN or event.stage != stage or record is None:
            continue
        commit = record.branch_commit
        if not commit or not is_ancestor(repo, commit, tip):
            continue
        folder = subtree(repo, commit, directory)
        if folder and folder not in trees:
            trees.append(folder)
    return trees


def folder_problem(
    reader: RegistryReader, repo: GitRepo, version: VersionState, stage: str, tip: str
) -> str | None:
    """Why ``tip``'s deploy folder is not what ``stage`` must carry for ``version``; None
    when it is (or when the version's commit configures no ``deploy:``)."""
    try:
        rendered = render_for_stage(reader, version, stage)
    except ConfigError as error:  # settings no stage can be rendered with: nothing is right
        return f"{version.model} {version.version} cannot be rendered for {stage}: {error}"
    if rendered is None:
        return None
    directory = rendered.directory
    found = subtree(repo, tip, directory)
    if found is None:
        return (
            f"{directory}/: missing; the version's gitml.yaml has deploy:, so the stage "
            f"branch must carry {version.model} {version.version}'s rendered manifests "
            "(`gitml promote` and `gitml rollback` put them there)"
        )
    if found == rendered_tree(repo, rendered):
        return None
    if found in recorded_folders(reader, repo, version, stage, directory, tip):
        return None  # a rollback: exactly what the stage ran this version with before
    return (
        f"{directory}/: {_first_difference(repo, found, rendered)} is not what gitml renders "
        f"for {version.model} {version.version} in {stage}, nor what {stage} ran it with "
        "before (edited by hand? prepare it again with `gitml promote` or `gitml rollback`)"
    )


def _first_difference(repo: GitRepo, found: str, rendered: StageRender) -> str:
    have = tree_files(repo, found)
    want = {name: text.encode("utf-8") for name, text in rendered.files.items()}
    for name in sorted(set(have) | set(want)):
        if name not in want:
            return f"{name} (unexpected file)"
        if name not in have:
            return f"{name} (missing)"
        if have[name] != want[name]:
            return name
    return "a file mode"


@dataclass(frozen=True)
class StagedTree:
    """The tree a promotion or rollback commit gets: the registered commit's, with the
    stage's deploy folder put in (``directory`` None: no ``deploy:``, the tree as it is)."""

    tree: str
    directory: str | None = None
    note: str = ""  # how the folder was made, for the commit message

    @property
    def with_note(self) -> str:
        """`` with …`` for a commit message sentence, or nothing."""
        return f", with {self.note}" if self.note else ""


def stage_tree(
    reader: RegistryReader,
    repo: GitRepo,
    version: VersionState,
    stage: str,
    *,
    restore_from: str | None = None,
) -> StagedTree:
    """The tree a commit putting ``version`` into ``stage`` must have.

    With ``restore_from`` (a rollback: the stage branch's tip), the deploy folder is the
    one the branch carried when the registry last recorded ``version`` in ``stage``, byte
    for byte; a version never recorded there with a folder is rendered afresh.
    """
    from gitml.gitio.trees import with_subtree

    base = repo.run("rev-parse", f"{version.commit}^{{tree}}").stdout.strip()
    rendered = render_for_stage(reader, version, stage)
    if rendered is None:
        return StagedTree(base)
    directory = rendered.directory
    folder = None
    note = f"{directory}/ rendered by gitml for {version.model} {version.version}"
    if restore_from is not None:
        recorded = recorded_folders(reader, repo, version, stage, directory, restore_from)
        if recorded:
            folder = recorded[0]
            note = f"{directory}/ as {stage} ran {version.version} before, byte for byte"
    if folder is None:
        folder = rendered_tree(repo, rendered)
    return StagedTree(with_subtree(repo, base, directory, folder), directory, note)


def deploy_summary(
    repo: GitRepo, staged: StagedTree, before: str, after: str
) -> DeployChange | None:
    """What the commit ``after`` changes in the stage's deploy folder against ``before``."""
    if staged.directory is None:
        return None
    return folder_change(repo, staged.directory, before, after)


def folder_change(repo: GitRepo, directory: str, before: str, after: str) -> DeployChange | None:
    """What the commit ``after`` changes in the folder ``directory`` against ``before``;
    None when the folder is the same."""
    from gitml.deploy.summary import change

    return change(
        directory, folder_files(repo, before, directory), folder_files(repo, after, directory)
    )


def summary_markdown(summary: DeployChange | None) -> str:
    """The change as a pull request body's closing paragraph (empty without one)."""
    from gitml.deploy.summary import markdown_lines

    return "\n\n" + "\n".join(markdown_lines(summary)) if summary else ""
