"""What a promotion or rollback changes in its stage's deploy folder, for the report.

The folder is the one the candidate version's registered commit configures
(:mod:`gitml.deploy.stage_branch`); the summary is read from the files on both sides
(:mod:`gitml.deploy.summary`). Whether the folder is *right* is the stage check's
verdict (``gitml promote --on-push --dry-run``); the report shows what it changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import GitmlError

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.deploy.summary import DeployChange
    from gitml.report.model import ModelReport


def deployment_changes(
    root: Path, stage: str, base: str, head: str, models: list[ModelReport]
) -> dict[str, DeployChange]:
    """Per model whose head is a registered version with ``deploy:`` settings, what the
    head changes in ``stage``'s deploy folder against ``base``. A registry that cannot be
    read gives no summaries rather than no report."""
    from gitml.deploy.stage_branch import render_for_stage
    from gitml.deploy.summary import change
    from gitml.gitio.repo import GitRepo
    from gitml.gitio.trees import subtree, tree_files
    from gitml.registry.reader import RegistryReader

    repo = GitRepo(root)

    def files(commit: str, directory: str) -> dict[str, bytes]:
        folder = subtree(repo, commit, directory)
        return tree_files(repo, folder) if folder else {}

    changes: dict[str, DeployChange] = {}
    try:
        with RegistryReader(root) as registry:
            for model in models:
                if model.head_md5 is None or model.name not in registry.state.models:
                    continue
                state = registry.model_state(model.name)
                version = registry.version_for_md5(state, model.head_md5)
                rendered = render_for_stage(registry, version, stage) if version else None
                if rendered is None:
                    continue
                directory = rendered.directory
                found = change(directory, files(base, directory), files(head, directory))
                if found is not None:
                    changes[model.name] = found
    except GitmlError:
        return {}
    return changes
