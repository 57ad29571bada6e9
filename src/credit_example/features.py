"""Reading a prepared CSV into the feature frame and label vector the model uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from credit_example.generate import FEATURES_CATEGORICAL, FEATURES_NUMERIC, TARGET

if TYPE_CHECKING:
    from pathlib import Path

FEATURES: tuple[str, ...] = (*FEATURES_NUMERIC, *FEATURES_CATEGORICAL)


def to_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Select the model's columns, numeric as float and categorical as object (NaN = missing)."""
    out = pd.DataFrame(index=frame.index)
    for name in FEATURES_NUMERIC:
        out[name] = pd.to_numeric(frame[name], errors="raise").astype("float64")
    for name in FEATURES_CATEGORICAL:
        column = frame[name].astype(object)
        out[name] = column.where(column.notna() & (column != ""), np.nan)
    return out


def load_xy(path: Path | str) -> tuple[pd.DataFrame, np.ndarray]:
    """The features and 0/1 labels of a prepared CSV file."""
    frame = pd.read_csv(path, keep_default_na=True, dtype={c: str for c in FEATURES_CATEGORICAL})
    return to_features(frame), frame[TARGET].to_numpy(dtype=np.int64)
