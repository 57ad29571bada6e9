"""Benchmark: what governance costs — evaluate with fairness and importance, the dossier,
and time travel (``--at``) at 10,000 versions.

    .venv/bin/python bench/governance.py [--repeats N] [--quick]

1. The example's ``evaluate`` stage at the default data size (20,000 rows), with and
   without the fairness report and the permutation importance (the "without" run is the
   same stage with those two steps replaced by nothing, in a fresh interpreter).
2. ``gitml dossier credit@production`` (html) in a fresh clone of the registry ``gitml
   demo`` builds, against its floor: ``gitml show credit@production`` + ``gitml history
   credit`` + reading the card at the version's commit (the same objects, three commands).
3. ``gitml registry --at DATE`` and ``gitml show credit@production --at DATE`` at 10,000
   versions against the registry benchmark's floor (one ``git for-each-ref``, parsed).

Each figure is a median of wall-clock runs of subprocesses after one checked warm-up; the
compared commands take turns. bench/README.md describes it. Exits 0 when it completes.
"""

from __future__ import annotations

import argparse
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
from tests.helpers import BIN_DIR, copy_project  # noqa: E402

PYTHON = str(BIN_DIR / "python")
GITML = str(BIN_DIR / "gitml")
REPEATS, QUICK_REPEATS = 5, 3
AT_VERSIONS, QUICK_AT_VERSIONS = 10_000, 1_000
DEMO_ROWS = 4000
GOAL_EVALUATE_OVERHEAD = 0.30  # fairness + importance add at most 30 % to evaluate
GOAL_DOSSIER_S = 5.0
GOAL_DOSSIER_RATIO = 2.0
GOAL_AT_MARGIN_S = 0.050

# The evaluate stage in a fresh interpreter; "without" replaces the two governance steps
# with steps that do nothing, so the difference is exactly what they cost.
EVALUATE_SCRIPT = r"""
import sys
from credit_example import evaluate as stage
from credit_example.params import load_params

if sys.argv[1] == "without":
    stage.fairness_config = lambda: None  # no segments declared: no report, no gaps
    stage.importance_section = lambda *args, **kwargs: {}
    stage.importance_limitation = lambda section: ""
stage.evaluate(load_params())
"""


def run(argv: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds and stdout of one command; a failure stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode} in {cwd}:\n{done.stderr}")
    return seconds, done.stdout


def medians(commands: dict[str, list[list[str]]], cwd: Path, repeats: int) -> dict[str, float]:
    """Median total seconds per label (each label a sequence of commands), taking turns."""
    for sequence in commands.values():  # warm-up
        for argv in sequence:
            run(argv, cwd)
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, sequence in commands.items():
            samples[label].append(sum(run(argv, cwd)[0] for argv in sequence))
    return {label: statistics.median(values) for label, values in samples.items()}


def table(headers: list[str], rows: list[list[str]]) -> str:
    return registry_bench.format_table(headers, rows)


def goal(text: str, met: bool) -> bool:
    print(f"goal: {text}: {'PASS' if met else 'FAIL'}")
    return met


# --- 1. evaluate with and without --------------------------------------------------------


def evaluate_stage(base: Path, repeats: int) -> None:
    project = copy_project(base / "example")
    run(["git", "init", "-q"], project)  # the copy carries .dvc/ already
    run([str(BIN_DIR / "credit-example"), "data"], project)
    for stage in ("prepare", "train"):
        run([PYTHON, "-m", "credit_example", stage], project)
    times = medians(
        {
            "with": [[PYTHON, "-c", EVALUATE_SCRIPT, "with"]],
            "without": [[PYTHON, "-c", EVALUATE_SCRIPT, "without"]],
        },
        project,
        repeats,
    )
    overhead = times["with"] / times["without"] - 1
    print("\n-- 1. the example's evaluate stage, 20,000 rows (15,000 train / 5,000 held out) --")
    print(
        table(
            ["evaluate", "seconds"],
            [
                ["with fairness + importance", f"{times['with']:.2f}"],
                ["without", f"{times['without']:.2f}"],
            ],
        )
    )
    goal(
        f"fairness + importance add at most {GOAL_EVALUATE_OVERHEAD:.0%} -> {overhead:+.1%}",
        overhead <= GOAL_EVALUATE_OVERHEAD,
    )


