"""Publishing registry tags so that re-running after any failure converges.

A tag created locally whose push failed (network, a hook, a killed job) is pushed by the
next run; a local tag whose name the remote gave to another record is dropped for the
remote's. Nothing is ever overwritten or deleted on the remote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.gitio.repo import TagPushRejected
from gitml.registry.names import TagName

if TYPE_CHECKING:
    from gitml.gitio.repo import TagWriter


def sync_registry_tags(writer: TagWriter, remote: str, models: set[str]) -> list[str]:
    """Fetch the remote's tags, then push local registry tags of ``models`` it lacks.

    A local registry tag that the remote holds under the same name with another record
    was never published (a run killed before its push, then a competing run took the
    name): it is dropped for the remote's before fetching, so the rerun converges.
    """
    on_remote = writer.remote_tags(remote)
    local = writer.local_tags()
    for name, oid in local.items():
        parsed = TagName.parse(name)
        if parsed is not None and parsed.model in models and on_remote.get(name, oid) != oid:
            writer.delete_local(name)
    writer.fetch_tags(remote)
    pushed = []
    for name in sorted(set(writer.local_tags()) - set(on_remote)):
        parsed = TagName.parse(name)
        if parsed is None or parsed.model not in models:
            continue
        try:
            writer.push(remote, name)
            pushed.append(name)
        except TagPushRejected:
            writer.delete_local(name)
            writer.fetch_tag(remote, name)
    return pushed
