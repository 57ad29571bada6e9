"""Replayed registry answers (gitml.cli.replay): the same text the command computes, and
the command runs in full after any change of the registry or for any other command line.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitml.cli import replay
from gitml.cli.main import build_parser, main
from tests.helpers import REGISTRY_CONFIG, git, modules_after_main, tag_at

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

READS = [
    ["registry", "--local"],
    ["registry"],  # remote-tracking stage refs (none here)
    ["registry", "--json", "--local"],
    ["registry", "--format", "md", "--local"],
    ["registry", "--names-in", "production", "--local"],
    ["show", "credit@production", "--local"],
    ["show", "credit", "--json", "--local"],
    ["show", "--format=md", "credit@v0.2.0", "--local"],
    ["history", "credit", "--local"],
    ["history", "credit", "--stage", "staging", "--json", "--local"],
    ["history", "--local", "credit", "--stage=production", "--format", "md"],
]


@pytest.fixture
def inside(
    registry: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[str]]:
    """The ``registry`` fixture's repository, made the working directory."""
    monkeypatch.chdir(registry[0])
    return registry


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def _replayed(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str | None:
    """The replayed text, or None when ``argv`` was not replayed."""
    done = replay.replay(argv, replay.filed_state(argv))
    out = capsys.readouterr().out
    if not done:
        assert out == ""  # nothing printed: the caller runs the command
        return None
    return out


@pytest.mark.usefixtures("inside")
@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_a_replayed_answer_is_the_computed_one(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _replayed(argv, capsys) is None  # nothing filed yet
    computed = _run(argv, capsys)
    assert computed.strip()
    assert _replayed(argv, capsys) == computed
    assert _run(argv, capsys) == computed  # main replays it
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    assert _replayed(argv, capsys) is None
    assert _run(argv, capsys) == computed  # computed afresh, without any cache


@pytest.mark.parametrize("spelling", ["--root", "--root="])
def test_the_root_option_names_the_repository(
    spelling: str,
    registry: tuple[Path, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, _ = registry
    root = [f"--root={repo}"] if spelling.endswith("=") else ["--root", str(repo)]
    argv = ["history", "credit", "--local", *root]
    monkeypatch.chdir(tmp_path)
    computed = _run(argv, capsys)
    assert "v0.3.0" in computed
    assert _replayed(argv, capsys) == computed
    # The same words from another directory name another root: not this entry.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert _replayed(["history", "credit", "--local"], capsys) is None


def test_every_change_of_the_registry_runs_the_command_again(
    inside: tuple[Path, list[str]], clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, commits = inside
    argv = ["registry", "--local"]

    def changed() -> str:
        assert _replayed(argv, capsys) is None  # the filed text is of another state
        text = _run(argv, capsys)
        assert _replayed(argv, capsys) == text  # filed again, for the new state
        return text

    before = _run(argv, capsys)
    clock.tick()
    tag_at(repo, "credit#production#3", commits[2])  # a promotion
    assert changed() != before
    git(repo, "branch", "production", commits[0])  # a stage branch: pending
    assert "pending" in changed()
    git(repo, "tag", "-d", "credit#production#3")  # a tag deleted
    changed()
    git(repo, "pack-refs", "--all")  # the same refs, now packed: replayed after one run
    changed()
    (repo / "gitml.yaml").write_text(REGISTRY_CONFIG.format(stages="production, canary"))
    assert "canary" in changed()


@pytest.mark.parametrize(
    "argv",
    [
        ["registry", "--loc"],  # an abbreviation argparse accepts
        ["history", "--local", "--", "credit"],
        ["--traceback", "registry", "--local"],
        ["registry", "--local", "--repo", "REPO"],
    ],
    ids=" ".join,
)
def test_other_command_lines_always_run(
    argv: list[str], inside: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _ = inside
    argv = [str(repo) if word == "REPO" else word for word in argv]
    first = _run(argv, capsys)
    assert "v0.1.0" in first
    assert _replayed(argv, capsys) is None
    assert _run(argv, capsys) == first
    assert _replayed(argv, capsys) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["history", "nosuch", "--local"], "unknown model 'nosuch'"),
        (["show", "credit@v9.0.0", "--local"], "v9.0.0"),
        (["show", "credit@canary", "--local"], "canary"),
    ],
)
@pytest.mark.usefixtures("inside")
def test_errors_are_never_filed(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        assert main(argv) == 1
        captured = capsys.readouterr()
        assert message in captured.err
        assert captured.out == ""
        assert _replayed(argv, capsys) is None


def test_an_answer_computed_while_the_refs_moved_is_not_filed(
    inside: tuple[Path, list[str]], clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, commits = inside
    argv = ["history", "credit", "--local"]
    args = build_parser("history").parse_args(argv)
    recording = replay.recording(argv, args, replay.filed_state(argv))
    assert recording is not None

    def push_lands_meanwhile() -> int:
        clock.tick()
        tag_at(repo, "credit#production#3", commits[2])
        return int(args.run(args))

    assert recording.run(push_lands_meanwhile) == 0
    printed = capsys.readouterr().out
    assert "promotion" in printed.splitlines()[-1]  # printed, as computed
    assert _replayed(argv, capsys) is None  # but filed under neither state
    assert _run(argv, capsys) == printed
    assert _replayed(argv, capsys) == printed


TOKENS = [
    "credit",
    "x",
    "--root",
    "--root=",
    "--root=sub",
    "sub",
    "--local",
    "--json",
    "--format",
    "md",
    "--stage",
    "--names-in",
    "--",
    "-",
    "--lo",
    "--local=1",
]


@settings(max_examples=300, deadline=None)
@given(
    command=st.sampled_from(sorted(replay.COMMANDS)),
    words=st.lists(st.sampled_from(TOKENS), max_size=6),
)
def test_replay_reads_root_and_local_as_argparse_does(command: str, words: list[str]) -> None:
    argv = [command, *words]
    target = replay._target(argv)
    if target is None:
        return
    try:
        args = build_parser(command).parse_args(argv)
    except SystemExit:
        return  # argparse refuses it: never run, never filed
    assert (os.path.realpath(target[0]), target[1]) == (
        os.path.realpath(str(args.root)),
        args.local,
    )


def test_a_replayed_query_imports_neither_the_registry_nor_argparse(
    registry: tuple[Path, list[str]], tmp_path: Path
) -> None:
    repo, _ = registry
    watched = (
        "argparse",
        "typing",
        "pathlib",
        "re",
        "datetime",
        "subprocess",
        "json",
        "gitml.registry.reader",
    )
    argv = ["history", "credit", "--local", "--root", str(repo)]

    def imported() -> list[str]:
        return modules_after_main(argv, watched, tmp_path / "cache", "v0.3.0")

    assert "argparse" in imported()  # computed and filed
    assert imported() == []  # replayed
