"""Entry point of the ``gitml`` command: the single boundary where errors become exit codes."""

from __future__ import annotations

import os
import sys

from gitml.cli import replay
from gitml.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, GitmlError
from gitml.gcpause import without_cyclic_gc

# Not typing.TYPE_CHECKING; argparse imported where the parser is built: a replayed
# registry query (gitml.cli.replay) needs neither, and they are most of its start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from gitml.registry.memo import QueryMemo

DESCRIPTION = """\
gitml: the git repository is the model registry. Pull requests get a metric-diff
report, merges to main register versions, merges to stage branches promote them.

exit codes: 0 ok, 1 error, 2 usage, 3 gate failed, 4 drift found,
            5 verification failed, 70 internal error (please report)

environment: GITML_NO_CACHE=1 turns off the caches in ~/.cache/gitml (registry
             answers, parsed YAML; the answers are the same, only slower)
"""


# Which module defines each command, so running one builds (and imports) only its parser:
# registry queries answer in milliseconds, and the full parser costs several of them.
# tests/test_cli.py checks this against the full parser.
COMMAND_MODULES = {
    "report": "report",
    "check": "check",
    "register": "registry",
    "registry": "registry",
    "show": "registry",
    "history": "registry",
    "get": "registry",
    "verify": "registry",
    "promote": "promote",
    "rollback": "promote",
    "unassign": "promote",
    "deprecate": "promote",
    "drift": "drift",
    "retrain": "retrain",
    "serve": "serve",
    "export": "serve",
    "init": "init",
    "demo": "demo",
    "validate": "validate",
    "commit-status": "github",
    "pull-request": "github",
    "outputs": "pipeline",
    "run-cache": "pipeline",
}
MODULES = (
    "report",
    "check",
    "registry",
    "promote",
    "drift",
    "retrain",
    "serve",
    "init",
    "demo",
    "validate",
    "github",
    "pipeline",
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command's, or only ``command``'s module's when given."""
    import argparse
    from importlib import import_module

    from gitml import __version__
    from gitml.cli.help import Parser, RawDescriptionFormatter

    module_name = COMMAND_MODULES.get(command or "")
    names = (module_name,) if module_name else MODULES
    parser = Parser(prog="gitml", description=DESCRIPTION, formatter_class=RawDescriptionFormatter)
    parser.add_argument("--version", action="version", version=f"gitml {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help=argparse.SUPPRESS
    )  # for bug reports: show the full traceback of an error
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for name in names:
        module = import_module(f"gitml.cli.{name}")
        # A module that names its commands' parsers (COMMANDS) builds only the one asked.
        single = getattr(module, "COMMANDS", {}).get(command or "")
        if single is not None:
            single(commands)
        else:
            module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gitml`` with ``argv``; return the exit code (see :mod:`gitml.errors`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    state = replay.filed_state(argv)
    if replay.replay(argv, state):
        return EXIT_OK
    if argv and argv[0] in replay.COMMANDS:
        # A query builds and prints tens of thousands of small acyclic objects, then exits.
        return without_cyclic_gc(lambda: _run(argv, state))
    return _run(argv, state)


def _run(argv: list[str], state: QueryMemo | None) -> int:
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    try:
        recording = replay.recording(argv, args, state)
        code: int = args.run(args) if recording is None else recording.run(lambda: args.run(args))
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
