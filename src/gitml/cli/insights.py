"""``gitml insights``: the team's delivery figures, and the events behind each."""

from __future__ import annotations

import argparse
import textwrap

from gitml.cli.output import add_format_options, add_read_options, emit, emit_json, read_root
from gitml.errors import EXIT_OK
from gitml.insights.definitions import METRICS, NO_DRIFT_RECORD
from gitml.report.tables import table


def _metric_lines() -> str:
    lines = []
    for key, (_, definition) in METRICS.items():
        wrapped = textwrap.wrap(definition, 72, initial_indent="", subsequent_indent="    ")
        lines.append(f"  {key}:\n    " + "\n".join(wrapped))
    return "\n".join(lines)


DESCRIPTION = f"""\
The team's delivery figures, computed from the registry's tags and the git history
(no server, no database): every number lists its events with --explain METRIC.
A window or model with no events says "no data" and why, never a zero.

metrics:
{_metric_lines()}

Drift results are not recorded in git (only `gitml retrain` commits cite the drift
that prompted them), so drift alerts per production week reports:
  {NO_DRIFT_RECORD}
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``gitml insights``."""
    p = commands.add_parser(
        "insights",
        help="delivery figures: deployment frequency, lead time, change failures, ...",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", help="only this model (default: every model)")
    p.add_argument(
        "--since",
        metavar="DATE",
        help="start of the window, ISO 8601 (a date alone: its start, UTC; "
        "default: the first registry event)",
    )
    p.add_argument(
        "--until",
        metavar="DATE",
        help="end of the window, ISO 8601 (a date alone: its end, UTC; default: now)",
    )
    p.add_argument(
        "--failure-window",
        metavar="DAYS",
        type=float,
        default=7.0,
        help="a promotion rolled back or unassigned within this many days failed (default: 7)",
    )
    p.add_argument(
        "--explain",
        metavar="METRIC",
        help=f"list the events behind one metric ({', '.join(METRICS)})",
    )
    add_read_options(p)
    add_format_options(p)
    p.set_defaults(run=run_insights)


def run_insights(args: argparse.Namespace) -> int:
    """Print every figure, or with --explain one figure and its events."""
    from gitml import api
    from gitml.insights.explain import EXPLAIN_HEADER, explanation, metric_key

    key = metric_key(args.explain) if args.explain else None
    root = read_root(args)
    found = api.insights(
        args.model,
        since=args.since,
        until=args.until,
        failure_window_days=args.failure_window,
        root=root,
        local=args.local,
    )
    if key is not None:
        figure = found.figure(key)
        if args.format == "json":
            emit_json(figure.to_dict())
            return EXIT_OK
        heading, rows = explanation(figure)
        events = table(args.format, EXPLAIN_HEADER, rows) if rows else "(no events)"
        emit(f"{heading}\n\n{events}")
        return EXIT_OK
    if args.format == "json":
        emit_json(found.to_dict())
        return EXIT_OK
    since = found.since.isoformat() if found.since else "(no events)"
    scope = f"model {found.model}" if found.model else "every model"
    title = f"{scope}, {since} to {found.until.isoformat()}"
    body = [[f.name, f.summary] for f in found.figures]
    emit(f"{title}\n\n{table(args.format, ['metric', 'value'], body)}")
    return EXIT_OK
