"""Where the dossier of a promotion's candidate is: the run that registered the version.

The register workflow builds each new version's dossier and uploads it as the artefact
``gitml-dossier`` of its run; the registration record keeps that run's URL
(``run_url``). A promotion pull request's report links it, with the dossier sections a
reviewer of a promotion reads. The candidate's version is the registered version whose
artefact hash (per git) is the head's: the registry answers it from one ref listing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import GitmlError
from gitml.report.model import DossierLink

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.report.model import ModelReport

# The sections of the dossier a promotion's reviewer reads first (its Annex IV headings).
PROMOTION_SECTIONS = ("5. Fairness and explanations", "6. Human oversight and approvals")


def dossier_links(root: Path, models: list[ModelReport]) -> dict[str, DossierLink]:
    """Per model, the dossier link of the registered version the head's artefact is.

    A model whose head is no registered version, or whose registration records no run,
    has none; a registry that cannot be read gives no links rather than no report.
    """
    from gitml.registry.reader import RegistryReader

    links: dict[str, DossierLink] = {}
    candidates = [m for m in models if m.head_md5 is not None]
    if not candidates:
        return links
    try:
        with RegistryReader(root) as registry:
            for model in candidates:
                if model.name not in registry.state.models:
                    continue
                state = registry.model_state(model.name)
                assert model.head_md5 is not None  # filtered above
                version = registry.version_for_md5(state, model.head_md5)
                record = version.record if version is not None else None
                if version is not None and record is not None and record.run_url:
                    links[model.name] = DossierLink(
                        version.version, record.run_url, PROMOTION_SECTIONS
                    )
    except GitmlError:
        return {}
    return links
