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
    Every document is bounded before it is built (size, then nesting, aliases and node
    count) and checked once built (:func:`check_budget`); a key given twice in one
    mapping is an error naming it, never a silent replacement of the first.
    """
    if len(text) > MAX_JSON_CHARS:
        raise _too_large(file, MAX_JSON_CHARS, "a metrics or plot file is at most a few MB")
    if text.lstrip()[:1] in ("{", "["):
        document = _parse_json(text, file)
        if document is not _NOT_JSON:
            return document
    if len(text) > MAX_YAML_CHARS:
        raise _too_large(file, MAX_YAML_CHARS, "a YAML file gitml reads is a config of a few kB")
    return _parse_yaml(text, file)


# Budgets a parsed document must keep. YAML aliases let a few kilobytes of text stand for
# billions of values (the "billion laughs"), which any code that walks the document, a
# schema check included, then pays for in time and memory; nesting deeper than any real
# config or metrics file only serves to exhaust the stack.
MAX_VALUES = 500_000
MAX_DEPTH = 64

# Budgets checked before a document is built, so that no file makes a command hold more
# than ~100 MB or crash the parser (measured: the worst YAML ~80 MB, the worst JSON less):
# - YAML files gitml reads are configs (gitml.yaml, params, dvc.yaml, model cards) of a
#   few kB; a large one, the dvc.lock of a pipeline with a thousand outputs, is ~100 kB.
#   4 MiB leaves room for any of them.
# - JSON files are metrics and plot data written by training code. MAX_VALUES values
#   written with their keys take at most ~32 characters each (a plot point is
#   `{"fpr": 0.0123456789, "tpr": 0.987654321, "threshold": 0.5}`, seven values), so a
#   JSON file over 16 MiB could not pass the value budget anyway.
# - Real configs use a handful of YAML aliases; 1,000 is far beyond any of them, and
#   each alias may still stand for a whole subtree (the expanded count is checked after).
# - A YAML node costs 400 to 800 bytes while it is composed and constructed (the node,
#   its two position marks, the Python value), so 100,000 nodes (keys, values and
#   collections as written) bound a document to ~80 MB; the thousand-output dvc.lock
#   above has about 10,000.
MAX_YAML_CHARS = 4 * 1024 * 1024
MAX_JSON_CHARS = 16 * 1024 * 1024
MAX_YAML_ALIASES = 1_000
MAX_YAML_NODES = 100_000

_NOT_JSON = object()


class _DuplicateJsonKey(Exception):
    """Raised by the JSON object hook; not a ValueError, so no YAML fallback catches it."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key given twice."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateJsonKey(key)
            seen.add(key)
    return document


def _parse_json(text: str, file: str) -> Any:
    """The JSON document ``text`` holds, or :data:`_NOT_JSON` when it is not strict JSON."""
    # Before building anything: every comma separates two values and every bracket opens
    # a container, so more of them than MAX_VALUES means more values than the budget (a
    # file of "[]," would otherwise cost ~25 bytes of memory per byte of text).
    separators = text.count(",") + text.count("[") + text.count("{")
    if separators > MAX_VALUES:
        message = f"more than {MAX_VALUES:,} values (counting its commas and brackets)"
        raise ConfigError(f"{file}: {message}", [(file, "", message)])
    try:
        document = json.loads(text, object_pairs_hook=_unique_object)
    except RecursionError:
        raise _too_deep(file) from None
    except _DuplicateJsonKey as exc:
        message = f"key {exc.key!r} is given twice in one object (each key may appear once)"
        raise ConfigError(f"{file}: {message}", [(file, "", message)]) from None
    except ValueError:
        return _NOT_JSON  # not strict JSON: YAML decides, and reports the error with its line
    check_budget(document, file)
    return document


def _too_large(file: str, limit: int, usual: str) -> ConfigError:
    message = f"more than {limit // (1024 * 1024)} MiB of text ({usual})"
    return ConfigError(f"{file}: {message}", [(file, "", message)])


class _DuplicateYamlKey(Exception):
    """Raised while constructing a YAML mapping that names a key twice."""

    def __init__(self, mapping: Any, key: str, line: int, first_line: int):
        super().__init__(key)
        self.mapping = mapping
        self.key = key
        self.line = line
        self.first_line = first_line


