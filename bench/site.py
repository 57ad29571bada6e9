"""Benchmark: ``gitml site`` at 1,000 versions (goal: < 10 s, no page over 1 MB) and at
10,000 (the site paginates; report the growth).

    .venv/bin/python bench/site.py [--sizes 1000 10000] [--repeats N]

Builds each repository with bench/registry.py's ``build_repo`` (one commit per version,
registration tags, staging every 2nd version, production every 10th), then times the
``gitml site`` command end to end in a fresh process (the tag cache filled by a first
untimed run, whose answer is checked: every version has its page, no page over 1 MB).
Prints the median per size, the growth per version between sizes, and PASS or FAIL.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.registry import GITML, build_repo, run  # noqa: E402
from tests.conftest import isolated_environment  # noqa: E402

GOAL_S = 10.0
GOAL_AT = 1000
MAX_PAGE_BYTES = 1_000_000
SIZES = (1000, 10000)
REPEATS = 3


def _measure(base: Path, versions: int, repeats: int) -> tuple[float, dict[str, int]]:
    """Median seconds of ``gitml site`` over ``versions``, and what the first run wrote."""
    home = base / f"home-{versions}"
    home.mkdir()
    env = tuple(isolated_environment(home).items())
    repo = base / f"repo-{versions}"
    build_repo(repo, versions)
    out = base / f"site-{versions}"
    _, output = run((GITML, "site", "-o", str(out), "--json"), repo, env=env)
    built = json.loads(output)
    pages = list(out.rglob("*.html"))
    largest = max(p.stat().st_size for p in pages)
    if built["versions"] != versions or largest >= MAX_PAGE_BYTES:
        raise SystemExit(f"wrong site: {built} (largest page {largest:,} bytes)")
    times = []
    for _ in range(repeats):
        shutil.rmtree(out)
        seconds, _ = run((GITML, "site", "-o", str(out)), repo, env=env)
        times.append(seconds)
    return statistics.median(times), {"pages": len(pages), "largest": largest}


def main(argv: list[str] | None = None) -> int:
    """Build, time, check; exit 1 if a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="gitml-bench-site-") as base:
        for versions in args.sizes:
            results[versions] = _measure(Path(base), versions, args.repeats)
    print("| versions | median s | pages | largest page | s per 1,000 versions |")
    print("|---:|---:|---:|---:|---:|")
    for versions, (seconds, wrote) in results.items():
        per = seconds / versions * 1000
        print(
            f"| {versions:,} | {seconds:.2f} | {wrote['pages']:,} | "
            f"{wrote['largest'] / 1000:,.0f} kB | {per:.2f} |"
        )
    sizes = sorted(results)
    for low, high in itertools.pairwise(sizes):
        growth = results[high][0] / results[low][0]
        print(f"growth {low:,} -> {high:,} versions ({high / low:g}x): {growth:.1f}x the time")
    met = GOAL_AT not in results or results[GOAL_AT][0] < GOAL_S
    print(
        f"{'PASS' if met else 'FAIL'}: {GOAL_AT:,} versions under {GOAL_S:g} s, "
        "every page under 1 MB"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
