"""``gitml drift``: a batch of live data against the baseline of a registered version.

The baseline, the signature (features, types, threshold) and the model come from the
version being checked, never from the workspace. When the batch has no ``score`` column
(a prediction log has one), the version's model scores it, in row chunks and only after
every feature's values were checked. A prediction log must be the checked version's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError, RegistryError
from gitml.monitor import source
from gitml.monitor.baseline_file import read_baseline
from gitml.monitor.drift import detect_drift_file
from gitml.monitor.thresholds import DriftThresholds
from gitml.registry.fetch import load
from gitml.registry.model_ref import parse_ref
from gitml.registry.reader import RegistryReader
from gitml.signature import feature_frame, signature_from_text

if TYPE_CHECKING:
    import pandas as pd

    from gitml.monitor.drift_report import DriftReport
    from gitml.registry.records import VersionInfo
    from gitml.signature import Signature


@dataclass(frozen=True)
class DriftCheck:
    """A drift report with what it judged: the version (as resolved from the reference,
    and the stage it was asked as, if any) and the sha256 of the batch's bytes."""

    report: DriftReport
    version: VersionInfo
    stage: str | None
    batch_sha256: str


def check_drift(
    root: Path | str,
    ref: str,
    data: str | None = None,
    *,
    local: bool = False,
    save_batch: str | Path | None = None,
) -> DriftCheck:
    """Compare the batch ``data`` (default: gitml.yaml ``monitor.data``) with ``ref``'s baseline.

    ``save_batch`` keeps a copy of the batch that was checked (and its recipe, see
    :mod:`gitml.monitor.source`), e.g. for ``gitml retrain --data``.
    """
    parsed = parse_ref(ref)
    with RegistryReader(root, local=local) as reader:
        config = reader.config
        if config is None:
            raise ConfigError("gitml.yaml: not found (gitml drift needs the model's config)")
        model = config.model(parsed.model)
        info = reader.resolve(parsed)
        if not model.baseline or not model.signature:
            raise ConfigError(f"gitml.yaml: models.{model.name}: set `baseline` and `signature`")
        baseline_text = reader.read_blob(info.commit, model.baseline)
        signature_text = reader.read_blob(info.commit, model.signature)
    if baseline_text is None or signature_text is None:
        raise RegistryError(
            f"{parsed.model}@{info.version}: the version has no {model.baseline} or "
            f"{model.signature} (registered before baselines were written?)"
        )
    baseline = read_baseline(baseline_text.decode("utf-8"), f"{model.baseline} at {info.version}")
    signature = signature_from_text(signature_text.decode("utf-8"), model.signature)
    thresholds = DriftThresholds.from_mapping(config.drift, "gitml.yaml", "drift")
    scorer = _VersionScorer(f"{parsed.model}@{info.version}", root, local, signature)
    with source.open_batch(Path(root), data, config.monitor_data) as batch_path:
        report = detect_drift_file(
            str(batch_path),
            baseline,
            signature,
            thresholds,
            scorer=scorer,
            checked=(parsed.model, info.version),
        )
        digest = _sha256(batch_path)
        if save_batch is not None:
            source.save_batch(batch_path, Path(save_batch))
    return DriftCheck(report, info, parsed.stage, digest)


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


class _VersionScorer:
    """Scores rows with a registered version's model, loaded the first time it is needed.

    A batch with a ``score`` column (a prediction log) never loads the model at all.
    """

    def __init__(self, ref: str, root: Path | str, local: bool, signature: Signature) -> None:
        self._ref, self._root, self._local, self._signature = ref, root, local, signature
        self._model: Any = None

    def __call__(self, rows: pd.DataFrame) -> Any:
        if self._model is None:
            self._model = load(self._ref, root=self._root, local=self._local)
        return self._model.predict_proba(feature_frame(self._signature, rows))[:, 1]
