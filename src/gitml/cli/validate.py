"""``gitml validate``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``validate`` command."""
    parser = commands.add_parser(
        "validate",
        help="check gitml.yaml, params, model cards, signatures and dvc.yaml artifacts",
        description=(
            "Check gitml.yaml, the params file, every model card and signature against "
            "their JSON Schemas, and that each model is declared under `artifacts:` in "
            "dvc.yaml. Reports every problem with its file and key path; exits 1 if any."
        ),
    )
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(parser, ("table", "json"))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate and print the problems (or what was checked)."""
    from gitml import api

    report = api.validate(args.root)
    if args.format == "json":
        emit_json(report.to_dict())
    elif report.ok:
        emit(f"ok: {len(report.checked)} files valid ({', '.join(report.checked)})")
    else:
        emit("\n".join(str(problem) for problem in report.problems))
        emit(f"{len(report.problems)} problem(s) in {len(report.checked)} files checked")
    return EXIT_OK if report.ok else EXIT_ERROR
