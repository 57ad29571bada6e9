"""``gitml init``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``init`` command."""
    p = commands.add_parser(
        "init",
        help="adopt gitml in an existing DVC repository (gitml.yaml and workflows)",
        description=(
            "Draft gitml.yaml from dvc.yaml (artifacts of type model, their metrics files, "
            "metric directions guessed from names) and write the GitHub Actions workflows. "
            "Existing files are kept unless --force; prints the remaining manual steps."
        ),
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Scaffold, then list what is left to do; exit 1 if an existing file was kept."""
    from gitml.init import init

    result = init(args.root, force=args.force)
    if args.format == "json":
        emit_json(result.to_dict())
    else:
        for path in result.written:
            emit(f"wrote {path}")
        for path in result.kept:
            emit(f"kept  {path} (exists; --force overwrites)")
        emit(f"models: {', '.join(result.models)}")
        emit("next steps:")
        for number, step in enumerate(result.next_steps, 1):
            emit(f"  {number}. {step}")
    return EXIT_ERROR if result.kept else EXIT_OK
