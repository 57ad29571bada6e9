"""Section 7 (pure): what differs between two versions' recorded facts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gitml.dossier.model import Change

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.dossier.model import Value


def changed(before: Mapping[str, Value], after: Mapping[str, Value]) -> tuple[Change, ...]:
    """Every name whose value differs (added and removed ones too), sorted by name."""
    names = sorted(set(before) | set(after))
    return tuple(
        Change(name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name) or (name in before) != (name in after)
    )


def changed_stages(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """The pipeline stages whose ``dvc.lock`` entry differs (added or removed too)."""

    def canonical(entry: Any) -> str:
        return json.dumps(entry, sort_keys=True, default=str)

    names = sorted(set(before) | set(after))
    return tuple(
        name
        for name in names
        if name not in before
        or name not in after
        or canonical(before[name]) != canonical(after[name])
    )
