"""Observations (recorded drift checks): strict records, facts backed by git, GTO-inert."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from credit_example.generate import write_csv
from gitml import api
from gitml.registry.names import TagName
from gitml.registry.observation import (
    Observation,
    ObservationError,
    ObservationKind,
    ObservationTag,
    observation_message,
    parse_observation,
)
from gitml.registry.observations import read_observations
from gitml.registry.reader import RegistryReader
from gitml.registry.record import RECORD_PREFIX
from tests.helpers import BIN_DIR, git, gitml, run

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

MD5 = "0123456789abcdef0123456789abcdef"
SEEN = Observation(
    kind=ObservationKind.DRIFT,
    model="credit",
    version="v0.1.0",
    md5=MD5,
    verdict="drift",
    rows=4000,
    stage="production",
    figures={"psi.annual_income": 0.31, "score.psi": 0.12},  # type: ignore[arg-type]
    names=("annual_income",),
    batch="a" * 64,
    run_url="https://github.com/acme/credit/actions/runs/42",
    writer="gitml 0.1.0",
)


def _line(**changes: object) -> str:
    data = {**SEEN.to_dict(), **changes}
    return RECORD_PREFIX + json.dumps(data)


def test_an_observation_reads_back_as_itself() -> None:
    message = observation_message("Drift check of credit v0.1.0: drift", SEEN)
    parsed = parse_observation(message)
    assert parsed is not None
    assert parsed.to_dict() == SEEN.to_dict()


@pytest.mark.parametrize(
    "changes",
    [
        {"verdict": "fine"},  # not a verdict gitml drift gives
        {"rows": -1},
        {"rows": 1.5},
        {"md5": "not-an-md5"},
        {"version": "latest"},
        {"model": "credit\nversion"},
        {"figures": {"psi.x": float("inf")}},
        {"figures": {f"f{i}": 0.1 for i in range(51)}},
        {"names": ["ok", "line\nbreak"]},
        {"run_url": "javascript:alert(1)"},
        {"claims": "an extra field"},
        {"kind": "promotion"},
        {"format": 2},
    ],
)
def test_a_malformed_observation_is_no_record(changes: dict[str, object]) -> None:
    assert parse_observation(_line(**changes)) is None


def test_two_record_lines_are_no_record() -> None:
    assert parse_observation(_line() + "\n" + _line(verdict="ok")) is None


def test_writing_a_record_that_would_not_parse_fails() -> None:
    with pytest.raises(ObservationError):
        observation_message("x", Observation(ObservationKind.DRIFT, "credit", "v1", MD5, "?", 1))


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("gitml.drift/credit/3", ("credit", 3)),
        ("gitml.drift/team/credit/12", ("team/credit", 12)),
        ("gitml.drift/credit/03", None),
        ("gitml.drift/credit/x", None),
        ("gitml.canary-ish/credit/1", None),
        ("credit@v0.1.0", None),
        ("gitml.drift//1", None),
    ],
)
def test_observation_tag_names(tag: str, expected: tuple[str, int] | None) -> None:
    parsed = ObservationTag.parse(tag)
    assert (None if parsed is None else (parsed.model, parsed.number)) == expected


def test_an_observation_tag_is_no_registry_event() -> None:
    """No ``@`` and no ``#``: neither GTO's grammar nor gitml's stage reading takes it."""
    assert TagName.parse("gitml.drift/credit/3") is None


def _batches(tmp_path: Path) -> tuple[Path, Path]:
    calm, downturn = tmp_path / "calm.csv", tmp_path / "downturn.csv"
    write_csv(calm, 2000, seed=601, shift=0.0)
    write_csv(downturn, 2000, seed=602, shift=1.0)
    return calm, downturn


