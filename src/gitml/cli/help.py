"""Help layout for every gitml parser, without the start-up cost argparse's own has."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it (``COLUMNS``, then the
    terminal, else 80), without importing shutil: argparse imports it (and with it bz2
    and lzma) for every argument it adds, a few ms of every command's start-up."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, told the terminal width (see :func:`terminal_columns`)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ):
        # argparse leaves two columns free; so does this.
        width = terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class RawDescriptionFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help whose description keeps its own line breaks (the top level, retrain...)."""


class Parser(argparse.ArgumentParser):
    """Every command's parser: gitml's help formatter unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
