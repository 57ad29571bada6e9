"""``gitml init``, and ``gitml install-args`` (what the setup action installs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``init`` and ``install-args`` commands."""
    p = commands.add_parser(
        "init",
        help="adopt gitml in an existing DVC repository (gitml.yaml and workflows)",
        description=(
            "Draft gitml.yaml from dvc.yaml (artifacts of type model, their metrics files, "
            "metric directions guessed from names), the stages the repository's GTO tags "
            "already use, and the requirements files and packages git tracks (`install:`); "
            "write the GitHub Actions workflows, which install gitml with its setup action "
            "pinned by commit (OWNER/REPO/.github/actions/setup-gitml@SHA), never by name "
            "from a package index. The commit is --gitml-action's, or the running gitml's "
            "own when it was installed from git or from a clean, pushed checkout of a GitHub "
            "repository; otherwise init stops (exit 1) before writing anything, unless "
            "--config-only. A second run changes nothing. Files init wrote carry a first-line "
            "mark: only those are replaced, and only with --force; any other file is left "
            "alone. Prints what it could not decide and the remaining manual steps. (A "
            "release from a package index is not offered: pip can pin it by hash only with "
            "every dependency hashed too.)"
        ),
    )
    p.add_argument(
        "--gitml-action",
        metavar="OWNER/REPO@SHA",
        help="the gitml repository on GitHub (e.g. your fork) and the full commit SHA whose "
        ".github/actions/setup-gitml the workflows pin (default: the running gitml's own)",
    )
    p.add_argument(
        "--config-only",
        action="store_true",
        help="write gitml.yaml alone, no workflows (no setup action reference needed)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace files init wrote before (marked) that differ"
    )
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run)

    q = commands.add_parser(
        "install-args",
        help="print the pip install arguments of gitml.yaml's `install:` section",
        description=(
            "Print, one per line, the `pip install` arguments for the project's own "
            "dependency files that gitml.yaml's `install:` section names: `-c FILE`, "
            "`-r FILE`, then `./FOLDER[EXTRAS]` per package. The workflows' setup action "
            "runs it. Refuses options, URLs, absolute paths, `..` and files outside the "
            "repository with a one-line error; prints nothing when there is no section."
        ),
    )
    q.add_argument("--root", default=".", help="repository root (default: .)")
    q.set_defaults(run=run_install_args)


def run(args: argparse.Namespace) -> int:
    """Scaffold, then list what is undecided and left to do; exit 1 if a file was kept."""
    from gitml.init import init
    from gitml.setup_action import parse_reference

    action = parse_reference(args.gitml_action) if args.gitml_action else None
    result = init(args.root, force=args.force, action=action, config_only=args.config_only)
    if args.format == "json":
        emit_json(result.to_dict())
    else:
        for path in result.written:
            emit(f"wrote {path}")
        for path in result.unchanged:
            emit(f"unchanged {path}")
        for kept in result.kept:
            emit(f"kept  {kept.path} ({kept.reason})")
        emit(f"models: {', '.join(result.models)}")
        source = "from the repository's GTO tags" if result.stages_from_tags else "gitml's default"
        emit(f"stages: {', '.join(result.stages)} ({source})")
        if result.action is not None:
            emit(f"setup action: {result.action}")
        if result.notes:
            emit("undecided (review gitml.yaml):")
            for note in result.notes:
                emit(f"  - {note}")
        emit("next steps:")
        for number, step in enumerate(result.next_steps, 1):
            emit(f"  {number}. {step}")
    return EXIT_ERROR if result.kept else EXIT_OK


def run_install_args(args: argparse.Namespace) -> int:
    """Print the pip arguments, one per line."""
    from gitml.install_files import read_plan

    for argument in read_plan(args.root).pip_arguments():
        emit(argument)
    return EXIT_OK
