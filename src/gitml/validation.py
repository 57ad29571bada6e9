"""Reading YAML/JSON documents and checking them against JSON Schemas.

Every config or metadata file passes through here once, at the edge: a parse error or
a schema violation becomes a :class:`~gitml.errors.ConfigError` whose problems name
the file, the key path and what was expected.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


class Problem(NamedTuple):
    """One thing wrong with one file: where, and what was expected."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


def key_path(parts: Any) -> str:
    """Render a JSON path such as ``['models', 'm', 'metrics', 0]`` as ``models.m.metrics[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_text(text: str, file: str) -> Any:
    """Parse YAML (a superset of JSON) text; a syntax error names the file and line.

    JSON documents (metrics, plot data) take the ``json`` path first: metrics files
    written by training code are JSON, and the YAML parser would read them far slower.
    """
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass  # not strict JSON: YAML decides, and reports the error with its line
    return _parse_yaml(text, file)


def _parse_yaml(text: str, file: str) -> Any:
    import yaml

    # libyaml's C loader when available: ~10x faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{file}: not valid YAML{where}: {problem}",
            [(file, "", f"not valid YAML{where}: {problem}")],
        ) from None


def read_document(path: Path, display: str | None = None) -> Any:
    """Read and parse a YAML or JSON file; a missing file is a ConfigError naming it."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found", [(name, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read: {exc}", [(name, "", str(exc))]) from None
    return parse_text(text, name)


@cache
def packaged_schema(name: str) -> dict[str, Any]:
    """Load a JSON Schema shipped in ``gitml/schemas`` (e.g. ``"gitml.schema.json"``)."""
    from importlib import resources

    text = resources.files("gitml.schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(document: Any, schema: dict[str, Any], file: str) -> list[Problem]:
    """Every violation of ``schema`` by ``document``, sorted by key path."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    problems = []
    for error in validator.iter_errors(document):
        problems.append(Problem(file, key_path(error.absolute_path), _describe(error)))
    return sorted(problems, key=lambda p: (p.key, p.message))


def _describe(error: Any) -> str:
    """A shorter, user-facing wording of a jsonschema error."""
    validator = error.validator
    if validator == "pattern":
        described = error.schema.get("description")
        expected = described or f"a value matching {error.validator_value!r}"
        return f"{error.instance!r} is not valid: expected {expected}"
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key(s) {', '.join(map(repr, extra))}{hint}"
    if validator == "required":
        return f"missing required key(s): {error.message.split(' is a required')[0]}"
    return str(error.message)


def raise_for(problems: list[Problem]) -> None:
    """Raise one ConfigError carrying every problem, or return if there are none."""
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    raise ConfigError(f"{first}{more}", [(p.file, p.key, p.message) for p in problems])


def validate_file(path: Path, schema: dict[str, Any], display: str | None = None) -> Any:
    """Read ``path`` and check it against ``schema``; return the parsed document."""
    name = display or str(path)
    document = read_document(path, name)
    raise_for(schema_problems(document, schema, name))
    return document
