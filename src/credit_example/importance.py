"""Permutation importance of the fitted model on held-out rows, as the model card records it.

A feature's importance is how much the ROC AUC drops when its column is shuffled (the
link between that feature and the label broken, its distribution kept): scikit-learn's
``permutation_importance``, seeded, so the same model and rows give the same card. It
measures what this model relies on, not what drives defaults in the world: two
correlated features can share (and so each understate) an effect.

It predicts once per feature and repeat. When the model's preprocessing turns each
input column into one output column by its values alone (passthrough, ordinal codes: the
gradient-boosting family), shuffling an input column is shuffling its output column, so
the rows are encoded once and only the estimator predicts: the same numbers as on the
whole pipeline (tests check them equal), without re-encoding for every prediction.

To keep the evaluate stage within its time budget the measurement may use a seeded
sample of the held-out rows (``max_rows``); the repeats give the spread. (Not
scikit-learn's ``max_samples``: that scores the unshuffled baseline on every row and the
shuffled ones on the sample, so the sample's own luck would shift every importance alike.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

from credit_example.io import rounded

if TYPE_CHECKING:
    import pandas as pd

SCORING = "roc_auc"


def importance_section(
    model: Any,
    features: pd.DataFrame,
    labels: np.ndarray,
    *,
    repeats: int,
    seed: int,
    max_rows: int | None = None,
) -> dict[str, Any]:
    """The card's ``importance:`` section: every feature's mean and std decrease in ROC AUC.

    Measured on all held-out rows, or on ``max_rows`` of them drawn with ``seed``;
    ``rows`` says how many. Features are sorted by mean decrease, largest first (ties by
    name).
    """
    if max_rows is not None and max_rows < len(labels):
        chosen = np.sort(np.random.default_rng(seed).choice(len(labels), max_rows, replace=False))
        features, labels = features.iloc[chosen], labels[chosen]
    estimator, inputs = _columnwise_split(model, features) or (model, features)
    # One OpenMP thread: each of the many small predictions would otherwise wake a
    # thread team, and on a busy machine (a CI runner, a test run) those threads spin
    # waiting for cores and a second of work becomes a minute.
    with threadpool_limits(limits=1, user_api="openmp"):
        result = permutation_importance(
            estimator, inputs, labels, scoring=SCORING, n_repeats=repeats, random_state=seed
        )
    entries = [
        {"name": str(name), "mean": rounded(float(mean)), "std": rounded(float(std))}
        for name, mean, std in zip(
            features.columns, result.importances_mean, result.importances_std, strict=True
        )
    ]
    entries.sort(key=lambda entry: (-entry["mean"], entry["name"]))
    return {
        "method": "permutation",
        "scoring": SCORING,
        "repeats": repeats,
        "seed": seed,
        "rows": len(labels),
        "features": entries,
    }


def _columnwise_split(model: Any, features: pd.DataFrame) -> tuple[Any, Any] | None:
    """(final estimator, transformed rows) when ``model`` is a Pipeline whose one
    preprocessing step maps each column of ``features``, in order, to one output column
    by value (passthrough or ordinal codes); None otherwise."""
    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        return None
    preprocess = model.steps[0][1]
    if not isinstance(preprocess, ColumnTransformer) or preprocess.remainder != "drop":
        return None
    order: list[str] = []
    for _, transformer, columns in preprocess.transformers:  # as declared, not as fitted
        if not (transformer == "passthrough" or isinstance(transformer, OrdinalEncoder)):
            return None
        order.extend(columns)
    if order != list(features.columns):
        return None
    return model.steps[1][1], preprocess.transform(features)
