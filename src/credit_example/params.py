"""Loading ``params.yaml``, validated against the example's JSON Schema before use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitml.documents import raise_for, read_document, schema_problems

SCHEMA_PATH = Path(__file__).with_name("params.schema.json")


def load_params(path: Path | str = "params.yaml") -> dict[str, Any]:
    """Read ``params.yaml`` and stop with a ConfigError naming every bad key."""
    path = Path(path)
    document = read_document(path, str(path))
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    raise_for(schema_problems(document, schema, str(path)))
    params: dict[str, Any] = document
    return params
