"""``gitml canary replay`` on the example repository: real versions, records and refusals."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pytest

from credit_example.generate import write_csv
from gitml import api
from gitml.canary.analysis import CanaryDecision
from gitml.canary.policy import KeySpec
from gitml.canary.record import record_decision
from gitml.canary.router import Router
from gitml.canary.versions import resolve_pair, signature_difference
from gitml.errors import EXIT_CANARY_STOPPED
from gitml.registry.observation import ObservationKind
from gitml.registry.observations import read_observations
from gitml.registry.reader import RegistryReader
from gitml.signature import Feature, Signature
from tests.helpers import git, gitml
from tests.registry_flow import merge_pull_request, set_param

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

POLICY = """
canary:
  production:
    percent: 20
    key: field:applicant
    window: {requests: 150}
    windows: 2
    rules:
      error_rate: {max_increase: 0.01}
      p99_latency: {max_ratio: 1.5}
      score_psi: {max: 0.25}
      estimated_roc_auc: {max_drop: 0.03}
      realised_roc_auc: {max_drop: 0.03, min_labels: 100}
  staging:
    window: {seconds: 600}
    windows: 2
    rules:
      score_psi: {max: 0.25}
      estimated_roc_auc: {max_drop: 0.03}
"""
# One tree of one split (with max_leaf_nodes 2, below): two scores, ROC AUC about 0.65.
STUMP = ("train", "hist_gradient_boosting.max_iter", 1)
IMPROVE = ("train", "hist_gradient_boosting.max_leaf_nodes", 8)  # about as good as v0.1.0


def _two_versions(repo: Path, clock: Clock, change: tuple[str, str, object]) -> None:
    """v0.1.0 recorded in production, v0.2.0 (trained with ``change``) registered."""
    api.register(root=repo, push=True)
    clock.tick()
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert outcome.status == "recorded"
    clock.tick()
    if change == STUMP:
        set_param(repo, "train", "hist_gradient_boosting.max_leaf_nodes", 2)
    merge_pull_request(repo, 11, "candidate", change)
    clock.tick()
    assert [r.version for r in api.register(root=repo, push=True)] == ["v0.2.0"]
    clock.tick()
    with (repo / "gitml.yaml").open("a") as handle:
        handle.write(POLICY)
    git(repo, "commit", "-qam", "Canary policy")


def _batch(tmp_path: Path, rows: int = 3000) -> Path:
    """Generated applicants with their outcome (``default``) and an applicant id."""
    raw, path = tmp_path / "raw.csv", tmp_path / "batch.csv"
    write_csv(raw, rows, seed=77, shift=0.0)
    with raw.open() as source, path.open("w", newline="") as out:
        reader = csv.DictReader(source)
        fields = [*(reader.fieldnames or []), "applicant"]
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for i, row in enumerate(reader):
            writer.writerow({**row, "applicant": f"A{i:05d}"})
    return path


@pytest.mark.slow
def test_a_weak_candidate_is_stopped_recorded_and_listed(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    _two_versions(repo, clock, STUMP)
    batch = _batch(tmp_path)
    replay = ("canary", "replay", "credit@v0.2.0", "--against", "credit@production")
    result = gitml(repo, *replay, "--data", str(batch), "--record", "--push", "--json", check=False)
    assert result.returncode == EXIT_CANARY_STOPPED, result.stderr
    assert "recorded gitml.canary/credit/1 (pushed)" in result.stderr
    shown = json.loads(result.stdout)
    assert (shown["state"], shown["candidate"], shown["stable"]) == ("stopped", "v0.2.0", "v0.1.0")
    decision = shown["decision"]
    assert "estimated_roc_auc" in decision["failed"]
    assert decision["windows"] == 1
    assert decision["rule"].startswith("window 1: ")
    (window,) = shown["windows"]
    assert window["candidate_records"] == 150
    assert "p99_latency" in window["not_evaluated"]  # a replay times nothing
    assert shown["recorded"]["tag"] == "gitml.canary/credit/1"
    # The split is the router's, keyed by the applicant field: as the server would split.
    router = Router(20, KeySpec("field", "applicant"))
    sent = shown["rows"]
    assert shown["routed"]["candidate"] == sum(
        router.route(f"A{i:05d}") == "candidate" for i in range(sent)
    )

    # The tag is on the candidate's registered commit, on the remote, and believed.
    registered = git(repo, "rev-list", "-n1", "credit@v0.2.0").stdout.strip()
    assert git(repo, "rev-list", "-n1", "gitml.canary/credit/1").stdout.strip() == registered
    assert "gitml.canary/credit/1" in git(repo, "ls-remote", "--tags", "origin").stdout
    with RegistryReader(repo) as reader:
        seen = read_observations(reader)
    assert seen.rejected == ()
    (event,) = seen.believed
    observed = event.observation
    assert observed.kind is ObservationKind.CANARY
    assert (observed.verdict, observed.against, observed.stage, observed.windows) == (
        "stopped",
        "v0.1.0",
        "production",
        1,
    )
    assert observed.figures["estimated_roc_auc.drop"] > 0.03
    assert observed.rule == decision["rule"]
    history = json.loads(gitml(repo, "history", "credit", "--json").stdout)
    canaries = [e for e in history if e["event"] == "canary"]
    assert [e["tag"] for e in canaries] == ["gitml.canary/credit/1"]
    assert (
        "stopped after 1 window against v0.1.0: window 1: "
        in gitml(repo, "history", "credit").stdout
    )

    # The table says the same to a person.
    table = gitml(repo, *replay, "--data", str(batch), check=False)
    assert table.returncode == EXIT_CANARY_STOPPED
    lines = table.stdout.splitlines()
    assert lines[0] == "canary replay of credit v0.2.0 against v0.1.0, heading for production"
    assert lines[5].startswith("window 1 (rows 1-")
    assert ": 150 candidate and " in lines[5]
    assert lines[5].endswith(" stable records: failed")
    assert any(line.startswith("decision: stopped after 1 window(s): window 1: ") for line in lines)
    assert "note: a replay times nothing: p99_latency is not evaluated" in lines
    markdown = gitml(repo, *replay, "--data", str(batch), "--format", "md", check=False).stdout
    assert markdown.startswith("## canary replay of credit v0.2.0 against v0.1.0, heading for")
    assert "| estimated\\_roc\\_auc |" in markdown


@pytest.mark.slow
def test_refusals_name_what_is_wrong(origin_repo: Path, clock: Clock, tmp_path: Path) -> None:
    repo = origin_repo
    _two_versions(repo, clock, STUMP)
    batch = _batch(tmp_path, rows=400)

    def refused(*args: str, code: int) -> str:
        result = gitml(repo, "canary", "replay", *args, check=False)
        assert result.returncode == code, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        return result.stderr

    assert "is credit@v0.1.0, the same version as credit@production" in refused(
        "credit@v0.1.0", "--against", "credit@production", "--data", str(batch), code=2
    )
    assert "--stage: credit@v0.1.0 names a version, not a stage" in refused(
        "credit@v0.2.0", "--against", "credit@v0.1.0", "--data", str(batch), code=2
    )
    assert f"{batch}: canary.staging.window is 600 s, but the rows carry no time" in refused(
        "credit@v0.2.0", "--against", "credit@v0.1.0", "--stage", "staging", "--data",
        str(batch), code=1,
    )  # fmt: skip
    bad = tmp_path / "bad.csv"
    rows = list(csv.DictReader(batch.open()))
    rows[6]["default"] = "maybe"
    with bad.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert f"{bad}: row 7: label 'maybe': expected 0 or 1" in refused(
        "credit@v0.2.0", "--against", "credit@production", "--data", str(bad), code=1
    )
    assert "--push needs --record" in refused(
        "credit@v0.2.0", "--against", "credit@production", "--data", str(batch), "--push", code=2
    )
    assert "--percent: expected a number above 0 and below 100, got 100.0" in refused(
        "credit@v0.2.0", "--against", "credit@production", "--data", str(batch),
        "--percent", "100", code=2,
    )  # fmt: skip
    git(repo, "checkout", "-q", "HEAD~1", "--", "gitml.yaml")  # no canary section
    assert "gitml.yaml: canary.production: no canary policy for stage 'production'" in refused(
        "credit@v0.2.0", "--against", "credit@production", "--data", str(batch), code=1
    )


def test_a_candidate_with_another_signature_is_refused() -> None:
    def signature(*features: tuple[str, str]) -> Signature:
        return Signature("credit", "default", 0.25, tuple(Feature(n, t, True) for n, t in features))

    stable = signature(("age", "integer"), ("region", "category"))
    assert signature_difference(stable, stable) is None
    assert (
        signature_difference(signature(("age", "number"), ("region", "category")), stable)
        == "feature 'age' is number, not integer"
    )
    assert signature_difference(signature(("age", "integer")), stable) == "features: lacks 'region'"
    assert (
        signature_difference(
            signature(("age", "integer"), ("region", "category"), ("income", "number")), stable
        )
        == "features: adds 'income'"
    )
    assert (
        signature_difference(signature(("region", "category"), ("age", "integer")), stable)
        == "the same features in another order"
    )


HEADERS = {
    "Accept": "application/vnd.github+json",
    "Authorization": "Bearer t0ken",
    "X-GitHub-Api-Version": "2022-11-28",
}


@pytest.mark.slow
def test_a_passing_candidate_opens_its_promotion_pull_request(
    origin_repo: Path,
    clock: Clock,
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = origin_repo
    _two_versions(repo, clock, IMPROVE)
    batch = _batch(tmp_path, rows=4000)
    # A prediction log of the same rows, one second apart, with ids and joined labels:
    # staging's policy judges windows of 600 s on the log's own clock.
    log = tmp_path / "predictions.jsonl"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    with batch.open() as source, log.open("w") as out:
        for i, row in enumerate(csv.DictReader(source)):
            label = int(row.pop("default"))
            row.pop("applicant")
            features = {k: (None if v == "" else v) for k, v in row.items()}
            for name, value in features.items():
                if value is not None and name not in ("loan_purpose", "home_ownership", "region"):
                    features[name] = float(value)
            ts = (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
            line = {"ts": ts, "id": f"p{i}", "features": features, "score": 0.1, "label": label}
            out.write(json.dumps(line) + "\n")
    timed = json.loads(
        gitml(
            repo, "canary", "replay", "credit@v0.2.0", "--against", "credit@production",
            "--stage", "staging", "--data", str(log), "--json",
        ).stdout
    )  # fmt: skip
    assert timed["state"] == "passed"
    assert [(w["started"], w["ended"]) for w in timed["windows"]] == [
        (start.timestamp(), start.timestamp() + 600),
        (start.timestamp() + 600, start.timestamp() + 1200),
    ]

    httpserver.expect_ordered_request(
        "/repos/acme/credit/pulls", method="POST", headers=HEADERS
    ).respond_with_json({"number": 21, "html_url": "https://github.example/pull/21"}, status=201)
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
    result = gitml(
        repo, "canary", "replay", "credit@v0.2.0", "--against", "credit@production",
        "--data", str(batch), "--open-pr", "--json",  # records and pushes, as serve's
    )  # fmt: skip
    httpserver.check_assertions()
    shown = json.loads(result.stdout)
    assert shown["state"] == "passed"
    assert shown["decision"]["windows"] == 2
    assert shown["decision"]["rule"].startswith("2 healthy windows in a row; within tolerance: ")
    branch = shown["recorded"]["branch"]
    assert (branch["kind"], branch["pull_request"]) == (
        "promotion",
        "https://github.example/pull/21",
    )
    (request, _response) = httpserver.log[0]
    body = request.get_json()
    assert (body["head"], body["base"]) == ("promote/credit-v0.2.0-to-production", "production")
    assert git(repo, "ls-remote", "--heads", "origin", "promote/credit-v0.2.0-to-production").stdout
    with RegistryReader(repo) as reader:
        (event,) = read_observations(reader).of("credit", "v0.2.0", ObservationKind.CANARY)
    assert event.observation.verdict == "passed"
    assert event.tag in git(repo, "ls-remote", "--tags", "origin").stdout  # pushed

    # Merged and recorded, v0.2.0 holds production; a later stop of it asks for a rollback.
    clock.tick()
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "-B", "production", "origin/production")
    git(repo, "merge", "-q", "--no-ff", "origin/promote/credit-v0.2.0-to-production", "-m", "Merge")
    git(repo, "push", "-q", "origin", "production")
    git(repo, "checkout", "-q", "main")
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert (outcome.status, outcome.version) == ("recorded", "v0.2.0")
    httpserver.expect_ordered_request(
        "/repos/acme/credit/pulls", method="POST", headers=HEADERS
    ).respond_with_json({"number": 22, "html_url": "https://github.example/pull/22"}, status=201)
    with RegistryReader(repo) as reader:
        pair = resolve_pair(reader, "credit@production", "credit@v0.1.0")
    stop = CanaryDecision(
        "stopped", "production", "v0.2.0", "v0.1.0", 1, "window 1: a stop for the test",
        failed=("error_rate",), rows=150,
    )  # fmt: skip
    recorded = record_decision(repo, stop, pair, push=True, open_pr=True)
    httpserver.check_assertions()
    assert recorded.tag == "gitml.canary/credit/2"
    assert recorded.branch is not None
    assert (recorded.branch.kind, recorded.branch.version) == ("rollback", "v0.1.0")
    assert recorded.branch.pull_request == "https://github.example/pull/22"
    assert httpserver.log[-1][0].get_json()["base"] == "production"


SIGNATURE = Signature(
    "credit",
    "default",
    0.25,
    (Feature("age", "integer", True), Feature("region", "category", True)),
)


def _log(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_a_prediction_log_is_read_with_its_feedback_and_without_shadow_lines(
    tmp_path: Path,
) -> None:
    from gitml.canary.replay_data import read_replay_rows

    features = {"age": 40, "region": "north"}
    log = _log(
        tmp_path / "predictions.jsonl",
        [
            {"ts": "2026-01-05T00:00:00Z", "id": "a", "role": "stable", "features": features},
            {"ts": "2026-01-05T00:00:00Z", "id": "a", "role": "shadow", "features": features},
            {"ts": "2026-01-05T00:00:01.5Z", "id": "b", "role": "candidate", "features": features},
            {"ts": "2026-01-05T00:00:02Z", "id": None, "features": features, "label": 1},
        ],
    )
    _log(
        tmp_path / "predictions.feedback.jsonl",
        [{"ts": "x", "id": "b", "label": True}, {"ts": "x", "id": "gone", "label": 0}],
    )
    rows = read_replay_rows(log, SIGNATURE)
    assert rows.ids == ["a", "b", "row-3"]
    assert rows.labels.tolist()[1:] == [1.0, 1.0]
    assert np.isnan(rows.labels[0])
    assert rows.times is not None
    assert (rows.times - rows.times[0]).tolist() == [0.0, 1.5, 2.0]
    assert rows.unknown_feedback == 1
    assert list(rows.frame.columns) == ["age", "region"]


ROW = '"features": {"age": 1, "region": "x"}'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{" + ROW + ', "label": "1"}', "line 2: label '1': expected 0 or 1"),
        ("{" + ROW + ', "ts": "soon"}', "line 2: ts 'soon': expected an ISO 8601 time"),
        ("{" + ROW + ', "id": 7}', "line 2: id 7: expected a non-empty string"),
        ('{"features": [1]}', "line 2: expected an object with a 'features' object"),
        ("{not json", "line 2: not valid JSON"),
    ],
)
def test_a_bad_log_line_is_one_line_naming_it(tmp_path: Path, line: str, message: str) -> None:
    from gitml.canary.replay_data import read_replay_rows
    from gitml.errors import ConfigError

    log = tmp_path / "log.jsonl"
    log.write_text("{" + ROW + "}\n" + line + "\n")
    with pytest.raises(ConfigError) as raised:
        read_replay_rows(log, SIGNATURE)
    assert str(raised.value).startswith(f"{log}: ")
    assert message in str(raised.value)
    log.write_text('{"features": {"age": 1}}\n')
    with pytest.raises(ConfigError, match=r"missing feature column\(s\) 'region'"):
        read_replay_rows(log, SIGNATURE)
