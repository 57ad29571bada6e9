"""``gitml register``, ``registry``, ``show``, ``history``, ``get`` and ``verify``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_OK, EXIT_VERIFICATION_FAILED
from gitml.report.tables import table

if TYPE_CHECKING:
    import argparse

    from gitml.registry.records import StageInfo


def _read_options(parser: argparse.ArgumentParser, repo: bool = True) -> None:
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="read local stage branches instead of remote-tracking ones (origin/STAGE)",
    )
    if repo:
        parser.add_argument(
            "--repo", help="read the registry of this git URL (refs and tags only, cached)"
        )


def _add_register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "register",
        help="register every model artefact on main that has no version yet",
        description=(
            "Tag each artefact hash that reached --ref (first-parent line) since the model's "
            "newest version as MODEL@vX.Y.Z (GTO's format). Idempotent; refuses artefacts "
            "missing from the DVC remote; safe when two CI runs race."
        ),
    )
    p.add_argument("--ref", default="main", help="branch or revision to register (default: main)")
    p.add_argument(
        "--bump", choices=("major", "minor", "patch"), default="minor", help="version part to bump"
    )
    p.add_argument("--push", action="store_true", help="fetch tags first and push new tags")
    p.add_argument("--remote", default="origin", help="git remote for --push (default: origin)")
    p.add_argument(
        "--no-verify-remote",
        action="store_true",
        help="register even if the artefact is not in the DVC remote",
    )
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run_register)


def _add_registry(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "registry",
        help="every model with its latest version and the version in each stage",
        description=(
            "What runs where: each model's latest version and, per stage, the recorded "
            "version (latest assignment tag); `pending` when the stage branch tip holds "
            "another artefact."
        ),
    )
    p.add_argument(
        "--names-in",
        metavar="STAGE",
        help="print only the models with a version recorded in STAGE, one per line (scripts)",
    )
    _read_options(p)
    add_format_options(p)
    p.set_defaults(run=run_registry)


def _add_show(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "show",
        help="one version: hash, commit, registration, metrics, params, card, stages",
        description="Show MODEL, MODEL@vX.Y.Z, MODEL@STAGE, MODEL#STAGE or MODEL@latest.",
    )
    p.add_argument("ref", help="model reference, e.g. credit@production")
    _read_options(p)
    add_format_options(p)
    p.set_defaults(run=run_show)


def _add_history(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "history",
        help="registrations, promotions and rollbacks of a model in time order",
        description="Every registry event of MODEL, oldest first, with author, commit and PR.",
    )
    p.add_argument("model", help="model name")
    p.add_argument("--stage", help="only events of this stage")
    _read_options(p)
    add_format_options(p)
    p.set_defaults(run=run_history)


def _add_get(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "get",
        help="fetch a model artefact from the DVC remote, hash-verified",
        description=(
            "Write the artefact MODEL@REF names (a version, a stage, latest or a git "
            "revision) to -o, after checking its hash against the registered one. Nothing is "
            "written when the hash does not match or the object is missing."
        ),
    )
    p.add_argument("ref", help="model reference, e.g. credit@production or credit@v0.2.0")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace -o if it is an existing regular file (never a link, folder or device)",
    )
    _read_options(p)
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run_get)


def _add_verify(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "verify",
        help="check stage tips are registered, artefacts stored and tags well formed",
        description=(
            "Every stage branch tip holds a registered artefact, every version's artefact is "
            "in the DVC remote, every gitml-written tag is well formed. Exits 5 on a problem."
        ),
    )
    p.add_argument("--no-remote", action="store_true", help="skip the DVC remote checks")
    p.add_argument(
        "--deep",
        action="store_true",
        help="read every active version's artefact back from the DVC remote and check its md5 "
        "(without it, the remote is asked for presence only)",
    )
    _read_options(p, repo=False)
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run_verify)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the registry commands."""
    for add in (_add_register, _add_registry, _add_show, _add_history, _add_get, _add_verify):
        add(commands)


def _root(args: argparse.Namespace) -> str:
    if getattr(args, "repo", None):
        from gitml.gitio.remote_cache import partial_clone

        return str(partial_clone(args.repo))
    return str(args.root)


def run_register(args: argparse.Namespace) -> int:
    """Register and list what was registered."""
    from gitml import api

    done = api.register(
        root=args.root,
        ref=args.ref,
        bump=args.bump,
        push=args.push,
        remote=args.remote,
        verify_remote=not args.no_verify_remote,
    )
    if args.format == "json":
        emit_json([r.__dict__ for r in done])
    elif not done:
        emit("nothing to register: every artefact on " + args.ref + " already has a version")
    else:
        for r in done:
            state = "registered" if r.created else "already registered by another run as"
            pushed = " (pushed)" if r.pushed else ""
            emit(f"{r.model}: {state} {r.version} ({r.md5[:8]} at {r.commit[:12]}){pushed}")
    return EXIT_OK


