"""Stage `evaluate`: score both splits and log metrics and plots with DVCLive into `eval/`.

Usage: python src/evaluate.py model.pkl data/features

Metric names carry a `/` so DVCLive nests them: `avg_prec/test` is written to
`eval/metrics.json` as `{"avg_prec": {"test": ...}}`, the layout DVC's get-started
project has.
"""

import pickle
import sys
from pathlib import Path

from dvclive import Live
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score


def evaluate(model: RandomForestClassifier, split: str, features: Path, live: Live) -> None:
    with (features / f"{split}.pkl").open("rb") as handle:
        matrix, labels = pickle.load(handle)
    scores = model.predict_proba(matrix)
    positive = scores[:, 1]
    # One evaluation, not a training curve: no per-step history files (plot=False).
    live.log_metric(f"avg_prec/{split}", average_precision_score(labels, positive), plot=False)
    live.log_metric(f"roc_auc/{split}", roc_auc_score(labels, positive), plot=False)
    live.log_metric(f"log_loss/{split}", log_loss(labels, scores), plot=False)
    live.log_sklearn_plot("roc", labels, positive, name=f"roc/{split}")
    live.log_sklearn_plot(
        "precision_recall", labels, positive, name=f"prc/{split}", drop_intermediate=True
    )
    live.log_sklearn_plot("confusion_matrix", labels, scores.argmax(axis=1), name=f"cm/{split}")


def main() -> None:
    model_path, features = Path(sys.argv[1]), Path(sys.argv[2])
    with model_path.open("rb") as handle:
        model = pickle.load(handle)
    # dvcyaml=False, as in DVC's get-started project: under `dvc repro` DVCLive would
    # otherwise rewrite the project's dvc.yaml, adding its own per-file plot entries next
    # to the hand-written train/test plots (every curve declared twice).
    with Live(dir="eval", dvcyaml=False, save_dvc_exp=False) as live:
        for split in ("train", "test"):
            evaluate(model, split, features, live)


if __name__ == "__main__":
    main()
