"""The Python API of gitml: one function per verb, each returning a typed value.

The ``gitml`` command calls these and renders what they return; they never print.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.validate import ValidationReport, validate_repository

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.report.model import Report


def validate(root: Path | str = ".") -> ValidationReport:
    """Check ``gitml.yaml``, params, model cards, signatures and ``dvc.yaml`` artifacts.

    >>> report = validate("/nonexistent")
    >>> report.ok, report.problems[0].message
    (False, 'file not found')
    """
    return validate_repository(root)


def report(
    base: str,
    head: str | None = None,
    *,
    root: Path | str = ".",
    stage: str | None = None,
    repro_log: str | None = None,
    rescore: bool = True,
) -> Report:
    """Compare ``head`` (default: the workspace) with ``base``: the pull-request report.

    Reads metrics, params, plot data, ``dvc.lock`` and ``.dvc`` pointers of each git
    revision through one ``git cat-file --batch`` process, and the workspace from files.
    ``stage`` picks the gate (default: derived from ``base``; ``main`` otherwise);
    ``repro_log`` is ``dvc repro``'s output, to say whether the pipeline ran or was
    restored from the run-cache. When the data changed, the base model is also scored on
    the head's evaluation rows (``rescore=False`` skips that). Render with
    :func:`gitml.report.markdown.render` or :func:`gitml.report.jsondata.to_data`.
    """
    from gitml.report.build import build_report

    return build_report(root, base, head, stage=stage, repro_log=repro_log, no_rescore=not rescore)


__all__ = ["report", "validate"]
