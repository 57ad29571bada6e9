"""NannyML's CBPE on CSV files; run by install.run_cbpe in the oracle's virtualenv.

    python estimate.py JOB.json

JOB.json: ``{"cases": [CASE, ...]}``, each CASE
``{"name", "reference": CSV, "analysis": CSV, "chunk_size": int,
"calibration": "isotonic" | "none", "repeat": int}``. Both CSV files have the columns
``score`` (the model's score), ``prediction`` (0/1 at the decision threshold) and
``label`` (0/1; the analysis file's is not read). ``calibration: none`` gives NannyML a
calibrator that changes nothing, so its estimate takes the scores as probabilities.
The analysis file is estimated ``repeat`` times (default 1), each timed.

Prints ``{"nannyml": VERSION, "cases": {NAME: {"needs_calibration": bool,
"chunks": [{"start", "end", "roc_auc", "accuracy"}, ...], "estimate_seconds": [...]}}}``
(chunks of the analysis data only, in order; ``end`` inclusive, as NannyML counts).

This file runs under the oracle's Python only, never imports gitml.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from typing import Any


def _case(nml: Any, case: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd
    from nannyml.calibration import NoopCalibrator

    reference = pd.read_csv(case["reference"])
    analysis = pd.read_csv(case["analysis"]).drop(columns=["label"])
    options: dict[str, Any] = {}
    if case.get("calibration", "isotonic") == "none":
        options["calibrator"] = NoopCalibrator()
    estimator = nml.CBPE(
        problem_type="classification_binary",
        y_pred_proba="score",
        y_pred="prediction",
        y_true="label",
        metrics=["roc_auc", "accuracy"],
        chunk_size=case["chunk_size"],
        **options,
    )
    estimator.fit(reference)
    seconds = []
    result = None
    for _ in range(int(case.get("repeat", 1))):
        started = time.perf_counter()
        result = estimator.estimate(analysis)
        seconds.append(time.perf_counter() - started)
    assert result is not None
    frame = result.to_df()
    frame = frame[frame[("chunk", "period")] == "analysis"]
    chunks = [
        {
            "start": int(row[("chunk", "start_index")]),
            "end": int(row[("chunk", "end_index")]),
            "roc_auc": float(row[("roc_auc", "value")]),
            "accuracy": float(row[("accuracy", "value")]),
        }
        for _, row in frame.iterrows()
    ]
    return {
        "needs_calibration": bool(estimator.needs_calibration),
        "chunks": chunks,
        "estimate_seconds": seconds,
    }


def main() -> None:
    """Read the job, run every case, print the JSON answer."""
    with open(sys.argv[1], encoding="utf-8") as stream:
        job = json.load(stream)
    warnings.simplefilter("ignore")  # "too few chunks" and similar advice
    import nannyml as nml

    answer = {
        "nannyml": nml.__version__,
        "cases": {case["name"]: _case(nml, case) for case in job["cases"]},
    }
    sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
