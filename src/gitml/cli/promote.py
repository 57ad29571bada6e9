"""``gitml promote``, ``rollback``, ``unassign`` and ``deprecate``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    import argparse

    from gitml.registry.prepare import PreparedBranch


def _write_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--push", action="store_true", help="push the branch or tag to the remote")
    p.add_argument("--remote", default="origin", help="git remote (default: origin)")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p, ("table", "json"))


def register(commands: argparse._SubParsersAction) -> None:
    """Add the promotion commands."""
    p = commands.add_parser(
        "promote",
        help="record a stage branch's new version (CI), or prepare a promotion branch",
        description=(
            "`gitml promote --on-push STAGE` (run by CI after a push to a stage branch) "
            "records MODEL#STAGE#N for each model whose branch tip holds a new registered "
            "version, after checking the artefact is in the DVC remote, the stage's gate "
            "passes and, with gitml.yaml deploy:, the branch's deploy folder is the version's "
            "rendered stage. `gitml promote MODEL --to STAGE [--version V]` prepares a branch "
            "whose tree is the version's registered commit (plus its rendered stage in "
            "deploy.directory, whose change it summarises), for a pull request into the stage "
            "branch (opened through GitHub's API when GITHUB_TOKEN is set)."
        ),
    )
    p.add_argument("model", nargs="?", help="model to promote (with --to)")
    p.add_argument("--to", help="target stage of a promotion branch")
    p.add_argument("--version", help="version to promote (default: latest)")
    p.add_argument("--on-push", metavar="STAGE", help="record what the STAGE branch tip holds")
    p.add_argument(
        "--no-verify-remote", action="store_true", help="with --on-push: skip the DVC check"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="with --on-push: run every check, record nothing"
    )
    p.add_argument("--tip", help="with --on-push: judge this commit as the branch tip (a PR head)")
    p.add_argument(
        "--pull-request",
        type=int,
        metavar="N",
        help="with --on-push: the pull request an `approvals` rule judges and the record "
        "names (default: from the tip's merge subject)",
    )
    p.add_argument(
        "--repository", help="OWNER/NAME for the pull request (default: $GITHUB_REPOSITORY)"
    )
    _write_options(p)
    p.set_defaults(run=run_promote)

    p = commands.add_parser(
        "rollback",
        help="prepare a branch that returns a stage to an earlier version",
        description=(
            "A new commit on top of the stage branch whose tree is the older version's "
            "registered commit (history kept), with gitml.yaml deploy: the stage's deploy "
            "folder exactly as the stage ran that version before. Default target: the "
            "promotion before the "
            "current one (a second rollback goes one further back). The merge is recorded "
            "as a rollback; metric gates are skipped, hash and remote checks are not."
        ),
    )
    p.add_argument("model", help="model to roll back")
    p.add_argument("--stage", required=True, help="stage to roll back")
    p.add_argument("--to", help="version to return to (default: the previous one)")
    p.add_argument(
        "--repository", help="OWNER/NAME for the pull request (default: $GITHUB_REPOSITORY)"
    )
    _write_options(p)
    p.set_defaults(run=run_rollback)

    p = commands.add_parser(
        "unassign",
        help="remove a model's recorded version from a stage (GTO unassignment tag)",
        description=(
            "Write MODEL#STAGE!#N: the stage falls back to the previously assigned version."
        ),
    )
    p.add_argument("model", help="model name")
    p.add_argument("--stage", required=True, help="stage to remove it from")
    p.add_argument("--reason", default="", help="why (recorded in the tag)")
    _write_options(p)
    p.set_defaults(run=run_unassign)

    p = commands.add_parser(
        "deprecate",
        help="deregister a version (MODEL@vX.Y.Z) or deprecate a model (MODEL)",
        description=(
            "GTO-compatible: MODEL@vX.Y.Z writes MODEL@vX.Y.Z!#N (the version leaves latest "
            "and every stage); MODEL writes MODEL@deprecated#N (hidden from the registry)."
        ),
    )
    p.add_argument("ref", help="MODEL or MODEL@vX.Y.Z")
    p.add_argument("--reason", default="", help="why (recorded in the tag)")
    _write_options(p)
    p.set_defaults(run=run_deprecate)


def _emit_prepared(prepared: PreparedBranch, fmt: str, remote: str) -> None:
    if fmt == "json":
        emit_json(prepared.to_dict())
        return
    if prepared.kind == "up-to-date":
        emit(prepared.note)
        return
    if prepared.kind == "new-stage":
        push_hint = "" if prepared.pushed else f"; push it: git push {remote} {prepared.branch}"
        emit(prepared.note + push_hint)
        return
    emit(
        f"prepared {prepared.kind} branch {prepared.branch} → {prepared.base} "
        f"({prepared.model} {prepared.version}, commit {prepared.commit[:12]})"
    )
    if prepared.note:
        emit(f"  {prepared.note}")
    if prepared.deploy is not None:
        files = len(prepared.deploy.files_changed)
        emit(f"  deploy: {prepared.deploy.directory}/, {files} file(s) changed")
        for what, before, after in prepared.deploy.rows:
            emit(f"    {what}: {before} → {after}")
    if not prepared.pushed:
        emit(f"  push it: git push {remote} {prepared.branch}")
    if prepared.pull_request:
        dispatched = " (propose dispatched)" if prepared.dispatched else ""
        emit(f"  pull request: {prepared.pull_request}{dispatched}")
    elif prepared.command:
        emit(f"  open the pull request: {prepared.command}")


def _emit_tag(tag: str, fmt: str) -> None:
    if fmt == "json":
        emit_json({"tag": tag})
    else:
        emit(f"recorded {tag}")


def run_promote(args: argparse.Namespace) -> int:
    """Record on push, or prepare a promotion branch."""
    from gitml import api

    if args.on_push:
        if args.model or args.to or args.version:
            raise UsageError("--on-push STAGE takes no MODEL, --to or --version")
        outcomes = api.promote_on_push(
            args.on_push,
            root=args.root,
            push=args.push,
            remote=args.remote,
            verify_remote=not args.no_verify_remote,
            dry_run=args.dry_run,
            tip=args.tip,
            pull_request=args.pull_request,
            repository=args.repository,
        )
        if args.format == "json":
            emit_json([o.to_dict() for o in outcomes])
        else:
            for o in outcomes:
                detail = f": {o.reason}" if o.reason else ""
                tag = f" as {o.tag}" if o.tag else ""
                version = f" {o.version}" if o.version else ""  # none when no version applies
                emit(f"{o.model}{version} → {o.stage}: {o.status}{tag}{detail}")
        codes = [o.exit_code for o in outcomes if o.exit_code]
        return max(codes) if codes else EXIT_OK
    if args.pull_request is not None:
        raise UsageError("--pull-request goes with --on-push STAGE")
    if not args.model or not args.to:
        raise UsageError("give MODEL --to STAGE (prepare a promotion) or --on-push STAGE (CI)")
    prepared = api.promote(
        args.model,
        args.to,
        version=args.version,
        root=args.root,
        push=args.push,
        remote=args.remote,
        repository=args.repository,
    )
    _emit_prepared(prepared, args.format, args.remote)
    return EXIT_OK


def run_rollback(args: argparse.Namespace) -> int:
    """Prepare a rollback branch."""
    from gitml import api

    prepared = api.rollback(
        args.model,
        args.stage,
        to=args.to,
        root=args.root,
        push=args.push,
        remote=args.remote,
        repository=args.repository,
    )
    _emit_prepared(prepared, args.format, args.remote)
    return EXIT_OK


def run_unassign(args: argparse.Namespace) -> int:
    """Write an unassignment tag."""
    from gitml import api

    tag = api.unassign(
        args.model,
        args.stage,
        root=args.root,
        reason=args.reason,
        push=args.push,
        remote=args.remote,
    )
    _emit_tag(tag, args.format)
    return EXIT_OK


def run_deprecate(args: argparse.Namespace) -> int:
    """Write a deregistration or deprecation tag."""
    from gitml import api

    tag = api.deprecate(
        args.ref, root=args.root, reason=args.reason, push=args.push, remote=args.remote
    )
    _emit_tag(tag, args.format)
    return EXIT_OK
