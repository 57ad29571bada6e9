"""``gitml insights``: exact figures from a scripted registry history with known times.

The history is a real git repository written by ``git fast-import`` (commits, pull
request branches merged with ``--no-ff`` shape, and registry tags carrying gitml
records), so every time is chosen: each figure below is worked out by hand from it.

T0 = 2026-03-02 00:00 UTC (a Monday); h = hour, d = day.

* PR #1 (alice): commits at T0+1h, T0+2h; merged T0+3h; v0.1.0 registered T0+4h.
* PR #2 (bob): commit at T0+1d; merged T0+1d3h; v0.2.0 registered T0+1d4h.
* PR #3 (alice, a `gitml retrain` PR): commits at T0+2d20h (the retrain commit) and T0+3d;
  merged T0+3d2h; v0.3.0 registered T0+3d3h.
* PR #4 (bob): commit at T0+5d; merged T0+5d1h; v0.4.0 registered T0+5d2h; never promoted.
* a direct commit on main at T0+6d (no PR); v0.5.0 registered T0+6d1h.
* PR #6 (alice): commit at T0+31d; merged T0+31d1h; v0.6.0 registered T0+31d2h (April).

Production: v0.1.0 promoted T0+1d; v0.2.0 promoted T0+2d; rolled back to v0.1.0 at
T0+2d6h; v0.3.0 promoted T0+4d; v0.3.0 unassigned T0+12d (v0.1.0 shows again);
v0.5.0 promoted T0+13d and still holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml import api
from gitml.errors import UsageError
from gitml.insights.definitions import METRICS, NO_DRIFT_RECORD
from gitml.insights.events import History
from gitml.insights.figures import compute
from gitml.insights.gather import gather
from gitml.insights.model import span, stats
from gitml.registry.reader import RegistryReader
from gitml.registry.record import Kind, Record, record_message
from tests.conftest import isolated_environment
from tests.helpers import gitml
from tests.observe import record_drift
from tests.test_timeline import gitml_registry  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from pathlib import Path

T0 = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())
H, D = 3600, 86_400
MODEL = "m"
ARTIFACT = "models/m.skops"
WHO = "Ada Tester <ada@example.com>"
RETRAIN_BODY = (
    "Retrain m on new data: batch-7.csv (100 rows)\n\nPrepared by `gitml retrain`. The "
    "pipeline is not run here.\n"
)
# The window of the main checks: four whole weeks from T0.
SINCE, UNTIL = "2026-03-02", "2026-03-30T00:00:00+00:00"


def _lock(md5: str) -> str:
    outs = [{"path": ARTIFACT, "md5": md5, "size": 1}]
    return yaml.safe_dump({"schema": "2.0", "stages": {"train": {"cmd": "x", "outs": outs}}})


def _md5(version: str) -> str:
    return version.replace(".", "").replace("v", "").ljust(32, "a")


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


@dataclass
class Script:
    """A fast-import stream being written: commits on main and PR branches, then tags."""

    commits: list[str] = field(default_factory=list)
    tags: list[tuple[str, str, int, Record, str]] = field(default_factory=list)
    marks: int = 0
    main: int = 0  # the mark of main's tip
    counter: int = 0

    def commit(
        self,
        when: int,
        message: str,
        files: dict[str, str],
        parent: int | None,
        merge: int | None = None,
        branch: str = "main",
    ) -> int:
        self.marks += 1
        text = (
            f"commit refs/heads/{branch}\nmark :{self.marks}\n"
            f"author {WHO} {when} +0000\ncommitter {WHO} {when} +0000\n{_data(message)}"
        )
        text += f"from :{parent}\n" if parent else ""
        text += f"merge :{merge}\n" if merge else ""
        text += "".join(f"M 100644 inline {p}\n{_data(t)}" for p, t in files.items())
        self.commits.append(text)
        return self.marks

    def pull_request(
        self, times: list[int], merged: int, version: str, *, retrain_first: bool = False
    ) -> int:
        """Branch commits at ``times`` off main's tip, merged into main at ``merged``."""
        tip = self.main
        for index, when in enumerate(times):
            message = RETRAIN_BODY if retrain_first and index == 0 else f"work {when}\n"
            files = (
                {"dvc.lock": _lock(_md5(version))}
                if index == len(times) - 1
                else {f"notes/{when}.txt": "x"}
            )
            tip = self.commit(when, message, files, tip, branch=f"pr-{version}")
        self.main = self.commit(
            merged,
            f"Merge pull request {version}\n",
            {"dvc.lock": _lock(_md5(version))},
            self.main,
            merge=tip,
        )
        return self.main

    def register(
        self, mark: int, version: str, when: int, author: str | None, pr: int | None
    ) -> None:
        record = Record(
            Kind.REGISTRATION,
            MODEL,
            version,
            md5=_md5(version),
            artifact=ARTIFACT,
            commit=f":{mark}",
            pull_request=pr,
            author=author,
            writer="gitml test",
        )
        self.tags.append((f"{MODEL}@{version}", f":{mark}", when, record, version))

    def assign(self, mark: int, version: str, when: int, kind: Kind) -> None:
        self.counter += 1
        bang = "!" if kind is Kind.UNASSIGNMENT else ""
        md5 = None if kind is Kind.UNASSIGNMENT else _md5(version)
        record = Record(kind, MODEL, version, stage="production", md5=md5, writer="gitml test")
        name = f"{MODEL}#production{bang}#{self.counter}"
        self.tags.append((name, f":{mark}", when, record, version))

    def write(self, repo: Path, env: dict[str, str]) -> None:
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
        marks = repo / ".git" / "test-marks"

        def fast_import(option: str, stream: list[str]) -> None:
            command = ["git", "fast-import", "--quiet", f"{option}={marks}"]
            data = "".join(stream).encode()
            subprocess.run(command, cwd=repo, input=data, check=True, env=env)

        fast_import("--export-marks", self.commits)
        sha = dict(line.split() for line in marks.read_text().splitlines())
        stream = []
        for name, mark, when, record, version in self.tags:
            if record.commit:
                record = replace(record, commit=sha[record.commit])
            subject = f"{record.kind.value} {MODEL} {version}"
            stream.append(
                f"tag {name}\nfrom {mark}\ntagger {WHO} {when} +0000\n"
                + _data(record_message(subject, record))
            )
        fast_import("--import-marks", stream)
        subprocess.run(["git", "reset", "-q", "--hard"], cwd=repo, check=True, env=env)


