"""``python -m gitml``: the same as the ``gitml`` command."""

from gitml.cli.main import run

run()
