"""gitml: a git repository as the model registry and release process for ML teams.

The Python API lives in :mod:`gitml.api`; the ``gitml`` command is a thin layer over it.
Importing this package is cheap: heavy libraries load only in the functions that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def load(ref: str, **kwargs: object) -> object:
    """Shortcut for :func:`gitml.api.load`: ``gitml.load("credit@production")``."""
    from gitml import api

    return api.load(ref, **kwargs)  # type: ignore[arg-type]
