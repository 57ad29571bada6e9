"""A registry record is a fact git agrees with, never a claim in free text (issue 16,
findings 1-3): forged trailers, metric values, hand-pushed tags and forged records."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from gitml import api
from gitml.errors import EXIT_CODES, RegistryError
from gitml.registry.record import Kind, Record, parse_record, record_message
from tests.helpers import dvc, git, gitml
from tests.registry_flow import merge_pull_request, model_md5, remote_tags, set_param

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow
VERIFY_FAILED = EXIT_CODES["verification_failed"]
GATE_FAILED = EXIT_CODES["gate_failed"]


def _tag(repo: Path, name: str, rev: str, message: str) -> None:
    git(repo, "tag", "-a", name, rev, "-m", message, "--cleanup=verbatim")
    git(repo, "push", "-q", "origin", name)


def _production(repo: Path) -> str | None:
    (row,) = api.registry(root=repo)
    return next(s.version for s in row.stages if s.stage == "production")


def test_a_rollback_trailer_in_a_commit_message_skips_no_gate(
    origin_repo: Path, clock: Clock
) -> None:
    """Finding 1: a worse model merged into production under a commit message that says
    "Gitml-Rollback:" is a promotion (it never held the stage), so the gate judges it."""
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    assert api.promote_on_push("production", root=repo)[0].status == "recorded"
    clock.tick()
    merge_pull_request(repo, 12, "stump", ("train", "hist_gradient_boosting.max_iter", 1))
    clock.tick()
    api.register(root=repo, push=True)
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "-B", "production", "origin/production")
    git(repo, "merge", "-q", "--no-ff", "main", "-m", "Hotfix\n\nGitml-Rollback: credit v0.2.0")
    git(repo, "push", "-q", "origin", "production")
    git(repo, "checkout", "-q", "main")
    check = gitml(
        repo, "check", "--stage", "production", "--head", "origin/production", check=False
    )
    assert check.returncode == GATE_FAILED, check.stdout
    pushed = gitml(repo, "promote", "--on-push", "production", "--push", check=False)
    assert pushed.returncode == GATE_FAILED
    assert "gate production failed" in pushed.stdout
    assert _production(repo) == "v0.1.0"


def test_a_metric_value_cannot_forge_the_recorded_md5(origin_repo: Path, clock: Clock) -> None:
    """Finding 2: a metrics file whose value holds a newline and another artefact's md5."""
    repo = origin_repo
    api.register(root=repo, push=True)
    first_md5 = model_md5(repo)
    clock.tick()
    git(repo, "checkout", "-q", "-b", "forge", "main")
    set_param(repo, "train", "hist_gradient_boosting.learning_rate", 0.1)
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    metrics = json.loads((repo / "metrics/credit.json").read_text())
    metrics["precision"] = f"0.0\nmd5: {first_md5}\ncommit: {'0' * 40}"
    (repo / "metrics/credit.json").write_text(json.dumps(metrics))
    git(repo, "commit", "-qam", "A better model (and a metrics value with fields in it)")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "forge", "-m", "Merge pull request #3 from team/forge")
    git(repo, "push", "-q", "origin", "main")
    clock.tick()
    (registration,) = api.register(root=repo, push=True)
    message = git(repo, "tag", "-l", "--format=%(contents)", registration.tag).stdout
    record = parse_record(message)
    assert record is not None
    assert record.md5 == model_md5(repo) != first_md5
    assert "precision" not in record.metrics
    assert api.show(f"credit@{registration.version}", root=repo).info.md5 == model_md5(repo)
    fetched = repo / "fetched.skops"
    api.get(f"credit@{registration.version}", root=repo, output=fetched)
    assert fetched.read_bytes() == (repo / "models/credit.skops").read_bytes()


