"""``gitml serve`` and ``gitml export``."""

from __future__ import annotations

import argparse
import math

from gitml.cli.output import emit
from gitml.errors import EXIT_OK


def _positive_int(text: str) -> int:
    """A limit given as a whole number above zero (otherwise a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above zero, got {value}")
    return value


def _positive_float(text: str) -> float:
    """A duration in seconds above zero (otherwise a usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above zero, got {text}")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    """Add the serving commands."""
    p = commands.add_parser(
        "serve",
        help="serve MODEL@STAGE over HTTP: /predict, /health, /metadata, /metrics",
        description=(
            "Start an HTTP server (Starlette on uvicorn) for the stage's recorded version: the "
            "hash-verified, skops-loaded artefact. POST /predict takes one JSON record, a batch "
            '({"records": [...]} or a JSON array) or CSV, validates every field against the '
            "model's signature (422 naming each bad field) and answers probabilities and "
            "decisions at the model's threshold. --reload-on-promotion swaps to a newly "
            "recorded version without dropping requests."
        ),
    )
    p.add_argument("ref", help="model reference, e.g. credit@production")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port (default 8000; 0 takes any free port, which the start-up log names)",
    )
    p.add_argument(
        "--log",
        dest="log_path",
        help="append every prediction to this JSON Lines file (gitml drift reads it)",
    )
    p.add_argument(
        "--reload-on-promotion",
        action="store_true",
        help="poll the registry and swap to a newly recorded version",
    )
    p.add_argument(
        "--poll-seconds",
        type=_positive_float,
        default=30.0,
        help="registry poll interval with --reload-on-promotion (default 30)",
    )
    p.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=10 * 1024 * 1024,
        help="largest request body accepted (default 10 MiB; larger: 413)",
    )
    p.add_argument(
        "--max-batch",
        type=_positive_int,
        default=10_000,
        help="most records in one request (default 10000; more: 413)",
    )
    p.add_argument(
        "--timeout-seconds",
        type=_positive_float,
        default=30.0,
        help="per-request time limit (default 30; slower: 504)",
    )
    p.add_argument(
        "--max-connections",
        type=_positive_int,
        default=1000,
        help=(
            "most open connections (default 1000, kept below the open-file limit); past "
            "it a new connection replaces the oldest idle one"
        ),
    )
    p.add_argument(
        "--keep-alive-seconds",
        type=_positive_float,
        default=5.0,
        help="close a connection idle this long after a response (default 5)",
    )
    p.add_argument(
        "--header-timeout-seconds",
        type=_positive_float,
        default=10.0,
        help=(
            "close a connection that has not sent a whole request head this long after "
            "opening or after its last response (default 10)"
        ),
    )
    p.add_argument(
        "--no-fast-path",
        dest="fast_path",
        action="store_false",
        help=(
            "score every request with the model's predict_proba on a DataFrame, never with "
            "the compiled scorer for small requests (/metrics: gitml_serve_fast_path_active 0)"
        ),
    )
    p.add_argument("--local", action="store_true", help="read local stage branches")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    p.set_defaults(run=run_serve)

    p = commands.add_parser(
        "export",
        help="export a model version as an MLflow model directory or a plain directory",
        description=(
            "Write the verified artefact with its signature and card to -o: `mlflow` makes an "
            "MLflow model (python_function flavour whose loader uses skops with the "
            "trusted-type list; nothing is pickled), `dir` a plain directory."
        ),
    )
    p.add_argument("ref", help="model reference, e.g. credit@production")
    p.add_argument(
        "--format",
        dest="fmt",
        choices=("mlflow", "dir"),
        default="mlflow",
        help="export format (default: mlflow)",
    )
    p.add_argument("-o", "--output", required=True, help="directory to create (must be empty)")
    p.add_argument("--local", action="store_true", help="read local stage branches")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    p.set_defaults(run=run_export)


def run_serve(args: argparse.Namespace) -> int:
    """Load, verify and serve until stopped."""
    from gitml.serve.run import serve

    serve(
        args.root,
        args.ref,
        host=args.host,
        port=args.port,
        log_path=args.log_path,
        reload_on_promotion=args.reload_on_promotion,
        poll_seconds=args.poll_seconds,
        max_body_bytes=args.max_body_bytes,
        max_batch=args.max_batch,
        timeout_seconds=args.timeout_seconds,
        local=args.local,
        fast_path=args.fast_path,
        max_connections=args.max_connections,
        keep_alive_seconds=args.keep_alive_seconds,
        header_timeout_seconds=args.header_timeout_seconds,
    )
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    """Export one version."""
    from gitml.serve.export import export

    path = export(args.root, args.ref, args.fmt, args.output, local=args.local)
    emit(f"exported {args.ref} ({args.fmt}) to {path}")
    return EXIT_OK
