"""The Python API of gitml: one function per verb, each returning a typed value.

The ``gitml`` command calls these and renders what they return; they never print.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.validate import ValidationReport, validate_repository

if TYPE_CHECKING:
    from pathlib import Path


def validate(root: Path | str = ".") -> ValidationReport:
    """Check ``gitml.yaml``, params, model cards, signatures and ``dvc.yaml`` artifacts.

    >>> report = validate("/nonexistent")
    >>> report.ok, report.problems[0].message
    (False, 'file not found')
    """
    return validate_repository(root)


__all__ = ["ValidationReport", "validate"]
