"""What a promotion's report adds per model, from one read of the registry: the candidate
is the registered version whose artefact hash (per git) is the head's, and the report
links its dossier (:mod:`gitml.report.dossier_link`) and shows what the pull request
changes in the stage's deploy folder.

The folder is the one the candidate's registered commit configures
(:mod:`gitml.deploy.stage_branch`); the change is read from the files on both sides
(:mod:`gitml.deploy.summary`). Whether the folder is *right* is the stage check's
verdict (``gitml promote --on-push --dry-run``); the report shows what it changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gitml.errors import GitmlError

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.deploy.summary import DeployChange
    from gitml.registry.reader import RegistryReader
    from gitml.registry.state import VersionState
    from gitml.report.model import ModelReport


def promotion_details(
    root: Path, stage: str, base: str | None, head: str, models: list[ModelReport]
) -> list[ModelReport]:
    """``models`` with their candidate's dossier link and, when ``base`` is a commit, the
    deployment change. A registry that cannot be read gives neither rather than no
    report; settings no stage can be rendered with give no deployment changes."""
    from gitml.registry.reader import RegistryReader
    from gitml.report.dossier_link import dossier_link

    if all(m.head_md5 is None for m in models):
        return models
    try:
        with RegistryReader(root) as registry:
            candidates = {m.name: version for m in models if (version := _candidate(registry, m))}
            links = {name: link for name, v in candidates.items() if (link := dossier_link(v))}
            changes = (
                _deployment_changes(registry, root, stage, base, head, candidates)
                if base is not None
                else {}
            )
    except GitmlError:
        return models
    return [
        replace(m, dossier=links.get(m.name, m.dossier), deployment=changes.get(m.name))
        for m in models
    ]


def _candidate(registry: RegistryReader, model: ModelReport) -> VersionState | None:
    """The registered version the head's artefact is, if any."""
    if model.head_md5 is None or model.name not in registry.state.models:
        return None
    return registry.version_for_md5(registry.model_state(model.name), model.head_md5)


def _deployment_changes(
    registry: RegistryReader,
    root: Path,
    stage: str,
    base: str,
    head: str,
    candidates: dict[str, VersionState],
) -> dict[str, DeployChange]:
    """Per candidate with ``deploy:`` settings, what ``head`` changes in ``stage``'s deploy
    folder against ``base`` (none at all when one cannot be rendered)."""
    from gitml.deploy.stage_branch import folder_change, render_for_stage
    from gitml.gitio.repo import GitRepo

    repo = GitRepo(root)
    changes: dict[str, DeployChange] = {}
    try:
        for name, version in candidates.items():
            rendered = render_for_stage(registry, version, stage)
            found = folder_change(repo, rendered.directory, base, head) if rendered else None
            if found is not None:
                changes[name] = found
    except GitmlError:
        return {}
    return changes
