"""``gitml lineage``, and the lineage rows of ``gitml show MODEL@REF``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, add_read_options, emit, emit_json, read_root
from gitml.errors import EXIT_OK, EXIT_VERIFICATION_FAILED
from gitml.report.tables import table

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from gitml.registry.lineage_chain import LineageChain
    from gitml.registry.records import RecordedLineage


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``lineage`` command."""
    p = commands.add_parser(
        "lineage",
        help="what a version was built from and where it went, each item with its proof",
        description=(
            "The chain data -> run -> version -> promotions of MODEL@vX.Y.Z (or MODEL@STAGE, "
            "MODEL@latest): each DVC data input with its md5 and the .dvc and dvc.lock blobs "
            "that prove it, the params digest, the pipeline stages, the code commit, the "
            "pull request (author, approvers, URL), the CI run, the version tag, then every "
            "promotion, rollback, unassignment and deregistration with its tag object. The "
            "record is checked against dvc.lock at the registered commit: any disagreement "
            "is listed and exits 5. A version registered before gitml recorded lineage gets "
            "it derived from the lock, marked 'derived, not recorded'."
        ),
    )
    p.add_argument("ref", help="reference to one version, e.g. credit@v0.2.0 or credit@production")
    add_read_options(p)
    add_format_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the chain; exit 5 when git disagrees with the record."""
    from gitml import api

    root = read_root(args)
    chain = api.lineage(args.ref, root=root, local=args.local)
    if args.format == "json":
        emit_json(chain.to_dict())
    else:
        emit(render(chain, args.format))
    return EXIT_OK if chain.verified else EXIT_VERIFICATION_FAILED


# What happened to the version, in words (as ``gitml history`` says it).
_EVENT_WORDS = {
    "promotion": "promoted to {stage}",
    "rollback": "{stage} rolled back to it",
    "unassignment": "unassigned from {stage}",
    "deregistration": "deregistered",
}


def _short(value: str | None, digits: int = 12) -> str:
    return value[:digits] if value else "-"


def _blob(name: str, blob: str | None) -> str:
    return f"{name} blob {blob}" if blob else f"no {name}"


def _people(author: str | None, approvers: tuple[str, ...]) -> str:
    """``by alice, approved by bob, carol``; approvals unknown without an author."""
    if author is None:
        return "author and approvals not recorded"
    approved = ", ".join(approvers) if approvers else "nobody"
    return f"by {author}, approved by {approved}"


def rows(chain: LineageChain) -> list[list[str]]:
    """One row per link of the chain: step, what, value, proof."""
    lock = _blob("dvc.lock", chain.lock_blob)
    found: list[list[str]] = []
    for item in chain.inputs:
        proof = lock
        if item.pointer:
            proof = f"{_blob(item.pointer, item.pointer_blob)}; {lock}"
        found.append(["data", f"input {item.path}", f"md5 {item.md5}", proof])
    if chain.params_digest:
        found.append(["data", "params", f"sha256 {chain.params_digest}", lock])
    for name, digest in chain.stages.items():
        found.append(["data", f"stage {name}", f"sha256 {digest}", lock])
    found.append(["run", "code", f"commit {chain.commit}", f"commit {chain.commit}"])
    pull = chain.pull_request
    if pull is not None:
        merged = f"; merged by {pull.merged_by}" if pull.merged_by else ""
        value = f"#{pull.number} {_people(pull.author, pull.approvers)}{merged}"
        found.append(["run", "pull request", value, pull.url or "-"])
    if chain.run_url:
        found.append(["run", "CI run", "-", chain.run_url])
    registered = chain.registered_at.isoformat() if chain.registered_at else "-"
    artefact = f"{chain.artifact or '-'} md5 {chain.md5 or '-'}, registered {registered}"
    tag = f"tag {chain.tag} object {chain.tag_object}" if chain.tag else "no version tag"
    found.append(["version", chain.version, artefact, tag])
    for event in chain.events:
        what = _EVENT_WORDS[event.event].format(stage=event.stage)
        value = f"{event.at.isoformat()} by {event.actor}"
        if event.pull_request:
            value += f", #{event.pull_request}"
        if event.approvers:
            value += f", approved by {', '.join(event.approvers)}"
        proof = f"tag {event.tag} object {event.tag_object}"
        if event.run_url:
            proof += f"; {event.run_url}"
        found.append(["promotions", what, value, proof])
    return found


def render(chain: LineageChain, fmt: str) -> str:
    """The chain as a title, a table and any disagreements or notes."""
    from gitml.report.escape import text

    title = f"{chain.model} {chain.version}: lineage {chain.source}"
    if chain.source == "recorded":
        verdict = "verified" if chain.verified else "NOT verified"
        title += f", {verdict} against dvc.lock at {_short(chain.commit)}"
    lines = [f"disagreement: {d}" for d in chain.disagreements]
    lines += [f"note: {n}" for n in chain.notes]
    if fmt == "md":
        title = text(title)
        lines = [f"- {text(line)}" for line in lines]
    body = table(fmt, ["step", "what", "value", "proof"], rows(chain))
    return "\n\n".join([title, body, *(["\n".join(lines)] if lines else [])])


def show_rows(lineage: RecordedLineage) -> list[list[str]]:
    """The lineage and oversight rows of ``gitml show MODEL@REF`` (field, value)."""
    found = [
        ["pr author", lineage.author or "-"],
        ["approvers", ", ".join(lineage.approvers) or ("none" if lineage.author else "-")],
        ["ci run", lineage.run_url or "-"],
    ]
    if not lineage.recorded:
        found.append(["lineage", "not recorded (`gitml lineage` derives it from dvc.lock)"])
        return found
    found += [[f"data input {path}", md5] for path, md5 in lineage.inputs.items()]
    found.append(["params digest", lineage.params_digest or "-"])
    found += [[f"pipeline stage {name}", d] for name, d in lineage.pipeline_stages.items()]
    return found


def warn_all(warnings: Iterable[str]) -> None:
    """Each warning on stderr, one line each (what a registration record leaves out)."""
    import sys

    for warning in warnings:
        sys.stderr.write(f"gitml: warning: {warning}\n")
