"""Hostile documents: alias bombs, deep nesting and malformed configs are one-line errors,
and a schema is always the one shipped now (no remembered verdict outlives it)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from gitml.documents import MAX_DEPTH, MAX_VALUES, parse_text
from gitml.errors import ConfigError
from tests.helpers import BIN_DIR, PROJECT_ROOT, git

if TYPE_CHECKING:
    from pathlib import Path


def _alias_bomb(levels: int = 9) -> str:
    """Nine lists of nine references per level: 9**levels values from ~350 bytes."""
    lines = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"  l{level}: &l{level} [{refs}]")
    return "bomb:\n" + "\n".join(lines) + "\n"


@pytest.fixture
def registry_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "first")
    return repo


def _limited() -> None:
    # A bomb expanded would take minutes and tens of gigabytes; the refusal needs neither.
    resource.setrlimit(resource.RLIMIT_CPU, (2, 2))
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _gitml_limited(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "gitml"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        check=False,
    )


@pytest.mark.parametrize("command", [["registry", "--local"], ["validate"], ["history", "credit"]])
def test_an_alias_bomb_in_gitml_yaml_is_a_one_line_error(
    registry_repo: Path, command: list[str]
) -> None:
    bomb = _alias_bomb()
    (registry_repo / "gitml.yaml").write_text(
        bomb + "models:\n  credit:\n    artifact: m.skops\n    metrics: *l8\n"
    )
    shown = _gitml_limited(registry_repo, *command)
    assert shown.returncode == 1, shown.stderr
    out = (shown.stderr + shown.stdout).strip().splitlines()
    assert any(
        f"gitml.yaml: more than {MAX_VALUES:,} values once" in line and len(line) < 300
        for line in out
    ), out
    assert len(out) <= 2  # the problem, and validate's count


def test_the_budget_counts_each_alias_as_often_as_it_is_used() -> None:
    assert parse_text(_alias_bomb(5), "ok.yaml")["bomb"]["l4"][0][0][0][0] == ["lol"] * 9
    with pytest.raises(ConfigError, match=r"^big.yaml: more than 500,000 values"):
        parse_text(_alias_bomb(7), "big.yaml")  # 9**7 = 4.8 million values


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 200 + "]" * 200,  # YAML flow nesting
        "a: &a [*a]",  # a list that contains itself
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",  # JSON, deeper than the stack
    ],
    ids=["yaml", "recursive", "json"],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=rf"^deep.yaml: nested more than {MAX_DEPTH} levels"):
        parse_text(text, "deep.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models: [credit]\n", "not a gitml configuration"),
        ("models:\n  credit:\n    metrics: [m.json]\n", "missing key 'artifact'"),
        ("- just\n- a list\n", "not a gitml configuration"),
    ],
)
def test_a_query_on_a_malformed_config_is_a_one_line_error(
    registry_repo: Path, text: str, expected: str
) -> None:
    (registry_repo / "gitml.yaml").write_text(text)
    shown = subprocess.run(
        [str(BIN_DIR / "gitml"), "registry", "--local"],
        cwd=registry_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 1
    assert shown.stderr.startswith("gitml: error: gitml.yaml: ")
    assert expected in shown.stderr
    assert shown.stderr.count("\n") == 1


def test_an_edited_schema_is_seen_by_the_next_run(registry_repo: Path, tmp_path: Path) -> None:
    """No verdict is remembered between runs: after an upgrade that tightens a schema, the
    next validation applies it (a verdict cached by the schema's name once did not)."""
    (registry_repo / "gitml.yaml").write_text(
        "stages: [staging, production]\n"
        "models:\n  credit:\n    artifact: m.skops\n    metrics: [metrics.json]\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    validate = [sys.executable, "-m", "gitml", "validate", "--json"]
    first = subprocess.run(validate, cwd=registry_repo, capture_output=True, text=True, env=env)
    problems = json.loads(first.stdout)["problems"]
    assert all(p["key"] != "stages[1]" for p in problems), problems
    # The same gitml, its shipped schema now allowing only a "staging" stage.
    upgraded = tmp_path / "upgraded"
    shutil.copytree(PROJECT_ROOT / "src" / "gitml", upgraded / "gitml")
    schema_path = upgraded / "gitml" / "schemas" / "gitml.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["properties"]["stages"]["items"] = {"enum": ["staging"]}
    schema_path.write_text(json.dumps(schema))
    second = subprocess.run(
        validate,
        cwd=registry_repo,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(upgraded)},
    )
    problems = json.loads(second.stdout)["problems"]
    assert [p["key"] for p in problems if p["key"].startswith("stages")] == ["stages[1]"]
