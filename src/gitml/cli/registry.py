"""``gitml register``, ``registry``, ``show``, ``history``, ``get`` and ``verify``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, add_read_options, emit, emit_json, read_root
from gitml.errors import EXIT_OK, EXIT_VERIFICATION_FAILED
from gitml.report.tables import table

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from gitml.registry.records import (
        HeldAt,
        HistoryEntry,
        ModelAt,
        ModelSummary,
        ModelVersions,
        StageInfo,
        VersionInfo,
    )
    from gitml.registry.show import VersionDetails


def _at_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--at",
        metavar="DATE",
        help=f"{what} at this instant, by the assignment history: ISO 8601, "
        "2026-03-01 (a date alone is the end of that day, UTC) or 2026-03-01T12:00:00+02:00",
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
            "another artefact. Deprecated models and deregistered versions are marked. "
            "--at DATE answers what each stage held then: the latest assignment at or before "
            "DATE (an unassignment lets the earlier holder show again, as now), a version "
            "deregistered later still counted and marked."
        ),
    )
    p.add_argument(
        "--names-in",
        metavar="STAGE",
        help="print only the models with a version recorded in STAGE, one per line (scripts)",
    )
    _at_option(p, "what each stage held")
    add_read_options(p)
    add_format_options(p)
    p.set_defaults(run=run_registry)


def _add_show(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "show",
        help="a model's versions, or one version: hash, commit, metrics, params, card, stages",
        description=(
            "MODEL lists every version of the model, greatest first, with its stages and "
            "whether it is active or deregistered (as `gto show MODEL`). MODEL@vX.Y.Z, "
            "MODEL@STAGE, MODEL#STAGE or MODEL@latest shows one version in full. "
            "MODEL@STAGE --at DATE shows the version the stage held at DATE, or says that "
            "it held nothing then."
        ),
    )
    p.add_argument("ref", help="model name, or reference to one version, e.g. credit@production")
    _at_option(p, "with MODEL@STAGE: the version the stage held")
    add_read_options(p)
    add_format_options(p)
    p.set_defaults(run=run_show)


def _add_history(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "history",
        help="registrations, promotions and rollbacks in time order",
        description=(
            "Every registry event of MODEL (of every model without one, as `gto history`), "
            "oldest first, in words, with author, commit and PR. --stage S --tenures lists "
            "each hold of S instead: version, from, to (or now), how it began and ended."
        ),
    )
    p.add_argument("model", nargs="?", help="model name (default: every model)")
    p.add_argument("--stage", help="only events of this stage")
    p.add_argument(
        "--tenures",
        action="store_true",
        help="with --stage: one row per hold of the stage (version, from, to, how it ended)",
    )
    add_read_options(p)
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
    add_read_options(p)
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
    add_read_options(p, repo=False)
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run_verify)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the registry commands."""
    for add in (_add_register, _add_registry, _add_show, _add_history, _add_get, _add_verify):
        add(commands)


def run_register(args: argparse.Namespace) -> int:
    """Register and list what was registered."""
    from gitml import api
    from gitml.cli.lineage import warn_all

    done = api.register(
        root=args.root,
        ref=args.ref,
        bump=args.bump,
        push=args.push,
        remote=args.remote,
        verify_remote=not args.no_verify_remote,
    )
    warn_all(w for r in done for w in r.warnings)
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


def _stage_cell(model: str, info: StageInfo) -> str:
    cell = _version_cell(info.version)
    if info.tip_commit is None:
        return cell
    if info.tip_md5 is None:
        # A branch that shares the stage's name but carries no artefact of the model.
        return f"{cell} (branch {info.branch}: no {model} artefact)"
    if info.unregistered:
        return f"{cell} (pending: branch tip {info.tip_commit[:12]} holds no registered version)"
    if info.pending:
        return f"{cell} (pending: {info.tip_version})"
    return cell


def _model_cell(model: str, deprecated: bool) -> str:
    return f"{model} (deprecated)" if deprecated else model


def _version_cell(version: str | None) -> str:
    """A version, or a commit assigned without a version tag, shortened."""
    if version is None:
        return "-"
    return version if version.startswith("v") else version[:12]


def _status(info: VersionInfo) -> str:
    """active, deregistered, or unregistered (a commit assigned without a version tag)."""
    if not info.registered:
        return "unregistered"
    return "deregistered" if info.deregistered else "active"


def run_registry(args: argparse.Namespace) -> int:
    """Print the registry table."""
    from gitml import api

    if args.at is not None:
        return _registry_at(args)
    rows = api.registry(root=read_root(args), local=args.local)
    if args.names_in:
        return _emit_names_in(rows, args.names_in)
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
        cells = [_stage_cell(r.model, by_stage[s]) if s in by_stage else "-" for s in stages]
        count = str(r.versions)
        if r.deregistered:
            count += f" (+{len(r.deregistered)} deregistered)"
        body.append([_model_cell(r.model, r.deprecated), r.latest or "-", count, *cells])
    emit(table(args.format, header, body))
    return EXIT_OK


def _emit_names_in(rows: Sequence[ModelSummary | ModelAt], stage: str) -> int:
    """``--names-in STAGE``: the models with a version in ``stage``, one per line."""
    held = [r.model for r in rows if any(s.stage == stage and s.version for s in r.stages)]
    if held:
        emit("\n".join(held))
    return EXIT_OK


def _held_cell(held: HeldAt) -> str:
    if held.version is None:
        return "nothing held"
    cell = _version_cell(held.version)
    return f"{cell} (now deregistered)" if held.deregistered else cell


