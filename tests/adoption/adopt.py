"""Adopting gitml in a copied user project, and reading gitml's, DVC's and GTO's JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from tests.adoption.projects import HEAD
from tests.adoption.repos import BASE, Clock, commit
from tests.helpers import BIN_DIR, dvc, gitml, run

if TYPE_CHECKING:
    from pathlib import Path

# The setup action the adopted workflows pin (`gitml init --gitml-action`: a fork of gitml
# and a commit). The suite runs gitml from a working tree, from which init cannot derive
# a pinned reference of its own.
GITML_ACTION = "adopter-org/gitml@3f1c0e9d5b7a26481c0d9e8f7a6b5c4d3e2f1a0b"


def adopt(repo: Path) -> dict[str, Any]:
    """``gitml init`` (must exit 0), then ``gitml validate`` (must exit 0); init's JSON."""
    result = gitml(repo, "init", "--gitml-action", GITML_ACTION, "--json")
    validated = gitml(repo, "validate", check=False)
    assert validated.returncode == 0, (
        f"gitml validate after init:\n{validated.stdout}{validated.stderr}"
    )
    answer = json.loads(result.stdout)
    assert isinstance(answer, dict)
    return answer


def commit_adoption(repo: Path, message: str = "Adopt gitml") -> str:
    """Commit what ``gitml init`` wrote (and only that); the commit's sha."""
    status = run("git", "status", "--porcelain", cwd=repo).stdout
    assert status.strip(), "gitml init wrote nothing"
    # Dates after every fixture commit: the fixtures' clocks start at the same instant.
    clock = Clock(start=1_767_225_600 + 86_400)
    return commit(repo, clock, message)


def adopt_then_update_pr(repo: Path, head: str = HEAD) -> None:
    """Adopt gitml on main (committed), then bring ``head`` up to date with main by a merge,
    as a pull request opened before the adoption is updated; ``head`` stays checked out."""
    adopt(repo)
    commit_adoption(repo)
    run("git", "switch", "-q", head, cwd=repo)
    dates = Clock(start=1_767_225_600 + 2 * 86_400).tick()
    run("git", "merge", "-q", "--no-edit", BASE, cwd=repo, env=dates)


def gitml_config(repo: Path) -> dict[str, Any]:
    """The ``gitml.yaml`` in the work tree, parsed."""
    document = yaml.safe_load((repo / "gitml.yaml").read_text())
    assert isinstance(document, dict)
    return document


def gitml_json(repo: Path, *args: str) -> Any:
    """Run ``gitml ARGS --json`` (must exit 0) and parse its output."""
    return json.loads(gitml(repo, *args, "--json").stdout)


def dvc_json(repo: Path, *args: str) -> Any:
    """Run ``dvc ARGS --json`` (must exit 0) and parse its output."""
    return json.loads(dvc(repo, *args, "--json").stdout)


def gto_json(repo: Path, *args: str) -> Any:
    """Run the real ``gto ARGS --json`` (must exit 0) and parse its output."""
    return json.loads(run(BIN_DIR / "gto", *args, "--json", cwd=repo).stdout)


def leaves(document: Any) -> list[str]:
    """Every string (key or value) inside a parsed YAML/JSON document, depth first."""
    if isinstance(document, dict):
        return [text for key, value in document.items() for text in (str(key), *leaves(value))]
    if isinstance(document, list):
        return [text for item in document for text in leaves(item)]
    return [document] if isinstance(document, str) else []
