"""A model's signature: the features it expects and its decision threshold.

Read from the model version (never the workspace) by the report's re-scoring, gates,
drift and serving. :func:`feature_frame` turns raw rows into exactly the columns and
types the model was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.documents import packaged_schema, parse_text, raise_for, schema_problems

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Feature:
    """One input column: its type, whether it may be missing, and its observed domain."""

    name: str
    type: str  # integer | number | category
    nullable: bool
    missing_rate: float | None = None
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Signature:
    """The features (in model order), the target column and the decision threshold."""

    name: str
    target: str
    threshold: float
    features: tuple[Feature, ...]

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature names in the order the model expects them."""
        return tuple(f.name for f in self.features)


def signature_from_text(text: str, file: str) -> Signature:
    """Parse and validate a signature file's text."""
    document: Any = parse_text(text, file)
    raise_for(schema_problems(document, packaged_schema("signature.schema.json"), file))
    features = tuple(
        Feature(
            name=f["name"],
            type=f["type"],
            nullable=f["nullable"],
            missing_rate=f.get("missing_rate"),
            min=f.get("min"),
            max=f.get("max"),
            categories=tuple(f["categories"]) if "categories" in f else None,
        )
        for f in document["features"]
    )
    return Signature(document["name"], document["target"], document["threshold"], features)


def feature_frame(signature: Signature, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns of ``frame``: numbers as float, categories as object.

    Missing values (NaN, None or empty strings) become NaN, which the model's own
    imputation handles. Raises KeyError naming the first missing column.
    """
    import numpy as np
    import pandas as pd

    out = pd.DataFrame(index=frame.index)
    for feature in signature.features:
        column = frame[feature.name]
        if feature.type == "category":
            values = column.astype(object)
            missing = values.isna() | (values == "")
            # Object dtype even when every value is missing: a float64 column of NaN
            # breaks the model's categorical encoders.
            out[feature.name] = (
                values.where(~missing, np.nan)
                .map(lambda v: v if isinstance(v, float) else str(v))
                .astype(object)
            )
        else:
            out[feature.name] = pd.to_numeric(column, errors="raise").astype("float64")
    return out