def _registry_at(args: argparse.Namespace) -> int:
    """``gitml registry --at DATE``: what each stage of each model held then."""
    from gitml import api

    rows = api.registry(root=read_root(args), local=args.local, at=args.at)
    if args.names_in:
        return _emit_names_in(rows, args.names_in)
    if args.format == "json":
        emit_json([r.to_dict() for r in rows])
        return EXIT_OK
    at = rows[0].at.isoformat() if rows else args.at
    if not any(s.version for r in rows for s in r.stages):
        emit(f"nothing held at {at}: no stage of any model held a version then")
        return EXIT_OK
    stages = list(dict.fromkeys(s.stage for r in rows for s in r.stages))
    body = []
    for r in rows:
        by_stage = {s.stage: s for s in r.stages}
        cells = [_held_cell(by_stage[s]) if s in by_stage else "-" for s in stages]
        body.append([_model_cell(r.model, r.deprecated), *cells])
    emit(f"held at {at}\n\n{table(args.format, ['model', *stages], body)}")
    return EXIT_OK


def _show_at(args: argparse.Namespace) -> int:
    """``gitml show MODEL@STAGE --at DATE``: the version the stage held then, in full."""
    from gitml import api

    found = api.show(args.ref, root=read_root(args), local=args.local, at=args.at)
    if args.format == "json":
        emit_json(found.to_dict())
        return EXIT_OK
    title = f"{found.model}@{found.held.stage} at {found.at.isoformat()}"
    if found.details is None:
        emit(f"{title}: nothing held")
        return EXIT_OK
    assigned = found.held.assigned_at.isoformat() if found.held.assigned_at else "-"
    emit(f"{title}: {_held_cell(found.held)}, assigned {assigned}\n")
    return _emit_details(args.format, found.details)


def run_show(args: argparse.Namespace) -> int:
    """Print a model's versions, or one version in full."""
    from gitml import api
    from gitml.registry.show import names_a_model

    if args.at is not None:
        return _show_at(args)
    if names_a_model(args.ref):
        listing = api.versions(args.ref.strip(), root=read_root(args), local=args.local)
        if args.format == "json":
            emit_json(listing.to_dict())
        else:
            emit(_versions_table(args.format, listing))
        return EXIT_OK
    details = api.show(args.ref, root=read_root(args), local=args.local)
    if args.format == "json":
        emit_json(details.to_dict())
        return EXIT_OK
    return _emit_details(args.format, details)


def _emit_details(fmt: str, details: VersionDetails) -> int:
    """One version in full, as a field/value table."""
    from gitml.cli.lineage import show_rows

    info = details.info
    rows = [
        ["model", _model_cell(info.model, info.model_deprecated)],
        ["version", _version_cell(info.version)],
        ["status", _status(info)],
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
    rows += show_rows(info.lineage)
    emit(table(fmt, ["field", "value"], rows))
    return EXIT_OK


def _versions_table(fmt: str, listing: ModelVersions) -> str:
    """``gitml show MODEL``: a line about the model, then one row per version."""
    state = " (deprecated)" if listing.deprecated else ""
    title = f"{listing.model}{state}: latest {listing.latest or '-'}"
    header = ["version", "status", "stages", "registered", "md5", "artifact", "commit"]
    body = [
        [
            _version_cell(v.version),
            _status(v),
            ", ".join(v.stages) or "-",
            v.registered_at.isoformat(" ")[:19] if v.registered_at else "-",
            v.md5 or "-",
            v.artifact or "-",
            v.commit[:12],
        ]
        for v in listing.versions
    ]
    return f"{title}\n\n{table(fmt, header, body)}"


def _what(entry: HistoryEntry) -> str:
    """The event in words, with what is true of its version now."""
    words = entry.description
    if entry.version_deregistered and entry.event != "deregistration":
        words += " (now deregistered)"
    return words


def run_history(args: argparse.Namespace) -> int:
    """Print the events of a model, or of every model."""
    from gitml import api

    if args.tenures:
        return _tenures(args)
    # A missing model means every model's events (api.history takes None for that).
    entries = api.history(args.model, stage=args.stage, root=read_root(args), local=args.local)
    if args.format == "json":
        emit_json([e.to_dict() for e in entries])
        return EXIT_OK
    header = ["when", "model", "what", "author", "commit", "pr"]
    body = [
        [
            e.timestamp.isoformat(" ")[:19],  # as strftime("%Y-%m-%d %H:%M:%S"), faster
            _model_cell(e.model, e.model_deprecated),
            _what(e),
            e.author,
            e.commit[:12],
            f"#{e.pull_request}" if e.pull_request else "-",
        ]
        for e in entries
    ]
    empty = f"{args.model}: no registry events yet" if args.model else "no registry events yet"
    emit(table(args.format, header, body) if body else empty)
    return EXIT_OK


def _tenures(args: argparse.Namespace) -> int:
    """``gitml history --stage S --tenures``: one row per hold of the stage."""
    from gitml import api
    from gitml.errors import UsageError

    if not args.stage:
        raise UsageError("--tenures needs --stage STAGE: tenures are holds of one stage")
    rows = api.tenures(args.model, args.stage, root=read_root(args), local=args.local)
    if args.format == "json":
        emit_json([t.to_dict() for t in rows])
        return EXIT_OK
    header = ["model", "version", "from", "to", "began", "ended"]
    body = [
        [
            t.model,
            _version_cell(t.version) + (" (now deregistered)" if t.deregistered else ""),
            t.start.isoformat(" ")[:19],
            t.end.isoformat(" ")[:19] if t.end else "now",
            t.began,
            t.ended,
        ]
        for t in rows
    ]
    whose = args.model or "any model"
    emit(table(args.format, header, body) if body else f"no version of {whose} held {args.stage}")
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
