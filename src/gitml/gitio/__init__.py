"""The only code that runs git. Everything above it gets typed values, not processes."""

from __future__ import annotations

# Not typing.TYPE_CHECKING: a replayed query imports this package, and not typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gitml.gitio.catfile import CatFile
    from gitml.gitio.repo import GitRepo

__all__ = ["CatFile", "GitRepo"]


def __getattr__(name: str) -> Any:
    # Imported on first use: a registry query needs the cat-file pipe, not GitRepo.
    if name == "CatFile":
        from gitml.gitio.catfile import CatFile

        return CatFile
    if name == "GitRepo":
        from gitml.gitio.repo import GitRepo

        return GitRepo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
