"""``gitml demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitml.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    p = commands.add_parser(
        "demo",
        help="run the whole GitOps loop on this machine, in a sandbox",
        description=(
            "A bare repository stands in for GitHub and a directory for the DVC remote. "
            "Trains a baseline, registers and promotes it, opens a pull request with its "
            "report, registers and promotes the better model, shows a production gate "
            "refusing a worse one, rolls back, prints the registry and history, then the "
            "lineage of the production version and its dossier (an HTML file), and a "
            "canary policy that stops the bad candidate and passes the good one (gitml "
            "canary replay --record: each decision a registry event)."
        ),
    )
    p.add_argument("--dir", help="sandbox directory (must be empty; default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the sandbox and print where")
    p.add_argument(
        "--rows",
        type=int,
        default=20_000,
        help="rows of generated data (default 20000; fewer is faster)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Play the demo."""
    from gitml.demo import run_demo

    run_demo(Path(args.dir) if args.dir else None, keep=args.keep, rows=args.rows)
    return EXIT_OK
