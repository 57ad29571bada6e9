"""The report's view of a model's drift baseline: did the pull request move it?

A model version carries the reference ``gitml drift`` compares live data with (gitml.yaml
``models.NAME.baseline``). When a pull request changes it, the reviewer should know that
the PR also changes what drift will be measured against. Both sides' files are read
from the report's trees and compared in pure Python
(:func:`gitml.monitor.baseline_diff.compare_baselines`) with the head's ``drift``
thresholds, so "material" means what it means to ``gitml drift``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.monitor.baseline_diff import compare_baselines
from gitml.monitor.baseline_file import read_baseline
from gitml.monitor.thresholds import DriftThresholds
from gitml.report.model import BaselineChange, BaselineStatus

if TYPE_CHECKING:
    from typing import Any

    from gitml.config import ModelConfig
    from gitml.report.sides import SideFiles


def _read(side: SideFiles, path: str | None) -> tuple[bytes | None, dict[str, Any] | None]:
    """The file's bytes and validated document on one side; ``(None, None)`` when absent."""
    data = side.tree.read(path) if path else None
    if data is None:
        return None, None
    name = f"{path} at {side.tree.label}"
    return data, read_baseline(data.decode("utf-8", errors="replace"), name)


def baseline_change(
    base: SideFiles, head: SideFiles, model: ModelConfig, base_model: ModelConfig | None
) -> BaselineChange | None:
    """How ``model``'s baseline differs between the sides; None if neither side has one.

    A malformed baseline file is a ConfigError naming the file, revision and key, as a
    malformed metrics file is; a missing one is reported, never an error.
    """
    head_path = model.baseline
    base_path = base_model.baseline if base_model else None
    if not head_path and not base_path:
        return None
    base_bytes, base_doc = _read(base, base_path)
    rows_base = base_doc["rows"] if base_doc else None
    if not head_path:
        assert base_path is not None  # for mypy: one of the two is set
        return BaselineChange(base_path, BaselineStatus.REMOVED, rows_base=rows_base)
    head_bytes, head_doc = _read(head, head_path)
    if head_doc is None:
        return BaselineChange(head_path, BaselineStatus.MISSING, rows_base=rows_base)
    rows_head = head_doc["rows"]
    if base_doc is None:
        return BaselineChange(head_path, BaselineStatus.ADDED, rows_head=rows_head)
    if base_bytes == head_bytes:
        return BaselineChange(head_path, BaselineStatus.UNCHANGED, rows_base, rows_head)
    drift = head.config.drift if head.config else {}
    thresholds = DriftThresholds.from_mapping(drift, f"gitml.yaml at {head.tree.label}", "drift")
    diff = compare_baselines(base_doc, head_doc, thresholds)
    status = BaselineStatus.MATERIAL if diff.material else BaselineStatus.CHANGED
    return BaselineChange(head_path, status, rows_base, rows_head, diff)
