"""Tag objects read from ``git cat-file --batch`` output, whole or a piece at a time."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from gitml.errors import GitError
from gitml.gitio import tag_objects
from gitml.gitio.tag_objects import cache_file, parse_objects, read_tag_objects, tags_by_id
from tests.helpers import git

if TYPE_CHECKING:
    from pathlib import Path

MISSING = "0" * 40


@pytest.fixture
def tagged(tmp_path: Path) -> tuple[Path, list[str]]:
    """A repository with annotated tags of every shape, a lightweight tag and a commit."""
    repo = tmp_path / "tags"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "first")
    messages = {
        "credit@v0.1.0": "Register credit v0.1.0\n\nmd5: 0123\n",
        "credit#production#1": "Promote\n\n" + "long line " * 5000,  # one 50 kB object
        "crédit@v0.2.0": "Ünïcode tagger and message ✓",
        "empty@v0.1.0": "",
    }
    for name, message in messages.items():
        git(repo, "tag", "-a", name, "-m", message, "--cleanup=verbatim")
    git(repo, "tag", "lightweight")
    listed = git(repo, "for-each-ref", "--format=%(objectname)", "refs/tags").stdout.split()
    return repo, [*listed, MISSING, git(repo, "rev-parse", "HEAD").stdout.strip()]


def _batch(repo: Path, oids: list[str]) -> bytes:
    request = "".join(f"{oid}\n" for oid in oids)
    return subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=request.encode(), capture_output=True
    ).stdout


def test_output_parses_every_kind_of_object(tagged: tuple[Path, list[str]]) -> None:
    repo, oids = tagged
    found = parse_objects(_batch(repo, oids))
    assert len(found) == len(oids)
    kinds = [None if fields is None else fields[4][:8] for fields in found]
    assert kinds.count(None) == 3  # the lightweight tag's commit, the missing id, the commit
    assert "Ünïcode " in kinds
    assert "" in kinds  # a tag with an empty message


def test_output_cut_inside_an_object_parses_the_objects_before_it(
    tagged: tuple[Path, list[str]],
) -> None:
    repo, oids = tagged
    output = _batch(repo, oids)
    whole = parse_objects(output)
    long_one = next(i for i, fields in enumerate(whole) if fields and "long line" in fields[4])
    cut = output.index(b"long line") + 4  # inside the 50 kB object
    assert parse_objects(output[:cut]) == whole[:long_one]
    assert parse_objects(output[:-1]) == whole[:-1]  # the last object's newline missing


def test_read_tag_objects_reads_what_git_prints(tagged: tuple[Path, list[str]]) -> None:
    repo, oids = tagged
    expected = parse_objects(_batch(repo, oids))
    assert read_tag_objects(repo, oids) == dict(zip(oids, expected, strict=True))
    assert read_tag_objects(repo, oids * 200) == dict(zip(oids, expected, strict=True))


def test_git_failing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"^git cat-file: .*not a git repository"):
        read_tag_objects(tmp_path, [MISSING])


def test_the_cache_answers_a_second_read_and_is_rewritten_when_tags_go(
    tagged: tuple[Path, list[str]],
) -> None:
    repo, oids = tagged
    first = tags_by_id(repo, oids)
    cached = json.loads(cache_file(repo).read_text())
    assert set(cached["tags"]) == set(oids)
    # A second read is answered from the file: git is asked for nothing it already told.
    assert tags_by_id(repo, oids) == first
    assert tags_by_id(repo, oids[:2]) == {oid: first[oid] for oid in oids[:2]}
    assert set(json.loads(cache_file(repo).read_text())["tags"]) == set(oids[:2])


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"format": 99, "tags": {}}', b'{"format": 1, "tags": []}'],
)
def test_an_unreadable_cache_is_ignored(tagged: tuple[Path, list[str]], content: bytes) -> None:
    repo, oids = tagged
    expected = read_tag_objects(repo, oids)
    path = cache_file(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    assert tags_by_id(repo, oids) == expected


def test_a_cached_entry_of_the_wrong_shape_is_read_from_git_again(
    tagged: tuple[Path, list[str]],
) -> None:
    repo, oids = tagged
    expected = tags_by_id(repo, oids)
    path = cache_file(repo)
    document = json.loads(path.read_text())
    forged = next(oid for oid in oids if expected[oid] is not None)
    document["tags"][forged] = ["x", "y", "z", "not a time", "m"]
    path.write_text(json.dumps(document))
    assert tags_by_id(repo, oids) == expected


def test_no_cache_means_no_file(
    tagged: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, oids = tagged
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    assert tags_by_id(repo, oids) == read_tag_objects(repo, oids)
    assert not cache_file(repo).exists()


def test_a_cache_over_its_size_bound_is_not_written(
    tagged: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, oids = tagged
    monkeypatch.setattr(tag_objects, "MAX_CACHE_BYTES", 1000)  # the 50 kB message exceeds it
    assert tags_by_id(repo, oids) == read_tag_objects(repo, oids)
    assert not cache_file(repo).exists()
