"""``gitml drift --record``: a drift check kept in the registry as an observation tag.

The record says which version and artefact md5 were judged, the verdict, on how many
rows of which batch (its sha256), the drifted features in rank order and the figures
behind them: each feature's PSI at warn or drift level, the score's PSI, the estimated
(CBPE) ROC AUC and accuracy, and live ROC AUC next to the baseline's when the batch had
labels. The full report stays where the
check ran (the job summary, ``-o``); the tag keeps what the insights, the site and the
dossier count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml import __version__
from gitml.errors import RegistryError
from gitml.github.run_url import run_url_from_environment
from gitml.monitor.feature_checks import LEVELS
from gitml.registry.observation import (
    MAX_FIGURES,
    Observation,
    ObservationKind,
    finite_figures,
)
from gitml.registry.observations import write_observation

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.monitor.version_drift import DriftCheck

# The figures a record holds: the score's, live and estimated quality first, then the
# features by rank.
_FEATURE_FIGURES = MAX_FIGURES - 5


def drift_observation(check: DriftCheck, run_url: str | None = None) -> Observation:
    """The observation that records ``check``."""
    report, info = check.report, check.version
    if info.md5 is None:
        raise RegistryError(
            f"{info.model}@{info.version}: git records no artefact md5 at {info.commit[:12]}, "
            "so a drift check of it cannot be recorded"
        )
    candidates: list[tuple[str, float | None]] = []
    if report.score is not None:
        candidates.append(("score.psi", report.score.psi))
    if report.performance is not None:
        candidates.append(("roc_auc", report.performance.roc_auc))
        candidates.append(("roc_auc_reference", report.performance.roc_auc_reference))
    if report.estimate is not None:
        candidates.append(("estimated_roc_auc", report.estimate.roc_auc))
        candidates.append(("estimated_accuracy", report.estimate.accuracy))
    flagged = [f for f in report.features if f.status != LEVELS[0] and f.psi is not None]
    candidates += [(f"psi.{f.name}", f.psi) for f in flagged[:_FEATURE_FIGURES]]
    return Observation(
        kind=ObservationKind.DRIFT,
        model=info.model,
        version=info.version,
        md5=info.md5,
        verdict=report.verdict,
        rows=report.rows,
        stage=check.stage,
        figures=finite_figures(candidates),
        names=report.drifted[:MAX_FIGURES],
        batch=check.batch_sha256,
        run_url=run_url,
        writer=f"gitml {__version__}",
    )


def record_drift_check(
    root: Path | str, check: DriftCheck, *, push: bool = False, remote: str = "origin"
) -> str:
    """Write ``check`` as an observation tag on the version's commit; the tag's name."""
    observation = drift_observation(check, run_url_from_environment())
    info = check.version
    subject = f"Drift check of {info.model} {info.version}: {check.report.verdict}"
    return write_observation(root, observation, info.commit, subject, push=push, remote=remote)
