"""Benchmark: CBPE of one window (gitml.monitor.cbpe) against NannyML's, on the same data.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/cbpe.py [--repeats N] [--nannyml-repeats N] [--quick]
                                   [--no-nannyml]

The data are the example generator's applicants with their true default probability as
the model's score, calibrated (the identity would do; a map is fitted anyway, so the
timing includes applying one) by an isotonic map fitted on a 20,000-row reference
sample, as a version's baseline carries it. Per window size (5,000 rows: the canary's
and the issue's goal; 100,000 for scale) it times, in one process each:

* gitml: ``estimate_performance(scores, threshold, calibration)`` (expected ROC AUC,
  accuracy and log loss), ``--repeats`` runs after one warm-up;
* NannyML 0.13.1 (the anchor): ``CBPE.estimate`` on the same window as one chunk
  (calibration, expected ROC AUC and accuracy), fitted once on the same reference,
  ``--nannyml-repeats`` runs in the oracle virtualenv the tests use
  (tests/oracles/nannyml, installed on first use; ``--no-nannyml`` skips it).

A figure is the median of the runs, wall clock (``time.perf_counter``), imports and
fitting excluded on both sides. The table also shows both tools' estimates, which must
agree. Goal (issue 20): a window of 5,000 predictions under 50 ms. The exit code is 0
either way (a benchmark reports).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from credit_example.generate import TARGET, default_probability, generate  # noqa: E402
from gitml.monitor.cbpe import (  # noqa: E402
    Calibration,
    PerformanceEstimate,
    estimate_performance,
    fit_calibration,
)

if TYPE_CHECKING:
    import numpy as np

THRESHOLD = 0.25
REFERENCE_ROWS = 20_000
GOAL_ROWS = 5_000
GOAL_SECONDS = 0.050


def _scored(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = generate(rows, seed=seed)
    return default_probability(data), data[TARGET]


def _time_gitml(
    scores: np.ndarray, calibration: Calibration, repeats: int
) -> tuple[list[float], PerformanceEstimate]:
    estimate = estimate_performance(scores, THRESHOLD, calibration)  # warm-up
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        estimate_performance(scores, THRESHOLD, calibration)
        seconds.append(time.perf_counter() - started)
    return seconds, estimate


def _csv(path: Path, scores: np.ndarray, labels: np.ndarray) -> str:
    frame = pd.DataFrame(
        {"score": scores, "prediction": (scores >= THRESHOLD).astype(int), "label": labels}
    )
    frame.to_csv(path, index=False, float_format="%.17g")
    return str(path)


def _time_nannyml(
    reference: tuple[np.ndarray, np.ndarray],
    windows: dict[int, tuple[np.ndarray, np.ndarray]],
    repeats: int,
    workdir: Path,
) -> dict[int, dict[str, Any]]:
    from tests.oracles.nannyml.install import run_cbpe

    reference_csv = _csv(workdir / "reference.csv", *reference)
    cases = [
        {
            "name": str(rows),
            "reference": reference_csv,
            "analysis": _csv(workdir / f"window-{rows}.csv", *window),
            "chunk_size": rows,
            "calibration": "isotonic",
            "repeat": repeats,
        }
        for rows, window in windows.items()
    ]
    answer = run_cbpe({"cases": cases}, workdir / "oracle")
    return {int(name): case for name, case in answer["cases"].items()}


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def main() -> None:
    """Measure, print the table and the goal's verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="gitml runs per size")
    parser.add_argument("--nannyml-repeats", type=int, default=20, help="NannyML runs per size")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 and 3 runs")
    parser.add_argument("--no-nannyml", action="store_true", help="time gitml only")
    args = parser.parse_args()
    repeats, nannyml_repeats = (20, 3) if args.quick else (args.repeats, args.nannyml_repeats)

    reference = _scored(REFERENCE_ROWS, seed=1)
    calibration = fit_calibration(*reference)
    windows = {GOAL_ROWS: _scored(GOAL_ROWS, seed=2), 100_000: _scored(100_000, seed=3)}
    ours = {rows: _time_gitml(w[0], calibration, repeats) for rows, w in windows.items()}
    theirs: dict[int, dict[str, Any]] = {}
    note = ""
    if not args.no_nannyml:
        with tempfile.TemporaryDirectory(prefix="gitml-bench-cbpe-") as tmp:
            try:
                theirs = _time_nannyml(reference, windows, nannyml_repeats, Path(tmp))
            except (RuntimeError, OSError) as error:
                note = f"NannyML not run: {str(error).splitlines()[0]}"

    header = ["rows", "gitml ms", "NannyML ms", "NannyML/gitml", "ROC AUC gitml", "NannyML"]
    header += ["accuracy gitml", "NannyML"]
    rows = []
    for size, (seconds, estimate) in ours.items():
        mine = statistics.median(seconds)
        other = theirs.get(size)
        anchor = statistics.median(other["estimate_seconds"]) if other else None
        chunk = other["chunks"][0] if other else None
        rows.append(
            [
                f"{size:,}",
                _ms(mine),
                _ms(anchor) if anchor is not None else "-",
                f"{anchor / mine:.0f}x" if anchor is not None else "-",
                f"{estimate.roc_auc:.5f}",
                f"{chunk['roc_auc']:.5f}" if chunk else "-",
                f"{estimate.accuracy:.5f}",
                f"{chunk['accuracy']:.5f}" if chunk else "-",
            ]
        )
    print(
        f"CBPE per window: median of {repeats} gitml runs, {nannyml_repeats} NannyML runs "
        f"(calibration map: {len(calibration.scores)} knots from {REFERENCE_ROWS:,} rows)"
    )
    print(_table(header, rows))
    if note:
        print(note)
    goal = statistics.median(ours[GOAL_ROWS][0])
    verdict = "PASS" if goal < GOAL_SECONDS else "FAIL"
    print(f"goal: {GOAL_ROWS:,} predictions under 50 ms: {_ms(goal)} ms {verdict}")


if __name__ == "__main__":
    main()
