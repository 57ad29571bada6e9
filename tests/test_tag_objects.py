"""Tag objects read from ``git cat-file --batch`` output, whole or a piece at a time."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

import pytest

from gitml.errors import GitError
from gitml.gitio import tag_objects
from gitml.gitio.tag_objects import TagFields, parse_objects, read_tag_objects
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


@pytest.mark.parametrize("piece", [1, 7, 100, 4096, 1 << 20])
def test_output_parses_the_same_in_pieces_of_any_size(
    tagged: tuple[Path, list[str]], piece: int
) -> None:
    repo, oids = tagged
    output = _batch(repo, oids)
    whole: list[TagFields] = []
    assert parse_objects(output, whole) == len(output)
    found: list[TagFields] = []
    pending = b""
    for start in range(0, len(output), piece):
        data = pending + output[start : start + piece]
        pending = data[parse_objects(data, found) :]
    assert pending == b""
    assert found == whole
    assert len(found) == len(oids)
    kinds = [None if fields is None else fields[4][:8] for fields in found]
    assert kinds.count(None) == 3  # the lightweight tag's commit, the missing id, the commit
    assert "Ünïcode " in kinds
    assert "" in kinds  # a tag with an empty message


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "tempfile"])
def test_read_tag_objects_streams_what_git_prints(
    tagged: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch, memfd: bool
) -> None:
    repo, oids = tagged
    expected: list[TagFields] = []
    parse_objects(_batch(repo, oids), expected)
    if not memfd:  # as on a platform without memfd_create: ids go through a temporary file
        monkeypatch.delattr(os, "memfd_create", raising=False)
    monkeypatch.setattr(tag_objects, "_READ_SIZE", 5)  # objects straddle every read
    assert read_tag_objects(repo, oids) == dict(zip(oids, expected, strict=True))
    monkeypatch.undo()  # the default read size, and a pipe widened to it
    assert read_tag_objects(repo, oids * 200) == dict(zip(oids, expected, strict=True))


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "tempfile"])
def test_git_failing_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memfd: bool
) -> None:
    if not memfd:
        monkeypatch.delattr(os, "memfd_create", raising=False)
    with pytest.raises(GitError, match=r"^git cat-file: .*not a git repository"):
        read_tag_objects(tmp_path, [MISSING])
