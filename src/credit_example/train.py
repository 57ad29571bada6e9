"""Stage ``train``: fit the scikit-learn Pipeline chosen in ``params.yaml`` and save it.

The model is written through :func:`gitml.storage.save_model`, a canonical skops file, so
the same data, params and code give the same bytes (and the same registry version).
Timings go to their own metrics file: they change on every run.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from credit_example.features import load_xy
from credit_example.generate import FEATURES_CATEGORICAL, FEATURES_NUMERIC
from credit_example.io import rounded, write_json
from gitml.storage import save_model

TRAIN_CSV = Path("prepared/train.csv")
MODEL_PATH = Path("models/credit.skops")
TIMING_PATH = Path("metrics/credit_timing.json")
LATENCY_ROWS = 1000
LATENCY_REPEATS = 7


def build_pipeline(train_params: dict[str, Any]) -> Pipeline:
    """The preprocessing + estimator Pipeline for the model family in ``train_params``."""
    family = train_params["model"]
    seed = train_params["seed"]
    numeric, categorical = list(FEATURES_NUMERIC), list(FEATURES_CATEGORICAL)
    if family == "logistic_regression":
        options = train_params.get("logistic_regression") or {}
        preprocess = ColumnTransformer(
            [
                (
                    "numeric",
                    Pipeline(
                        [
                            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                            ("scale", StandardScaler()),
                        ]
                    ),
                    numeric,
                ),
                (
                    "categorical",
                    Pipeline(
                        [
                            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                            ("encode", OneHotEncoder(handle_unknown="ignore")),
                        ]
                    ),
                    categorical,
                ),
            ]
        )
        estimator: Any = LogisticRegression(
            C=options.get("C", 1.0),
            max_iter=options.get("max_iter", 2000),
            class_weight=options.get("class_weight"),
            random_state=seed,
        )
    elif family == "hist_gradient_boosting":
        options = train_params.get("hist_gradient_boosting") or {}
        # Categories become ordinal codes the booster splits on natively; NaN stays
        # NaN (missing) and unseen categories at prediction time become missing too.
        preprocess = ColumnTransformer(
            [
                ("numeric", "passthrough", numeric),
                (
                    "categorical",
                    OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
                    categorical,
                ),
            ]
        )
        estimator = HistGradientBoostingClassifier(
            learning_rate=options.get("learning_rate", 0.1),
            max_iter=options.get("max_iter", 200),
            max_leaf_nodes=options.get("max_leaf_nodes", 31),
            max_depth=options.get("max_depth"),
            min_samples_leaf=options.get("min_samples_leaf", 20),
            l2_regularization=options.get("l2_regularization", 0.0),
            early_stopping=options.get("early_stopping", False),
            categorical_features=[False] * len(numeric) + [True] * len(categorical),
            random_state=seed,
        )
    else:  # the params schema rejects this first; kept for direct API callers
        raise ValueError(f"params.yaml: train.model: unknown model family {family!r}")
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def prediction_ms_per_1k(model: Pipeline, features: Any) -> float:
    """Median wall time, in ms, of ``predict_proba`` on 1,000 rows."""
    sample = features.iloc[:LATENCY_ROWS]
    scale = 1000 / len(sample)
    times = []
    for _ in range(LATENCY_REPEATS):
        start = time.perf_counter()
        model.predict_proba(sample)
        times.append((time.perf_counter() - start) * 1000 * scale)
    return statistics.median(times)


def train(params: dict[str, Any]) -> dict[str, float]:
    """Fit, save the model and the timing metrics; return the timings."""
    features, labels = load_xy(TRAIN_CSV)
    model = build_pipeline(params["train"])
    start = time.perf_counter()
    # One OpenMP thread: HistGradientBoosting sums histograms in parallel, and the float
    # summation order changes with the thread count, so without this the model bytes (and
    # the registry version) would depend on how many cores the machine has.
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(features, labels)
    train_seconds = time.perf_counter() - start
    MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, MODEL_PATH)
    timing = {
        "train_seconds": train_seconds,
        "predict_ms_per_1k_rows": prediction_ms_per_1k(model, features),
    }
    write_json(TIMING_PATH, rounded(timing, 4))
    return timing
