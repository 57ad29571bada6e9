"""GTO's tag grammar: the fast paths of ``parse_tag`` and ``semver_key`` agree with it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitml.registry.names import (
    Action,
    SemVer,
    parse_tag,
    parse_tag_by_grammar,
    semver_key,
)

# Characters that make tag names interesting: name characters, the grammar's
# separators, version parts, and a digit that is not ASCII (str.isdigit accepts it).
_ALPHABET = "ab1-_/@#v.0!9+\u0663"
_parts = st.text(alphabet="ab1-_/0\u0663", max_size=6)
_numbers = st.sampled_from(["0", "1", "07", "12", "\u0663", ""])


@st.composite
def _tag_shaped(draw: st.DrawFn) -> str:
    """Strings close to registry tags, so both fast paths and the grammar are exercised."""
    name, stage = draw(_parts), draw(_parts)
    version = ".".join(draw(st.lists(_numbers, min_size=2, max_size=4)))
    return draw(
        st.sampled_from(
            [
                f"{name}@v{version}",
                f"{name}#{stage}#{draw(_numbers)}",
                f"{name}#{stage}",
                f"{name}@v{version}!#{draw(_numbers)}",
                f"{name}#{stage}!#{draw(_numbers)}",
                f"{name}@deprecated#{draw(_numbers)}",
            ]
        )
    )


@given(st.one_of(_tag_shaped(), st.text(alphabet=_ALPHABET, max_size=16)))
def test_parse_tag_agrees_with_the_grammar(tag: str) -> None:
    assert parse_tag(tag) == parse_tag_by_grammar(tag)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("credit@v1.2.0", ("credit", Action.REGISTER, "v1.2.0", None, None)),
        ("credit#production#3", ("credit", Action.ASSIGN, None, "production", 3)),
        ("credit@v1.2.0!#5", ("credit", Action.DEREGISTER, "v1.2.0", None, 5)),
        ("credit#prod!#4", ("credit", Action.UNASSIGN, None, "prod", 4)),
        ("credit@deprecated#6", ("credit", Action.DEPRECATE, None, None, 6)),
        ("team/credit@v0.1.0-rc.1", ("team/credit", Action.REGISTER, "v0.1.0-rc.1", None, None)),
        ("credit@v01.2.0", None),  # a leading zero is no semantic version
        ("-credit@v1.2.0", None),  # a name starts with a letter or digit
        ("credit#production#\u0663", None),  # the counter is ASCII digits
        ("release-2024", None),
    ],
)
def test_parse_tag_examples(tag: str, expected: object) -> None:
    assert parse_tag(tag) == expected


@given(st.text(alphabet="v0123456789.-+a\u0663", max_size=12))
def test_semver_key_orders_as_semver(version: str) -> None:
    parsed = SemVer.parse(version)
    assert semver_key(version) == (parsed._key() if parsed else SemVer(0, 0, 0)._key())
