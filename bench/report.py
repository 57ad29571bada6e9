"""Benchmark: ``gitml report`` against the DVC commands it replaces.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/report.py [--repeats N] [--quick]

It builds everything it measures in a temporary directory (removed afterwards):

1. a trained copy of the example project with two commits, ``main`` and ``feature``
   (``feature`` changes one hyperparameter and re-runs ``dvc repro``), where it times
   ``gitml report`` against ``dvc metrics diff`` + ``dvc params diff`` + ``dvc plots diff``
   run back to back, and a plain-Python floor that reads the same files from both
   revisions through one ``git cat-file --batch``;
2. small synthetic repositories with 10, 100 and 1,000 metrics, where it times
   ``gitml report`` and ``dvc metrics diff`` per size, to show how time grows;
3. which heavy modules the report path imports (expected: no dvc, sklearn or pandas);
4. a DVC get-started-like project whose evaluation DVCLive logs (``tests/adoption``'s
   builder, adopted with ``gitml init``), ``main`` against ``pr``: ``gitml report`` against
   the same three DVC commands, with DVCLive's ``eval/`` tracked by git and, beside it,
   kept in the DVC cache (both tools then read the cache).

Every command is a subprocess, timed by wall clock; the figure is the median of
``--repeats`` runs after one warm-up, with the compared commands interleaved in each round
so that drift in machine load hits all of them alike. The goals are reported as PASS/FAIL;
the exit code is 0 either way (a benchmark reports, it does not gate).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.adoption.adopt import adopt_then_update_pr  # noqa: E402
from tests.adoption.projects import HEAD as PR_HEAD  # noqa: E402
from tests.adoption.projects import VARIANTS, Variant, get_started  # noqa: E402
from tests.conftest import isolated_environment  # noqa: E402
from tests.helpers import BIN_DIR, dvc, git, trained_project  # noqa: E402

ROWS = 3000
REPEATS = 7
QUICK_REPEATS = 3
SIZES = (10, 100, 1000)
QUICK_SIZES = (10, 1000)
GOAL_SPEEDUP = 10.0
BASE, HEAD = "main", "feature"
PYTHON = str(BIN_DIR / "python")
GITML = str(BIN_DIR / "gitml")
DVC = str(BIN_DIR / "dvc")

# Modules the report path must not load (a metrics file only in the DVC cache excepted),
# and others worth knowing about when they show up.
FORBIDDEN = ("dvc", "sklearn", "pandas", "numpy", "scipy", "skops")
NOTABLE = ("rich", "jsonschema", "yaml")

# What the example project's report reads on each side (gitml also lists `.dvc` files).
EXAMPLE_FILES = (
    "gitml.yaml",
    "dvc.lock",
    "params.yaml",
    "data.dvc",
    "metrics/credit.json",
    "metrics/credit_timing.json",
    "metrics/plots/roc.json",
    "metrics/plots/pr.json",
    "metrics/plots/calibration.json",
    "models/credit.card.yaml",
)

# The floor: one interpreter, one `git cat-file --batch`, both sides of every file parsed,
# flattened and compared. No rendering, no validation: what any Python tool has to pay.
FLOOR_SCRIPT = """\
import json, subprocess, sys
import yaml

