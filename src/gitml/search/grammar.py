"""Parsing the query language with Lark (grammar in ``grammar.lark``) into the AST of
:mod:`gitml.search.query`, typing each value by its field.

Every error is a :class:`~gitml.errors.UsageError` of one line naming the column and what
was expected there, followed by the query and a caret under that column.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from gitml.errors import UsageError
from gitml.search.query import (
    ALLOWED,
    EVER,
    FIELDS,
    And,
    Compare,
    Expr,
    Not,
    Or,
    field_kind,
    parse_number,
    parse_period,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gitml.search.query import Period

# What each terminal is called in an error.
_EXPECTED = {
    "FIELD": "a field",
    "OP": "an operator (= != < <= > >= ~)",
    "STRING": "a value",
    "WORD": "a value",
    "AND": "AND",
    "OR": "OR",
    "NOT": "NOT",
    "LPAR": "'('",
    "RPAR": "')'",
    "$END": "the end of the query",
}
_VALUE_FORMS = {
    "number": "a number like 0.85 or 85%",
    "date": "a date like 2026-07-01, 2026-07, 2026, 2026-Q3 or a range A..B",
}


@cache
def _parser() -> Lark:
    """The LALR parser of ``grammar.lark`` (built in about 15 ms; no table cache: Lark's
    is a pickle in the user's cache directory, and the command reads no pickle)."""
    grammar = Path(__file__).with_name("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True)


def parse_query(text: str) -> Expr:
    """The AST of ``text``; a UsageError with a caret line when it is not a valid query."""
    if not text.strip():
        raise query_error(text, 1, "expected a field, got an empty query")
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    return _build(tree, text)


def query_error(text: str, column: int, message: str) -> UsageError:
    """A UsageError: ``query: column N: message``, then the query with a caret under N."""
    return UsageError(f"query: column {column}: {message}\n  {text}\n  {' ' * (column - 1)}^")


def _syntax_error(text: str, error: UnexpectedInput) -> UsageError:
    expected: Iterable[str]
    if isinstance(error, UnexpectedEOF):
        column, got, expected = len(text) + 1, "the end of the query", error.expected
    elif isinstance(error, UnexpectedToken):
        token = error.token
        at_end = token.type == "$END"
        column = len(text) + 1 if at_end else error.column
        got = "the end of the query" if at_end else repr(str(token))
        expected = error.accepts or error.expected
    elif isinstance(error, UnexpectedCharacters):
        column, got, expected = error.column, repr(text[error.pos_in_stream or 0]), error.allowed
    else:  # pragma: no cover - lark raises only the three above
        column, got, expected = 1, "?", set()
    names = sorted({_EXPECTED.get(name, name) for name in expected or ()})
    wanted = " or ".join(names) if names else "something else"
    if ("')'" in names and got == "the end of the query") or (got == "')'" and "')'" not in names):
        wanted += " (unbalanced parentheses)"
    return query_error(text, column, f"expected {wanted}, got {got}")


def _build(node: Tree[Token] | Token, text: str) -> Expr:
    assert isinstance(node, Tree)
    if node.data == "disjunction":
        return Or(tuple(_build(c, text) for c in node.children if _is_tree(c)))
    if node.data == "conjunction":
        return And(tuple(_build(c, text) for c in node.children if _is_tree(c)))
    if node.data == "negated":
        return Not(_build(node.children[1], text))
    if node.data == "group":
        return _build(node.children[1], text)
    field, op, value = node.children
    assert isinstance(field, Token)
    assert isinstance(op, Token)
    assert isinstance(value, Token)
    return _comparison(field, op, value, text)


def _is_tree(node: object) -> bool:
    return isinstance(node, Tree)


def _comparison(field_token: Token, op: Token, value: Token, text: str) -> Compare:
    """One comparison, its value typed by its field's kind."""
    field, _, name = str(field_token).partition(".")
    field = field.lower()
    if field == "ever":  # `ever = production` is `stage = ever:production`
        field, value = "stage", Token("WORD", EVER + _unquoted(value), *_at(value))
    try:
        kind = field_kind(field)
    except KeyError:
        kind = ""
    column = field_token.column or 1
    if not kind or bool(name) != (field in ("metric", "param")):
        known = ", ".join(FIELDS)
        raise query_error(text, column, f"unknown field {str(field_token)!r}; expected {known}")
    if str(op) not in ALLOWED[kind]:
        allowed = " ".join(ALLOWED[kind])
        raise query_error(text, op.column or 1, f"{field} takes {allowed}, not {op!s}")
    quoted = value.type == "STRING"
    raw = _unquoted(value)
    ever = field == "stage" and raw.startswith(EVER)
    if ever:
        raw = raw[len(EVER) :]
    typed: str | float | Period | None = raw
    if kind == "number" or (kind == "param" and str(op) in ("<", "<=", ">", ">=") and not quoted):
        typed = None if quoted else parse_number(raw)
        form = "a number like 0.85 or 85%"
    elif kind == "param" and not quoted:
        number = parse_number(raw)
        typed = raw if number is None else number
        form = ""
    elif kind == "date":
        typed = None if quoted else parse_period(raw)
        form = _VALUE_FORMS["date"]
    if typed is None:
        where = value.column or 1
        got = str(value)
        raise query_error(text, where, f"{field_token} expects {form}, got {got}")
    return Compare(field, str(op), typed, name, ever)


def _unquoted(token: Token) -> str:
    text = str(token)
    return text[1:-1] if token.type == "STRING" else text


def _at(token: Token) -> tuple[int | None, int | None, int | None]:
    return token.start_pos, token.line, token.column
