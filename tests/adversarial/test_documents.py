"""Hostile documents: alias bombs, deep nesting, oversized files, duplicate keys and
malformed configs are one-line errors, and a schema is always the one shipped now (no
remembered verdict outlives it)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml.documents import (
    MAX_DEPTH,
    MAX_JSON_CHARS,
    MAX_VALUES,
    MAX_YAML_ALIASES,
    MAX_YAML_CHARS,
    MAX_YAML_NODES,
    _yaml_loader,
    parse_text,
    read_document,
)
from gitml.errors import ConfigError
from tests.helpers import BIN_DIR, PROJECT_ROOT, git, gitml

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
        # Not an artefact dvc.yaml declares, and no path of its own.
        ("models:\n  ghost:\n    metrics: [m.json]\n", "models.ghost.artifact: not set"),
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


# Bounded before it is built.

_READ = """
import sys
from pathlib import Path
from gitml.documents import read_document
from gitml.errors import ConfigError
try:
    read_document(Path(sys.argv[1]), sys.argv[2])
except ConfigError as error:
    print(error)
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("flow.yaml", "a: " + "[" * 50_000 + "]" * 50_000),
        ("unclosed.yaml", "a: " + "[" * 50_000),
        ("mappings.yaml", "{a: " * 50_000 + "1" + "}" * 50_000),
        ("lists.json", "[" * 50_000 + "]" * 50_000),
        ("objects.json", '{"a": ' * 50_000 + "1" + "}" * 50_000),
    ],
)
def test_fifty_thousand_nested_brackets_are_a_one_line_error(
    tmp_path: Path, name: str, text: str
) -> None:
    """The C composer recurses per level and once crashed the process (SIGSEGV) on this;
    a subprocess, so that a crash fails the test instead of ending the run."""
    path = tmp_path / name
    path.write_text(text)
    shown = subprocess.run(
        [sys.executable, "-c", _READ, str(path), name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, (shown.returncode, shown.stderr[-2000:])  # -11: SIGSEGV
    assert shown.stdout == f"{name}: nested more than {MAX_DEPTH} levels deep\n"


@pytest.mark.parametrize("command", [["validate"], ["registry", "--local"]])
def test_a_deeply_nested_gitml_yaml_is_a_one_line_error(
    registry_repo: Path, command: list[str]
) -> None:
    (registry_repo / "gitml.yaml").write_text("models: " + "[" * 50_000 + "]" * 50_000 + "\n")
    shown = _gitml_limited(registry_repo, *command)
    assert shown.returncode == 1, shown.stderr
    lines = (shown.stderr + shown.stdout).strip().splitlines()
    assert any(f"gitml.yaml: nested more than {MAX_DEPTH} levels" in line for line in lines)
    assert len(lines) <= 2  # the problem, and validate's count


def test_depth_and_aliases_are_refused_before_a_node_is_composed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def composed(self: object) -> None:
        raise AssertionError("composed before the budgets were checked")

    monkeypatch.setattr(_yaml_loader(), "get_single_node", composed)
    with pytest.raises(ConfigError, match=r"^deep.yaml: nested more than"):
        parse_text("a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2), "deep.yaml")
    aliases = "base: &b {x: 1}\nall: [" + ", ".join(["*b"] * (MAX_YAML_ALIASES + 1)) + "]\n"
    with pytest.raises(
        ConfigError, match=rf"^many.yaml: more than {MAX_YAML_ALIASES:,} YAML aliases \(line 2\)"
    ):
        parse_text(aliases, "many.yaml")


def test_the_alias_and_depth_budgets_themselves_are_allowed() -> None:
    aliases = "base: &b {x: 1}\nall: [" + ", ".join(["*b"] * MAX_YAML_ALIASES) + "]\n"
    assert len(parse_text(aliases, "ok.yaml")["all"]) == MAX_YAML_ALIASES
    # The outermost collection is level 0, as in check_budget: levels 0 to MAX_DEPTH pass.
    assert "a" in parse_text("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH, "ok.yaml")
    with pytest.raises(ConfigError, match=r"^deep.yaml: nested more than"):
        parse_text("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "deep.yaml")
    assert parse_text("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "ok.json") is not None
    with pytest.raises(ConfigError, match=r"^deep.json: nested more than"):
        parse_text("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2), "deep.json")


def test_more_yaml_nodes_than_the_budget_are_refused() -> None:
    text = "a: [" + ",".join(["1"] * MAX_YAML_NODES) + "]\n"
    with pytest.raises(ConfigError, match=rf"^n.yaml: more than {MAX_YAML_NODES:,} YAML nodes"):
        parse_text(text, "n.yaml")


def test_json_with_more_separators_than_values_allowed_is_refused_unbuilt() -> None:
    """`[[],[],...]` would cost ~25 bytes of memory per byte of text once built."""
    text = "[" + "[]," * MAX_VALUES + "[]]"
    with pytest.raises(ConfigError, match=rf"^p.json: more than {MAX_VALUES:,} values"):
        parse_text(text, "p.json")


@pytest.mark.parametrize(
    ("name", "text", "limit"),
    [
        ("big.yaml", "a: '" + "x" * MAX_YAML_CHARS + "'\n", "4 MiB"),
        ("big.json", '["' + "x" * MAX_JSON_CHARS + '"]', "16 MiB"),
    ],
)
def test_an_oversized_file_is_a_one_line_error(
    tmp_path: Path, name: str, text: str, limit: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"^{name}: more than {limit} of text \(") as error:
        read_document(path, name)
    assert "\n" not in str(error.value)


def test_a_huge_file_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(1 << 40)  # a sparse terabyte
    with pytest.raises(ConfigError, match=r"^huge.yaml: more than 16 MiB of text"):
        read_document(huge, "huge.yaml")


def test_the_c_loader_is_still_used() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML built without libyaml")
    from yaml.cyaml import CParser

    assert issubclass(_yaml_loader(), CParser)


# Duplicate keys: an error naming the key, never a silent replacement.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "gates:\n  main: {}\nmodels: {}\ngates:\n  staging: {}\n",
            "f.yaml: gates: key 'gates' is given twice in one mapping (line 4, first at line 1)",
        ),
        (
            "models:\n  credit:\n    metrics: [a]\n    artifact: m\n    metrics: [b]\n",
            "f.yaml: models.credit.metrics: key 'metrics' is given twice in one mapping (line 5, "
            "first at line 3)",
        ),
        (
            "- {a: 1}\n- {b: 1, b: 2}\n",
            "f.yaml: [1].b: key 'b' is given twice in one mapping (line 2, first at line 2)",
        ),
        ('{"a": 1, "b": {"c": 1, "c": 2}}', "f.yaml: key 'c' is given twice in one object"),
        ('[{"a": 1, "a": 1}]', "f.yaml: key 'a' is given twice in one object"),
    ],
    ids=["top-level", "nested", "in-a-list", "json-nested", "json-same-value"],
)
def test_a_duplicate_key_is_an_error_naming_it(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_text(text, "f.yaml")
    assert str(error.value).startswith(expected), str(error.value)
    assert "\n" not in str(error.value)


def test_merge_keys_may_still_be_overridden() -> None:
    """`<<: *defaults` then a key of the mapping's own is YAML's override, not a duplicate,
    also when the merged mapping is itself built with a merge."""
    text = (
        "defaults: &d {min: 0.7, atol: 0.01}\n"
        "outer:\n  staging: &s {<<: *d, min: 0.78}\n"
        "production: {<<: *s, min: 0.8}\n"
    )
    document = parse_text(text, "gates.yaml")
    assert document["outer"]["staging"] == {"min": 0.78, "atol": 0.01}
    assert document["production"] == {"min": 0.8, "atol": 0.01}


def test_keys_of_different_types_are_not_duplicates() -> None:
    assert parse_text("1: int\n'1': str\n", "f.yaml") == {1: "int", "1": "str"}


_RELAXED_GATES = "\ngates:\n  main: {}\n"


@pytest.mark.parametrize("command", [["validate"], ["registry", "--local"]])
def test_a_second_gates_key_in_gitml_yaml_is_refused(
    registry_repo: Path, command: list[str]
) -> None:
    """A duplicate top-level `gates:` once silently replaced the whole policy."""
    (registry_repo / "gitml.yaml").write_text(
        "models:\n  credit:\n    artifact: m.skops\n"
        "gates:\n  main:\n    metrics:\n      roc_auc: {min: 0.8}\n" + _RELAXED_GATES
    )
    shown = _gitml_limited(registry_repo, *command)
    assert shown.returncode == 1, shown.stderr
    lines = (shown.stderr + shown.stdout).strip().splitlines()
    assert any(
        "gitml.yaml: gates: key 'gates' is given twice in one mapping (line 9, first at line 4)"
        in line
        for line in lines
    ), lines
    assert len(lines) <= 2


def test_check_refuses_a_gitml_yaml_with_two_gates_keys(repo: Path) -> None:
    config = repo / "gitml.yaml"
    config.write_text(config.read_text() + _RELAXED_GATES)
    git(repo, "commit", "-qam", "Relax the gates")
    for command in (["check", "--base", "HEAD~1"], ["check", "--stage", "staging"], ["registry"]):
        shown = gitml(repo, *command, check=False)
        assert shown.returncode == 1, (command, shown.stdout, shown.stderr)
        assert shown.stderr.startswith("gitml: error: gitml.yaml"), (command, shown.stderr)
        assert "key 'gates' is given twice" in shown.stderr, (command, shown.stderr)
        assert shown.stderr.count("\n") == 1, (command, shown.stderr)


def test_validate_refuses_a_json_file_with_a_duplicate_key(repo: Path) -> None:
    signature = repo / "models" / "credit.signature.json"
    text = signature.read_text()
    assert text.lstrip().startswith("{")
    signature.write_text(text.replace("{", '{"features": [], ', 1))
    shown = gitml(repo, "validate", "--json", check=False)
    problems = json.loads(shown.stdout)["problems"]
    assert shown.returncode == 1, shown.stderr
    assert {
        "file": "models/credit.signature.json",
        "key": "",
        "message": "key 'features' is given twice in one object (each key may appear once)",
    } in problems, problems