base, head, files = sys.argv[1], sys.argv[2], sys.argv[3:]
cat = subprocess.Popen(["git", "cat-file", "--batch"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE)

def read(spec):
    cat.stdin.write(spec.encode() + b"\\n")
    cat.stdin.flush()
    header = cat.stdout.readline().split()
    if len(header) != 3:
        return None
    data = cat.stdout.read(int(header[2]))
    cat.stdout.read(1)
    return data

def flat(tree, prefix=""):
    out = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.update(flat(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out.update(flat(value, f"{prefix}[{index}]"))
    else:
        out[prefix] = tree
    return out

def load(path, data):
    if data is None:
        return {}
    return json.loads(data) if path.endswith(".json") else yaml.safe_load(data)

changed = 0
for path in files:
    old, new = flat(load(path, read(f"{base}:{path}"))), flat(load(path, read(f"{head}:{path}")))
    changed += sum(old.get(key) != new.get(key) for key in old.keys() | new.keys())
cat.stdin.close()
cat.wait()
print(changed, "values differ")
"""

# The report built and rendered inside one interpreter, start-up and imports excluded:
# isolates the part of the cost that depends on the number of metrics. The fastest of many
# runs: other load on the machine only ever adds time to a CPU-bound loop.
IN_PROCESS_SCRIPT = """\
import sys, time
from gitml.api import report
from gitml.report.markdown import render

base, head, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
first = report(base, head)  # warm-up: lazy imports, caches
render(first)
rows = sum(len(model.metrics) for model in first.models)
times = []
for _ in range(repeats):
    start = time.perf_counter()
    render(report(base, head))
    times.append(time.perf_counter() - start)
print(min(times), rows)
"""

# The report run as the `gitml` console script runs it, then what it loaded.
IMPORT_CHECK_SCRIPT = """\
import contextlib, io, json, sys
from gitml.cli.main import main

with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
names = sorted({name.partition(".")[0] for name in sys.modules})
print(json.dumps({"code": code, "chars": len(out.getvalue()), "modules": names}))
"""


@dataclass(frozen=True)
class Command:
    """One timed subprocess; the warm-up run's stdout must contain ``expect``."""

    label: str
    argv: tuple[str, ...]
    expect: str = ""


def run_checked(argv: tuple[str, ...], cwd: Path, capture: bool) -> str:
    """Run ``argv``; stop the benchmark with its stderr if it fails. Stdout if ``capture``."""
    result = subprocess.run(
        argv,
        cwd=cwd,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", errors="replace").strip()
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode} in {cwd}:\n{stderr}")
    return result.stdout.decode("utf-8", errors="replace") if capture else ""


def measure(
    groups: dict[str, list[Command]], cwd: Path, repeats: int
) -> dict[str, list[list[float]]]:
    """Seconds per round and command of each group (its commands run back to back).

    One warm-up round checks every command's output and is not recorded; the groups take
    turns within each recorded round.
    """
    for commands in groups.values():
        for command in commands:
            output = run_checked(command.argv, cwd, capture=True)
            if command.expect not in output:
                raise SystemExit(
                    f"{command.label}: expected {command.expect!r} in its output, got:\n"
                    f"{output[:2000]}"
                )
    rounds: dict[str, list[list[float]]] = {name: [] for name in groups}
    for _ in range(repeats):
        for name, commands in groups.items():
            durations = []
            for command in commands:
                start = time.perf_counter()
                run_checked(command.argv, cwd, capture=False)
                durations.append(time.perf_counter() - start)
            rounds[name].append(durations)
    return rounds


def median_total(rounds: list[list[float]]) -> float:
    """Median over rounds of the round's total."""
    return statistics.median(sum(durations) for durations in rounds)


def median_of(rounds: list[list[float]], index: int) -> float:
    """Median over rounds of the ``index``-th command's time."""
    return statistics.median(durations[index] for durations in rounds)


def spread(rounds: list[list[float]]) -> float:
    """Half the range of the rounds' totals: how far apart repeated runs land."""
    totals = [sum(durations) for durations in rounds]
    return (max(totals) - min(totals)) / 2


def format_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join((line(headers), rule, *(line(row) for row in rows)))


def write_gitconfig(home: Path) -> None:
    """A git identity and ``main`` as the default branch, in the isolated home."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        "[user]\n\tname = Ada Tester\n\temail = ada@example.com\n"
    )


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in ``path``."""
    text = path.read_text()
    if text.count(old) != 1:
        raise SystemExit(f"{path}: expected exactly one {old!r}")
    path.write_text(text.replace(old, new))


# ---------------------------------------------------------------------------------------
# 1. The example project: gitml report against the three DVC commands
# ---------------------------------------------------------------------------------------


def build_example_repo(dest: Path, rows: int) -> Path:
    """A trained copy of the example project: ``main``, then ``feature`` with a new rate."""
    repo = trained_project(dest, rows, BASE)
    git(repo, "switch", "-q", "-c", HEAD)
    replace_once(repo / "params.yaml", "learning_rate: 0.06", "learning_rate: 0.1")
    dvc(repo, "repro", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Raise the learning rate to 0.1")
    return repo


def example_benchmark(repo: Path, repeats: int) -> tuple[float, float]:
    """Print the comparison table; return (gitml median, DVC total median)."""
    groups = {
        "gitml": [
            Command(
                "gitml report --base main --head feature",
                (GITML, "report", "--base", BASE, "--head", HEAD),
                "learning_rate",
            )
        ],
        "dvc": [
            Command(
                "dvc metrics diff main feature --md",
                (DVC, "metrics", "diff", BASE, HEAD, "--md"),
                "roc_auc",
            ),
            Command(
                "dvc params diff main feature --md",
                (DVC, "params", "diff", BASE, HEAD, "--md"),
                "learning_rate",
            ),
            Command(
                "dvc plots diff main feature --show-vega --targets metrics/plots/roc.json",
                (
                    DVC,
                    "plots",
                    "diff",
                    BASE,
                    HEAD,
                    "--show-vega",
                    "--targets",
                    "metrics/plots/roc.json",
                ),
                "fpr",
            ),
        ],
        "floor": [
            Command(
                "floor: python -c, one git cat-file --batch",
                (PYTHON, "-c", FLOOR_SCRIPT, BASE, HEAD, *EXAMPLE_FILES),
                "values differ",
            )
        ],
    }
    rounds = measure(groups, repo, repeats)
    gitml_s = median_total(rounds["gitml"])
    dvc_s = median_total(rounds["dvc"])
    rows: list[tuple[str, ...]] = []

    def add(label: str, seconds: float) -> None:
        rows.append((label, f"{seconds:.3f}", f"{seconds / gitml_s:.2f}x"))

    add(groups["gitml"][0].label, gitml_s)
    add(
        "  of which building the report (in-process, fastest run)",
        in_process_seconds(repo, repeats),
    )
    add("dvc: the three commands below, back to back", dvc_s)
    for index, command in enumerate(groups["dvc"]):
        add(f"  {command.label}", median_of(rounds["dvc"], index))
    add(groups["floor"][0].label, median_total(rounds["floor"]))
    print(format_table(("command", "median s", "vs gitml"), rows))
    print(
        f"(spread, half the range of {repeats} runs: gitml ±{spread(rounds['gitml']):.3f} s, "
        f"dvc ±{spread(rounds['dvc']):.3f} s)"
    )
    speedup = dvc_s / gitml_s
    verdict = "PASS" if speedup >= GOAL_SPEEDUP else "FAIL"
    print(
        f"goal: gitml report at least {GOAL_SPEEDUP:.0f}x faster than the three DVC "
        f"commands -> {speedup:.1f}x: {verdict}"
    )
    return gitml_s, dvc_s


# ---------------------------------------------------------------------------------------
# 2. Scaling with the number of metrics
# ---------------------------------------------------------------------------------------

SYNTH_GITML_YAML = """\
version: 1
models:
  synth:
    description: Synthetic model with {count} metrics
    artifact: models/synth.bin
    metrics: [metrics/synth.json]
stages: [staging, production]
metrics:
{directions}
params:
  file: params.yaml
"""

SYNTH_DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    params:
      - train
    outs:
      - models/synth.bin
metrics:
  - metrics/synth.json
"""

SYNTH_DVC_LOCK = """\
schema: '2.0'
stages:
  train:
    cmd: python train.py
    params:
      params.yaml:
        train:
          learning_rate: {rate}
          max_depth: 6
    outs:
    - path: models/synth.bin
      hash: md5
      md5: {md5}
      size: 123456
"""

SYNTH_PARAMS = "train:\n  learning_rate: {rate}\n  max_depth: 6\n"


def metric_values(count: int, side: str) -> dict[str, float]:
    """``count`` metrics; every value differs between the two sides."""
    rng = random.Random(count)
    base = {f"metric_{i:04d}": round(rng.uniform(0.1, 0.9), 6) for i in range(count)}
    if side == BASE:
        return base
    return {name: round(value + rng.uniform(-0.05, 0.05), 6) for name, value in base.items()}


def write_synthetic_side(repo: Path, count: int, side: str, rate: float) -> None:
    """Write one side's metrics, params and lock; gitml.yaml and dvc.yaml stay the same."""
    metrics = repo / "metrics" / "synth.json"
    metrics.parent.mkdir(exist_ok=True)
    metrics.write_text(json.dumps(metric_values(count, side), indent=2) + "\n")
    (repo / "params.yaml").write_text(SYNTH_PARAMS.format(rate=rate))
    md5 = hashlib.md5(f"{count}-{side}".encode(), usedforsecurity=False).hexdigest()
    (repo / "dvc.lock").write_text(SYNTH_DVC_LOCK.format(rate=rate, md5=md5))


def build_synthetic_repo(repo: Path, count: int) -> Path:
    """A git + DVC repository whose one model has ``count`` metrics, changed on ``feature``."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", BASE)
    dvc(repo, "init", "-q")
    # Directions for the first ten metrics only, so that only the metrics file grows.
    directions = "\n".join(f"  metric_{i:04d}: higher" for i in range(min(count, 10)))
    (repo / "gitml.yaml").write_text(SYNTH_GITML_YAML.format(count=count, directions=directions))
    (repo / "dvc.yaml").write_text(SYNTH_DVC_YAML)
    write_synthetic_side(repo, count, BASE, 0.05)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{count} metrics")
    git(repo, "switch", "-q", "-c", HEAD)
    write_synthetic_side(repo, count, HEAD, 0.1)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Every metric changes")
    return repo


def in_process_seconds(repo: Path, repeats: int, count: int | None = None) -> float:
    """Fastest time of building and rendering the report inside one interpreter.

    Also checks that the report compared all ``count`` metrics (the markdown lists only
    the first rows of a long table and counts the rest).
    """
    argv = (PYTHON, "-c", IN_PROCESS_SCRIPT, BASE, HEAD, str(max(3 * repeats, 10)))
    seconds, rows = run_checked(argv, repo, capture=True).split()
    if count is not None and int(rows) != count:
        raise SystemExit(f"{repo}: the report compared {rows} metrics, not {count}")
    return float(seconds)


def scaling_benchmark(base_dir: Path, sizes: tuple[int, ...], repeats: int) -> None:
    """Print time per number of metrics, the slope and whether growth looks linear."""
    gitml_times: dict[int, float] = {}
    core_times: dict[int, float] = {}
    noise: dict[int, float] = {}
    rows: list[tuple[str, ...]] = []
    for count in sizes:
        repo = build_synthetic_repo(base_dir / f"metrics-{count}", count)
        # gitml's markdown shows the first rows of a long table (the in-process run checks
        # that every metric was compared); DVC prints them all.
        gitml_argv = (GITML, "report", "--base", BASE, "--head", HEAD)
        dvc_argv = (DVC, "metrics", "diff", BASE, HEAD, "--md")
        groups = {
            "gitml": [Command("gitml", gitml_argv, "metric\\_0000")],
            "dvc": [Command("dvc", dvc_argv, f"metric_{count - 1:04d}")],
        }
        rounds = measure(groups, repo, repeats)
        gitml_times[count] = median_total(rounds["gitml"])
        noise[count] = spread(rounds["gitml"])
        core_times[count] = in_process_seconds(repo, repeats, count)
        dvc_s = median_total(rounds["dvc"])
        rows.append(
            (
                f"{count:,}",
                f"{gitml_times[count]:.3f}",
                f"{core_times[count] * 1000:.1f}",
                f"{dvc_s:.3f}",
                f"{dvc_s / gitml_times[count]:.1f}x",
            )
        )
    print(
        format_table(
            (
                "metrics",
                "gitml report s",
                "in-process ms",
                "dvc metrics diff s",
                "dvc / gitml",
            ),
            rows,
        )
    )
    print(
        "(in-process: the report built and rendered inside one interpreter, start-up "
        "and imports excluded; fastest of the runs)"
    )
    low, high = min(sizes), max(sizes)
    for label, times in (("gitml report", gitml_times), ("in-process", core_times)):
        slope = (times[high] - times[low]) / (high - low) * 1000
        print(f"{label}: {slope * 1000:+.1f} ms per 1,000 metrics ({low:,} -> {high:,})")
    if 100 not in sizes:
        print("linearity: needs the 100-metric size (run without --quick)")
        return
    expected = (high - low) / (100 - low)
    spread_s = max(noise.values())
    for label, times in (("gitml report", gitml_times), ("in-process", core_times)):
        step, span = times[100] - times[low], times[high] - times[low]
        marginal = (
            f"{step / (100 - low) * 1e6:.0f} µs a metric {low}->100, "
            f"{(times[high] - times[100]) / (high - 100) * 1e6:.0f} µs {100}->{high:,}"
        )
        if label == "gitml report" and abs(step) <= spread_s:
            print(
                f"linearity, {label}: {marginal}; the {low}->100 step "
                f"({step * 1000:+.1f} ms) is within run-to-run spread "
                f"(±{spread_s * 1000:.1f} ms), so read the in-process line"
            )
            continue
        ratio = span / step if step > 0 else float("inf")
        linear = 0.5 * expected <= ratio <= 2 * expected
        print(
            f"linearity, {label}: {marginal}; (t({high})-t({low})) / (t(100)-t({low})) = "
            f"{ratio:.1f} (linear: {expected:.0f}) -> {'looks linear' if linear else 'NOT linear'}"
        )


# ---------------------------------------------------------------------------------------
# 3. What the report path imports
# ---------------------------------------------------------------------------------------


def import_check(repo: Path) -> None:
    """Print the heavy modules the report loads and the slowest top-level imports."""
    argv = (
        PYTHON,
        "-X",
        "importtime",
        "-c",
        IMPORT_CHECK_SCRIPT,
        "report",
        "--base",
        BASE,
        "--head",
        HEAD,
    )
    result = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False)
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "{}"
    outcome = json.loads(last)
    if result.returncode != 0 or outcome.get("code") != 0:
        raise SystemExit(f"import check failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    loaded = set(outcome["modules"])
    forbidden = [name for name in FORBIDDEN if name in loaded]
    notable = [name for name in NOTABLE if name in loaded]
    print(f"report path ({outcome['chars']:,} characters of markdown):")
    print(f"  heavy modules loaded: {', '.join(forbidden) or 'none'}")
    print(f"  of {', '.join(FORBIDDEN)}: {'FAIL' if forbidden else 'PASS'}")
    print(f"  other notable modules loaded: {', '.join(notable) or 'none'}")
    top: list[tuple[int, str]] = []
    total = 0
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        cumulative, name = parts[1].strip(), parts[2]
        if not cumulative.isdigit():
            continue  # the header line
        if name.startswith("  "):
            continue  # nested (two more spaces a level): counted in its top-level import
        top.append((int(cumulative), name.strip()))
        total += int(cumulative)
    top.sort(reverse=True)
    print(f"  top-level imports, {total / 1000:.1f} ms in all; slowest (cumulative ms):")
    for micros, name in top[:8]:
        print(f"    {micros / 1000:7.1f}  {name}")


# ---------------------------------------------------------------------------------------
# 4. A DVC get-started-like project (DVCLive), metrics in git and in the DVC cache
# ---------------------------------------------------------------------------------------

GET_STARTED_LABEL: dict[Variant, str] = {
    "git": "eval/ tracked by git",
    "cached": "eval/ in the DVC cache",
}


def build_get_started(dest: Path, variant: Variant) -> Path:
    """The adoption fixture: built, gitml adopted on main, ``pr`` updated with main."""
    repo = get_started(dest / "repo", variant)
    adopt_then_update_pr(repo)
    return repo


def get_started_benchmark(repo: Path, variant: Variant, repeats: int) -> tuple[float, float]:
    """Print one variant's table; return (gitml median, DVC total median)."""
    groups = {
        "gitml": [
            Command(
                f"gitml report --base {BASE} --head {PR_HEAD}",
                (GITML, "report", "--base", BASE, "--head", PR_HEAD),
                "<code>featurize.max_features</code>",
            )
        ],
        "dvc": [
            Command(
                f"dvc metrics diff {BASE} {PR_HEAD} --md",
                (DVC, "metrics", "diff", BASE, PR_HEAD, "--md"),
                "roc_auc.test",
            ),
            Command(
                f"dvc params diff {BASE} {PR_HEAD} --md",
                (DVC, "params", "diff", BASE, PR_HEAD, "--md"),
                "featurize.max_features",
            ),
            # Every plot dvc.yaml declares (ROC, precision-recall, confusion; train and
            # test each), as the report draws them all.
            Command(
                f"dvc plots diff {BASE} {PR_HEAD} --json",
                (DVC, "plots", "diff", BASE, PR_HEAD, "--json"),
                "Confusion-Matrix",
            ),
        ],
    }
    rounds = measure(groups, repo, repeats)
    gitml_s = median_total(rounds["gitml"])
    dvc_s = median_total(rounds["dvc"])
    rows: list[tuple[str, ...]] = []

    def add(label: str, seconds: float) -> None:
        rows.append((label, f"{seconds:.3f}", f"{seconds / gitml_s:.2f}x"))

    add(f"{groups['gitml'][0].label} ({GET_STARTED_LABEL[variant]})", gitml_s)
    add("dvc: the three commands below, back to back", dvc_s)
    for index, command in enumerate(groups["dvc"]):
        add(f"  {command.label}", median_of(rounds["dvc"], index))
    print(format_table(("command", "median s", "vs gitml"), rows))
    print(
        f"(spread, half the range of {repeats} runs: gitml ±{spread(rounds['gitml']):.3f} s, "
        f"dvc ±{spread(rounds['dvc']):.3f} s)"
    )
    return gitml_s, dvc_s


def get_started_benchmarks(base_dir: Path, repeats: int) -> None:
    """Both variants; the goal applies to the git-tracked one (no cache read on either side)."""
    results: dict[Variant, tuple[float, float]] = {}
    for variant in VARIANTS:
        setup = time.perf_counter()
        repo = build_get_started(base_dir / f"get-started-{variant}", variant)
        print(
            f"\n-- {GET_STARTED_LABEL[variant]} (built, trained 3 revisions and adopted in "
            f"{time.perf_counter() - setup:.1f} s) --"
        )
        results[variant] = get_started_benchmark(repo, variant, repeats)
    gitml_s, dvc_s = results["git"]
    speedup = dvc_s / gitml_s
    verdict = "PASS" if speedup >= GOAL_SPEEDUP else "FAIL"
    print(
        f"goal: gitml report at least {GOAL_SPEEDUP:.0f}x faster than the three DVC commands "
        f"on the git-tracked variant -> {speedup:.1f}x: {verdict}"
    )
    cached_gitml, cached_dvc = results["cached"]
    print(
        f"cached variant (no goal; both read DVC's cache): gitml {cached_gitml:.3f} s, "
        f"dvc {cached_dvc:.3f} s -> {cached_dvc / cached_gitml:.1f}x"
    )


# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, help=f"timed runs per command (default {REPEATS}; quick: 3)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 repeats, sizes 10 and 1,000 only (smoke run)"
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    sizes = QUICK_SIZES if args.quick else SIZES
    for tool in (GITML, DVC):
        if not Path(tool).exists():
            raise SystemExit(f"{tool} not found: run with the project's venv python")
    started = time.perf_counter()
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory(prefix="gitml-bench-") as tmp:
            base_dir = Path(tmp)
            home = base_dir / "_home"
            write_gitconfig(home)
            os.environ.update(isolated_environment(home))
            print(f"gitml report benchmark: {repeats} timed runs after one warm-up, medians")
            print(f"\n== 1. example project ({ROWS:,} rows), {BASE} vs {HEAD} ==")
            setup = time.perf_counter()
            repo = build_example_repo(base_dir / "example", ROWS)
            print(f"(built and trained both revisions in {time.perf_counter() - setup:.1f} s)")
            example_benchmark(repo, repeats)
            print(f"\n== 2. scaling: {', '.join(f'{s:,}' for s in sizes)} metrics ==")
            scaling_benchmark(base_dir / "scaling", sizes, repeats)
            print("\n== 3. imports on the report path (example project) ==")
            import_check(repo)
            print(f"\n== 4. DVC get-started-like project (DVCLive), {BASE} vs {PR_HEAD} ==")
            get_started_benchmarks(base_dir / "get-started", repeats)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print(f"\ntotal wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
