"""The one output convention of every command (``--format table|md|json``, ``--json``)
and the options every registry read takes."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

FORMATS = ("table", "md", "json")


def add_format_options(parser: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
    """Add ``--format`` (default: the first of ``formats``) and the ``--json`` shorthand."""
    parser.add_argument(
        "--format",
        choices=formats,
        default=formats[0],
        help=f"output format (default: {formats[0]})",
    )
    if "json" in formats:
        parser.add_argument(
            "--json",
            dest="format",
            action="store_const",
            const="json",
            help="shorthand for --format json",
        )


def add_read_options(parser: argparse.ArgumentParser, repo: bool = True) -> None:
    """``--root`` and ``--local`` of every command that reads the registry (and ``--repo``
    where it can read another repository's refs)."""
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="read local stage branches instead of remote-tracking ones (origin/STAGE)",
    )
    if repo:
        parser.add_argument(
            "--repo",
            help="read the registry of this git URL (a cached blob-less clone: refs and tags, "
            "and the files a command reads, fetched when first read)",
        )


def read_root(args: argparse.Namespace) -> str:
    """The repository a read command works on: the cached clone of ``--repo`` when given,
    else ``--root``."""
    if getattr(args, "repo", None):
        from gitml.gitio.remote_cache import partial_clone

        return str(partial_clone(args.repo))
    return str(args.root)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    import json  # here: a table or markdown answer never needs it

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def emit(text: str) -> None:
    """Print rendered text on stdout, with exactly one trailing newline."""
    sys.stdout.write(text.rstrip("\n") + "\n")
