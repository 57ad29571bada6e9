"""The options that keep an outcome in the registry, one spelling for every command that
records one (``gitml drift``, ``gitml canary replay``, ``gitml serve --canary``).

``--record`` writes the outcome's tag, ``--push`` pushes it to ``--remote``, and
``--open-pr`` (where a decision can lead to a promotion or a rollback) records, pushes,
then opens that pull request in ``--repository``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import UsageError

if TYPE_CHECKING:
    import argparse

OPEN_PR_HELP = (
    "record and push the decision, then open the promotion pull request (passed) or the "
    "rollback (stopped while the candidate holds the stage); needs GITHUB_TOKEN"
)


def add_record_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    record_help: str,
    *,
    open_pr: bool = False,
) -> None:
    """Add ``--record`` (helped by ``record_help``), ``--push``, ``--remote`` and, with
    ``open_pr``, ``--open-pr`` and ``--repository``."""
    parser.add_argument("--record", action="store_true", help=record_help)
    parser.add_argument("--push", action="store_true", help="with --record, push the tag")
    if open_pr:
        parser.add_argument("--open-pr", action="store_true", help=OPEN_PR_HELP)
        parser.add_argument(
            "--repository", help="OWNER/NAME for --open-pr (default: $GITHUB_REPOSITORY)"
        )
    parser.add_argument(
        "--remote", default="origin", help="git remote for --push (default: origin)"
    )


def recording(args: argparse.Namespace) -> tuple[bool, bool]:
    """``(record, push)`` as the options ask: ``--open-pr`` implies both; ``--push``
    without ``--record`` is a usage error (it pushes the tag the record writes)."""
    open_pr = bool(getattr(args, "open_pr", False))
    if args.push and not (args.record or open_pr):
        raise UsageError("--push needs --record (it pushes the tag the record writes)")
    return args.record or open_pr, args.push or open_pr
