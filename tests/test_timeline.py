"""Time travel: ``--at DATE`` and stage tenures, against a brute-force replay of the tags.

Registries are real: a gitml registry written by gitml's own commands (register, promote,
rollback, unassign, deregister) on a git repository whose ``dvc.lock`` is written by
hand, and the GTO-written registry of :mod:`tests.test_gto_registry` (real ``gto``). Tag
times come from a fixed clock. The oracle replays the tags as git lists them: sort every
event by time, walk them up to the instant, and ask which version each stage held.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import TYPE_CHECKING

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitml import api
from gitml.errors import UsageError
from gitml.registry.names import Action
from gitml.registry.record import parse_record
from gitml.registry.timeline import Hold, Span, Step, holder_at, parse_instant, tenures
from tests.helpers import git, gitml
from tests.test_gto_registry import (  # noqa: F401 (fixtures)
    GtoRegistry,
    gto_json,
    gto_registry_template,
    registry,
)

if TYPE_CHECKING:
    from collections.abc import Container
    from pathlib import Path

    from tests.conftest import Clock

# -- the oracle: a brute-force replay of the tags ---------------------------------------

_TAG = re.compile(
    r"^(?P<model>[^@#]+)(?:@(?P<version>v[^!#]+)(?P<dereg>!#\d+)?"
    r"|@deprecated#(?P<dep>\d+)|#(?P<stage>[^!#]+)(?P<unassign>!)?(?:#(?P<n>\d+))?)$"
)


@dataclass(frozen=True)
class Tag:
    """One registry tag as git lists it."""

    name: str
    timestamp: int
    commit: str
    message: str


def list_tags(repo: Path) -> list[Tag]:
    """Every annotated tag: name, tagger time, peeled commit and message."""
    out = git(
        repo,
        "for-each-ref",
        "refs/tags",
        "--format=%(refname:short)%00%(taggerdate:unix)%00%(*objectname)%00%(contents)%00%00",
    ).stdout
    tags = []
    for chunk in out.split("\0\0\n"):
        if not chunk.strip():
            continue
        name, stamp, commit, message = chunk.split("\0")
        if stamp:
            tags.append(Tag(name, int(stamp), commit, message))
    return tags


def replay(tags: list[Tag], instant: float, records_only: bool) -> dict[tuple[str, str], str]:
    """``{(model, stage): version}`` held at ``instant``: walk every event up to it in time
    order, keeping each version's registration status and its last move per stage."""
    events = []
    for tag in tags:
        match = _TAG.match(tag.name)
        if match is None or tag.timestamp > instant:
            continue
        record = parse_record(tag.message)
        if records_only and record is None:
            continue  # a tag pushed by hand: a gitml registry does not believe it
        counter = int(match["n"] or match["dep"] or (match["dereg"] or "!#0")[2:])
        events.append((tag.timestamp, counter, tag, match, record))
    events.sort(key=lambda e: (e[0], e[1]))
    by_commit = {
        (m["model"], t.commit): m["version"]
        for _, _, t, m, _ in events
        if m["version"] and not m["dereg"]
    }
    status: dict[tuple[str, str], bool] = {}
    last_move: dict[tuple[str, str, str], tuple[bool, int, int]] = {}  # assigned?, time, seen
    seen: dict[tuple[str, str], int] = {}
    for timestamp, _, tag, match, record in events:
        model = match["model"]
        if match["dep"]:
            continue
        if match["version"]:
            seen.setdefault((model, match["version"]), len(seen))
            status[model, match["version"]] = not match["dereg"]
            continue
        version = (record.version if record else None) or by_commit.get((model, tag.commit))
        version = version or tag.commit
        seen.setdefault((model, version), len(seen))
        last_move[model, match["stage"], version] = (
            not match["unassign"],
            timestamp,
            seen[model, version],
        )
    held: dict[tuple[str, str], tuple[int, int, str]] = {}
    for (model, stage, version), (assigned, timestamp, order) in last_move.items():
        if assigned and status.get((model, version), True):
            best = held.get((model, stage))
            if best is None or (timestamp, order) > best[:2]:
                held[model, stage] = (timestamp, order, version)
    return {key: value[2] for key, value in held.items()}


