"""Benchmark: ``gitml drift`` against Evidently's data drift report.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/drift.py [--rows N] [--repeats N] [--quick]
                                    [--evidently-python PATH]

It generates, with numpy, a reference and a "shifted" copy of ``--rows`` rows (default
1,000,000) by 20 features (14 numeric, 6 categorical; nine columns changed on purpose,
the rest redrawn from the same distributions) plus a model score, and writes them once
as Parquet (the shifted copy also as CSV). ``gitml baseline`` summarises the reference
into the baseline file of a model version ``bench@v0.1.0`` registered in a scratch git
repository (its signature and baseline committed, an annotated GTO-format tag). Then,
each as a subprocess timed by wall clock with its peak resident memory:

* ``gitml drift bench@v0.1.0 --data current.parquet --json``: the command users run,
  console script, registry lookup, baseline and signature read from the tag's commit,
  the batch read a column at a time; and the same on the CSV copy, read in row chunks.
  The batch has a ``score`` column, like a prediction log, so no model is loaded;
* ``gitml drift`` on the Parquet batch without its ``score`` column: the version's model
  (a small scikit-learn pipeline trained on 50,000 reference rows, a DVC output of the
  scratch repository) is fetched from the DVC cache and scores the batch in row chunks.
  Evidently scores nothing, so this row does more work than Evidently's;
* the Python API on a DataFrame (``read_batch`` + ``detect_drift``: the whole batch in
  memory first), for contrast. All three must give the same report;
* ``gitml baseline``: ``compute_baseline`` on the reference Parquet file (once per model
  version, in the evaluate stage), shown alone and added to ``gitml drift`` for a
  like-for-like start from raw data;
* Evidently: ``Report([DataDriftPreset()])`` on both Parquet files, run by the Python of
  a separate virtualenv (default ``/tmp/evidently-venv``; see bench/README.md), since
  Evidently needs pandas < 3.

Peak memory is ``ru_maxrss`` of ``RUSAGE_CHILDREN`` read by a fresh wrapper process per
run, so each figure is that one command's peak. A figure is the median of ``--repeats``
runs (Evidently: of ``--evidently-repeats`` runs, 1 by default: a run takes minutes).
Goals: ``gitml drift`` (the CLI on the Parquet batch) at least 10x faster and 5x leaner
than Evidently.

Flagged features are compared like with like: Evidently tests only the distribution of
the values present, so gitml runs once more (untimed) with its missing-rate check turned
off in ``gitml.yaml`` (``drift: {missing_warn: 2.0, missing_drift: 2.0}``, beyond any
possible change). Both lists are printed, and any difference is named. The exit code is
0 either way (a benchmark reports).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import WRAPPER  # noqa: E402
from tests.conftest import isolated_environment  # noqa: E402
from tests.helpers import dvc, git  # noqa: E402

PYTHON = sys.executable
GITML = str(Path(sys.executable).parent / "gitml")
MODEL = "bench"
VERSION = "v0.1.0"
# Evidently tests only the values present: with these, gitml's missing-rate check can
# never fire (a rate changes by at most 1), leaving its distribution checks.
DISTRIBUTION_ONLY = {"missing_warn": 2.0, "missing_drift": 2.0}
DEFAULT_EVIDENTLY_PYTHON = os.environ.get("EVIDENTLY_PYTHON", "/tmp/evidently-venv/bin/python")
GOAL_SPEEDUP = 10.0
GOAL_MEMORY = 5.0

NUMERIC = tuple(f"num_{i:02d}" for i in range(14))
CATEGORICAL = tuple(f"cat_{i:02d}" for i in range(6))
INTEGER = {"num_02", "num_05", "num_06", "num_10", "num_11"}
# What the shifted copy changes, feature by feature (the rest is redrawn unchanged).
CHANGES = {
    "num_00": "mean +0.5 sd",
    "num_01": "spread x1.5",
    "num_02": "incomes x0.8",
    "num_03": "missing 2% -> 17%",
    "num_04": "mean +0.05 sd (negligible)",
    "num_05": "counts: Poisson mean 0.7 -> 1.0",
    "num_06": "60-month share 60% -> 45%",
    "cat_00": "shares .50/.30/.20 -> .35/.35/.30",
    "cat_01": "3% of rows in a new category",
}

# The Python API on a DataFrame: the whole batch in memory first.
GITML_DRIFT_FRAME = """\
import json, sys
from pathlib import Path
from gitml.monitor.baseline import read_baseline
from gitml.monitor.drift import DriftThresholds, batch_scores, detect_drift, read_batch
from gitml.signature import signature_from_text

