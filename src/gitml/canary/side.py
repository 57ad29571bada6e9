"""One version in a canary, with what judging its scores needs from its baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.monitor.cbpe import Calibration

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class VersionSide:
    """A version (``v0.2.0``), its decision threshold, its baseline's score bins (interior
    ``score_edges`` and one more ``score_fractions``) and its calibration map, if any."""

    version: str
    threshold: float = 0.5
    score_edges: tuple[float, ...] = ()
    score_fractions: tuple[float, ...] = ()
    calibration: Calibration | None = None

    @classmethod
    def from_baseline(
        cls, version: str, baseline: Mapping[str, Any] | None, threshold: float = 0.5
    ) -> VersionSide:
        """The side of ``version`` whose baseline document (``read_baseline``) is given;
        without one, score PSI is not judged and CBPE takes the scores as calibrated."""
        if not baseline:
            return cls(version, threshold)
        score = baseline.get("score") or {}
        calibration = baseline.get("calibration")
        return cls(
            version,
            threshold,
            tuple(float(e) for e in score.get("edges") or ()),
            tuple(float(f) for f in score.get("fractions") or ()),
            Calibration.from_dict(calibration) if calibration else None,
        )
