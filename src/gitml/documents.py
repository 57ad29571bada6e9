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
            document = json.loads(text)
        except RecursionError:
            raise _too_deep(file) from None
        except ValueError:
            pass  # not strict JSON: YAML decides, and reports the error with its line
        else:
            check_budget(document, file)
            return document
    return _parse_yaml(text, file)


# Budgets a parsed document must keep. YAML aliases let a few kilobytes of text stand for
# billions of values (the "billion laughs"), which any code that walks the document, a
# schema check included, then pays for in time and memory; nesting deeper than any real
# config or metrics file only serves to exhaust the stack.
MAX_VALUES = 500_000
MAX_DEPTH = 64


def _parse_yaml(text: str, file: str) -> Any:
    import yaml

    # libyaml's C loader when available: ~10x faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)
    except RecursionError:
        raise _too_deep(file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{file}: not valid YAML{where}: {problem}",
            [(file, "", f"not valid YAML{where}: {problem}")],
        ) from None
    check_budget(document, file)
    return document


def check_budget(document: Any, file: str) -> None:
    """Refuse a document that expands to more than :data:`MAX_VALUES` values (counting
    each alias as often as it is used) or nests deeper than :data:`MAX_DEPTH`."""
    # Each distinct container is counted once and its total reused wherever an alias
    # repeats it, so the cost follows the text, not the expansion.
    totals: dict[int, int] = {}

    def expanded(node: Any, depth: int) -> int:
        if not isinstance(node, dict | list):
            return 1
        if depth > MAX_DEPTH:
            raise _too_deep(file)
        known = totals.get(id(node))
        if known is not None:
            return known
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += expanded(child, depth + 1)
            if total > MAX_VALUES:
                raise ConfigError(
                    f"{file}: more than {MAX_VALUES:,} values once its aliases are expanded "
                    "(YAML anchors and aliases may not multiply a document)",
                    [(file, "", f"more than {MAX_VALUES:,} values once aliases are expanded")],
                )
        totals[id(node)] = total
        return total

    expanded(document, 0)


def _too_deep(file: str) -> ConfigError:
    message = f"nested more than {MAX_DEPTH} levels deep"
    return ConfigError(f"{file}: {message}", [(file, "", message)])


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
    """A shorter, user-facing wording of a jsonschema error, at most a line long."""
    text = _wording(error)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


# jsonschema quotes the offending value whole; a problem stays one readable line.
MAX_MESSAGE = 240


def _wording(error: Any) -> str:
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
