"""``gitml search``: versions matching a query (or a sentence of the English family)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, add_read_options, emit, emit_json, read_root
from gitml.errors import EXIT_OK
from gitml.report.tables import table

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from gitml.search.run import LeftOut

EPILOG = """\
fields: model, version, stage (held now, or at --at), stage = ever:STAGE (held at any
time), metric.NAME, param.NAME, data (input path or md5), registered (2026-07-01, 2026-07,
2026, 2026-Q3, A..B), author, approver, pr, label, description (from dvc.yaml)
operators: = != < <= > >= ~ (substring), AND OR NOT ( )

examples:
  gitml search 'stage = production AND metric.roc_auc > 0.8'
  gitml search 'registered = 2026-Q3 AND approver = ada' --sort metric.roc_auc:desc --limit 5
  gitml search production models trained on customer data in Q3 with accuracy above 85%
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``gitml search``."""
    import argparse

    p = commands.add_parser(
        "search",
        help="find versions by stage, metrics, params, data, date, author",
        description="Versions of every model that match QUERY: the query language below, "
        "or an English sentence ('production models trained on X data in Q3 2026 with "
        "METRIC above N% by AUTHOR'), whose translation is printed on stderr. Each version "
        "returned is checked against git, as `gitml registry` checks a stage holder: a match whose "
        "record claims an artefact md5 that dvc.lock at its commit does not hold is left out, "
        "named in a warning on stderr (and under left_out with --json).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", nargs="+", metavar="QUERY", help="a query or an English sentence")
    add_read_options(p)
    p.add_argument(
        "--at",
        metavar="DATE",
        help="search the registry as it was then: stages held then, versions registered by "
        "then (ISO 8601; a date alone is the end of that day, UTC)",
    )
    p.add_argument(
        "--sort",
        metavar="FIELD",
        help="sort by FIELD, descending with FIELD:desc, --desc or --sort=-FIELD (versions "
        "without FIELD last either way; default: model, newest version first)",
    )
    p.add_argument("--desc", action="store_true", help="sort by --sort FIELD descending")
    p.add_argument("--limit", type=int, metavar="N", help="print at most N versions")
    add_format_options(p)
    p.set_defaults(run=run_search)


def run_search(args: argparse.Namespace) -> int:
    """Print the versions matching the query."""
    from gitml import api
    from gitml.search.order import descending

    text = " ".join(args.query)
    sort = descending(args.sort) if args.desc else args.sort
    root = read_root(args)
    result = api.search(text, root=root, local=args.local, at=args.at, sort=sort, limit=args.limit)
    if result.left_out:
        sys.stderr.write(f"gitml: warning: {left_out_warning(result.left_out)}\n")
    if args.format == "json":
        emit_json(result.to_dict())
        return EXIT_OK
    if result.english:
        sys.stderr.write(f"query: {result.query}\n")
    header = ["model", "version", "stages", "registered", "author", "pr", *result.metrics]
    body = [
        [
            v.model,
            v.version,
            ", ".join(sorted(v.stages)) or "-",
            v.registered.isoformat(" ")[:19] if v.registered else "-",
            v.author or "-",
            f"#{v.pr}" if v.pr else "-",
            *(_number(v.metrics.get(m)) for m in result.metrics),
        ]
        for v in result.versions
    ]
    emit(table(args.format, header, body) if body else "no version matches")
    return EXIT_OK


def left_out_warning(left_out: Sequence[LeftOut]) -> str:
    """One line naming the matches left out because git contradicts their records."""
    named = ", ".join(v.brief() for v in left_out)
    if len(left_out) == 1:
        return f"1 version left out: its record disagrees with git: {named}; run gitml verify"
    return (
        f"{len(left_out)} versions left out: their records disagree with git: {named}; "
        "run gitml verify"
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
