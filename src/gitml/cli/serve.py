"""``gitml serve`` and ``gitml export``."""

from __future__ import annotations

import argparse
import math

from gitml.cli.output import emit
from gitml.cli.recording import add_record_options, recording
from gitml.errors import EXIT_OK, UsageError


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


def _percent(text: str) -> float:
    """A share of traffic in per cent, 0 to 100 (otherwise a usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage, got {text!r}") from None
    if not (math.isfinite(value) and 0 <= value <= 100):
        raise argparse.ArgumentTypeError(f"must be between 0 and 100, got {text}")
    return value


def _request_key(text: str) -> str:
    """``header:NAME`` or ``field:NAME`` (otherwise a usage error, exit 2)."""
    from gitml.serve.routing import parse_key

    try:
        parse_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def register(commands: argparse._SubParsersAction) -> None:
    """Add the serving commands."""
    p = commands.add_parser(
        "serve",
        help="serve MODEL@STAGE over HTTP (/predict, /feedback, /health, /metadata, "
        "/metrics), optionally with a canary or shadow candidate",
        description=(
            "Start an HTTP server (Starlette on uvicorn) for the stage's recorded version: the "
            "hash-verified, skops-loaded artefact. POST /predict takes one JSON record, a batch "
            '({"records": [...]} or a JSON array) or CSV, validates every field against the '
            "model's signature (422 naming each bad field) and answers probabilities and "
            "decisions at the model's threshold, each with a prediction id; POST /feedback "
            "takes the true labels by id. --reload-on-promotion swaps to a newly recorded "
            "version without dropping requests. --canary REF answers a sticky share of "
            "requests with a candidate version, --shadow REF scores every request with it "
            "too and answers with REF only; every answer names its version and role."
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
        metavar="PATH",
        help=(
            "append every prediction to this JSON Lines file (gitml drift reads it), and "
            "/feedback labels to NAME.feedback.jsonl beside it; {host} in PATH becomes the "
            "host name (a Kubernetes pod's name), so replicas sharing a volume each write "
            "their own file: '/var/log/gitml/predictions-{host}.jsonl'"
        ),
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
    p.add_argument(
        "--from-export",
        metavar="DIR",
        help=(
            "serve the directory `gitml export REF --format dir` wrote (md5 checked, trusted "
            "types only) instead of reading the registry: no git or DVC needed, as in the "
            "image `gitml deploy render` describes; REF must name that model and version"
        ),
    )
    candidates = p.add_mutually_exclusive_group()
    candidates.add_argument(
        "--canary",
        metavar="REF",
        help=(
            "a candidate version (e.g. credit@staging) that answers --canary-percent of "
            "requests; it must be another artefact of the same model with the same "
            "signature (features, types), or the server refuses to start"
        ),
    )
    candidates.add_argument(
        "--shadow",
        metavar="REF",
        help=(
            "a candidate version that scores every request too, after the answer, without "
            "answering any; its scores go to the prediction log as role shadow"
        ),
    )
    p.add_argument(
        "--canary-percent",
        type=_percent,
        metavar="P",
        help=(
            "share of requests the --canary answers, 0 to 100 (default: the stage's "
            "canary policy's percent, else 10)"
        ),
    )
    p.add_argument(
        "--canary-key",
        type=_request_key,
        metavar="header:NAME|field:NAME",
        help=(
            "route by this request header or record field (hashed: the same key always "
            "gets the same version); without it, or when a request lacks it, a seeded "
            "random draw routes"
        ),
    )
    judged = p.add_argument_group(
        "canary judging",
        "When REF names a stage with a canary policy (gitml.yaml canary.STAGE), the candidate "
        "is judged live window by window: a failed window stops it at once (everything is "
        "answered by REF), enough healthy ones pass it; /health shows the state.",
    )
    add_record_options(
        judged,
        "write the decision as a tag gitml.canary/MODEL/N on the candidate's commit",
        open_pr=True,
    )
    p.add_argument(
        "--known-ids",
        type=_positive_int,
        default=100_000,
        metavar="N",
        help=(
            "POST /feedback matches labels to the latest N predictions (default 100000), "
            "kept in memory; labels for older ids are counted as unknown"
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
    from gitml.serve.judging import DecisionOptions
    from gitml.serve.run import serve

    if (args.record or args.push or args.open_pr) and not args.canary and not args.shadow:
        raise UsageError(
            "--record, --push and --open-pr follow a judged candidate: add --canary or --shadow"
        )
    record, push = recording(args)

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
        canary=args.canary,
        shadow=args.shadow,
        canary_percent=args.canary_percent,
        canary_key=args.canary_key,
        known_ids=args.known_ids,
        from_export=args.from_export,
        remote=args.remote,
        decisions=DecisionOptions(
            record=record,
            push=push,
            open_pr=args.open_pr,
            remote=args.remote,
            repository=args.repository,
        ),
    )
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    """Export one version."""
    from gitml.serve.export import export

    path = export(args.root, args.ref, args.fmt, args.output, local=args.local)
    emit(f"exported {args.ref} ({args.fmt}) to {path}")
    return EXIT_OK
