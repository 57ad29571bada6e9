"""Stage ``evaluate``: score the held-out split and write metrics, plots, signature and card.

Everything written here is small and git-tracked (``cache: false`` in dvc.yaml), so any
revision's metrics can be read from git alone.
"""

from __future__ import annotations

import json
import platform
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from credit_example.features import FEATURES, load_xy
from credit_example.generate import FEATURES_CATEGORICAL, TARGET
from credit_example.io import atomic_write_text, file_md5, rounded, write_json, write_yaml
from credit_example.train import MODEL_PATH, TRAIN_CSV
from gitml.monitor.baseline import compute_baseline, write_baseline
from gitml.signature import signature_from_text
from gitml.storage import load_model

if TYPE_CHECKING:
    import pandas as pd

TEST_CSV = Path("prepared/test.csv")
METRICS_PATH = Path("metrics/credit.json")
PLOTS_DIR = Path("metrics/plots")
SIGNATURE_PATH = Path("models/credit.signature.json")
CARD_PATH = Path("models/credit.card.yaml")
BASELINE_PATH = Path("models/credit.baseline.json")
MAX_CURVE_POINTS = 200

INTENDED_USE = (
    "Rank consumer-loan applicants by their probability of defaulting within 12 months, "
    "to support (not replace) a credit officer's decision. Trained on synthetic data: "
    "a demonstration of the gitml workflow, not a production credit policy."
)
LIMITATIONS = [
    "Synthetic applicants from credit_example.generate; real portfolios differ.",
    "Not assessed for fairness across protected groups; region is used as a feature.",
    "Scores drift when the economy shifts (see the generator's `shift`): monitor and retrain.",
    "The decision threshold trades recall for precision and belongs to the credit policy.",
]


def thin(points: list[dict[str, float]], limit: int = MAX_CURVE_POINTS) -> list[dict[str, float]]:
    """At most ``limit`` evenly spaced points of a curve, first and last kept."""
    if len(points) <= limit:
        return points
    keep = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    return [points[i] for i in keep]


def quality_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Ranking, probability and decision metrics of ``scores`` against ``labels``."""
    decisions = (scores >= threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(labels, decisions, labels=[0, 1]).ravel()
    return {
        "roc_auc": float(skm.roc_auc_score(labels, scores)),
        "average_precision": float(skm.average_precision_score(labels, scores)),
        "log_loss": float(skm.log_loss(labels, scores, labels=[0, 1])),
        "brier_score": float(skm.brier_score_loss(labels, scores)),
        "accuracy": float(skm.accuracy_score(labels, decisions)),
        "precision": float(skm.precision_score(labels, decisions, zero_division=0)),
        "recall": float(skm.recall_score(labels, decisions, zero_division=0)),
        "f1": float(skm.f1_score(labels, decisions, zero_division=0)),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }


def plot_data(labels: np.ndarray, scores: np.ndarray, threshold: float, bins: int) -> None:
    """ROC, precision-recall, calibration (JSON) and confusion (CSV) in DVC's plot formats."""
    fpr, tpr, roc_thresholds = skm.roc_curve(labels, scores)
    roc = [
        {"fpr": float(f), "tpr": float(t), "threshold": float(min(th, 1.0))}
        for f, t, th in zip(fpr, tpr, roc_thresholds, strict=True)
    ]
    precision, recall, pr_thresholds = skm.precision_recall_curve(labels, scores)
    pr = [
        {"recall": float(r), "precision": float(p), "threshold": float(th)}
        for p, r, th in zip(precision[:-1], recall[:-1], pr_thresholds, strict=True)
    ]
    observed, predicted = calibration_curve(labels, scores, n_bins=bins, strategy="quantile")
    calibration = [
        {"predicted": float(p), "observed": float(o)}
        for p, o in zip(predicted, observed, strict=True)
    ]
    write_json(PLOTS_DIR / "roc.json", {"roc": rounded(thin(roc), 5)})
    write_json(PLOTS_DIR / "pr.json", {"pr": rounded(thin(pr), 5)})
    write_json(PLOTS_DIR / "calibration.json", {"calibration": rounded(calibration, 5)})
    decisions = (scores >= threshold).astype(int)
    rows = "".join(f"{a},{d}\n" for a, d in zip(labels, decisions, strict=True))
    atomic_write_text(PLOTS_DIR / "confusion.csv", "actual,predicted\n" + rows)


