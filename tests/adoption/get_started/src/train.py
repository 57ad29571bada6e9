"""Stage `train`: fit a random forest on the training vectors.

Usage: python src/train.py data/features model.pkl
"""

import pickle
import sys
from pathlib import Path

import yaml
from sklearn.ensemble import RandomForestClassifier


def main() -> None:
    features, model_path = Path(sys.argv[1]), Path(sys.argv[2])
    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    with (features / "train.pkl").open("rb") as handle:
        matrix, labels = pickle.load(handle)
    # One job: the same trees on every machine, whatever its core count.
    model = RandomForestClassifier(
        n_estimators=params["n_est"],
        min_samples_split=params["min_split"],
        random_state=params["seed"],
        n_jobs=1,
    )
    model.fit(matrix, labels)
    with model_path.open("wb") as handle:
        pickle.dump(model, handle)


if __name__ == "__main__":
    main()