signature_file, baseline_file, batch_file, out = sys.argv[1:5]
signature = signature_from_text(Path(signature_file).read_text(), signature_file)
baseline = read_baseline(Path(baseline_file).read_text(), baseline_file)
batch = read_batch(batch_file)
report = detect_drift(batch, baseline, signature, batch_scores(batch), DriftThresholds(),
                      source=batch_file)
Path(out).write_text(json.dumps(report.to_dict()))
"""

GITML_BASELINE = """\
import sys
from pathlib import Path
from gitml.monitor.baseline import compute_baseline, write_baseline
from gitml.monitor.drift import batch_scores, read_batch
from gitml.signature import signature_from_text

signature_file, reference_file, out = sys.argv[1:4]
signature = signature_from_text(Path(signature_file).read_text(), signature_file)
reference = read_batch(reference_file)
write_baseline(out, compute_baseline(reference, signature, batch_scores(reference)))
"""

EVIDENTLY = """\
import json, sys
from pathlib import Path
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

numeric, categorical = json.loads(sys.argv[1]), json.loads(sys.argv[2])
reference_file, current_file, out = sys.argv[3:6]
columns = numeric + categorical
definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
reference = Dataset.from_pandas(pd.read_parquet(reference_file, columns=columns),
                                data_definition=definition)
current = Dataset.from_pandas(pd.read_parquet(current_file, columns=columns),
                              data_definition=definition)
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
drift = []
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config.get("type", "").endswith("ValueDrift"):
        drift.append({"column": config["column"], "method": config["method"],
                      "threshold": config["threshold"], "value": metric["value"]})
