"""``gitml outputs`` and ``gitml run-cache``: the DVC steps around ``dvc repro`` in CI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``outputs`` and ``run-cache`` commands."""
    register_run_cache(commands)
    p = commands.add_parser(
        "outputs",
        help="list the pipeline's git-tracked results (what CI commits back after dvc repro)",
        description=(
            "List, one per line, the files of the DVC pipeline that git tracks and that exist: "
            "each dvc.lock, every output declared `cache: false` (metrics, plots, model "
            "cards...) and the .gitignore files DVC keeps beside its cached outputs, as DVC's "
            "index resolves them (foreach/matrix stages included). Cached outputs (the model) "
            "belong in the DVC remote, not here. The propose workflow commits exactly these "
            "back to a pull request when `dvc repro` changed them."
        ),
        epilog="JSON (--json): [paths], relative to --root",
    )
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the paths."""
    from gitml.dvcio.outputs import git_tracked_outputs

    paths = git_tracked_outputs(args.root)
    if args.format == "json":
        emit_json(paths)
    elif paths:
        emit("\n".join(paths))
    return EXIT_OK


def register_run_cache(commands: argparse._SubParsersAction) -> None:
    """Add the ``run-cache`` command."""
    p = commands.add_parser(
        "run-cache",
        help="move DVC's run-cache to or from the remote, so dvc repro restores, not reruns",
        description=(
            "fetch: download the run-cache entries (which inputs gave which outputs) from the "
            "DVC remote, without the outputs; `dvc repro --pull --allow-missing` then restores "
            "a stage already run with the same inputs (pulling just its outputs) instead of "
            "running it. It fetches no entries itself, and `dvc fetch --run-cache` would also "
            "download every output of the current dvc.lock. push: upload the local entries "
            "and the `cache: false` outputs they name (metrics, plots), which `dvc push "
            "--run-cache` leaves behind, so another machine can restore them."
        ),
    )
    p.add_argument("action", choices=("fetch", "push"), help="direction")
    p.add_argument("--remote", help="DVC remote (default: the default remote)")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    p.set_defaults(run=run_run_cache)


def run_run_cache(args: argparse.Namespace) -> int:
    """Fetch or push, and say how much moved."""
    from gitml.dvcio.outputs import fetch_run_cache, push_run_cache

    if args.action == "fetch":
        count = fetch_run_cache(args.root, args.remote)
        emit(f"run-cache: fetched {count} entr{'y' if count == 1 else 'ies'}")
    else:
        entries, objects = push_run_cache(args.root, args.remote)
        emit(f"run-cache: pushed {entries} entries and {objects} uncached outputs")
    return EXIT_OK
