"""``gitml dossier``: one version's technical documentation, every fact with its proof."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitml.cli.output import add_read_options
from gitml.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse

FORMATS = ("md", "html", "json")


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``gitml dossier``."""
    p = commands.add_parser(
        "dossier",
        help="a version's dossier (EU AI Act Annex IV sections), every fact with its proof",
        description=(
            "The technical documentation of MODEL@vX.Y.Z or MODEL@STAGE, read from git: "
            "purpose, pipeline and params, data, metrics and gates, fairness and "
            "explanations, approvals, changes against the version it replaced, and "
            "monitoring. Each fact cites the tag, commit or file blob that proves it; the "
            "human-written fields the model card lacks are listed, never invented. The same "
            "refs give the same bytes. HTML is one file: inline CSS, no script, no request."
        ),
    )
    p.add_argument("ref", help="model version or stage, e.g. credit@v0.2.0 or credit@production")
    p.add_argument("--format", choices=FORMATS, default="md", help="output format (default: md)")
    p.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="shorthand for --format json",
    )
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument(
        "--force",
        action="store_true",
        help="with -o, replace an existing regular file (never a link, folder or device)",
    )
    add_read_options(p, repo=False)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the dossier and print it, or write it to ``-o``."""
    from gitml import api
    from gitml.cli.output import emit

    if args.output:
        from gitml.fsutil import check_output_path

        check_output_path(Path(args.output), force=args.force)  # before the work
    dossier = api.dossier(args.ref, root=args.root, local=args.local)
    if args.format == "json":
        import json

        content = json.dumps(dossier.to_dict(), indent=2) + "\n"
    elif args.format == "html":
        from gitml.dossier.html import render

        content = render(dossier)
    else:
        from gitml.dossier.markdown import render

        content = render(dossier)
    if args.output:
        from gitml.fsutil import write_output

        write_output(Path(args.output), content, force=args.force)
    else:
        emit(content)
    return EXIT_OK