def answered(repo: Path, instant: datetime) -> dict[tuple[str, str], str]:
    """``{(model, stage): version}`` as ``api.registry(at=...)`` answers."""
    return {
        (row.model, s.stage): s.version
        for row in api.registry(root=repo, at=instant)
        for s in row.stages
        if s.version
    }


def instants(tags: list[Tag]) -> list[datetime]:
    """Before the first event, each event's exact second, the second before it, a moment
    between it and the next, and after the last."""
    seconds = sorted({t.timestamp for t in tags})
    found = {seconds[0] - 3600, seconds[-1] + 3600}
    for second in seconds:
        found |= {second - 1, second, second + 30}
    return [datetime.fromtimestamp(s, tz=UTC) for s in sorted(found)]


# -- a gitml registry, written by gitml's commands ---------------------------------------


def _lock(md5: str) -> str:
    outs = [{"path": "models/m.skops", "md5": md5 * 32, "size": 1}]
    return yaml.safe_dump({"schema": "2.0", "stages": {"train": {"cmd": "x", "outs": outs}}})


def _new_artefact(repo: Path, clock: Clock, md5: str) -> None:
    clock.tick()
    (repo / "dvc.lock").write_text(_lock(md5))
    git(repo, "commit", "-qam", f"artefact {md5}")
    git(repo, "push", "-q", "origin", "main")
    clock.tick()
    api.register(root=repo, push=True, verify_remote=False)


def _merge_into_stage(repo: Path, clock: Clock, branch: str) -> None:
    clock.tick()
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "-B", "production", "origin/production")
    git(repo, "merge", "-q", "--no-ff", f"origin/{branch}", "-m", f"Merge {branch}")
    git(repo, "push", "-q", "origin", "production")
    git(repo, "checkout", "-q", "main")


def _record(repo: Path, clock: Clock) -> str:
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo, verify_remote=False)
    assert outcome.status == "recorded", outcome
    return str(outcome.tag)


