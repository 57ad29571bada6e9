"""Entry point of the ``gitml`` command: the single boundary where errors become exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING

from gitml import __version__
from gitml.errors import EXIT_INTERNAL, EXIT_USAGE, GitmlError

if TYPE_CHECKING:
    from collections.abc import Sequence

DESCRIPTION = """\
gitml: the git repository is the model registry. Pull requests get a metric-diff
report, merges to main register versions, merges to stage branches promote them.

exit codes: 0 ok, 1 error, 2 usage, 3 gate failed, 4 drift found,
            5 verification failed, 6 canary stopped, 70 internal error (please report)

environment: GITML_NO_CACHE=1 turns off the cache of tag objects in the user cache
             directory (~/.cache/gitml; the answers are the same, only slower)
"""

# The modules under gitml.cli that define commands, in the order --help lists them.
COMMAND_MODULES = (
    "report",
    "check",
    "registry",
    "search",
    "lineage",
    "dossier",
    "insights",
    "site",
    "promote",
    "drift",
    "canary",
    "retrain",
    "serve",
    "deploy",
    "init",
    "demo",
    "validate",
    "github",
    "pipeline",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="gitml",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gitml {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help=argparse.SUPPRESS
    )  # for bug reports: show the full traceback of an error
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        import_module(f"gitml.cli.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gitml`` with ``argv``; return the exit code (see :mod:`gitml.errors`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.run(args)
    except GitmlError as error:
        if args.traceback:
            raise
        sys.stderr.write(f"gitml: error: {error}\n")
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("gitml: interrupted\n")
        return 130
    except Exception as error:
        if args.traceback or os.environ.get("GITML_TRACEBACK"):
            raise
        sys.stderr.write(
            f"gitml: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in gitml; please report it with the output of the same "
            "command run with --traceback.\n"
        )
        return EXIT_INTERNAL
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
