"""Names of the files gitml reads from a repository, importable without their parsers."""

from __future__ import annotations

CONFIG_FILE = "gitml.yaml"
