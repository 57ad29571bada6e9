"""Permutation importance in the model card: it finds the generator's strong features."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from credit_example.features import FEATURES, to_features
from credit_example.generate import TARGET, default_probability, generate
from credit_example.importance import importance_section
from credit_example.params import load_params
from credit_example.prepare import stratified_split
from credit_example.train import build_pipeline
from gitml.documents import packaged_schema, schema_problems
from tests.helpers import PROJECT_ROOT

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

PARAMS = load_params(PROJECT_ROOT / "params.yaml")
RECIPE = PARAMS["data"]["batches"][0]  # the example's own data: 20,000 rows


def frame_of(data: dict[str, np.ndarray]) -> pd.DataFrame:
    """Generated columns as a prepared CSV reads back (categorical "" = missing)."""
    return to_features(pd.DataFrame({name: data[name] for name in FEATURES}))


@pytest.fixture(scope="module")
def fitted() -> tuple[Pipeline, pd.DataFrame, np.ndarray]:
    """The example's model family and params, fitted on its data's training split, with
    the held-out rows."""
    data = generate(RECIPE["rows"], RECIPE["seed"], RECIPE["shift"])
    train, test = stratified_split(
        data[TARGET], PARAMS["prepare"]["test_size"], PARAMS["prepare"]["seed"]
    )
    features, labels = frame_of(data), data[TARGET]
    model = build_pipeline(PARAMS["train"])
    with threadpool_limits(limits=1, user_api="openmp"):  # as the train stage fits
        model.fit(features.iloc[train], labels[train])
    return model, features.iloc[test].reset_index(drop=True), labels[test]


def oracle_ranking() -> list[str]:
    """Features by the AUC the generator's own default model loses when each is shuffled:
    the size of each feature's generating effect."""
    data = generate(50_000, 12345)
    labels, base = data[TARGET], roc_auc_score(data[TARGET], default_probability(data))
    rng = np.random.default_rng(0)
    loss = {}
    for name in FEATURES:
        drops = []
        for _ in range(3):
            shuffled = {**data, name: data[name][rng.permutation(len(labels))]}
            drops.append(base - roc_auc_score(labels, default_probability(shuffled)))
        loss[name] = float(np.mean(drops))
    return sorted(loss, key=lambda name: -loss[name])


def section(fitted: tuple[Pipeline, pd.DataFrame, np.ndarray]) -> dict[str, Any]:
    model, features, labels = fitted
    options = PARAMS["evaluate"]["importance"]
    return importance_section(
        model,
        features,
        labels,
        repeats=options["repeats"],
        seed=options["seed"],
        max_rows=options.get("max_rows"),
    )


def test_the_largest_generating_effects_rank_top_and_the_smallest_bottom(
    fitted: tuple[Pipeline, pd.DataFrame, np.ndarray],
) -> None:
    """Every feature drives the generator's default model (it has no pure-noise feature),
    so the check is by effect size: the oracle's ranking of what each feature carries."""
    oracle = oracle_ranking()
    found = section(fitted)["features"]
    ranked = [feature["name"] for feature in found]
    assert sorted(ranked) == sorted(FEATURES)
    # The model's top three are among the five largest generating effects (income,
    # utilisation, late payments, time since delinquency, age).
    assert set(ranked[:3]) <= set(oracle[:5]), (ranked, oracle)
    # region's offsets are at most 0.12 in log-odds: the weakest effect of all, and
    # among the model's four least important features.
    assert oracle[-1] == "region"
    assert "region" in ranked[-4:], ranked
    means = {feature["name"]: feature["mean"] for feature in found}
    assert min(means[name] for name in oracle[:2]) > means["region"] + 0.01


def test_importance_is_seeded(fitted: tuple[Pipeline, pd.DataFrame, np.ndarray]) -> None:
    first, again = section(fitted), section(fitted)
    assert json.dumps(first) == json.dumps(again)
    model, features, labels = fitted
    other = importance_section(model, features, labels, repeats=2, seed=99, max_rows=500)
    assert other["features"] != first["features"]
    assert (other["repeats"], other["seed"], other["rows"]) == (2, 99, 500)


def test_encoding_once_gives_scikit_learns_numbers_on_the_whole_pipeline(
    fitted: tuple[Pipeline, pd.DataFrame, np.ndarray],
) -> None:
    """The gradient-boosting pipeline's rows are encoded once and only the estimator
    predicts; scikit-learn's permutation_importance on the whole pipeline agrees."""
    model, features, labels = fitted
    rows, labels = features.iloc[:300], labels[:300]
    found = importance_section(model, rows, labels, repeats=2, seed=5)
    with threadpool_limits(limits=1, user_api="openmp"):
        expected = permutation_importance(
            model, rows, labels, scoring="roc_auc", n_repeats=2, random_state=5
        )
    by_name = {feature["name"]: feature for feature in found["features"]}
    for name, mean, std in zip(
        features.columns, expected.importances_mean, expected.importances_std, strict=True
    ):
        assert by_name[name]["mean"] == float(f"{mean:.6g}"), name
        assert by_name[name]["std"] == float(f"{std:.6g}"), name
    # A model whose preprocessing widens the columns (one-hot) goes through
    # scikit-learn's own loop, with the same result shape.
    logistic = build_pipeline({**PARAMS["train"], "model": "logistic_regression"})
    logistic.fit(rows, labels)
    assert len(importance_section(logistic, rows, labels, repeats=1, seed=5)["features"]) == 14


def test_the_card_section_follows_the_contract_and_validates(
    fitted: tuple[Pipeline, pd.DataFrame, np.ndarray],
) -> None:
    found = section(fitted)
    options = PARAMS["evaluate"]["importance"]
    assert {k: found[k] for k in ("method", "scoring", "repeats", "seed", "rows")} == {
        "method": "permutation",
        "scoring": "roc_auc",
        "repeats": options["repeats"],
        "seed": options["seed"],
        "rows": min(options["max_rows"], len(fitted[2])),  # a seeded sample of them
    }
    means = [feature["mean"] for feature in found["features"]]
    assert means == sorted(means, reverse=True)
    assert all(feature["std"] >= 0 for feature in found["features"])
    card = yaml.safe_load((PROJECT_ROOT / "models/credit.card.yaml").read_text())
    card["importance"] = found
    schema = packaged_schema("model_card.schema.json")
    assert schema_problems(card, schema, "card") == []
    # The card the pipeline wrote validates too, and its importance is of every feature.
    written = yaml.safe_load((PROJECT_ROOT / "models/credit.card.yaml").read_text())
    assert schema_problems(written, schema, "card") == []
    assert sorted(f["name"] for f in written["importance"]["features"]) == sorted(FEATURES)
    broken = {**card, "importance": {**found, "features": [{"name": "age"}]}}
    assert schema_problems(broken, schema, "card") != []