Path(out).write_text(json.dumps(drift))
"""


@dataclass(frozen=True)
class Run:
    """One measured subprocess run."""

    seconds: float
    peak_mb: float


def measure(argv: list[str], label: str) -> Run:
    """Run ``argv`` under the wrapper; fail loudly with its stderr if it fails."""
    done = subprocess.run(
        [PYTHON, "-c", WRAPPER, *argv], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{label} failed (exit {result['rc']}):\n{result['stderr']}")
    return Run(result["seconds"], result["peak_kib"] / 1024)


def median_run(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.seconds for r in runs), statistics.median(r.peak_mb for r in runs)
    )


# --- data ---------------------------------------------------------------------------------


def _categories(
    rng: np.random.Generator, rows: int, names: list[str], shares: list[float]
) -> np.ndarray:
    return np.asarray(names, dtype=object)[rng.choice(len(names), size=rows, p=shares)]


def make_frame(rows: int, seed: int, shifted: bool) -> pd.DataFrame:
    """``rows`` synthetic rows; ``shifted`` applies CHANGES."""
    rng = np.random.default_rng(seed)
    s = 1.0 if shifted else 0.0
    data: dict[str, np.ndarray] = {}
    data["num_00"] = rng.normal(50.0 + 5.0 * s, 10.0, rows)
    data["num_01"] = rng.normal(0.0, 1.0 + 0.5 * s, rows)
    data["num_02"] = np.round(np.exp(rng.normal(10.5, 0.5, rows)) * (1.0 - 0.2 * s))
    utilisation = rng.beta(2.0, 5.0, rows)
    utilisation[rng.random(rows) < 0.02 + 0.15 * s] = np.nan
    data["num_03"] = np.round(utilisation, 3)
    data["num_04"] = rng.normal(100.0 + 0.75 * s, 15.0, rows)
    data["num_05"] = rng.poisson(0.7 + 0.3 * s, rows).astype(np.float64)
    data["num_06"] = np.where(rng.random(rows) < 0.4 + 0.15 * s, 36.0, 60.0)
    data["num_07"] = rng.uniform(0.0, 1.0, rows)
    data["num_08"] = rng.exponential(3.0, rows)
    data["num_09"] = rng.normal(-2.0, 0.5, rows)
    data["num_10"] = np.round(18.0 + 62.0 * rng.beta(2.0, 3.5, rows))
    data["num_11"] = rng.poisson(5.0, rows).astype(np.float64)
    data["num_12"] = rng.gamma(2.0, 2.0, rows)
    data["num_13"] = np.round(rng.normal(12.0, 3.0, rows), 2)
    first = [0.35, 0.35, 0.30] if shifted else [0.5, 0.3, 0.2]
    data["cat_00"] = _categories(rng, rows, ["a", "b", "c"], first)
    regions = _categories(rng, rows, ["north", "south", "east", "west", "central"],
                          [0.2, 0.25, 0.2, 0.2, 0.15])  # fmt: skip
    if shifted:
        regions[rng.random(rows) < 0.03] = "atlantis"
    data["cat_01"] = regions
    purposes = ["car", "home", "debt", "card", "medical", "business", "other"]
    data["cat_02"] = _categories(rng, rows, purposes, [0.1, 0.1, 0.38, 0.18, 0.06, 0.05, 0.13])
    data["cat_03"] = _categories(rng, rows, ["rent", "mortgage", "own", "other"],
                                 [0.4, 0.4, 0.15, 0.05])  # fmt: skip
    data["cat_04"] = _categories(rng, rows, [f"grade_{i}" for i in range(10)], [0.1] * 10)
    flags = _categories(rng, rows, ["yes", "no"], [0.3, 0.7])
    flags[rng.random(rows) < 0.01] = None
    data["cat_05"] = flags
    # A model score that depends on a few features, so it moves when they do.
    income = np.log(data["num_02"]) - 10.5
    eta = -2.0 + 0.04 * (data["num_00"] - 50.0) + 0.3 * data["num_01"] - 0.8 * income
    eta += 0.4 * data["num_05"] + 0.3 * (data["num_06"] == 60.0)
    data["score"] = 1.0 / (1.0 + np.exp(-eta))
    return pd.DataFrame(data)


def signature_document() -> dict[str, object]:
    features: list[dict[str, object]] = []
    for name in NUMERIC:
        kind = "integer" if name in INTEGER else "number"
        features.append({"name": name, "type": kind, "nullable": True})
    for name in CATEGORICAL:
        features.append({"name": name, "type": "category", "nullable": True})
    return {"name": "bench", "target": "label", "threshold": 0.5, "features": features}


# --- the registered version -------------------------------------------------------------


def gitml_yaml(drift: dict[str, float] | None = None) -> str:
    lines = [
        "version: 1",
        "models:",
        f"  {MODEL}:",
        f"    artifact: models/{MODEL}.skops",
        f"    metrics: [metrics/{MODEL}.json]",
        f"    signature: models/{MODEL}.signature.json",
        f"    baseline: models/{MODEL}.baseline.json",
    ]
    if drift:
        lines += ["drift:", *(f"  {key}: {value}" for key, value in drift.items())]
    return "\n".join(lines) + "\n"


def train_model(reference: Path, out: Path, rows: int = 50_000) -> None:
    """A small model of the reference's outcome (drawn from its score), saved by gitml."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from gitml.signature import feature_frame, signature_from_text
    from gitml.storage import save_model

    signature = signature_from_text(json.dumps(signature_document()), "bench signature")
    frame = pd.read_parquet(reference).iloc[:rows]
    outcome = np.random.default_rng(3).random(len(frame)) < frame["score"].to_numpy()
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2
    )
    model = make_pipeline(
        make_column_transformer((encoder, list(CATEGORICAL)), remainder="passthrough"),
        HistGradientBoostingClassifier(max_iter=50, random_state=0),
    )
    model.fit(feature_frame(signature, frame), outcome)
    save_model(model, out)


