"""Small, fully specified repositories for report tests: base and head file sets.

Each case is committed as two commits with fixed dates and identity, so commit shas —
and so the golden markdown — are the same on every machine.
"""

from __future__ import annotations

import json
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import yaml

from gitml.monitor.baseline_file import baseline_text, rounded
from tests.helpers import git, run

if TYPE_CHECKING:
    from pathlib import Path

CONFIG = {
    "models": {
        "credit": {
            "artifact": "models/credit.skops",
            "metrics": ["metrics/credit.json"],
            "operational_metrics": ["metrics/timing.json"],
            "operational_keys": ["model_size_bytes"],
            "plots": "metrics/plots",
        }
    },
    "metrics": {
        "roc_auc": "higher",
        "log_loss": "lower",
        "f1": "higher",
        "model_size_bytes": "lower",
        "train_seconds": "lower",
    },
}
PARAMS = {"train": {"model": "hgb", "learning_rate": 0.06, "max_iter": 250}}


def lock(md5: str) -> str:
    return yaml.safe_dump(
        {
            "schema": "2.0",
            "stages": {
                "train": {
                    "cmd": "python train.py",
                    "outs": [{"path": "models/credit.skops", "md5": md5, "size": 1000}],
                }
            },
        }
    )


def pointer(md5: str, size: int, nfiles: int) -> str:
    return yaml.safe_dump(
        {"outs": [{"md5": f"{md5}.dir", "size": size, "nfiles": nfiles, "path": "data"}]}
    )


def roc(shape: float) -> str:
    points = [{"fpr": i / 10, "tpr": min(1.0, (i / 10) ** shape)} for i in range(11)]
    return json.dumps({"roc": points})