def signature(train_features: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """The feature schema observed in training, plus the decision threshold."""
    features = []
    for name in FEATURES:
        column = train_features[name]
        missing_rate = float(column.isna().mean())
        entry: dict[str, Any] = {"name": name, "nullable": missing_rate > 0}
        entry["missing_rate"] = round(missing_rate, 6)
        if name in FEATURES_CATEGORICAL:
            entry["type"] = "category"
            entry["categories"] = sorted(str(v) for v in column.dropna().unique())
        else:
            present = column.dropna()
            integral = bool((present == present.round()).all())
            entry["type"] = "integer" if integral else "number"
            entry["min"] = float(present.min())
            entry["max"] = float(present.max())
        features.append(dict(sorted(entry.items())))
    return {
        "name": "credit",
        "target": TARGET,
        "positive_label": 1,
        "threshold": threshold,
        "features": features,
    }


def software_versions() -> dict[str, str]:
    """Versions of what made the model's bytes (recorded in the card)."""
    names = ("scikit-learn", "skops", "numpy", "pandas", "scipy")
    return {"python": platform.python_version(), **{name: version(name) for name in names}}


def evaluate(params: dict[str, Any]) -> dict[str, Any]:
    """Score ``prepared/test.csv`` with the trained model; write every evaluate output."""
    threshold = params["evaluate"]["threshold"]
    model_md5 = file_md5(MODEL_PATH)
    model = load_model(MODEL_PATH, expected_md5=model_md5)
    test_features, test_labels = load_xy(TEST_CSV)
    train_features, train_labels = load_xy(TRAIN_CSV)
    scores = model.predict_proba(test_features)[:, 1]
    quality = quality_metrics(test_labels, scores, threshold)
    size = MODEL_PATH.stat().st_size
    metrics = rounded({**quality, "model_size_bytes": size})
    write_json(METRICS_PATH, metrics)
    plot_data(test_labels, scores, threshold, params["evaluate"].get("calibration_bins", 10))
    signature_data = signature(train_features, threshold)
    write_json(SIGNATURE_PATH, signature_data)
    # The drift baseline travels with the model version: inputs and scores on held-out rows.
    model_signature = signature_from_text(json.dumps(signature_data), str(SIGNATURE_PATH))
    write_baseline(
        BASELINE_PATH,
        compute_baseline(test_features, model_signature, scores, labels=test_labels),
    )
    card = {
        "name": "credit",
        "description": "Probability that a loan applicant defaults within 12 months.",
        "intended_use": INTENDED_USE,
        "model": {
            "path": str(MODEL_PATH),
            "md5": model_md5,
            "size_bytes": size,
            "family": params["train"]["model"],
            "format": "skops",
        },
        "training_data": {
            "path": str(TRAIN_CSV),
            "md5": file_md5(TRAIN_CSV),
            "rows": len(train_labels),
            "positive_rate": round(float(train_labels.mean()), 6),
        },
        "evaluation_data": {
            "path": str(TEST_CSV),
            "md5": file_md5(TEST_CSV),
            "rows": len(test_labels),
            "positive_rate": round(float(test_labels.mean()), 6),
        },
        "params": {"train": params["train"], "evaluate": params["evaluate"]},
        "metrics": {k: v for k, v in metrics.items() if not isinstance(v, dict)},
        "limitations": LIMITATIONS,
        "software": software_versions(),
    }
    write_yaml(CARD_PATH, card)
    return metrics
