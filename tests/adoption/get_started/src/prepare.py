"""Stage `prepare`: split the labelled support tickets into a training and a test set.

Usage: python src/prepare.py data/tickets.tsv data/prepared
"""

import random
import sys
from pathlib import Path

import yaml


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
    header, *rows = source.read_text(encoding="utf-8").splitlines()
    # A seeded shuffle keeps the split identical on every machine and every re-run.
    random.Random(params["seed"]).shuffle(rows)
    cut = round(len(rows) * params["split"])
    target.mkdir(parents=True, exist_ok=True)
    for name, part in (("test", rows[:cut]), ("train", rows[cut:])):
        (target / f"{name}.tsv").write_text("\n".join([header, *part]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