def files(
    metrics: dict | None,
    *,
    md5: str = "a" * 32,
    params: dict | None = None,
    data: tuple[str, int, int] = ("d" * 32, 1_470_000, 1),
    timing: dict | None = None,
    config: dict | None = None,
    shape: float = 0.5,
    baseline: dict[str, Any] | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The files of one side; ``metrics=None`` leaves the model out entirely; ``extra``
    adds files (a segment report, a model card)."""
    out = {
        "params.yaml": yaml.safe_dump(params if params is not None else PARAMS),
        "data.dvc": pointer(*data),
    }
    if metrics is not None:
        out["gitml.yaml"] = yaml.safe_dump(config or CONFIG, sort_keys=False)
        out["metrics/credit.json"] = json.dumps(metrics)
        out["metrics/timing.json"] = json.dumps(timing or {"train_seconds": 3.1})
        out["dvc.lock"] = lock(md5)
        out["metrics/plots/roc.json"] = roc(shape)
    if baseline is not None:
        out["models/credit.baseline.json"] = baseline_text(baseline)
    out.update(extra or {})
    return out


MODEL: dict[str, Any] = CONFIG["models"]["credit"]  # type: ignore[index]
BASELINE_CONFIG = {
    "models": {"credit": {**MODEL, "baseline": "models/credit.baseline.json"}},
    "metrics": CONFIG["metrics"],
}


def numeric(mean: float, std: float, present: int, rows: int) -> dict[str, Any]:
    """A numeric baseline entry of a normal distribution, quantiles from its inverse CDF."""
    dist = NormalDist(mean, std)
    # The grid's ends stand for the sample's minimum and maximum.
    probabilities = [min(max(k / 100, 0.001), 0.999) for k in range(101)]
    quantiles = [rounded(dist.inv_cdf(p)) for p in probabilities]
    edges = [rounded(dist.inv_cdf(k / 10)) for k in range(1, 10)]
    stats = {"mean": mean, "std": std, "min": quantiles[0], "max": quantiles[-1]}
    for key, p in (("p01", 1), ("p05", 5), ("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95)):
        stats[key] = quantiles[p]
    stats["p99"] = quantiles[99]
    return {
        "kind": "numeric",
        "type": "number",
        "present": present,
        "missing_rate": rounded((rows - present) / rows),
        "edges": edges,
        "fractions": [0.1] * 10,
        "quantiles": quantiles,
        "stats": stats,
    }


def categorical(frequencies: dict[str, float], present: int, rows: int) -> dict[str, Any]:
    return {
        "kind": "categorical",
        "type": "category",
        "present": present,
        "missing_rate": rounded((rows - present) / rows),
        "frequencies": dict(sorted(frequencies.items())),
    }


def baseline(
    rows: int,
    *,
    income: float = 52_000.0,
    rate: float = 0.12,
    regions: dict[str, float] | None = None,
    score: float = 0.12,
    present: float = 0.97,
) -> dict[str, Any]:
    """A small valid baseline; the arguments move one distribution each."""
    regions = regions or {"central": 0.5, "north": 0.3, "south": 0.2}
    return {
        "version": 1,
        "model": "credit",
        "rows": rows,
        "bins": 10,
        "features": {
            "annual_income": numeric(income, 15_000.0, round(rows * present), rows),
            "interest_rate": numeric(rate, 0.03, rows, rows),
            "region": categorical(regions, rows, rows),
        },
        "score": numeric(score, 0.08, rows, rows),
    }


FAIRNESS_CONFIG = {
    "models": {
        "credit": {
            **MODEL,
            "card": "models/credit.card.yaml",
            "fairness": {
                "segments": ["region", "age_band"],
                "report": "metrics/credit_segments.json",
                "min_group_rows": 30,
            },
        }
    },
    "metrics": CONFIG["metrics"],
}
GROUP_METRICS = ("selection_rate", "tpr", "fpr", "roc_auc", "calibration_gap")


def estimate(value: float | None, width: float = 0.02) -> dict[str, float | None]:
    """A figure with a symmetric interval (all null when it cannot be computed)."""
    if value is None:
        return {"value": None, "low": None, "high": None}
    return {"value": value, "low": round(value - width, 4), "high": round(value + width, 4)}


def group(rows: int, positives: int, values: tuple[float | None, ...]) -> dict[str, Any]:
    metrics = {name: estimate(value) for name, value in zip(GROUP_METRICS, values, strict=True)}
    return {"rows": rows, "positives": positives, "metrics": metrics}


def segments(regions: dict[str, dict[str, Any]], region_gaps: tuple[float, float, float]) -> str:
    """A segment report (the pipeline's format) for two columns, region and age band."""
    gap_names = (
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
    )
    ages = {
        "18-29": group(900, 160, (0.21, 0.62, 0.12, 0.79, 0.02)),
        "30-49": group(2400, 360, (0.18, 0.64, 0.10, 0.81, 0.01)),
        "50+": group(1700, 220, (0.16, 0.61, 0.09, 0.80, 0.015)),
    }
    report = {
        "format": 1,
        "threshold": 0.25,
        "confidence": 0.95,
        "bootstrap": {"resamples": 200, "seed": 11},
        "rows": 5000,
        "segments": {
            "region": {
                "groups": regions,
                "gaps": {
                    name: estimate(value)
                    for name, value in zip(gap_names, region_gaps, strict=True)
                },
            },
            "age_band": {
                "groups": ages,
                "gaps": {
                    name: estimate(value)
                    for name, value in zip(gap_names, (0.05, 0.76, 0.03), strict=True)
                },
            },
        },
    }
    return json.dumps(report)


def card(features: list[tuple[str, float]]) -> str:
    """A model card with permutation importance (the pipeline's format)."""
    return yaml.safe_dump(
        {
            "model": "credit",
            "evaluation_data": {"rows": 5000},
            "importance": {
                "method": "permutation",
                "scoring": "roc_auc",
                "repeats": 5,
                "seed": 13,
                "rows": 5000,
                "features": [{"name": n, "mean": m, "std": 0.002} for n, m in features],
            },
        },
        sort_keys=False,
    )


BASE = {"roc_auc": 0.8123, "log_loss": 0.2765, "f1": 0.48, "model_size_bytes": 1_039_630}

CASES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "improved": (
        files(BASE),
        files(
            {**BASE, "roc_auc": 0.8234, "log_loss": 0.2701},
            md5="b" * 32,
            params={"train": {**PARAMS["train"], "learning_rate": 0.1}},
            timing={"train_seconds": 2.9},
            shape=0.4,
        ),
    ),
    "regressed": (
        files(BASE),
        files({**BASE, "roc_auc": 0.7912, "f1": 0.41}, md5="b" * 32, shape=0.6),
    ),
    "mixed": (
        files(BASE),
        files({**BASE, "roc_auc": 0.8301, "log_loss": 0.2902}, md5="b" * 32),
    ),
    "unchanged": (files(BASE), files(BASE)),
    "new-model": (files(None), files(BASE)),
    "missing-metric": (
        files({**BASE, "recall": 0.52, "notes": "first"}),
        files(
            {
                **BASE,
                "precision": 0.46,
                "notes": "second",
                "calibration": float("nan"),
                "nested": {"auc": {"by_region": [0.8, 0.9]}},
            },
            md5="b" * 32,
        ),
    ),
    "params-added-removed": (
        files(BASE, params={"train": {"model": "hgb", "max_iter": 250, "early_stopping": True}}),
        files(BASE, params={"train": {"model": "lr", "max_iter": 250, "C": 1.0}}),
    ),
    "data-changed": (
        files(BASE),
        files({**BASE, "roc_auc": 0.8190}, md5="b" * 32, data=("e" * 32, 2_940_000, 2)),
    ),
    # A new batch of data from a downturn: incomes fall, a region appears and one goes
    # (its name is untrusted text), more incomes are missing, the scores move up.
    "baseline-moved": (
        files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000)),
        files(
            {**BASE, "roc_auc": 0.8190},
            md5="b" * 32,
            data=("e" * 32, 2_940_000, 2),
            config=BASELINE_CONFIG,
            baseline=baseline(
                2000,
                income=44_000.0,
                regions={"central": 0.5, "north": 0.3, "<b>@team|new</b>": 0.2},
                score=0.16,
                present=0.85,
            ),
        ),
    ),
    # A hyperparameter change: same evaluation rows, scores nudged, nothing material.
    "baseline-immaterial": (
        files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000)),
        files(
            {**BASE, "roc_auc": 0.8150},
            md5="b" * 32,
            config=BASELINE_CONFIG,
            baseline=baseline(1000, score=0.121),
        ),
    ),
    "baseline-added": (
        files(BASE),
        files(BASE, md5="b" * 32, config=BASELINE_CONFIG, baseline=baseline(1000)),
    ),
    # The head's gitml.yaml names a baseline its pipeline did not write.
    "baseline-missing": (
        files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000)),
        files(BASE, md5="b" * 32, config=BASELINE_CONFIG),
    ),
    "baseline-removed": (
        files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000)),
        files(BASE, md5="b" * 32),
    ),
    # A retrain that leans on the interest rate: the south's selection rate falls, the
    # region's parity gap widens beyond its interval, and interest_rate enters the top 3.
    "fairness": (
        files(
            BASE,
            config=FAIRNESS_CONFIG,
            extra={
                "metrics/credit_segments.json": segments(
                    {
                        "central": group(2300, 300, (0.2, 0.63, 0.1, 0.81, 0.012)),
                        "north": group(1500, 200, (0.19, 0.62, 0.1, 0.8, 0.015)),
                        "south": group(1200, 240, (0.17, 0.6, 0.09, 0.79, 0.02)),
                    },
                    (0.03, 0.85, 0.06),
                ),
                "models/credit.card.yaml": card(
                    [
                        ("num_late_payments_24m", 0.061),
                        ("debt_to_income", 0.042),
                        ("annual_income", 0.03),
                        ("interest_rate", 0.021),
                        ("loan_amount", 0.012),
                        ("region", 0.004),
                        ("noise_1", 0.0004),
                    ]
                ),
            },
        ),
        files(
            {**BASE, "roc_auc": 0.8188},
            md5="b" * 32,
            config=FAIRNESS_CONFIG,
            extra={
                "metrics/credit_segments.json": segments(
                    {
                        "central": group(2280, 310, (0.21, 0.64, 0.1, 0.82, 0.011)),
                        "north": group(1490, 190, (0.2, 0.63, 0.11, 0.81, 0.014)),
                        "south": group(1190, 250, (0.12, 0.55, 0.07, 0.78, 0.03)),
                        "west": group(40, 2, (0.1, 0.5, 0.08, None, 0.05)),
                    },
                    (0.09, 0.84, 0.07),
                ),
                "models/credit.card.yaml": card(
                    [
                        ("num_late_payments_24m", 0.058),
                        ("interest_rate", 0.044),
                        ("debt_to_income", 0.04),
                        ("annual_income", 0.02),
                        ("employment_years", 0.011),
                        ("loan_amount", 0.009),
                        ("region", 0.003),
                    ]
                ),
            },
        ),
    ),
}


def write(repo: Path, content: dict[str, str]) -> None:
    for path in list(repo.rglob("*")):
        if ".git" not in path.relative_to(repo).parts and path.is_file():
            path.unlink()
    for name, text in content.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def build_case(repo: Path, name: str) -> None:
    """Commit the case's base on ``main`` and its head on ``feature``, with fixed dates."""
    base, head = CASES[name]
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for branch, content, date in (
        ("main", base, "2026-01-01T10:00:00Z"),
        ("feature", head, "2026-01-02T10:00:00Z"),
    ):
        if branch != "main":
            git(repo, "checkout", "-q", "-b", branch)
        write(repo, content)
        git(repo, "add", "-A")
        dates = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        run("git", "commit", "-q", "--allow-empty", "-m", f"{name}: {branch}", cwd=repo, env=dates)