def _stage_cell(info: StageInfo) -> str:
    cell = info.version or "-"
    if info.unregistered:
        cell += " (pending: unregistered artefact)"
    elif info.pending:
        cell += f" (pending: {info.tip_version})"
    return cell


def run_registry(args: argparse.Namespace) -> int:
    """Print the registry table."""
    from gitml import api

    rows = api.registry(root=_root(args), local=args.local)
    if args.names_in:
        held = [
            r.model for r in rows if any(s.stage == args.names_in and s.version for s in r.stages)
        ]
        if held:
            emit("\n".join(held))
        return EXIT_OK
    if args.format == "json":
        emit_json([r.to_dict() for r in rows])
        return EXIT_OK
    if not rows:
        emit("the registry is empty: no model is configured or registered yet")
        return EXIT_OK
    stages = list(dict.fromkeys(s.stage for r in rows for s in r.stages))
    header = ["model", "latest", "versions", *stages]
    body = []
    for r in rows:
        by_stage = {s.stage: s for s in r.stages}
        name = f"{r.model} (deprecated)" if r.deprecated else r.model
        cells = [_stage_cell(by_stage[s]) if s in by_stage else "-" for s in stages]
        body.append([name, r.latest or "-", str(r.versions), *cells])
    emit(table(args.format, header, body))
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    """Print one version."""
    from gitml import api

    details = api.show(args.ref, root=_root(args), local=args.local)
    if args.format == "json":
        emit_json(details.to_dict())
        return EXIT_OK
    info = details.info
    rows = [
        ["model", info.model],
        ["version", info.version],
        ["stages", ", ".join(info.stages) or "-"],
        ["artifact", info.artifact or "-"],
        ["md5", info.md5 or "-"],
        ["commit", info.commit],
        [
            "registered",
            f"{info.registered_at.isoformat() if info.registered_at else '-'} by "
            f"{info.author or '-'} <{info.email}>",
        ],
        ["pull request", f"#{info.pull_request}" if info.pull_request else "-"],
        ["merged by", info.merged_by or "-"],
        ["training data md5", details.training_data_md5 or "-"],
    ]
    rows += [[f"metric {k}", str(v)] for k, v in details.metrics.items()]
    rows += [[f"param {k}", str(v)] for k, v in details.params.items()]
    if details.card:
        rows.append(["intended use", str(details.card.get("intended_use", "-"))])
    emit(table(args.format, ["field", "value"], rows))
    return EXIT_OK


def run_history(args: argparse.Namespace) -> int:
    """Print a model's events."""
    from gitml import api

    entries = api.history(args.model, stage=args.stage, root=_root(args), local=args.local)
    if args.format == "json":
        emit_json([e.to_dict() for e in entries])
        return EXIT_OK
    header = ["when", "event", "version", "stage", "author", "commit", "pr"]
    body = [
        [
            e.timestamp.isoformat(" ")[:19],  # as strftime("%Y-%m-%d %H:%M:%S"), faster
            e.event,
            e.version or "-",
            e.stage or "-",
            e.author,
            e.commit[:12],
            f"#{e.pull_request}" if e.pull_request else "-",
        ]
        for e in entries
    ]
    emit(table(args.format, header, body) if body else f"{args.model}: no registry events yet")
    return EXIT_OK


def run_get(args: argparse.Namespace) -> int:
    """Fetch and verify one artefact."""
    from pathlib import Path

    from gitml import api
    from gitml.fsutil import check_output_path

    check_output_path(Path(args.output), force=args.force)  # before fetching anything
    resolved = api.get(args.ref, args.output, root=args.root, local=args.local, repo=args.repo)
    if args.format == "json":
        emit_json({**resolved.__dict__, "output": args.output})
    else:
        version = resolved.version or f"commit {resolved.commit[:12]}"
        emit(f"{resolved.model} {version}: wrote {args.output} (md5 {resolved.md5} verified)")
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    """Verify the registry; exit 5 on any problem."""
    from gitml import api

    report = api.verify(
        root=args.root, check_remote=not args.no_remote, local=args.local, deep=args.deep
    )
    if args.format == "json":
        emit_json(report.to_dict())
    else:
        for warning in report.warnings:
            emit(f"warning: {warning}")
        for problem in report.problems:
            emit(f"problem: {problem}")
        emit(
            f"{'ok' if report.ok else 'FAILED'}: {report.checked_versions} version(s), "
            f"{report.checked_stages} stage branch(es) checked, {len(report.problems)} problem(s)"
        )
    return EXIT_OK if report.ok else EXIT_VERIFICATION_FAILED
