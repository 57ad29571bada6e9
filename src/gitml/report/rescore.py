"""Champion vs challenger on the same rows, for pull requests that change the data.

When the data changes, each side's metrics come from a different evaluation set, so the
report also scores the base model on the head's evaluation rows. This is the one path of
``gitml report`` that imports scikit-learn and pandas, and only when it runs.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import GitmlError
from gitml.report.diff import metrics_diff
from gitml.signature import feature_frame, signature_from_text

if TYPE_CHECKING:
    from gitml.config import ModelConfig
    from gitml.report.model import MetricDiff
    from gitml.report.sides import SideFiles

SAME_ROW_METRICS = ("roc_auc", "average_precision", "log_loss", "brier_score", "f1")


def _card_eval(side: SideFiles, model: ModelConfig) -> tuple[str, str] | None:
    card = side.document(model.card) if model.card else None
    data = card.get("evaluation_data") if isinstance(card, dict) else None
    if isinstance(data, dict) and isinstance(data.get("path"), str) and data.get("md5"):
        return data["path"], str(data["md5"])
    return None


def needs_rescore(base: SideFiles, head: SideFiles, model: ModelConfig) -> bool:
    """Whether the sides were evaluated on different rows and both have a model."""
    base_eval, head_eval = _card_eval(base, model), _card_eval(head, model)
    return bool(base_eval and head_eval and base_eval[1] != head_eval[1])


def _load(data: bytes, md5: str) -> Any:
    from gitml.storage import load_model

    with tempfile.TemporaryDirectory(prefix="gitml-rescore-") as tmp:
        path = Path(tmp) / "model.skops"
        path.write_bytes(data)
        return load_model(path, expected_md5=md5)


def _scores(labels: Any, probabilities: Any, threshold: float) -> dict[str, float]:
    from sklearn import metrics as skm

    decisions = (probabilities >= threshold).astype(int)
    return {
        "roc_auc": float(skm.roc_auc_score(labels, probabilities)),
        "average_precision": float(skm.average_precision_score(labels, probabilities)),
        "log_loss": float(skm.log_loss(labels, probabilities, labels=[0, 1])),
        "brier_score": float(skm.brier_score_loss(labels, probabilities)),
        "f1": float(skm.f1_score(labels, decisions, zero_division=0)),
    }


def rescore(
    root: Path, base: SideFiles, head: SideFiles, model: ModelConfig
) -> tuple[int, tuple[MetricDiff, ...]]:
    """Score base and head models on the head's evaluation rows: ``(rows, metric diffs)``."""
    import pandas as pd

    base_out = base.outputs.get(model.artifact)
    head_out = head.outputs.get(model.artifact)
    head_eval = _card_eval(head, model)
    signature_data = head.tree.read(model.signature) if model.signature else None
    if not (base_out and base_out.md5 and head_out and head_out.md5 and head_eval):
        raise GitmlError("both sides need a locked model and the head an evaluation set")
    if signature_data is None:
        raise GitmlError(f"no signature ({model.signature}) on the head side")
    signature = signature_from_text(signature_data.decode("utf-8"), str(model.signature))
    champion = _load(base.output_bytes(root, model.artifact, base_out.md5), base_out.md5)
    challenger = _load(head.output_bytes(root, model.artifact, head_out.md5), head_out.md5)
    frame = pd.read_csv(io.BytesIO(head.output_bytes(root, *head_eval)), keep_default_na=True)
    features = feature_frame(signature, frame)
    labels = frame[signature.target].to_numpy()
    threshold = signature.threshold
    old = _scores(labels, champion.predict_proba(features)[:, 1], threshold)
    new = _scores(labels, challenger.predict_proba(features)[:, 1], threshold)
    rows = metrics_diff(old, new, model.direction)
    return len(frame), tuple(sorted(rows, key=lambda r: SAME_ROW_METRICS.index(r.name)))
