"""README and --help stay in sync: every command and option is documented."""

from __future__ import annotations

from pathlib import Path

from gitml.cli.reference import section

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_command_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert section() in text, (
        "README command reference is stale: run python -m gitml.cli.reference --write README.md"
    )


def test_readme_quick_start_has_exactly_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["./dev main", "./dev test"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "exec ./dev test" in ci


def test_exit_codes_in_readme_match_the_errors_module() -> None:
    from gitml.errors import EXIT_CODES

    text = README.read_text(encoding="utf-8")
    for code in EXIT_CODES.values():
        assert f"\n| {code} | " in text