@pytest.fixture
def gitml_registry(tmp_path: Path, clock: Clock) -> Path:
    """Promote v0.1.0, promote v0.2.0, roll back to v0.1.0, unassign it (v0.2.0 shows
    again), promote v0.3.0, deregister v0.3.0 (v0.2.0 shows again), re-promote v0.1.0,
    and a tag pushed by hand that no read believes."""
    origin, repo = tmp_path / "origin.git", tmp_path / "repo"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", str(origin))
    config = {"models": {"m": {"artifact": "models/m.skops", "metrics": ["m.json"]}}}
    (repo / "gitml.yaml").write_text(yaml.safe_dump(config))
    (repo / "m.json").write_text('{"auc": 0.8}')
    (repo / "dvc.lock").write_text(_lock("0"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    git(repo, "push", "-q", "origin", "main")
    _new_artefact(repo, clock, "1")  # v0.1.0
    clock.tick()
    api.promote("m", "production", root=repo, push=True)
    _record(repo, clock)
    _new_artefact(repo, clock, "2")  # v0.2.0
    clock.tick()
    _merge_into_stage(repo, clock, api.promote("m", "production", root=repo, push=True).branch)
    _record(repo, clock)
    clock.tick()
    _merge_into_stage(repo, clock, api.rollback("m", "production", root=repo, push=True).branch)
    _record(repo, clock)
    clock.tick()
    api.unassign("m", "production", root=repo, push=True)
    _new_artefact(repo, clock, "3")  # v0.3.0
    clock.tick()
    _merge_into_stage(repo, clock, api.promote("m", "production", root=repo, push=True).branch)
    _record(repo, clock)
    clock.tick()
    api.deprecate("m@v0.3.0", root=repo, push=True)
    clock.tick()  # re-promote v0.1.0, which held the stage twice before
    prepared = api.promote("m", "production", version="v0.1.0", root=repo, push=True)
    _merge_into_stage(repo, clock, prepared.branch)
    _record(repo, clock)
    clock.tick()
    git(repo, "tag", "-a", "-m", "by hand", "m#production#99", "main")
    return repo


@pytest.mark.slow
def test_at_every_instant_matches_a_replay_of_the_tags(gitml_registry: Path) -> None:
    repo = gitml_registry
    tags = list_tags(repo)
    for instant in instants(tags):
        expected = replay(tags, instant.timestamp(), records_only=True)
        assert answered(repo, instant) == expected, instant
    # At the last event, --at agrees with the live registry.
    now = {(r.model, s.stage): s.version for r in api.registry(root=repo) for s in r.stages}
    last = datetime.fromtimestamp(max(t.timestamp for t in tags), tz=UTC)
    assert answered(repo, last) == {k: v for k, v in now.items() if v}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.slow
def test_cli_answers_at_an_instant_and_lists_tenures(gitml_registry: Path) -> None:
    repo = gitml_registry
    # v0.3.0 held production from 00:19 to its deregistration at 00:20: it still counts.
    rows = json.loads(gitml(repo, "registry", "--at", "2026-01-01T00:19:30Z", "--json").stdout)
    assert rows == [
        {
            "model": "m",
            "at": "2026-01-01T00:19:30+00:00",
            "deprecated": False,
            "stages": [
                {
                    "stage": "staging",
                    "held": False,
                    "version": None,
                    "assigned_at": None,
                    "deregistered": False,
                },
                {
                    "stage": "production",
                    "held": True,
                    "version": "v0.3.0",
                    "assigned_at": "2026-01-01T00:19:00+00:00",
                    "deregistered": True,
                },
            ],
        }
    ]
    # The same instant in another offset; the second of an event includes the event.
    text = gitml(repo, "registry", "--at", "2026-01-01T02:19:00+02:00").stdout
    assert text.splitlines() == [
        "held at 2026-01-01T02:19:00+02:00",
        "",
        "model  staging       production",
        "-----  ------------  -------------------------",
        "m      nothing held  v0.3.0 (now deregistered)",
    ]
    # A date alone is the end of that day, UTC: everything of that day counts.
    shown = json.loads(gitml(repo, "show", "m@production", "--at", "2026-01-01", "--json").stdout)
    assert shown["at"] == "2026-01-01T23:59:59+00:00"
    assert (shown["version"], shown["assigned_at"]) == ("v0.1.0", "2026-01-01T00:23:00+00:00")
    assert shown["details"]["md5"] == "1" * 32
    assert shown["details"]["metrics"] == {"auc": 0.8}
    first = gitml(repo, "show", "m#production", "--at", "2026-01-01T00:13:59Z").stdout
    assert first.splitlines()[0] == (
        "m@production at 2026-01-01T00:13:59+00:00: v0.1.0, assigned 2026-01-01T00:13:00+00:00"
    )
    # Before the first event: an explicit "nothing held", not an error.
    assert gitml(repo, "registry", "--at", "2025-12-31").stdout == (
        "nothing held at 2025-12-31T23:59:59+00:00: no stage of any model held a version then\n"
    )
    before = gitml(repo, "show", "m@production", "--at", "2026-01-01T00:04:59Z")
    assert before.stdout == "m@production at 2026-01-01T00:04:59+00:00: nothing held\n"
    nothing = json.loads(
        gitml(repo, "show", "m@production", "--at", "2026-01-01T00:04:59Z", "--json").stdout
    )
    assert (nothing["held"], nothing["version"], nothing["details"]) == (False, None, None)
    # Bad values: one line naming the value and the expected form, exit 2 (usage).
    for value in ("2026-13-01", "yesterday", "2026-01-01T25:00"):
        result = gitml(repo, "registry", "--at", value, check=False)
        assert result.returncode == 2, value
        assert result.stderr == (
            f"gitml: error: --at {value!r}: not an ISO 8601 date or time; expected a date "
            "like 2026-03-01 (the end of that day, UTC) or a time like "
            "2026-03-01T12:00:00+02:00\n"
        )
    wrong = gitml(repo, "show", "m@v0.1.0", "--at", "2026-01-01", check=False)
    assert (wrong.returncode, wrong.stderr) == (
        2,
        "gitml: error: --at needs MODEL@STAGE, got 'm@v0.1.0': only stages change over time\n",
    )
    unknown = gitml(repo, "show", "m@qa", "--at", "2026-01-01", check=False)
    assert unknown.returncode == 1
    assert "unknown stage 'qa' (stages: staging, production)" in unknown.stderr

    # Tenures: one row per hold, computed from the same events.
    table = gitml(repo, "history", "m", "--stage", "production", "--tenures").stdout
    assert table.splitlines() == [
        "model  version                    from                 to                   "
        "began      ended",
        "-----  -------------------------  -------------------  -------------------  "
        "---------  -------------",
        "m      v0.1.0                     2026-01-01 00:05:00  2026-01-01 00:10:00  "
        "promotion  replaced",
        "m      v0.2.0                     2026-01-01 00:10:00  2026-01-01 00:13:00  "
        "promotion  rolled back",
        "m      v0.1.0                     2026-01-01 00:13:00  2026-01-01 00:14:00  "
        "rollback   unassigned",
        "m      v0.2.0                     2026-01-01 00:14:00  2026-01-01 00:19:00  "
        "fallback   replaced",
        "m      v0.3.0 (now deregistered)  2026-01-01 00:19:00  2026-01-01 00:20:00  "
        "promotion  deregistered",
        "m      v0.2.0                     2026-01-01 00:20:00  2026-01-01 00:23:00  "
        "fallback   rolled back",
        "m      v0.1.0                     2026-01-01 00:23:00  now                  "
        "rollback   still holding",
    ]
    rows = json.loads(gitml(repo, "history", "--stage", "production", "--tenures", "--json").stdout)
    assert rows[4] == {
        "model": "m",
        "stage": "production",
        "version": "v0.3.0",
        "from": "2026-01-01T00:19:00+00:00",
        "to": "2026-01-01T00:20:00+00:00",
        "began": "promotion",
        "ended": "deregistered",
        "deregistered": True,
    }
    assert (rows[-1]["to"], rows[-1]["ended"]) == (None, "still holding")
    # Each tenure is what --at answers inside it.
    for row in rows:
        start = datetime.fromisoformat(row["from"])
        assert answered(repo, start)[("m", "production")] == row["version"]
        if row["to"]:
            inside = datetime.fromisoformat(row["to"]) - timedelta(seconds=1)
            assert answered(repo, inside)[("m", "production")] == row["version"]
    assert gitml(repo, "history", "--stage", "staging", "--tenures").stdout == (
        "no version of any model held staging\n"
    )
    missing = gitml(repo, "history", "--tenures", check=False)
    assert (missing.returncode, missing.stderr) == (
        2,
        "gitml: error: --tenures needs --stage STAGE: tenures are holds of one stage\n",
    )


# -- a GTO-written registry (real `gto assign`, `gto deprecate`) -------------------------


@pytest.mark.slow
def test_a_gto_registry_read_at_every_instant(registry: GtoRegistry) -> None:  # noqa: F811
    repo = registry.repo
    tags = list_tags(repo)
    for instant in instants(tags):
        expected = replay(tags, instant.timestamp(), records_only=False)
        assert answered(repo, instant) == expected, instant
    # After the last event, --at agrees with `gto show` now.
    shown = gto_json(repo, "show")
    gto_now = {
        (model, stage): version
        for model, row in shown.items()
        for stage, version in row["stage"].items()
        if version
    }
    later = datetime.fromtimestamp(max(t.timestamp for t in tags) + 60, tz=UTC)
    assert {k: v for k, v in answered(repo, later).items() if k[0] != "gamma"} == gto_now
    # alpha@prod held v0.2.0 until `gto deprecate alpha v0.2.0 prod` unassigned it.
    spans = api.tenures("alpha", "prod", root=repo)
    assert [(t.version, t.began, t.ended, t.end is None) for t in spans] == [
        ("v0.2.0", "promotion", "unassigned", False)
    ]
    unassigned = spans[0].end
    assert unassigned is not None
    assert api.show("alpha@prod", root=repo, at=unassigned - timedelta(seconds=1)).held.version == (
        "v0.2.0"
    )
    assert api.show("alpha@prod", root=repo, at=unassigned).details is None
    # v0.1.0 was deregistered after it held staging: it still counts then, marked.
    staging = api.tenures("alpha", "staging", root=repo)
    assert [(t.version, t.ended, t.deregistered) for t in staging] == [
        ("v0.1.0", "replaced", True),
        ("v0.3.0", "still holding", False),
    ]
    at = staging[0].start
    (row,) = [r for r in api.registry(root=repo, at=at) if r.model == "alpha"]
    held = {s.stage: s for s in row.stages}["staging"]
    assert (held.version, held.deregistered) == ("v0.1.0", True)
    # A commit assigned without a version tag (beta, `gto assign --sr`).
    beta = api.tenures("beta", "staging", root=repo)
    assert [(t.version, t.ended) for t in beta] == [(registry.commits["c2"], "still holding")]
    # gamma is deprecated now, not before its deprecation.
    gamma_now = [r for r in api.registry(root=repo, at=later) if r.model == "gamma"]
    assert gamma_now[0].deprecated
    gamma_then = [r for r in api.registry(root=repo, at=at) if r.model == "gamma"]
    assert not gamma_then[0].deprecated


# -- the pure timeline --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", "2026-03-01T23:59:59+00:00"),
        ("2026-03-01T12:00:00+02:00", "2026-03-01T12:00:00+02:00"),
        ("2026-03-01T12:00:00Z", "2026-03-01T12:00:00+00:00"),
        ("2026-03-01T12:00", "2026-03-01T12:00:00+00:00"),  # no offset: UTC
        (" 2026-03-01 12:00:30.5 ", "2026-03-01T12:00:30.500000+00:00"),
    ],
)
def test_parse_instant(text: str, expected: str) -> None:
    assert parse_instant(text).isoformat() == expected


