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
    (problem,) = report["problems"]
    assert (problem["file"], problem["key"]) == ("gitml.yaml", "")
    assert problem["message"].startswith("file not found (run `gitml init` to draft it")


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