def test_a_hand_pushed_stage_tag_is_ignored_and_reported(origin_repo: Path, clock: Clock) -> None:
    """Finding 3: an annotated ``credit#production#99`` with no gitml record."""
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    api.promote_on_push("production", root=repo)
    clock.tick()
    merge_pull_request(repo, 4, "lr", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    clock.tick()
    api.register(root=repo, push=True)
    clock.tick()
    _tag(repo, "credit#production#99", "main", "Promote credit v0.2.0 to production\n")
    assert _production(repo) == "v0.1.0"
    assert api.show("credit@production", root=repo).info.version == "v0.1.0"
    verified = gitml(repo, "verify", "--no-remote", check=False)
    assert verified.returncode == VERIFY_FAILED
    assert "credit#production#99: no gitml record" in verified.stdout
    assert "credit#production#99" in remote_tags(repo)  # reported, never deleted by gitml


def test_a_well_formed_record_that_git_contradicts_is_skipped(
    origin_repo: Path, clock: Clock
) -> None:
    """A forged record claiming another artefact's md5 for a commit whose dvc.lock holds
    a different one: reads skip it, fetching it refuses, verify names it."""
    repo = origin_repo
    (first,) = api.register(root=repo, push=True)
    clock.tick()
    merge_pull_request(repo, 5, "lr", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    clock.tick()
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    forged = Record(
        Kind.REGISTRATION,
        "credit",
        "v0.9.0",
        md5=first.md5,  # v0.1.0's artefact, claimed for this commit
        artifact="models/credit.skops",
        commit=head,
        writer="gitml 0.1.0",
    )
    _tag(repo, "credit@v0.9.0", head, record_message("Register credit v0.9.0", forged))
    assert api.show("credit", root=repo).info.version == "v0.1.0"
    with pytest.raises(RegistryError, match=r"credit@v0.9.0: its record claims artefact"):
        api.show("credit@v0.9.0", root=repo)
    verified = gitml(repo, "verify", "--no-remote", check=False)
    assert verified.returncode == VERIFY_FAILED
    assert f"credit@v0.9.0: its record claims artefact {first.md5}" in verified.stdout


def test_a_reason_with_newlines_stays_one_value(origin_repo: Path, clock: Clock) -> None:
    """``unassign --reason`` and ``deprecate --reason`` cannot add fields or lines."""
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    api.promote_on_push("production", root=repo)
    clock.tick()
    reason = f"broken\nmd5: {'f' * 32}\ngitml-record: {{}}"
    tag = gitml(repo, "unassign", "credit", "--stage", "production", "--reason", reason).stdout
    name = next(t for t in git(repo, "tag").stdout.split() if "#production!#" in t)
    record = parse_record(git(repo, "tag", "-l", "--format=%(contents)", name).stdout)
    assert record is not None, tag
    assert record.kind is Kind.UNASSIGNMENT
    assert record.md5 == model_md5(repo)
    assert record.reason == "broken md5: ffffffffffffffffffffffffffffffff gitml-record: {}"
    assert _production(repo) is None


def test_verify_names_records_written_by_anyone_but_the_writers(origin_repo: Path) -> None:
    """With ``registry.writers`` set, a record tagged by another identity is reported."""
    repo = origin_repo
    api.register(root=repo, push=True)
    tagger = git(repo, "tag", "-l", "--format=%(taggeremail:trim)", "credit@v0.1.0").stdout
    with (repo / "gitml.yaml").open("a") as config:
        config.write("registry:\n  writers: [ci-bot@example.org]\n")
    refused = gitml(repo, "verify", "--no-remote", check=False)
    assert refused.returncode == VERIFY_FAILED
    assert f"credit@v0.1.0: written by {tagger.strip()!r}, not by a registry writer" in (
        refused.stdout
    )
    (repo / "gitml.yaml").write_text(
        (repo / "gitml.yaml").read_text().replace("ci-bot@example.org", tagger.strip())
    )
    assert gitml(repo, "verify", "--no-remote").returncode == 0