@pytest.mark.parametrize("text", ["", "2026-02-30", "03/01/2026", "now", "2026-03-01T12:00+25:00"])
def test_parse_instant_refuses_what_is_no_iso_date(text: str) -> None:
    with pytest.raises(UsageError, match=re.escape(f"--at {text!r}: not an ISO 8601 date")):
        parse_instant(text)


A, U, R, D = Action.ASSIGN, Action.UNASSIGN, Action.REGISTER, Action.DEREGISTER
STEPS = [
    Step(10, "v1", R),
    Step(20, "v1", A, "prod"),
    Step(30, "v2", R),
    Step(40, "v2", A, "prod"),
    Step(40, "v3", R),  # same second as v2's promotion
    Step(50, "v1", A, "prod", rollback=True),
    Step(60, "v1", D),  # v2 shows again
    Step(70, "v3", A, "prod"),
    Step(70, "v3", U, "prod"),  # assigned and unassigned in one second: never held
]


def test_holder_at_each_instant() -> None:
    held = {t: holder_at(STEPS, "prod", t) for t in (0, 19, 20, 45, 50, 59, 60, 70, 99)}
    assert {t: (h.version, h.assigned_at) if h else None for t, h in held.items()} == {
        0: None,
        19: None,
        20: ("v1", 20),
        45: ("v2", 40),
        50: ("v1", 50),
        59: ("v1", 50),
        60: ("v2", 40),
        70: ("v2", 40),
        99: ("v2", 40),
    }
    assert holder_at(STEPS, "staging", 99) is None
    # A version the reader does not believe is skipped, as if it held nothing.
    skipped = holder_at(STEPS, "prod", 55, ignore={"v1"})
    assert skipped is not None
    assert skipped.version == "v2"


