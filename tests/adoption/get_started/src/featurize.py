"""Stage `featurize`: turn ticket texts into TF-IDF vectors (vocabulary learnt on train only).

Usage: python src/featurize.py data/prepared data/features
"""

import csv
import pickle
import sys
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer


def read_split(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row["text"] for row in rows], np.array([int(row["billing"]) for row in rows])


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    params = yaml.safe_load(Path("params.yaml").read_text())["featurize"]
    vectorizer = TfidfVectorizer(
        max_features=params["max_features"], ngram_range=(1, params["ngrams"])
    )
    train_texts, train_labels = read_split(source / "train.tsv")
    test_texts, test_labels = read_split(source / "test.tsv")
    features = {
        "train": (vectorizer.fit_transform(train_texts), train_labels),
        "test": (vectorizer.transform(test_texts), test_labels),
    }
    target.mkdir(parents=True, exist_ok=True)
    for split, (matrix, labels) in features.items():
        with (target / f"{split}.pkl").open("wb") as handle:
            pickle.dump((matrix, labels), handle)


if __name__ == "__main__":
    main()
