"""Benchmark: ``gitml insights`` over a synthetic registry of 10,000 events (goal: < 1 s).

    .venv/bin/python bench/insights.py [--events N] [--repeats N]

Builds the repository with bench/registry.py's ``build_repo`` (one commit per version,
registration tags, staging every 2nd version, production every 10th: 1.6 events per
version), then times the ``gitml`` command end to end (its table; a fresh process each
run, the tag cache filled by a first untimed ``--json`` run, whose answer is checked:
every production promotion counted, none failed). ``gitml registry`` runs interleaved
as the floor every registry read pays. Prints the median and best wall times and PASS
or FAIL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.registry import (  # noqa: E402
    EPOCH,
    GITML,
    MODEL,
    PRODUCTION_EVERY,
    STAGING_EVERY,
    build_repo,
    run,
)
from tests.conftest import isolated_environment  # noqa: E402

GOAL_S = 1.0
EVENTS = 10_000
REPEATS = 5


def versions_for(events: int) -> int:
    """How many versions give ``events`` registry tags (a registration per version, an
    assignment per STAGING_EVERY-th and per PRODUCTION_EVERY-th)."""
    per_version = 1 + 1 / STAGING_EVERY + 1 / PRODUCTION_EVERY
    return round(events / per_version)


def main(argv: list[str] | None = None) -> int:
    """Build, time, check; exit 1 if the goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    versions = versions_for(args.events)
    with tempfile.TemporaryDirectory(prefix="gitml-bench-insights-") as base:
        env = isolated_environment(Path(base) / "home")
        (Path(base) / "home").mkdir()
        repo = Path(base) / "repo"
        synthetic = build_repo(repo, versions)
        until = _iso(EPOCH + 2 * synthetic.tags)  # past the last tag: a fixed window
        command = (GITML, "insights", "--model", MODEL, "--until", until)
        # Untimed: fills the tag cache, and the JSON answer (every event listed) is checked.
        _, output = run((*command, "--json"), repo, env=tuple(env.items()))
        floor = (GITML, "registry")  # reading the registry at all: what insights builds on
        times, floors = [], []
        for _ in range(args.repeats):  # interleaved: a busy machine slows both alike
            seconds, _ = run(command, repo, env=tuple(env.items()))
            times.append(seconds)
            seconds, _ = run(floor, repo, env=tuple(env.items()))
            floors.append(seconds)
        answer = json.loads(output)
        figures = {f["metric"]: f for f in answer["figures"]}
        promotions = figures["deployment-frequency"]["values"]["promotions"]
        expected = versions // PRODUCTION_EVERY
        failed = figures["change-failure-rate"]["values"]["failed"]
        if promotions != expected or failed != 0:
            raise SystemExit(
                f"wrong answer: {promotions} promotions (expected {expected}), {failed} failed"
            )
    median, best = statistics.median(times), min(times)
    met = median < GOAL_S
    print(
        f"gitml insights over {synthetic.tags:,} events ({versions:,} versions, "
        f"{expected} production promotions)"
    )
    print(f"  median {median:.3f} s, best {best:.3f} s over {args.repeats} runs")
    floor_median = statistics.median(floors)
    print(
        f"  `gitml registry` on the same repository (the registry floor): median "
        f"{floor_median:.3f} s; insights adds {median - floor_median:+.3f} s"
    )
    print(f"  {'PASS' if met else 'FAIL'}: under {GOAL_S:g} s")
    return 0 if met else 1


def _iso(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


if __name__ == "__main__":
    sys.exit(main())
