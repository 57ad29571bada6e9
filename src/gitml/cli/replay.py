"""Printed answers of registry queries, replayed while the registry stays as it was.

What ``gitml registry``, ``show`` and ``history`` print is a function of the registry's
state (git's refs, ``gitml.yaml`` and gitml's own code: the key of
:mod:`gitml.registry.memo`) and of the command line. So once such a command has printed
its answer, the text is filed under that state and the exact command line, and the same
command in the same state prints it again without parsing its arguments or importing the
registry: no argparse, typing, pathlib, re or datetime, whose imports cost more than
everything else a remembered answer needs. Any change to the refs, the config or the
code files the entry under another key, and the command runs in full.

Only plain command lines are replayed: a read command, its positional words, and the
options below spelled out in full. Anything else (an abbreviated option, ``--repo``,
``--help``) goes through argparse, and a text is filed only when this module's reading of
the command line (its ``--root`` and ``--local``) agrees with argparse's.
"""

from __future__ import annotations

import io
import os
import sys

from gitml.registry.memo import QueryMemo

# Not typing.TYPE_CHECKING: importing typing is one of the costs a replay avoids.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

COMMANDS = frozenset({"registry", "show", "history"})
_VALUE_OPTIONS = frozenset({"--root", "--format", "--stage", "--names-in"})
_FLAGS = frozenset({"--local", "--json"})
_OPTIONS = "printed"  # the memo key's options part: these entries hold printed text


def _target(argv: Sequence[str]) -> tuple[str, bool] | None:
    """``(--root, --local)`` of a replayable command line, or None when it is not one."""
    if not argv or argv[0] not in COMMANDS:
        return None
    root, local = ".", False
    words = iter(argv[1:])
    for word in words:
        if not word.startswith("-"):
            continue  # a positional word: the model or reference
        name, equals, value = word.partition("=")
        if name in _FLAGS and not equals:
            local = local or name == "--local"
            continue
        if name not in _VALUE_OPTIONS:
            return None
        if not equals:
            following = next(words, None)
            if following is None or following.startswith("-"):
                return None
            value = following
        if name == "--root":
            root = value
    return root, local


def _query(argv: Sequence[str]) -> str:
    return "printed\0" + "\0".join(argv)


def filed_state(argv: Sequence[str]) -> QueryMemo | None:
    """The registry state, read now, that ``argv``'s answer is filed under: None when
    ``argv`` is no replayable command line or the state cannot be read from files.

    Read once per command, before it runs: :func:`replay` looks the answer up under it,
    and on a miss :func:`recording` files the computed answer under it.
    """
    target = _target(argv)
    return None if target is None else QueryMemo.from_files(target[0], _OPTIONS)


def replay(argv: Sequence[str], state: QueryMemo | None) -> bool:
    """Print the answer to ``argv`` filed under ``state`` (:func:`filed_state`); False
    when there is none (nothing printed: the caller runs the command)."""
    if state is None:
        return False
    text = state.get(_query(argv))
    if type(text) is not str:
        return False
    sys.stdout.write(text)
    return True


class Recording:
    """Runs a read command, passing its output through, and files the output when the
    command succeeded and the registry state did not change while it ran."""

    def __init__(self, argv: Sequence[str], root: str, memo: QueryMemo):
        self._query = _query(argv)
        self._root = root
        self._memo = memo  # keyed by the state before the command read anything

    def run(self, command: Callable[[], int]) -> int:
        """``command()``'s exit code; its standard output is printed either way."""
        real_stdout = sys.stdout
        captured = io.StringIO()
        sys.stdout = captured
        try:
            code = command()
        finally:
            sys.stdout = real_stdout
            text = captured.getvalue()
            real_stdout.write(text)
        # Refs, config and code as they were before the command ran: its answer belongs to
        # that state (the memo of answers files its entries by the same rule).
        if code == 0 and self._memo.files_unchanged(self._root):
            self._memo.put(self._query, text)
        return code


def recording(
    argv: Sequence[str], args: argparse.Namespace, state: QueryMemo | None
) -> Recording | None:
    """A :class:`Recording` that files the answer of the parsed command line ``args`` under
    ``state`` (:func:`filed_state`, read before the command ran), when it can be replayed
    later; else None."""
    target = _target(argv)
    if state is None or target is None or getattr(args, "repo", None) is not None:
        return None
    root, local = str(getattr(args, "root", "")), bool(getattr(args, "local", False))
    if os.path.realpath(target[0]) != os.path.realpath(root) or target[1] != local:
        return None  # argparse read the line otherwise: never file what replay would miss
    return Recording(argv, root, state)
