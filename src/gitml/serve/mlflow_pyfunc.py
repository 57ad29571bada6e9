"""MLflow ``python_function`` loader for a model exported by ``gitml export --format mlflow``.

This file is copied verbatim into the export (``code/gitml_skops_pyfunc.py``) and
imported by MLflow, which has no gitml: it uses only the standard library, numpy,
pandas and skops. It does what ``gitml.load`` does: check the file's md5 against the
registered one, refuse any type outside the trusted list written at export time, and
load with ``skops.io`` (never pickle).

``predict`` returns a DataFrame with ``probability`` (of the positive class) and
``decision`` (``probability >= threshold``), like ``POST /predict`` of ``gitml serve``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

SPEC_FILE = "gitml.json"


class SkopsModel:
    """A skops-loaded scikit-learn model with the signature it was trained with."""

    def __init__(self, model: Any, spec: dict[str, Any]):
        self.model = model
        self.spec = spec
        self.threshold = float(spec["threshold"])
        self.features: list[dict[str, Any]] = spec["features"]

    def frame(self, model_input: Any) -> Any:
        """The model's columns in training order: numbers as float64, categories as text."""
        import numpy as np
        import pandas as pd

        data = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        out = pd.DataFrame(index=data.index)
        for feature in self.features:
            name = feature["name"]
            if name not in data.columns:
                # MLflow lets optional (nullable) columns be left out: all missing.
                if not feature["nullable"]:
                    raise ValueError(f"input has no column {name!r}")
                column = pd.Series(np.nan, index=data.index, dtype=object)
            else:
                column = data[name]
            if feature["type"] == "category":
                values = column.astype(object)
                missing = values.isna() | (values == "")
                text = values.where(~missing, np.nan).map(
                    lambda v: v if isinstance(v, float) else str(v)
                )
                # Kept object even when every value is missing: pandas would infer
                # float64, which scikit-learn's encoders take for a numeric column.
                out[name] = text.astype(object)
            else:
                out[name] = pd.to_numeric(column, errors="raise").astype("float64")
        return out

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        """Probability and 0/1 decision per input row."""
        import pandas as pd

        scores = self.model.predict_proba(self.frame(model_input))[:, 1]
        return pd.DataFrame(
            {"probability": scores, "decision": (scores >= self.threshold).astype("int64")}
        )


def load(data_path: str | Path) -> SkopsModel:
    """Verify and load the exported model directory ``data_path``."""
    from skops.io import get_untrusted_types, loads

    directory = Path(data_path)
    spec = json.loads((directory / SPEC_FILE).read_text(encoding="utf-8"))
    data = (directory / spec["model_file"]).read_bytes()
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if actual != spec["md5"]:
        raise ValueError(
            f"{spec['model_file']}: md5 {actual} differs from the registered {spec['md5']}; "
            "refusing to load a model file that was changed after export"
        )
    trusted = list(spec["trusted_types"])
    untrusted = sorted(set(get_untrusted_types(data=data)) - set(trusted))
    if untrusted:
        raise ValueError(
            f"{spec['model_file']}: refusing to load, untrusted types: {', '.join(untrusted)}"
        )
    return SkopsModel(loads(data, trusted=trusted), spec)


def _load_pyfunc(data_path: str) -> SkopsModel:
    """MLflow's entry point: ``loader_module._load_pyfunc(<model dir>/<data>)``."""
    return load(data_path)