def registered_repo(repo: Path, signature: Path, baseline: Path, reference: Path) -> None:
    """A git + DVC repository whose ``bench@v0.1.0`` is a model with its signature and baseline.

    The version is an annotated tag in GTO's format on the commit that holds them; the
    model is a DVC output (``dvc.lock``) in the repository's cache, loaded only when a
    batch has no scores.
    """
    models = repo / "models"
    models.mkdir(parents=True)
    (repo / "metrics").mkdir()
    (repo / "metrics" / f"{MODEL}.json").write_text("{}\n")
    (repo / "gitml.yaml").write_text(gitml_yaml())
    (models / signature.name).write_bytes(signature.read_bytes())
    (models / baseline.name).write_bytes(baseline.read_bytes())
    train_model(reference, models / f"{MODEL}.skops")
    (repo / "dvc.yaml").write_text(
        f"stages:\n  train:\n    cmd: 'true'\n    outs:\n      - models/{MODEL}.skops\n"
    )
    git(repo, "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    dvc(repo, "commit", "-q", "-f", "train")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "The bench model, its signature and baseline")
    git(repo, "tag", "-a", f"{MODEL}@{VERSION}", "-m", f"Registering {MODEL} {VERSION}")


# --- main ---------------------------------------------------------------------------------


def evidently_available(python: str) -> str | None:
    """None when ``python`` can import evidently, else why not."""
    if not Path(python).exists():
        return f"{python} does not exist"
    probe = subprocess.run(
        [python, "-c", "import evidently; print(evidently.__version__)"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"{python} cannot import evidently: {probe.stderr.strip().splitlines()[-1:]}"
    return None


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(c) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="gitml runs per command")
    parser.add_argument("--evidently-repeats", type=int, default=1)
    parser.add_argument("--evidently-python", default=DEFAULT_EVIDENTLY_PYTHON)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 1 run each")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats, args.evidently_repeats = 100_000, 1, 1

    missing = evidently_available(args.evidently_python)
    with tempfile.TemporaryDirectory(prefix="gitml-bench-drift-") as tmp:
        work = Path(tmp)
        home = work / "_home"
        home.mkdir()
        os.environ.update(isolated_environment(home))
        started = time.perf_counter()
        reference, current = work / "reference.parquet", work / "current.parquet"
        current_csv, unscored = work / "current.csv", work / "current-unscored.parquet"
        make_frame(args.rows, seed=1, shifted=False).to_parquet(reference)
        shifted = make_frame(args.rows, seed=2, shifted=True)
        shifted.to_parquet(current)
        shifted.to_csv(current_csv, index=False)
        shifted.drop(columns=["score"]).to_parquet(unscored)
        del shifted
        signature = work / f"{MODEL}.signature.json"
        signature.write_text(json.dumps(signature_document()))
        print(
            f"data: {args.rows:,} rows x {len(NUMERIC) + len(CATEGORICAL)} features "
            f"({len(NUMERIC)} numeric, {len(CATEGORICAL)} categorical) + score, "
            f"reference and shifted copy as Parquet "
            f"({reference.stat().st_size / 2**20:.0f} + {current.stat().st_size / 2**20:.0f} "
            f"MB), the shifted copy also as CSV ({current_csv.stat().st_size / 2**20:.0f} MB), "
            f"made in {time.perf_counter() - started:.1f} s"
        )

        baseline = work / f"{MODEL}.baseline.json"
        baseline_argv = [PYTHON, "-c", GITML_BASELINE, str(signature), str(reference),
                         str(baseline)]  # fmt: skip
        baseline_run = median_run(
            [measure(baseline_argv, "gitml baseline") for _ in range(args.repeats)]
        )
        repo = work / "repo"
        registered_repo(repo, signature, baseline, reference)

        def cli(data: Path, out: Path) -> list[str]:
            ref = f"{MODEL}@{VERSION}"
            return [GITML, "drift", ref, "--data", str(data), "--json", "-o", str(out),
                    "--root", str(repo)]  # fmt: skip

        reports = {
            "parquet": work / "report.json",
            "csv": work / "report-csv.json",
            "frame": work / "report-frame.json",
            "scored": work / "report-scored.json",
        }
        frame_argv = [PYTHON, "-c", GITML_DRIFT_FRAME, str(signature), str(baseline),
                      str(current), str(reports["frame"])]  # fmt: skip
        drift_runs, csv_runs, frame_runs, scored_runs = [], [], [], []
        for _ in range(args.repeats):  # taking turns: machine load hits all alike
            drift_runs.append(measure(cli(current, reports["parquet"]), "gitml drift"))
            csv_runs.append(measure(cli(current_csv, reports["csv"]), "gitml drift (CSV)"))
            frame_runs.append(measure(frame_argv, "gitml drift (DataFrame)"))
            scored_runs.append(measure(cli(unscored, reports["scored"]), "gitml drift (model)"))
        drift_run, csv_run, frame_run, scored_run = map(
            median_run, (drift_runs, csv_runs, frame_runs, scored_runs)
        )
        gitml_report = json.loads(reports["parquet"].read_text())
        for name in ("csv", "frame"):
            if json.loads(reports[name].read_text()) != gitml_report:
                raise SystemExit(f"gitml drift on Parquet and the {name} path disagree")
        # Scored by the model, the features are judged exactly alike (the score differs).
        if json.loads(reports["scored"].read_text())["features"] != gitml_report["features"]:
            raise SystemExit("gitml drift with and without a score column disagree on features")
        # Like with like: the same command, the missing-rate check off (not timed).
        (repo / "gitml.yaml").write_text(gitml_yaml(DISTRIBUTION_ONLY))
        measure(cli(current, work / "distribution.json"), "gitml drift (distribution only)")
        distribution_report = json.loads((work / "distribution.json").read_text())

        evidently_run: Run | None = None
        evidently_result: list[dict[str, object]] = []
        if missing is None:
            evidently_out = work / "evidently.json"
            evidently_argv = [
                args.evidently_python, "-c", EVIDENTLY, json.dumps(list(NUMERIC)),
                json.dumps(list(CATEGORICAL)), str(reference), str(current), str(evidently_out),
            ]  # fmt: skip
            evidently_run = median_run(
                [measure(evidently_argv, "Evidently") for _ in range(args.evidently_repeats)]
            )
            evidently_result = json.loads(evidently_out.read_text())

    print_results(
        args,
        {
            "gitml drift (CLI, Parquet batch, column by column)": drift_run,
            "gitml drift (CLI, CSV copy, row chunks)": csv_run,
            "gitml drift (CLI, Parquet without scores: the model scores it)": scored_run,
            "read_batch + detect_drift (API, whole DataFrame)": frame_run,
            "gitml baseline (reference Parquet; once per model version)": baseline_run,
            "gitml baseline + drift (from raw data, like Evidently)": Run(
                baseline_run.seconds + drift_run.seconds,
                max(baseline_run.peak_mb, drift_run.peak_mb),
            ),
        },
        evidently_run,
        gitml_report,
        distribution_report,
        evidently_result,
    )
    if missing is not None:
        print(
            f"\nEvidently: not run ({missing}). Install it in its own virtualenv "
            "(python3 -m venv /tmp/evidently-venv && /tmp/evidently-venv/bin/pip install "
            'evidently "pandas<3" pyarrow) or pass --evidently-python.'
        )


def print_results(
    args: argparse.Namespace,
    runs: dict[str, Run],
    evidently_run: Run | None,
    gitml_report: dict[str, Any],
    distribution_report: dict[str, Any],
    evidently_result: list[dict[str, Any]],
) -> None:
    rows_out = list(runs.items())
    if evidently_run:
        rows_out.append(("Evidently DataDriftPreset (reference + shifted Parquet)", evidently_run))
    cells = []
    for label, run in rows_out:
        speed = memory = "–"
        if evidently_run:
            speed = f"{evidently_run.seconds / run.seconds:.1f}x"
            memory = f"{evidently_run.peak_mb / run.peak_mb:.1f}x"
        cells.append([label, f"{run.seconds:.2f}", f"{run.peak_mb:.0f}", speed, memory])
    repeats = f"median of {args.repeats} run(s) for gitml, {args.evidently_repeats} for Evidently"
    print(f"\nwall clock and peak RSS per command, as a subprocess ({repeats})")
    print(table(["command", "seconds", "peak MB", "Evidently/tool time", "Evidently/tool memory"],
                cells))  # fmt: skip
    if evidently_run:
        drift_run = rows_out[0][1]
        speedup = evidently_run.seconds / drift_run.seconds
        leaner = evidently_run.peak_mb / drift_run.peak_mb
        print(
            f"goal: gitml drift >= {GOAL_SPEEDUP:g}x faster: {speedup:.1f}x "
            f"{'PASS' if speedup >= GOAL_SPEEDUP else 'FAIL'}; "
            f">= {GOAL_MEMORY:g}x less memory: {leaner:.1f}x "
            f"{'PASS' if leaner >= GOAL_MEMORY else 'FAIL'}"
        )
    print_flagged(gitml_report, distribution_report, evidently_result)


def print_flagged(
    gitml_report: dict[str, Any],
    distribution_report: dict[str, Any],
    evidently_result: list[dict[str, Any]],
) -> None:
    """Per feature, each tool's verdict; then both lists, like with like, and the difference."""
    features = {f["name"]: f for f in gitml_report["features"]}
    distribution = {f["name"]: f for f in distribution_report["features"]}
    evidently = {str(e["column"]): e for e in evidently_result}
    print(
        "\nflagged features (gitml: status with all checks, then with its distribution checks "
        "only, with its KS or JS; Evidently: its default test)"
    )
    rows = []
    for name in (*NUMERIC, *CATEGORICAL):
        mine = features[name]
        distance = f"KS {mine['ks']:.3f}" if mine["ks"] is not None else f"JS {mine['js']:.3f}"
        theirs = "–"
        if name in evidently:
            e = evidently[name]
            short = "Wasserstein" if "Wasserstein" in str(e["method"]) else "JS"
            theirs = f"{'drift' if _flagged(e) else 'ok'} ({short} {float(e['value']):.3f})"
        rows.append(
            [
                name,
                CHANGES.get(name, "-"),
                f"{mine['status']} ({distance})",
                distribution[name]["status"],
                theirs,
            ]
        )
    print(table(["feature", "change", "gitml", "gitml (distribution)", "Evidently"], rows))
    score = gitml_report.get("score")
    if isinstance(score, dict):
        print(
            f"score (gitml only): {score['status']} (KS {score['ks']:.3f}, PSI {score['psi']:.3f})"
        )
    all_checks = sorted(gitml_report["drifted"])
    gitml_distribution = sorted(distribution_report["drifted"])
    print(f"\ngitml verdict: {gitml_report['verdict']}")
    print(f"gitml, all checks, at drift ({len(all_checks)}): {', '.join(all_checks) or '-'}")
    print(f"gitml, all checks, at warn: {', '.join(sorted(gitml_report['warned'])) or '-'}")
    print(
        f"gitml, distribution checks only ({len(gitml_distribution)}): "
        f"{', '.join(gitml_distribution) or '-'}"
    )
    extra = sorted(set(all_checks) - set(gitml_distribution))
    if extra:
        why = "; ".join(
            f"{name}: missing rate {100 * features[name]['missing_rate_reference']:.0f}% -> "
            f"{100 * features[name]['missing_rate_batch']:.0f}%"
            for name in extra
        )
        print(f"  flagged only by the missing-rate check (Evidently has none): {why}")
    if not evidently_result:
        return
    flagged = sorted(str(e["column"]) for e in evidently_result if _flagged(e))
    print(f"Evidently, distribution checks ({len(flagged)}): {', '.join(flagged) or '-'}")
    same = set(flagged) == set(gitml_distribution)
    print(f"same features flagged, distribution checks on both sides: {'yes' if same else 'no'}")
    if not same:
        only_gitml = sorted(set(gitml_distribution) - set(flagged))
        only_evidently = sorted(set(flagged) - set(gitml_distribution))
        print(f"  only gitml: {', '.join(only_gitml) or '-'}")
        print(f"  only Evidently: {', '.join(only_evidently) or '-'}")


def _flagged(result: dict[str, Any]) -> bool:
    return float(result["value"]) >= float(result["threshold"])


if __name__ == "__main__":
    main()