def test_tenures_from_steps() -> None:
    assert tenures(STEPS, "prod") == [
        Span("v1", 20, 40, "promotion", "replaced"),
        Span("v2", 40, 50, "promotion", "rolled back"),
        Span("v1", 50, 60, "rollback", "deregistered"),
        Span("v2", 60, None, "fallback", "still holding"),
    ]
    assert tenures(STEPS, "prod", ignore={"v2"}) == [
        Span("v1", 20, 60, "promotion", "deregistered"),
    ]
    assert tenures(STEPS, "staging") == []


# -- the pure timeline against a brute-force oracle ---------------------------------------
#
# The oracle is the first, quadratic implementation, kept plainly: after every second it
# looks at every version's last move in the stage and takes the newest assignment of an
# active, believed version. The module keeps the candidates in a heap instead; the two
# must agree on every tenure and every instant.


class _Asked:
    """A set of versions not believed that records every question put to it."""

    def __init__(self, versions: frozenset[str]):
        self.versions = versions
        self.asked: list[str] = []

    def __contains__(self, version: object) -> bool:
        self.asked.append(str(version))
        return version in self.versions


class _OracleReplay:
    """One stage after the steps so far, its holder recomputed from scratch when asked."""

    def __init__(self, stage: str, ignore: Container[str]):
        self.stage = stage
        self.ignore = ignore
        self.seen: dict[str, int] = {}
        self.registered: dict[str, bool] = {}
        self.last_here: dict[str, Step] = {}

    def apply(self, step: Step) -> None:
        self.seen.setdefault(step.version, len(self.seen))
        if step.action is Action.REGISTER:
            self.registered[step.version] = True
        elif step.action is Action.DEREGISTER:
            self.registered[step.version] = False
        elif step.stage == self.stage and step.action in (Action.ASSIGN, Action.UNASSIGN):
            self.last_here[step.version] = step

    def holder(self) -> Hold | None:
        candidates = [
            (step.timestamp, self.seen[version], version)
            for version, step in self.last_here.items()
            if step.action is Action.ASSIGN and self.registered.get(version, True)
        ]
        while candidates:
            newest = max(candidates)
            if newest[2] not in self.ignore:
                return Hold(newest[2], newest[0])
            candidates.remove(newest)
        return None