@cache
def _yaml_loader() -> Any:
    """The safe loader gitml reads YAML with: libyaml's parser and composer when available
    (~10x faster than the pure-Python ones), with a constructor refusing duplicate keys."""
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):
        """Construction is Python code even on the C loader, so this check holds for both."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.checked_mappings: set[int] = set()

        def flatten_mapping(self, node: Any) -> None:
            # Called on every mapping before its merge keys (``<<: *defaults``) are
            # expanded into it: the pairs written in the file are checked, and a key the
            # mapping writes over a merged one stays allowed, as YAML defines it.
            if id(node) not in self.checked_mappings:
                self.checked_mappings.add(id(node))
                self.refuse_duplicates(node)
            super().flatten_mapping(node)

        def refuse_duplicates(self, node: Any) -> None:
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # complex keys: left to PyYAML's own checks
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                try:
                    earlier = first.get(key)
                except TypeError:
                    continue  # unhashable: PyYAML refuses it itself
                line = key_node.start_mark.line + 1
                if earlier is not None:
                    raise _DuplicateYamlKey(node, key_node.value, line, earlier)
                first[key] = line

    return StrictLoader


def _parse_yaml(text: str, file: str) -> Any:
    import yaml

    loader_class = _yaml_loader()
    try:
        _check_events(text, file, loader_class)
        loader = loader_class(text)
        try:
            root = loader.get_single_node()
            document = loader.construct_document(root) if root is not None else None
        except _DuplicateYamlKey as exc:
            raise _duplicate_key(file, root, exc) from None
        finally:
            loader.dispose()
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


def _check_events(text: str, file: str, loader_class: Any) -> None:
    """Refuse, before any node is composed, YAML nested deeper than :data:`MAX_DEPTH`,
    with more than :data:`MAX_YAML_ALIASES` aliases or :data:`MAX_YAML_NODES` nodes.

    The parser emits events one at a time without recursion (libyaml's too), while the
    composer that turns them into nodes recurses once per level: 50,000 nested ``[``
    crash the C composer outright. Counting events first bounds what it is given.
    """
    import yaml

    opened = 0  # collections open at this event; the outermost one is level 0
    aliases = 0
    nodes = 0
    for event in yaml.parse(text, Loader=loader_class):
        if isinstance(event, yaml.CollectionStartEvent):
            opened += 1
            nodes += 1
            if opened - 1 > MAX_DEPTH:
                raise _too_deep(file)
        elif isinstance(event, yaml.CollectionEndEvent):
            opened -= 1
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                line = event.start_mark.line + 1 if event.start_mark else 0
                message = (
                    f"more than {MAX_YAML_ALIASES:,} YAML aliases (line {line}); "
                    "a config uses a handful"
                )
                raise ConfigError(f"{file}: {message}", [(file, "", message)])
        if nodes > MAX_YAML_NODES:
            message = f"more than {MAX_YAML_NODES:,} YAML nodes (keys, values and collections)"
            raise ConfigError(f"{file}: {message}", [(file, "", message)])


def _duplicate_key(file: str, root: Any, exc: _DuplicateYamlKey) -> ConfigError:
    """The error for a key given twice: file, key path, both lines."""
    parts = [*_node_path(root, exc.mapping), exc.key]
    where = key_path(parts)
    message = (
        f"key {exc.key!r} is given twice in one mapping (line {exc.line}, first at line "
        f"{exc.first_line}); each key may appear once"
    )
    return ConfigError(f"{file}: {where}: {message}", [(file, where, message)])


def _node_path(root: Any, target: Any) -> list[Any]:
    """The keys and indexes leading from ``root`` to the node ``target``: the first way
    there in document order, when aliases offer several."""
    import yaml

    stack: list[tuple[Any, list[Any]]] = [(root, [])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[Any, list[Any]]] = []
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                children.append((value_node, [*path, label]))
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, [*path, index]) for index, item in enumerate(node.value)]
        stack.extend(reversed(children))  # depth first, in document order
    return []


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
        # Read at most one character past the largest document parse_text accepts: a huge
        # file (or /dev/zero) is refused without being read whole.
        with path.open(encoding="utf-8") as handle:
            text = handle.read(MAX_JSON_CHARS + 1)
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
