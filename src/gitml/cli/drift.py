"""``gitml drift``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.cli.recording import add_record_options, recording
from gitml.errors import EXIT_DRIFT_FOUND, EXIT_OK
from gitml.fsutil import check_output_path, write_output
from gitml.report.drift_render import render_markdown, render_table

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``drift`` command."""
    p = commands.add_parser(
        "drift",
        help="compare live data with a model version's baseline (PSI, KS, chi², JS)",
        description=(
            "Compare a batch (CSV, Parquet, or the JSONL prediction logs of gitml serve: one "
            "file, or a directory of one log per replica) with the baseline stored with "
            "MODEL@STAGE or MODEL@vX.Y.Z: population stability, Kolmogorov-Smirnov, "
            "chi-squared / Jensen-Shannon, missing-rate change, unseen categories and "
            "prediction-score drift, ranked by severity; with labels in the batch, live ROC AUC "
            "and calibration. Exit 4 with --fail-on-drift when drift is found."
        ),
    )
    p.add_argument("ref", help="model reference, e.g. credit@production")
    p.add_argument(
        "--data",
        metavar="FILE|DIR|GLOB",
        help="batch file, or a directory of prediction logs (one per server replica: its "
        "*.jsonl, *.jsonl.gz and *.ndjson files, NAME.feedback.jsonl left out) or a quoted glob "
        "of them, read in name order as one batch of one model version (default: monitor.data "
        "in gitml.yaml: a file, a DVC-tracked file or a command that writes the batch)",
    )
    p.add_argument(
        "--save-batch",
        metavar="PATH",
        help="copy the batch that was checked (and its .recipe.json) to PATH, e.g. for "
        "`gitml retrain --data PATH`; many logs are saved joined, as one JSONL file",
    )
    p.add_argument("--fail-on-drift", action="store_true", help="exit 4 when the verdict is drift")
    add_record_options(
        p,
        "keep the outcome in the registry: an annotated tag gitml.drift/MODEL/N on the "
        "version's commit holding the verdict, rows, batch sha256 (of many logs: of their "
        "lines joined in name order, as by `cat`), drifted features and their "
        "PSI (read by gitml history, insights, site and dossier)",
    )
    p.add_argument("-o", "--output", help="also write the rendered report to this file")
    p.add_argument(
        "--force",
        action="store_true",
        help="with -o, replace an existing regular file (never a link, folder or device)",
    )
    p.add_argument("--local", action="store_true", help="read local stage branches")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check drift and print the ranked report."""
    # numpy and pandas load only when a drift check runs, not for every gitml command.
    from gitml.monitor.version_drift import check_drift

    record, push = recording(args)
    if args.output:
        check_output_path(Path(args.output), force=args.force)  # before the work, not after
    check = check_drift(
        args.root, args.ref, args.data, local=args.local, save_batch=args.save_batch
    )
    report = check.report
    if record:
        from gitml.monitor.drift_record import record_drift_check

        tag = record_drift_check(args.root, check, push=push, remote=args.remote)
        sys.stderr.write(f"recorded {tag}{' (pushed)' if push else ''}\n")
    if args.format == "json":
        data = report.to_dict()
        emit_json(data)
        text = json.dumps(data, indent=2)
    else:
        text = render_markdown(report) if args.format == "md" else render_table(report)
        emit(text)
    if args.output:
        write_output(Path(args.output), text + "\n", force=args.force)
    return EXIT_DRIFT_FOUND if args.fail_on_drift and report.verdict == "drift" else EXIT_OK
