"""Steps of the GitOps flow on real repositories, shared by registry and promotion tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from tests.helpers import dvc, git

if TYPE_CHECKING:
    from pathlib import Path


def set_param(repo: Path, section: str, key: str, value: object) -> None:
    """Edit one (dotted) key of params.yaml."""
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    target = params[section]
    *parents, leaf = key.split(".")
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def merge_pull_request(
    repo: Path, number: int, branch: str, change: tuple[str, str, object], push_dvc: bool = True
) -> str:
    """A PR branch that changes one param, reproduced and merged into main like GitHub does."""
    git(repo, "checkout", "-q", "-b", branch, "main")
    set_param(repo, *change)
    dvc(repo, "repro", "-q")
    git(repo, "commit", "-qam", f"Change {change[1]} to {change[2]}")
    if push_dvc:
        dvc(repo, "push", "-q")
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        branch,
        "-m",
        f"Merge pull request #{number} from team/{branch}",
    )
    git(repo, "push", "-q", "origin", "main")
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def model_md5(repo: Path, rev: str = "HEAD") -> str:
    """The model's md5 in dvc.lock at ``rev``."""
    lock = yaml.safe_load(git(repo, "show", f"{rev}:dvc.lock").stdout)
    outs = lock["stages"]["train"]["outs"]
    return next(o["md5"] for o in outs if o["path"] == "models/credit.skops")


def remote_tags(repo: Path) -> list[str]:
    """Tag names on the bare origin."""
    out = git(repo, "ls-remote", "--tags", "--refs", "origin").stdout
    return sorted(line.split("refs/tags/")[1] for line in out.splitlines() if line)
