"""Which commits a merge brought in: its second-parent history off the first-parent line.

Pure logic over a commit graph read by one ``git log`` (:mod:`gitml.insights.gather`):
a pull request merged into ``main`` is the merge commit's second parent and everything
behind it that ``main``'s own first-parent line does not already hold. Its oldest commit
is where the work began; a ``gitml retrain`` commit among them makes it a retraining PR.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# What `gitml retrain` writes into the body of every commit it prepares.
RETRAIN_MARK = "Prepared by `gitml retrain`"


class GraphCommit(NamedTuple):
    """One commit of the graph: parents, author and committer times (Unix), message.

    A named tuple: a query reads every commit of the history into one, so it is cheap.
    """

    sha: str
    parents: tuple[str, ...]
    authored: int
    committed: int
    message: str = ""

    @property
    def is_retraining(self) -> bool:
        """Whether ``gitml retrain`` prepared this commit."""
        return RETRAIN_MARK in self.message


def first_parent_line(graph: Mapping[str, GraphCommit], tips: Iterable[str]) -> set[str]:
    """Every commit on the first-parent line of any of ``tips``."""
    line: set[str] = set()
    for tip in tips:
        sha: str | None = tip
        while sha is not None and sha not in line and sha in graph:
            line.add(sha)
            parents = graph[sha].parents
            sha = parents[0] if parents else None
    return line


def merged_commits(
    graph: Mapping[str, GraphCommit], merge: str, line: set[str]
) -> list[GraphCommit]:
    """The commits ``merge`` brought in (none when it is no merge), oldest first by
    author time; ``line`` is the first-parent line, which they stop at."""
    found: dict[str, GraphCommit] = {}
    start = graph.get(merge)
    stack = list(start.parents[1:]) if start else []
    while stack:
        sha = stack.pop()
        if sha in found or sha in line or sha not in graph:
            continue
        commit = found[sha] = graph[sha]
        stack.extend(commit.parents)
    return sorted(found.values(), key=lambda c: (c.authored, c.committed, c.sha))