def scripted(repo: Path, env: dict[str, str]) -> None:
    """The history the module docstring describes."""
    s = Script()
    config = {"models": {MODEL: {"artifact": ARTIFACT, "metrics": ["m.json"]}}}
    s.main = s.commit(
        T0,
        "start\n",
        {"gitml.yaml": yaml.safe_dump(config), "m.json": "{}", "dvc.lock": _lock("0" * 32)},
        None,
    )
    v1 = s.pull_request([T0 + 1 * H, T0 + 2 * H], T0 + 3 * H, "v0.1.0")
    s.register(v1, "v0.1.0", T0 + 4 * H, "alice", 1)
    v2 = s.pull_request([T0 + D], T0 + D + 3 * H, "v0.2.0")
    s.register(v2, "v0.2.0", T0 + D + 4 * H, "bob", 2)
    v3 = s.pull_request(
        [T0 + 2 * D + 20 * H, T0 + 3 * D], T0 + 3 * D + 2 * H, "v0.3.0", retrain_first=True
    )
    s.register(v3, "v0.3.0", T0 + 3 * D + 3 * H, "alice", 3)
    v4 = s.pull_request([T0 + 5 * D], T0 + 5 * D + H, "v0.4.0")
    s.register(v4, "v0.4.0", T0 + 5 * D + 2 * H, "bob", 4)
    v5 = s.main = s.commit(T0 + 6 * D, "direct\n", {"dvc.lock": _lock(_md5("v0.5.0"))}, s.main)
    s.register(v5, "v0.5.0", T0 + 6 * D + H, "carol", None)
    v6 = s.pull_request([T0 + 31 * D], T0 + 31 * D + H, "v0.6.0")
    s.register(v6, "v0.6.0", T0 + 31 * D + 2 * H, "alice", 6)
    s.assign(v1, "v0.1.0", T0 + D, Kind.PROMOTION)
    s.assign(v2, "v0.2.0", T0 + 2 * D, Kind.PROMOTION)
    s.assign(v1, "v0.1.0", T0 + 2 * D + 6 * H, Kind.ROLLBACK)
    s.assign(v3, "v0.3.0", T0 + 4 * D, Kind.PROMOTION)
    s.assign(v3, "v0.3.0", T0 + 12 * D, Kind.UNASSIGNMENT)
    s.assign(v5, "v0.5.0", T0 + 13 * D, Kind.PROMOTION)
    s.tags.sort(key=lambda t: t[2])
    s.write(repo, env)


