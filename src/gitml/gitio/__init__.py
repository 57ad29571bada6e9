"""The only code that runs git. Everything above it gets typed values, not processes."""

from gitml.gitio.catfile import CatFile
from gitml.gitio.repo import GitRepo

__all__ = ["CatFile", "GitRepo"]
