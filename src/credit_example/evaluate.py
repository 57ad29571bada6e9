"""Stage ``evaluate``: score the held-out split and write metrics, plots, signature and card.

Everything written here is small and git-tracked (``cache: false`` in dvc.yaml), so any
revision's metrics can be read from git alone.
"""

from __future__ import annotations

import gc
import json
import platform
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from credit_example.features import FEATURES, load_xy
from credit_example.generate import FEATURES_CATEGORICAL, TARGET
from credit_example.importance import importance_section
from credit_example.io import atomic_write_text, file_md5, rounded, write_json, write_yaml
from credit_example.train import MODEL_PATH, TRAIN_CSV
from gitml.config import config_from_document
from gitml.errors import ConfigError
from gitml.fairness import gap_metrics, segment_report
from gitml.monitor.baseline import compute_baseline, write_baseline
from gitml.signature import signature_from_text
from gitml.storage import load_model

if TYPE_CHECKING:
    from gitml.config import FairnessConfig

TEST_CSV = Path("prepared/test.csv")
METRICS_PATH = Path("metrics/credit.json")
PLOTS_DIR = Path("metrics/plots")
SIGNATURE_PATH = Path("models/credit.signature.json")
CARD_PATH = Path("models/credit.card.yaml")
BASELINE_PATH = Path("models/credit.baseline.json")
CONFIG_PATH = Path("gitml.yaml")
MODEL_NAME = "credit"  # the model's name in gitml.yaml
MAX_CURVE_POINTS = 200
# Age bands for the fairness segments (age itself is a feature; lending rules care about
# bands). Decades from 25, with 55+ together: at the 4,000-row demo size the smallest
# band still has 80+ held-out rows, where a 65+ band would have under 30.
AGE_BANDS: tuple[tuple[float, str], ...] = (
    (25, "<25"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (float("inf"), "55+"),
)
# Defaults when params.yaml leaves evaluate.fairness / evaluate.importance out.
DEFAULT_FAIRNESS = {"resamples": 200, "seed": 11}
DEFAULT_IMPORTANCE = {"repeats": 2, "seed": 13, "max_rows": 600}

INTENDED_USE = (
    "Rank consumer-loan applicants by their probability of defaulting within 12 months, "
    "to support (not replace) a credit officer's decision. Trained on synthetic data: "
    "a demonstration of the gitml workflow, not a production credit policy."
)
LIMITATIONS = [
    "Synthetic applicants from credit_example.generate; real portfolios differ.",
    "Fairness is measured across region, home ownership and age band (selection rate, "
    "TPR, FPR, ROC AUC and calibration per group, with bootstrap intervals) on synthetic "
    "applicants only; region and age are model features, and the gates bound the gaps "
    "rather than remove them. Protected attributes a real lender must check are not in "
    "the data.",
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


def age_band(age: pd.Series) -> pd.Series:
    """The age band of each applicant (``<25`` ... ``55+``); missing age gives no band."""
    bands = pd.Series(np.nan, index=age.index, dtype=object)
    lower = -np.inf
    for upper, name in AGE_BANDS:
        bands[(age >= lower) & (age < upper)] = name
        lower = upper
    return bands


def segment_rows(features: pd.DataFrame) -> pd.DataFrame:
    """The held-out rows with the columns fairness segments may name: every feature and
    the derived ``age_band``."""
    return features.assign(age_band=age_band(features["age"]))


def fairness_config() -> FairnessConfig | None:
    """The ``fairness:`` of the model in ``gitml.yaml`` (None: not measured).

    Parsed with libyaml and handed to gitml's config API, which validates it: gitml's
    own reader keeps line numbers for its messages and takes a tenth of the stage's
    time budget, and ``gitml validate`` points at lines anyway.
    """
    text = CONFIG_PATH.read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        detail = str(error).splitlines()[0]
        raise ConfigError(
            f"{CONFIG_PATH}: not valid YAML ({detail}); run gitml validate"
        ) from error
    model = config_from_document(document or {}, str(CONFIG_PATH)).models.get(MODEL_NAME)
    return model.fairness if model else None


def importance_limitation(section: dict[str, Any]) -> str:
    """What the card's permutation importance can and cannot say, with its sample size."""
    return (
        f"Permutation importance is measured on {section['rows']} held-out rows with "
        f"{section['repeats']} repeat(s), to keep evaluation fast: the leading features are "
        "stable, differences within a feature's std are not. It shows what this model "
        "relies on, not causes of default; correlated features share their effect."
    )


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
    # Everything so far (imported libraries, the model) lives until the stage ends: moved
    # out of the collector's sight, a burst of allocations later (fairness, curves) no
    # longer triggers full collections that scan millions of long-lived objects.
    gc.freeze()
    quality = quality_metrics(test_labels, scores, threshold)
    size = MODEL_PATH.stat().st_size
    gaps: dict[str, Any] = {}
    fairness = fairness_config()
    if fairness is not None:
        options = {**DEFAULT_FAIRNESS, **params["evaluate"].get("fairness", {})}
        report = segment_report(
            segment_rows(test_features),
            test_labels,
            scores,
            threshold,
            fairness,
            resamples=options["resamples"],
            seed=options["seed"],
            model=MODEL_NAME,
        )
        if fairness.report:
            write_json(fairness.report, report)
        gaps = gap_metrics(report)
    metrics = rounded({**quality, **gaps, "model_size_bytes": size})
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
    importance = {**DEFAULT_IMPORTANCE, **params["evaluate"].get("importance", {})}
    card_importance = importance_section(
        model,
        test_features,
        test_labels,
        repeats=importance["repeats"],
        seed=importance["seed"],
        max_rows=importance.get("max_rows"),
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
        "importance": card_importance,
        "limitations": [*LIMITATIONS, importance_limitation(card_importance)],
        "software": software_versions(),
    }
    write_yaml(CARD_PATH, card)
    return metrics
