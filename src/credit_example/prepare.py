"""Stage ``prepare``: split each batch under ``data/``, stratified, and concatenate.

Rows are copied as the exact text lines the generator wrote, so the split files are
byte-stable and their hashes in ``dvc.lock`` only change when the data or the split does.

Each batch is split on its own (same seed), so adding a batch never moves a row of an
earlier batch between train and test: the rows a retrained model is evaluated on were
never seen by the model it replaces, which keeps the report's champion-vs-challenger
re-scoring on the new evaluation rows honest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from credit_example.generate import TARGET
from credit_example.io import atomic_write_text
from gitml.errors import ConfigError

DATA_DIR = Path("data")
OUT_DIR = Path("prepared")


def read_batches(data_dir: Path = DATA_DIR) -> tuple[str, list[list[str]]]:
    """The shared header line and the data lines of each ``data_dir/*.csv``, in name order."""
    files = sorted(data_dir.glob("*.csv"))
    if not files:
        raise ConfigError(f"{data_dir}/: no *.csv batch files (run `credit-example data`)")
    header: str | None = None
    batches: list[list[str]] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        file_header, _, body = text.partition("\n")
        if header is None:
            header = file_header
        elif file_header != header:
            raise ConfigError(f"{file}: header differs from {files[0]}: {file_header!r}")
        batches.append([line for line in body.split("\n") if line])
    assert header is not None
    return header, batches


def stratified_split(
    labels: np.ndarray, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test), each sorted, with the label rate kept in both parts."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        shuffled = rng.permutation(members)
        cut = round(len(members) * test_size)
        test.append(shuffled[:cut])
        train.append(shuffled[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def prepare(params: dict, data_dir: Path = DATA_DIR, out_dir: Path = OUT_DIR) -> dict[str, int]:
    """Write ``train.csv`` and ``test.csv`` under ``out_dir``; return their row counts."""
    header, batches = read_batches(data_dir)
    columns = header.split(",")
    if TARGET not in columns:
        raise ConfigError(f"{data_dir}/: no {TARGET!r} column in header {header!r}")
    target_at = columns.index(TARGET)
    parts: dict[str, list[str]] = {"train.csv": [], "test.csv": []}
    for lines in batches:
        labels = np.array([int(line.split(",")[target_at]) for line in lines])
        train, test = stratified_split(
            labels, params["prepare"]["test_size"], params["prepare"]["seed"]
        )
        parts["train.csv"] += [lines[i] for i in train]
        parts["test.csv"] += [lines[i] for i in test]
    for name, rows in parts.items():
        atomic_write_text(out_dir / name, "\n".join([header, *rows]) + "\n")
    return {"train": len(parts["train.csv"]), "test": len(parts["test.csv"])}
