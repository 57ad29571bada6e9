"""``gitml site -o DIR``: the registry as a static web site."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_read_options, emit, emit_json, read_root
from gitml.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``gitml site``."""
    p = commands.add_parser(
        "site",
        help="write the registry as a static web site (models, versions, charts, insights)",
        description=(
            "Write a static site of the registry into DIR: an index of models, per model "
            "its stages, metric trends, stage timeline and versions (paginated, sortable), "
            "per version its card, lineage, metrics, params and changes, and the insights. "
            "No server and no external request: open DIR/index.html from disk or publish "
            "DIR to GitHub Pages. The pages describe the registry now, or at "
            "SOURCE_DATE_EPOCH (Unix seconds) when set: the same registry then gives the "
            "same bytes."
        ),
    )
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="directory to write")
    add_read_options(p)
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(run=run_site)


def run_site(args: argparse.Namespace) -> int:
    """Build the site and say where it is."""
    from gitml import api

    root = read_root(args)
    built = api.site(args.out, root=root, local=args.local)
    if args.json:
        emit_json(built.to_dict())
    else:
        emit(
            f"wrote {built.pages} pages ({built.models} models, {built.versions} versions) "
            f"to {built.out}; open {built.out / 'index.html'}"
        )
    return EXIT_OK
