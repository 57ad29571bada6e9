"""Adopting gitml in a registry GTO wrote: gitml reads it as `gto` does, before and after.

The oracle is the real `gto` on the same tags: `gto show`, `gto show MODEL` and
`gto history`, with deprecated models and deregistered versions included (`-d`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.adoption.adopt import adopt, commit_adoption, gitml_config, gitml_json, gto_json
from tests.adoption.projects import GTO_MODELS

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

# gitml names an assignment by what it did to the stage; GTO calls each an assignment.
GTO_EVENT = {"promotion": "assignment", "rollback": "assignment"}


def _gto_registry(repo: Path) -> dict[str, dict[str, Any]]:
    shown = gto_json(repo, "show", "--deprecated")
    return {
        name: {
            "latest": row["version"],
            "stages": {stage: version for stage, version in row["stage"].items() if version},
            "deprecated": not row["active"],
        }
        for name, row in shown.items()
    }


def _gitml_registry(repo: Path) -> dict[str, dict[str, Any]]:
    rows = gitml_json(repo, "registry", "--local")
    return {
        row["model"]: {
            "latest": row["latest"],
            "stages": {s["stage"]: s["version"] for s in row["stages"] if s["version"]},
            "deprecated": row["deprecated"],
        }
        for row in rows
    }


def _gto_versions(repo: Path, model: str) -> list[tuple[str, bool, set[str]]]:
    versions = gto_json(repo, "show", model, "--deprecated")
    # GTO also lists the commit a deprecation tag points at, as an unregistered entry
    # named by its sha: only versions that were ever registered are versions.
    return [
        (v["version"], v["is_active"], {s["stage"] for s in v["stages"]})
        for v in versions
        if v["registrations"]
    ]


def _gitml_versions(repo: Path, model: str) -> list[tuple[str, bool, set[str]]]:
    """``gitml show MODEL --json``: every version, latest first (the shape issue E adds:
    a list, or an object with a ``versions`` list, of version objects)."""
    shown = gitml_json(repo, "show", model, "--local")
    versions = shown["versions"] if isinstance(shown, dict) else shown
    assert isinstance(versions, list), f"gitml show {model} --json lists no versions: {shown}"
    return [(v["version"], v["active"], set(v["stages"])) for v in versions]


def _event(row: dict[str, Any], model_key: str) -> tuple[str, str, str, Any, Any]:
    event = GTO_EVENT.get(row["event"], row["event"])
    return (row["timestamp"], row[model_key], event, row["version"], row["stage"])


def _gto_history(repo: Path, *model: str) -> list[tuple[str, str, str, Any, Any]]:
    # GTO lists the newest event first; gitml the oldest.
    return [_event(row, "artifact") for row in reversed(gto_json(repo, "history", *model))]


def _gitml_history(repo: Path, *model: str) -> list[tuple[str, str, str, Any, Any]]:
    return [_event(row, "model") for row in gitml_json(repo, "history", *model, "--local")]


def _gto_answers(repo: Path) -> dict[str, Any]:
    """What GTO answers: the registry, each model's versions and history, all history."""
    return {
        "registry": _gto_registry(repo),
        **{f"versions {m}": _gto_versions(repo, m) for m in GTO_MODELS},
        **{f"history {m}": _gto_history(repo, m) for m in GTO_MODELS},
        "history": _gto_history(repo),
    }


def _gitml_answers(repo: Path) -> dict[str, Any]:
    """gitml's answers to the same questions, in the same shape."""
    return {
        "registry": _gitml_registry(repo),
        **{f"versions {m}": _gitml_versions(repo, m) for m in GTO_MODELS},
        **{f"history {m}": _gitml_history(repo, m) for m in GTO_MODELS},
        "history": _gitml_history(repo),
    }


def test_the_fixture_is_the_registry_gto_describes(gto_repo: Path) -> None:
    """What the builder made, in GTO's words (guards the other tests' premise)."""
    assert _gto_registry(gto_repo) == {
        "churn": {"latest": "v0.1.0", "stages": {"dev": "v0.1.0"}, "deprecated": False},
        "ranker": {"latest": "v1.1.0", "stages": {"prod": "v1.1.0"}, "deprecated": False},
        "scorer": {"latest": "v0.1.0", "stages": {"prod": "v0.1.0"}, "deprecated": True},
    }
    assert [(v, active) for v, active, _ in _gto_versions(gto_repo, "churn")] == [
        ("v0.1.0", True),
        ("v0.0.3", False),
        ("v0.0.2", True),
        ("v0.0.1", True),
    ]
    events = {(e[1], e[2]) for e in _gto_history(gto_repo)}
    assert {
        ("churn", "deregistration"),
        ("churn", "unassignment"),
        ("scorer", "deprecation"),
    } <= events


def test_gto_registry_reads_as_gto_before_adoption(gto_repo: Path) -> None:
    assert _gitml_answers(gto_repo) == _gto_answers(gto_repo)


def test_init_keeps_gto_stages_and_the_registry_still_reads_as_gto(gto_repo: Path) -> None:
    # GTO's own answers before the adoption commit: after it, `gto show -d` calls the
    # deprecated model active again (GTO counts the new HEAD, where artifacts.yaml still
    # declares it, as an unregistered version of it), which no registry event did.
    before = _gto_answers(gto_repo)
    answer = adopt(gto_repo)
    config = gitml_config(gto_repo)
    assert {"churn", "ranker"} <= set(answer["models"])
    assert {"churn", "ranker"} <= set(config["models"])
    # GTO's stage names, in order of first use (churn#prod#1 came before churn#dev#2).
    assert config["stages"] == ["prod", "dev"]
    commit_adoption(gto_repo)
    # Adopting must not hide the history GTO wrote: with gitml.yaml present, GTO's tags
    # (records without gitml's fields) count only if the config accepts them.
    assert _gitml_answers(gto_repo) == before


def test_marks_deprecated_models_and_deregistered_versions(gto_repo: Path) -> None:
    events = gitml_json(gto_repo, "history", "--local")
    assert {e["model"] for e in events if e["model_deprecated"]} == {"scorer"}
    deregistered = {(e["model"], e["version"]) for e in events if e["version_deregistered"]}
    assert deregistered == {("churn", "v0.0.3")}
    rows = {row["model"]: row for row in gitml_json(gto_repo, "registry", "--local")}
    assert rows["churn"]["deregistered"] == ["v0.0.3"]
    assert [name for name, row in rows.items() if row["deprecated"]] == ["scorer"]
