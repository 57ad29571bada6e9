"""GTO's tag grammar and semantic-version precedence, as the ``semver`` library defines it."""

from __future__ import annotations

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from gitml.registry.names import Action, SemVer, TagName, version_precedence


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("credit@v1.2.0", TagName("credit", Action.REGISTER, version="v1.2.0")),
        ("credit#production#3", TagName("credit", Action.ASSIGN, stage="production", counter=3)),
        ("credit@v1.2.0!#5", TagName("credit", Action.DEREGISTER, version="v1.2.0", counter=5)),
        ("credit#prod!#4", TagName("credit", Action.UNASSIGN, stage="prod", counter=4)),
        ("credit@deprecated#6", TagName("credit", Action.DEPRECATE, counter=6)),
        ("team/credit@v0.1.0-rc.1", TagName("team/credit", Action.REGISTER, version="v0.1.0-rc.1")),
        ("credit@v01.2.0", None),  # a leading zero is no semantic version
        ("credit@v1.2", None),
        ("-credit@v1.2.0", None),  # a name starts with a letter or digit
        ("credit-@v1.2.0", None),  # ... and ends with one
        ("credit#production#\u0663", None),  # the counter is ASCII digits
        ("credit@v1.2.0@v1.3.0", None),
        ("release-2024", None),
    ],
)
def test_tag_examples(tag: str, expected: TagName | None) -> None:
    assert TagName.parse(tag) == expected


_versions = st.builds(
    "v{}.{}.{}{}{}".format,
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from(["", "-rc.1", "-rc.2", "-rc.10", "-alpha", "-alpha.beta", "-1"]),
    st.sampled_from(["", "+build.5"]),
)


@given(_versions, _versions)
def test_precedence_is_the_semver_librarys(left: str, right: str) -> None:
    a, b = SemVer.parse(left), SemVer.parse(right)
    assert a is not None
    assert b is not None
    expected = semver.Version.parse(left[1:]).compare(right[1:])
    assert (a < b, a > b) == (expected < 0, expected > 0)
    assert (version_precedence(left) < version_precedence(right)) == (expected < 0)
    assert (a <= b) == (expected < 0 or a == b)


def test_builds_differ_but_neither_sorts_first() -> None:
    a, b = SemVer.parse("v1.0.0+a"), SemVer.parse("v1.0.0+b")
    assert a is not None
    assert b is not None
    assert a != b
    assert not a < b
    assert not a > b
    assert not a <= b
    assert not a >= b


@pytest.mark.parametrize("text", ["1.0.0", "v1", "v1.0", "v1.0.0-", "v\u0663.0.0", "latest"])
def test_not_a_version(text: str) -> None:
    assert SemVer.parse(text) is None
    assert version_precedence(text) == version_precedence("v0.0.0")


def test_str_round_trips() -> None:
    assert str(SemVer.parse("v1.2.3-rc.1+b.7")) == "v1.2.3-rc.1+b.7"
    assert SemVer(0, 1, 0).bump("minor") == SemVer(0, 2, 0)
