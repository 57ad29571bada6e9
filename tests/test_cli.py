"""The command line itself: fast start, help everywhere, one error boundary."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gitml.cli.main import build_parser, main
from gitml.errors import EXIT_CODES

HEAVY = ("sklearn", "pandas", "dvc", "skops", "scipy", "jsonschema", "numpy", "rich")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["validate", "--help"]])
def test_help_path_imports_no_heavy_library(argv: list[str]) -> None:
    code = (
        "import sys\nfrom gitml.cli.main import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_and_option_has_help() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "==SUPPRESS==" or a.choices)
    assert commands.choices
    for name, sub in commands.choices.items():
        assert sub.description, name
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings or action.dest}"


@pytest.mark.parametrize("columns", [60, 120])
def test_help_follows_the_terminal_width(columns: int) -> None:
    env = {**os.environ, "COLUMNS": str(columns)}
    # (The top level and retrain keep their descriptions' own line breaks.)
    for argv in (["registry", "--help"], ["history", "--help"]):
        shown = subprocess.run(
            [sys.executable, "-m", "gitml", *argv], capture_output=True, text=True, env=env
        )
        assert shown.returncode == 0, shown.stderr
        widest = max(len(line) for line in shown.stdout.splitlines())
        # argparse's layout: two columns left free, paragraphs filled close to the edge.
        assert columns - 20 < widest <= columns - 2, (argv, widest)


def test_no_command_prints_help_and_exits_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_CODES["usage"]
    assert "usage: gitml" in capsys.readouterr().out


def test_exit_codes_are_distinct() -> None:
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)


def test_errors_are_one_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["validate", "--root", str(tmp_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == [{"file": "gitml.yaml", "key": "", "message": "file not found"}]


def test_a_user_error_is_one_line_on_stderr(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["report", "--base", "main", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("gitml: error: ")


def test_an_unexpected_error_asks_for_a_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gitml.api

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(gitml.api, "validate", broken)
    assert main(["validate"]) == EXIT_CODES["internal"]
    err = capsys.readouterr().err
    assert err.startswith("gitml: internal error: ZeroDivisionError: boom\n")
    assert "--traceback" in err


def test_each_command_builds_only_its_module_parser() -> None:
    from gitml.cli.main import COMMAND_MODULES

    full = build_parser()
    commands = next(a for a in full._actions if a.choices)
    assert set(COMMAND_MODULES) == set(commands.choices)
    for name in COMMAND_MODULES:
        only = build_parser(name)
        subcommands = next(a for a in only._actions if a.choices)
        assert name in subcommands.choices
        assert len(subcommands.choices) < len(commands.choices)
    # The registry's read commands build only their own parser (part of their start-up).
    for name in ("registry", "show", "history"):
        only = build_parser(name)
        assert list(next(a for a in only._actions if a.choices).choices) == [name]


def test_registry_queries_import_no_parser_library_once_files_are_cached(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Config and dvc.lock are parsed once per content; later queries skip YAML entirely,
    and a remembered answer skips the config and the registry's indexing code too."""
    import shutil

    from tests.helpers import PROJECT_ROOT, git, modules_after_main

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copy(PROJECT_ROOT / "gitml.yaml", repo / "gitml.yaml")
    (repo / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: t\n    outs:\n"
        "    - path: models/credit.skops\n      md5: 0123456789abcdef0123456789abcdef\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "model")
    git(repo, "tag", "-a", "credit@v0.1.0", "-m", "register")
    git(repo, "branch", "production")
    watched = (
        "yaml",
        "jsonschema",
        "dataclasses",
        "subprocess",
        "shutil",
        "gitml.config",
        "gitml.registry.state",
    )
    argv = ["registry", "--local", "--root", str(repo)]

    def imported() -> list[str]:
        return modules_after_main(argv, watched, tmp_path / "cache", "v0.1.0")

    assert "yaml" in imported()  # the first run parsed YAML
    shutil.rmtree(tmp_path / "cache" / "gitml" / "registry")  # as after a new tag
    # Computing an answer reads the config and indexes the tags, without dataclasses
    # (~18 ms of imports here, through inspect): the records on this path are tuples.
    cold = ["gitml.config", "gitml.registry.state", "subprocess"]
    assert imported() == cold
    assert imported() == []  # the answer remembered: no git process, nothing to index