def _oracle_holder_at(
    steps: list[Step], stage: str, instant: int, ignore: Container[str]
) -> Hold | None:
    replay = _OracleReplay(stage, ignore)
    for step in steps:
        if step.timestamp > instant:
            break
        replay.apply(step)
    return replay.holder()


def _oracle_tenures(steps: list[Step], stage: str, ignore: Container[str]) -> list[Span]:
    replay = _OracleReplay(stage, ignore)
    spans: list[Span] = []
    current: Hold | None = None
    start, began = 0, ""
    assigned: set[str] = set()
    for second, group in groupby(steps, key=lambda s: s.timestamp):
        batch = list(group)
        held_before = set(assigned)
        for step in batch:
            replay.apply(step)
            if step.action is Action.ASSIGN and step.stage == stage:
                assigned.add(step.version)
        now = replay.holder()
        if (now.version if now else None) == (current.version if current else None):
            continue
        arrival = None
        if now is not None:
            arrival = "fallback"
            for step in reversed(batch):
                if (step.action, step.stage, step.version) == (A, stage, now.version):
                    is_return = step.rollback or now.version in held_before
                    arrival = "rollback" if is_return else "promotion"
                    break
        if current is not None:
            mine = [s for s in batch if s.version == current.version]
            if any(s.action is D for s in mine):
                ended = "deregistered"
            elif any(s.action is U and s.stage == stage for s in mine):
                ended = "unassigned"
            else:
                ended = "rolled back" if arrival == "rollback" else "replaced"
            spans.append(Span(current.version, start, second, began, ended))
        current, start, began = now, second, arrival or ""
    if current is not None:
        spans.append(Span(current.version, start, None, began, "still holding"))
    return spans


def test_the_oracle_agrees_with_the_worked_example() -> None:
    assert _oracle_tenures(STEPS, "prod", ()) == tenures(STEPS, "prod")
    assert _oracle_holder_at(STEPS, "prod", 55, {"v1"}) == Hold("v2", 40)


VERSIONS = ("v1", "v2", "v3", "v4", "c0ffee")  # c0ffee: a commit assigned as is, never registered
STAGES = ("prod", "staging")


@st.composite
def _histories(draw: st.DrawFn) -> list[Step]:
    """Steps in time order: many in one second, versions registered, deregistered and
    registered again, assigned, unassigned, rolled back to, across two stages."""
    steps = []
    second = 100
    for _ in range(draw(st.integers(0, 40))):
        second += draw(st.sampled_from((0, 0, 1, 5)))  # equal seconds are common
        version = draw(st.sampled_from(VERSIONS))
        action = draw(st.sampled_from((R, D, A, A, A, U)))
        if action in (A, U):
            stage = draw(st.sampled_from(STAGES))
            rollback = action is A and draw(st.booleans())
            steps.append(Step(second, version, action, stage, rollback))
        else:
            steps.append(Step(second, version, action))
    return steps


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_histories(), st.frozensets(st.sampled_from(VERSIONS), max_size=2))
def test_heap_replay_matches_the_oracle(steps: list[Step], ignored: frozenset[str]) -> None:
    seconds = [s.timestamp for s in steps] or [100]
    for stage in (*STAGES, "qa"):
        asked, oracle_asked = _Asked(ignored), _Asked(ignored)
        assert tenures(steps, stage, asked) == _oracle_tenures(steps, stage, oracle_asked)
        # Laziness kept: a version is asked about at most once, and only if the oracle asks.
        assert len(asked.asked) == len(set(asked.asked))
        assert set(asked.asked) <= set(oracle_asked.asked)
        for instant in range(min(seconds) - 1, max(seconds) + 2):
            expected = _oracle_holder_at(steps, stage, instant, ignored)
            assert holder_at(steps, stage, instant, ignored) == expected, (stage, instant)
