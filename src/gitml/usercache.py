"""The user's gitml cache directory (``~/.cache/gitml`` on Linux, per ``platformdirs``).

It holds two things only, both keyed by what can never change under them: the tag
objects of each repository read, by object id (:mod:`gitml.gitio.tag_objects`), and the
partial clones behind ``--repo URL`` (:mod:`gitml.gitio.remote_cache`). Deleting the
directory costs time, never correctness. ``GITML_NO_CACHE=1`` turns the tag cache off.
"""

from __future__ import annotations

import os
from pathlib import Path

NO_CACHE_VARIABLE = "GITML_NO_CACHE"


def enabled() -> bool:
    """Whether the tag cache is on (``GITML_NO_CACHE`` unset, empty or ``0``)."""
    return os.environ.get(NO_CACHE_VARIABLE, "") in ("", "0")


def cache_dir(kind: str) -> Path:
    """The folder ``kind`` (``tags`` or ``repos``) of gitml's user cache directory."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gitml", appauthor=False)) / kind