@pytest.fixture(scope="module")
def history_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scripted history, written once for the module (read-only afterwards)."""
    repo = tmp_path_factory.mktemp("insights") / "repo"
    repo.mkdir()
    # Module-scoped, so before the per-test isolation: the same isolation, by hand.
    env = {**os.environ, **isolated_environment(repo.parent / "_home")}
    scripted(repo, env)
    return repo


def values(repo: Path, key: str, **window: object) -> dict[str, float | None]:
    found = api.insights(MODEL, root=repo, **window).figure(key)  # type: ignore[arg-type]
    assert found.no_data is None, found.no_data
    return dict(found.values)


def test_every_figure_of_the_scripted_history(history_repo: Path) -> None:
    window = {"since": SINCE, "until": UNTIL}
    assert values(history_repo, "deployment-frequency", **window) == {
        "per_week": 1.0,
        "promotions": 4,
        "weeks": 4.0,
    }
    assert values(history_repo, "lead-time", **window) == {
        "commit_to_production_median": 86_400.0,
        "commit_to_production_p90": 100_800.0,
        "commit_to_registration_median": 14_400.0,
        "commit_to_registration_p90": 25_200.0,
        "registration_to_production_median": 73_800.0,
        "registration_to_production_p90": 601_200.0,
    }
    assert values(history_repo, "change-failure-rate", **window) == {
        "rate": 0.25,
        "failed": 1,
        "promotions": 4,
    }
    assert values(history_repo, "time-to-restore", **window) == {
        "restore_median": 21_600.0,
        "restore_p90": 21_600.0,
    }
    assert values(history_repo, "production-tenure", **window) == {
        "m@v0.1.0": 324_000.0,  # 1d + 1d18h + 1d
        "m@v0.2.0": 21_600.0,
        "m@v0.3.0": 691_200.0,
        "m@v0.5.0": 1_296_000.0,  # to the window's end
    }
    assert values(history_repo, "prs-per-author", **window) == {
        "alice 2026-03": 2.0,
        "bob 2026-03": 2.0,
    }
    assert values(history_repo, "proposal-share", **window) == {
        "share": 0.8,
        "reached": 4,
        "proposed": 5,
    }
    assert values(history_repo, "retrain-latency", **window) == {
        "retrain_to_production_median": 100_800.0,
        "retrain_to_production_p90": 100_800.0,
        "drift_to_production_median": None,  # no drift check recorded
        "drift_to_production_p90": None,
    }
    drift = api.insights(MODEL, root=history_repo, **window).figure("drift-alerts")  # type: ignore[arg-type]
    assert drift.no_data == NO_DRIFT_RECORD
    assert drift.values == {}


def test_failure_window_counts_a_later_unassignment(history_repo: Path) -> None:
    window = {"since": SINCE, "until": UNTIL, "failure_window_days": 10}
    assert values(history_repo, "change-failure-rate", **window) == {
        "rate": 0.5,
        "failed": 2,
        "promotions": 4,
    }
    assert values(history_repo, "time-to-restore", **window) == {
        "restore_median": 356_400.0,
        "restore_p90": 691_200.0,
    }


def test_a_narrower_window(history_repo: Path) -> None:
    window = {"since": "2026-03-05", "until": "2026-03-12T00:00:00Z"}
    assert values(history_repo, "deployment-frequency", **window) == {
        "per_week": 1.0,
        "promotions": 1,
        "weeks": 1.0,
    }
    assert values(history_repo, "change-failure-rate", **window)["rate"] == 0.0
    assert values(history_repo, "proposal-share", **window) == {
        "share": 1 / 3,
        "reached": 1,
        "proposed": 3,  # v0.5.0 reaches production later
    }
    found = api.insights(MODEL, root=history_repo, **window)  # type: ignore[arg-type]
    assert found.figure("time-to-restore").no_data == (
        "no data: no failed production promotion in the window"
    )


def test_default_window_runs_from_the_first_event_to_now(history_repo: Path) -> None:
    found = api.insights(MODEL, root=history_repo)
    assert found.since == datetime.fromtimestamp(T0 + 4 * H, tz=UTC)
    assert dict(found.figure("prs-per-author").values) == {
        "alice 2026-03": 2.0,
        "alice 2026-04": 1.0,
        "bob 2026-03": 2.0,
    }
    assert found.figure("proposal-share").values["proposed"] == 6


def test_a_window_without_events_says_no_data(history_repo: Path) -> None:
    found = api.insights(MODEL, root=history_repo, since="2026-06-01", until="2026-06-30")
    quiet = {f.key: f.no_data for f in found.figures}
    assert quiet["deployment-frequency"] == "no data: no production promotion in the window"
    assert quiet["proposal-share"] == "no data: no version was registered in the window"
    assert quiet["lead-time"] is not None
    assert quiet["retrain-latency"] is not None
    # v0.5.0 still held production throughout: its tenure is data, the whole window.
    assert dict(found.figure("production-tenure").values) == {"m@v0.5.0": 30 * D - 1.0}


def test_an_empty_registry_says_no_data_for_every_metric(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    (tmp_path / "gitml.yaml").write_text(
        yaml.safe_dump({"models": {MODEL: {"artifact": ARTIFACT}}})
    )
    found = api.insights(root=tmp_path)
    assert found.since is None
    assert all(f.no_data and f.no_data.startswith("no data") for f in found.figures)
    out = gitml(tmp_path, "insights", "--json").stdout
    assert all(f["values"] is None for f in json.loads(out)["figures"])
    assert "no data" in gitml(tmp_path, "insights").stdout


def test_explain_lists_the_events_behind_a_figure(history_repo: Path) -> None:
    out = gitml(
        history_repo,
        "insights",
        "--model",
        MODEL,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--explain",
        "time-to-restore",
    ).stdout
    assert "time to restore: median 6h 0m" in out
    assert "m#production#2" in out  # the bad promotion (v0.2.0)
    assert "m#production#3" in out  # the rollback that restored v0.1.0
    assert "2026-03-04 06:00:00" in out
    failures = gitml(
        history_repo,
        "insights",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--explain",
        "change_failure_rate",
    ).stdout
    assert "rolled back at 2026-03-04 06:00:00 by m#production#3 (failure)" in failures
    assert "unassigned at 2026-03-14 00:00:00 by m#production!#5" in failures
    lead = api.insights(MODEL, root=history_repo, since=SINCE, until=UNTIL).figure("lead-time")
    tags = {e.tag for e in lead.evidence}
    assert {"m@v0.1.0", "m@v0.2.0", "m@v0.3.0", "m@v0.5.0"} <= tags
    first_commits = [e for e in lead.evidence if e.what == "first PR commit"]
    assert [e.time for e in first_commits] == [
        datetime.fromtimestamp(t, tz=UTC) for t in (T0 + H, T0 + D, T0 + 2 * D + 20 * H)
    ]
    assert all(e.commit and len(e.commit) == 40 for e in first_commits)


def test_json_shape(history_repo: Path) -> None:
    out = gitml(history_repo, "insights", "--since", SINCE, "--until", UNTIL, "--json").stdout
    data = json.loads(out)
    assert set(data) == {"since", "until", "model", "stage", "failure_window_days", "figures"}
    assert data["since"] == "2026-03-02T00:00:00+00:00"
    assert [f["metric"] for f in data["figures"]] == list(METRICS)
    for figure in data["figures"]:
        assert set(figure) == {
            "metric",
            "name",
            "definition",
            "summary",
            "no_data",
            "values",
            "evidence",
        }
        for item in figure["evidence"]:
            assert set(item) == {"time", "model", "version", "what", "tag", "commit"}
    explained = json.loads(
        gitml(history_repo, "insights", "--explain", "change-failure-rate", "--json").stdout
    )
    assert explained["metric"] == "change-failure-rate"


def test_table_and_markdown_and_help(history_repo: Path) -> None:
    out = gitml(history_repo, "insights", "--since", SINCE, "--until", UNTIL).stdout
    assert "deployment frequency" in out
    assert "1.00 per week" in out
    md = gitml(history_repo, "insights", "--since", SINCE, "--until", UNTIL, "--format", "md")
    assert "| metric" in md.stdout
    help_text = gitml(history_repo, "insights", "--help").stdout
    for key in METRICS:
        assert f"{key}:" in help_text
    assert "gitml drift --record" in help_text


def test_bad_input_is_a_one_line_error(history_repo: Path) -> None:
    bad = gitml(history_repo, "insights", "--since", "last week", check=False)
    assert bad.returncode == 2
    assert "--since 'last week'" in bad.stderr
    unknown = gitml(history_repo, "insights", "--explain", "velocity", check=False)
    assert unknown.returncode == 2
    assert "deployment-frequency" in unknown.stderr
    with pytest.raises(UsageError, match="is after"):
        api.insights(root=history_repo, since="2026-04-01", until="2026-03-01")
    with pytest.raises(UsageError, match="--failure-window"):
        api.insights(root=history_repo, failure_window_days=0)


def test_pure_helpers() -> None:
    assert stats("x", [5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]) == {
        "x_median": 5.5,
        "x_p90": 9.0,
    }
    assert stats("x", []) == {"x_median": None, "x_p90": None}
    assert [span(s) for s in (30, 3_700, 90_000)] == ["30s", "1h 1m", "1d 1h"]
    empty = compute(History((), ()), datetime(2026, 1, 1, tzinfo=UTC))
    assert empty.since is None
    assert all(f.no_data for f in empty.figures)


def _same_holds(repo: Path, model: str | None) -> None:
    """The holds insights reads (a replay of only the steps that move production) are the
    tenures ``gitml history --stage production --tenures`` lists."""
    with RegistryReader(repo) as reader:
        holds = gather(reader, model).holds
    expected = api.tenures(model, "production", root=repo)
    assert [(h.version, h.start, h.end, h.began, h.ended) for h in holds] == [
        (t.version, t.start, t.end, t.began, t.ended) for t in expected
    ]
    assert expected


def test_holds_are_the_registry_tenures(history_repo: Path) -> None:
    _same_holds(history_repo, MODEL)


def test_holds_match_with_deregistrations_and_fallbacks(gitml_registry: Path) -> None:  # noqa: F811
    _same_holds(gitml_registry, "m")


@pytest.fixture
def drift_repo(history_repo: Path, tmp_path: Path) -> Path:
    """The scripted history with recorded drift checks:

    * v0.1.0 (in production) at T0+1d12h: ok; at T0+2d18h: drift, two hours before the
      retrain commit that led to v0.3.0 (promoted T0+4d);
    * v0.2.0 at T0+5d: drift, but v0.3.0 held production then: not a production alert;
    * v0.3.0 (in production) at T0+6d: drift; v0.5.0 at T0+35d: drift, after the window.
    """
    repo = tmp_path / "repo"
    shutil.copytree(history_repo, repo)
    for number, (version, when, verdict) in enumerate(
        [
            ("v0.1.0", T0 + D + 12 * H, "ok"),
            ("v0.1.0", T0 + 2 * D + 18 * H, "drift"),
            ("v0.2.0", T0 + 5 * D, "drift"),
            ("v0.3.0", T0 + 6 * D, "drift"),
            ("v0.5.0", T0 + 35 * D, "drift"),
        ],
        start=1,
    ):
        record_drift(repo, MODEL, version, number, verdict, when)
    return repo


def test_drift_alerts_count_recorded_checks_of_production_versions(drift_repo: Path) -> None:
    window = {"since": SINCE, "until": UNTIL}
    # Production was held from T0+1d to the window's end: 27 days. Counted: the three
    # checks of the holder at the time (v0.1.0 twice, v0.3.0), two of them alerts.
    assert values(drift_repo, "drift-alerts", **window) == {
        "per_week": 2 / (27 / 7),
        "alerts": 2,
        "checks": 3,
        "weeks": 27 / 7,
    }
    figure = api.insights(MODEL, root=drift_repo, **window).figure("drift-alerts")  # type: ignore[arg-type]
    assert [e.tag for e in figure.evidence] == [
        "gitml.drift/m/1",
        "gitml.drift/m/2",
        "gitml.drift/m/4",
    ]
    # The alert on v0.1.0 preceded the retrain commit: drift -> production is 1d6h.
    assert values(drift_repo, "retrain-latency", **window) == {
        "retrain_to_production_median": 100_800.0,
        "retrain_to_production_p90": 100_800.0,
        "drift_to_production_median": 108_000.0,
        "drift_to_production_p90": 108_000.0,
    }
    explained = gitml(
        drift_repo, "insights", "--since", SINCE, "--until", UNTIL, "--explain", "drift-alerts"
    ).stdout
    assert "0.52 per production week (2 alerts in 3 checks" in explained
    assert "gitml.drift/m/4" in explained


def test_drift_alerts_in_other_windows(drift_repo: Path) -> None:
    quiet = api.insights(MODEL, root=drift_repo, since="2026-04-06", until="2026-04-07")
    assert quiet.figure("drift-alerts").values["checks"] == 1  # v0.5.0 at T0+35d
    before = api.insights(MODEL, root=drift_repo, since="2026-03-02", until="2026-03-02T12:00Z")
    assert (
        before.figure("drift-alerts").no_data == "no data: no version held production in the window"
    )
