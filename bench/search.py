"""Benchmark: ``gitml search`` with a 3-clause query at 100 / 1,000 / 10,000 versions,
against the registry floor (bench/registry.py's ``FLOOR_SCRIPT``: one ``git for-each-ref``,
parsed).

    .venv/bin/python bench/search.py [--repeats N] [--quick]

The repository is bench/registry.py's synthetic registry (one commit per version, a
metrics file at each, staging every 2nd version, production every 10th). The query reads
a stage held at any time, a metric from the file at each version's commit and the
registration date, so it exercises the tags, the records and the blob reads; each version
it returns is then checked against ``dvc.lock`` at its commit (0, 50 and 500 of them), a
cost that follows the result. Each figure is the median of wall-clock subprocess runs
after one checked warm-up, taking turns. Exits 0 when it completes.

Python runs with a bytecode cache of its own (in the temporary directory), as an
installed package has one: without it (``PYTHONDONTWRITEBYTECODE`` in the environment),
every module whose ``__pycache__`` in the working tree happens to be missing or stale is
compiled on every run, and the figures measure that instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for entry in (str(ROOT), str(ROOT / "bench")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import registry as registry_bench  # noqa: E402  (bench/registry.py: its synthetic registry)
from tests.conftest import isolated_environment  # noqa: E402
from tests.helpers import BIN_DIR  # noqa: E402

PYTHON = str(BIN_DIR / "python")
GITML = str(BIN_DIR / "gitml")
SIZES, QUICK_SIZES = (100, 1_000, 10_000), (100, 1_000)
REPEATS, QUICK_REPEATS = 5, 3
GOAL_MARGIN_S = 0.100
QUERY = "stage = ever:production AND metric.roc_auc > 0.85 AND registered >= 2023-01-01"


def run(argv: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds and stdout of one command; a failure stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode} in {cwd}:\n{done.stderr}")
    return seconds, done.stdout


def expected(versions: int) -> set[str]:
    """The versions the query matches, from build_repo's plan: every 10th version is
    promoted to production; its roc_auc is 0.8 + (index % 1000) / 10000."""
    return {
        f"v0.{i}.0"
        for i in range(1, versions + 1)
        if i % registry_bench.PRODUCTION_EVERY == 0 and 0.8 + (i % 1000) / 10000 > 0.85
    }


def measure(base: Path, versions: int, repeats: int) -> tuple[float, float, float, int]:
    """Median seconds of the search, of the floor and of ``gitml registry`` (what the
    search shares with every registry read) at one size, and how many versions the
    search returned (its answer checked)."""
    repo = base / f"versions-{versions}"
    synthetic = registry_bench.build_repo(repo, versions)
    registry_bench.verify_repo(repo, synthetic)
    search = [GITML, "search", QUERY, "--local", "--json"]
    floor = [PYTHON, "-c", registry_bench.FLOOR_SCRIPT, "registry", registry_bench.MODEL]
    _, out = run(search, repo)  # warm-up, checked
    answer = json.loads(out)
    found = {v["version"] for v in answer["versions"]}
    if found != expected(versions) or answer["left_out"]:
        raise SystemExit(f"search at {versions}: {len(found)} versions, not the expected ones")
    registry = [GITML, "registry", "--local"]
    commands = {"search": search, "floor": floor, "registry": registry}
    run(floor, repo)
    run(registry, repo)
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, argv in commands.items():  # taking turns: load on the machine hits all
            samples[label].append(run(argv, repo)[0])
    medians = {label: statistics.median(values) for label, values in samples.items()}
    return medians["search"], medians["floor"], medians["registry"], len(found)


def main(argv: list[str] | None = None) -> int:
    """Build each size, time it, print the table and the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 versions only")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    with tempfile.TemporaryDirectory(prefix="gitml-bench-search-") as tmp:
        base = Path(tmp)
        os.environ.update(isolated_environment(base / "home"))
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(base / "pycache")  # filled by the warm-ups
        print(f"query: {QUERY}\n")
        rows: list[tuple[list[str], float]] = []  # table cells, seconds over the floor
        for versions in sizes:
            search_s, floor_s, registry_s, returned = measure(base, versions, repeats)
            margin = search_s - floor_s
            over_registry = f"{(search_s - registry_s) * 1000:+.0f}"
            cells = [f"{versions:,}", str(returned), f"{search_s:.3f}", f"{floor_s:.3f}"]
            cells += [f"{registry_s:.3f}", over_registry, f"{margin * 1000:+.0f}"]
            rows.append((cells, margin))
        headers = ["versions", "returned", "search s", "floor s", "registry s"]
        headers += ["over registry ms", "over floor ms"]
        print(registry_bench.format_table(headers, [cells for cells, _ in rows]))
        for cells, margin in rows:
            verdict = "met" if margin <= GOAL_MARGIN_S else "MISSED"
            print(f"goal: within the floor + 100 ms at {cells[0]} versions: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