@pytest.mark.slow
def test_drift_record_tags_the_version_and_reads_back_as_a_fact(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    calm, downturn = _batches(tmp_path)
    gto_before = json.loads(run(BIN_DIR / "gto", "show", "--json", cwd=repo).stdout)
    clock.tick()
    found = gitml(
        repo, "drift", "credit@latest", "--data", str(downturn), "--record", "--push",
        "--fail-on-drift", check=False,
    )  # fmt: skip
    assert found.returncode == 4
    assert "recorded gitml.drift/credit/1 (pushed)" in found.stderr
    clock.tick()
    gitml(repo, "drift", "credit@v0.1.0", "--data", str(calm), "--record")
    # On the remote, on the version's registered commit.
    remote = git(repo, "ls-remote", "--tags", "origin", "gitml.drift/*").stdout
    assert "refs/tags/gitml.drift/credit/1" in remote
    assert "gitml.drift/credit/2" not in remote  # recorded without --push
    registered = git(repo, "rev-list", "-n1", "credit@v0.1.0").stdout.strip()
    assert git(repo, "rev-list", "-n1", "gitml.drift/credit/1").stdout.strip() == registered
    with RegistryReader(repo) as reader:
        seen = read_observations(reader)
    assert seen.rejected == ()
    first, second = (e.observation for e in seen.believed)
    assert (first.verdict, first.stage, first.version) == ("drift", None, "v0.1.0")
    assert {"annual_income", "credit_utilization"} <= set(first.names)
    assert first.figures["psi.annual_income"] > 0.1
    assert 0.5 < first.figures["roc_auc"] <= 1
    assert 0.5 < first.figures["estimated_roc_auc"] <= 1  # CBPE, no labels needed
    assert second.verdict != "drift"
    assert second.rows == 2000
    assert first.batch != second.batch
    assert len(first.batch or "") == 64
    # gitml history shows both checks; GTO sees nothing new.
    events = json.loads(gitml(repo, "history", "credit", "--json").stdout)
    checks = [e for e in events if e["event"] == "drift-check"]
    assert [c["tag"] for c in checks] == ["gitml.drift/credit/1", "gitml.drift/credit/2"]
    assert checks[0]["description"].startswith("drift check of v0.1.0: drift (")
    assert json.loads(run(BIN_DIR / "gto", "show", "--json", cwd=repo).stdout) == gto_before
    assert "drift check of v0.1.0" in gitml(repo, "history", "credit").stdout
    assert gitml(repo, "verify").returncode == 0


@pytest.mark.slow
def test_forged_observations_are_left_out_and_reported(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    _, downturn = _batches(tmp_path)
    gitml(repo, "drift", "credit", "--data", str(downturn), "--record")
    message = git(repo, "tag", "-l", "--format=%(contents)", "gitml.drift/credit/1").stdout
    # The same well-formed record on another commit, one with a forged md5, one lightweight.
    clock.tick()
    (repo / "README.md").write_text("another commit\n")
    git(repo, "commit", "-qam", "Another commit")
    git(repo, "tag", "-a", "gitml.drift/credit/2", "HEAD", "-m", message)
    forged = message.replace(json.loads(message.split(RECORD_PREFIX)[1])["md5"], "f" * 32)
    git(repo, "tag", "-a", "gitml.drift/credit/3", "credit@v0.1.0^{}", "-m", forged)
    git(repo, "tag", "gitml.drift/credit/4", "credit@v0.1.0^{}")
    with RegistryReader(repo) as reader:
        seen = read_observations(reader)
    assert [e.tag for e in seen.believed] == ["gitml.drift/credit/1"]
    reasons = dict(seen.rejected)
    assert "was registered at" in reasons["gitml.drift/credit/2"]
    assert "is not the artefact's" in reasons["gitml.drift/credit/3"]
    assert "lightweight" in reasons["gitml.drift/credit/4"]
    history = gitml(repo, "history", "credit", "--json").stdout
    assert "gitml.drift/credit/2" not in history
    assert "gitml.drift/credit/3" not in history
    verify = gitml(repo, "verify", "--json", check=False)
    problems = " ".join(json.loads(verify.stdout)["problems"])
    assert verify.returncode != 0
    assert all(f"gitml.drift/credit/{n}" in problems for n in (2, 3, 4))


@pytest.mark.slow
def test_a_killed_run_s_unpushed_tag_gives_way_to_the_remote_s(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    """Two monitors: one pushed number 1 while the other's number 1 never left its clone.
    The second's next recording takes the remote's 1 and publishes as number 2."""
    repo = origin_repo
    api.register(root=repo, push=True)
    calm, downturn = _batches(tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(other))
    gitml(repo, "drift", "credit", "--data", str(calm), "--record")  # never pushed
    clock.tick()
    gitml(other, "drift", "credit", "--data", str(downturn), "--record", "--push", check=False)
    clock.tick()
    recorded = gitml(repo, "drift", "credit", "--data", str(calm), "--record", "--push")
    assert "recorded gitml.drift/credit/2 (pushed)" in recorded.stderr
    with RegistryReader(repo) as reader:
        verdicts = [e.observation.verdict for e in read_observations(reader).believed]
    assert verdicts[0] == "drift"
    assert len(verdicts) == 2


def test_push_needs_record(tmp_path: Path) -> None:
    result = gitml(tmp_path, "drift", "credit", "--push", check=False)
    assert result.returncode != 0
    assert "--push needs --record" in result.stderr


CANARY = Observation(
    kind=ObservationKind.CANARY,
    model="credit",
    version="v0.2.0",
    md5=MD5,
    verdict="stopped",
    rows=5000,
    stage="production",
    figures={"candidate.error_rate": 0.04, "stable.error_rate": 0.0},  # type: ignore[arg-type]
    names=("error_rate",),
    against="v0.1.0",
    windows=2,
    rule="error rate 0.04 exceeds the stable version's 0 by more than 0.01",
)


def test_a_canary_outcome_reads_back_and_is_checked_like_a_drift_check() -> None:
    parsed = parse_observation(observation_message("Canary of credit v0.2.0: stopped", CANARY))
    assert parsed is not None
    assert parsed.to_dict() == CANARY.to_dict()
    line = RECORD_PREFIX + json.dumps({**CANARY.to_dict(), "verdict": "drift"})
    assert parse_observation(line) is None  # a drift verdict is no canary verdict
    assert (
        parse_observation(RECORD_PREFIX + json.dumps({**CANARY.to_dict(), "windows": -1})) is None
    )
    assert (
        parse_observation(RECORD_PREFIX + json.dumps({**CANARY.to_dict(), "against": "x"})) is None
    )
    assert ObservationTag.parse("gitml.canary/credit/2") == ObservationTag(
        ObservationKind.CANARY, "credit", 2
    )
