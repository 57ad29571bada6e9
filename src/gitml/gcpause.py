"""Running allocation-heavy, cycle-free work with Python's cycle collector paused."""

from __future__ import annotations

import gc

# Not typing.TYPE_CHECKING: the CLI imports this module on a replayed query's path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    _Result = TypeVar("_Result")


def without_cyclic_gc(work: Callable[[], _Result]) -> _Result:
    """``work()`` with the cycle collector paused, then restored as it was.

    A registry answer is built from tens of thousands of small acyclic objects (a tuple per
    tag, event and version, a list per printed row). Their allocation keeps triggering the
    collector, which traverses them all again and again without finding a cycle: 10-15%
    of a cold read at 10,000 versions. Reference counting still frees what ``work`` drops.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return work()
    finally:
        if was_enabled:
            gc.enable()
