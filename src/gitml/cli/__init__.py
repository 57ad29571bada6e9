"""The ``gitml`` command line: argument parsing and rendering only, no logic."""
