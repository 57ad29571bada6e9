"""Where the dossier of a promotion's candidate is: the run that registered the version.

The register workflow builds each new version's dossier and uploads it as the artefact
``gitml-dossier`` of its run; the registration record keeps that run's URL
(``run_url``). A promotion pull request's report links it, with the dossier sections a
reviewer of a promotion reads. The candidate's version is the registered version whose
artefact hash (per git) is the head's: the registry answers it from one ref listing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.report.model import DossierLink

if TYPE_CHECKING:
    from gitml.registry.state import VersionState

# The sections of the dossier a promotion's reviewer reads first (its Annex IV headings).
PROMOTION_SECTIONS = ("5. Fairness and explanations", "6. Human oversight and approvals")


def dossier_link(version: VersionState) -> DossierLink | None:
    """The dossier link of a registered ``version``: None when its registration records
    no run."""
    record = version.record
    if record is None or not record.run_url:
        return None
    return DossierLink(version.version, record.run_url, PROMOTION_SECTIONS)