# --- 2. the dossier ----------------------------------------------------------------------


def dossier(base: Path, repeats: int) -> None:
    sandbox = base / "demo"
    run([GITML, "demo", "--rows", str(DEMO_ROWS), "--keep", "--dir", str(sandbox)], base)
    remote = sandbox / "origin.git"  # the demo's stand-in for GitHub
    clone = base / "clone"
    run(["git", "clone", "-q", str(remote), str(clone)], base)
    _, shown = run([GITML, "show", "credit@production", "--json"], clone)
    import json

    commit = json.loads(shown)["commit"]
    card = ["git", "show", f"{commit}:models/credit.card.yaml"]
    times = medians(
        {
            "dossier": [[GITML, "dossier", "credit@production", "--format", "html"]],
            "floor": [
                [GITML, "show", "credit@production"],
                [GITML, "history", "credit"],
                card,
            ],
        },
        clone,
        repeats,
    )
    ratio = times["dossier"] / times["floor"]
    print("\n-- 2. gitml dossier credit@production (html), fresh clone of the demo registry --")
    print(
        table(
            ["command", "seconds"],
            [
                ["gitml dossier", f"{times['dossier']:.3f}"],
                ["floor: show + history + card", f"{times['floor']:.3f}"],
                ["dossier / floor", f"{ratio:.2f}x"],
            ],
        )
    )
    goal(
        f"dossier under {GOAL_DOSSIER_S:.0f} s -> {times['dossier']:.2f} s",
        times["dossier"] < GOAL_DOSSIER_S,
    )
    goal(
        f"dossier under {GOAL_DOSSIER_RATIO:.0f}x its floor -> {ratio:.2f}x",
        ratio < GOAL_DOSSIER_RATIO,
    )


# --- 3. --at at 10,000 versions ------------------------------------------------------------


def time_travel(base: Path, versions: int, repeats: int) -> None:
    repo = base / f"versions-{versions}"
    synthetic = registry_bench.build_repo(repo, versions)
    registry_bench.verify_repo(repo, synthetic)
    # Halfway through the history: every stage held some version then.
    middle = registry_bench.EPOCH + synthetic.tags // 2
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(middle))
    floor = [PYTHON, "-c", registry_bench.FLOOR_SCRIPT]
    model = registry_bench.MODEL
    times = medians(
        {
            "registry --at": [[GITML, "registry", "--at", at, "--local"]],
            "show --at": [[GITML, "show", f"{model}@production", "--at", at, "--local"]],
            "floor registry": [[*floor, "registry", model]],
            "floor show": [[*floor, "show", model, "production"]],
        },
        repo,
        repeats,
    )
    print(f"\n-- 3. time travel at {versions:,} versions ({synthetic.tags:,} tags), --at {at} --")
    rows = []
    for question in ("registry", "show"):
        gitml_s, floor_s = times[f"{question} --at"], times[f"floor {question}"]
        rows.append(
            [
                f"gitml {question} --at",
                f"{gitml_s:.3f}",
                f"{floor_s:.3f}",
                f"{(gitml_s - floor_s) * 1000:+.0f}",
            ]
        )
    print(table(["command", "seconds", "floor s", "over floor ms"], rows))
    for row in rows:
        margin = float(row[3]) / 1000
        goal(f"{row[0]} within the floor + 50 ms -> {row[3]} ms", margin <= GOAL_AT_MARGIN_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, help=f"timed runs (default {REPEATS})")
    parser.add_argument("--quick", action="store_true", help="3 runs, --at at 1,000 versions")
    args = parser.parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    started, saved = time.perf_counter(), dict(os.environ)
    print(f"gitml governance benchmark: medians of {repeats} timed run(s) after one warm-up")
    try:
        with tempfile.TemporaryDirectory(prefix="gitml-bench-governance-") as tmp:
            base = Path(tmp)
            (base / "_home").mkdir()
            os.environ.update(isolated_environment(base / "_home"))
            evaluate_stage(base, repeats)
            dossier(base, repeats)
            time_travel(base, QUICK_AT_VERSIONS if args.quick else AT_VERSIONS, repeats)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print(f"\ntotal wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
