"""Remembered registry answers: equal to fresh ones, and recomputed on every change.

The memo (gitml.registry.memo) answers a repeated query from one object-free
``for-each-ref``; these tests hold it to giving exactly what a fresh read gives, through
new tags, deleted tags, moved branches, an edited gitml.yaml and a corrupt cache file.
"""

from __future__ import annotations

import marshal
import os
from typing import TYPE_CHECKING, Any

import pytest

from gitml import api, usercache
from gitml.gitio import ref_store
from gitml.gitio.ref_store import MAX_LOOSE_REFS, ref_fingerprint
from gitml.gitio.refs import TagRecord, read_refs, ref_listing
from gitml.registry.events import event_from_tag, parse_fields
from gitml.registry.reader import RegistryReader
from gitml.usercache import cache_dir
from tests.helpers import REGISTRY_CONFIG as CONFIG
from tests.helpers import git, tag_at
from tests.helpers import gitml as gitml_cli

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock


def _tag(repo: Path, clock: Clock, name: str, rev: str) -> None:
    clock.tick()
    tag_at(repo, name, rev)


def _answers(repo: Path) -> dict[str, Any]:
    """Every memoised query, as JSON data."""
    return {
        "registry": [row.to_dict() for row in api.registry(root=repo, local=True)],
        "production": api.show("credit@production", root=repo, local=True).to_dict(),
        "latest": api.show("credit", root=repo, local=True).to_dict(),
        "history": [e.to_dict() for e in api.history("credit", root=repo, local=True)],
        "staging history": [
            e.to_dict() for e in api.history("credit", stage="staging", root=repo, local=True)
        ],
    }


def _check(repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Ask twice (the second from the memo), then fresh: all three must agree."""
    first = _answers(repo)
    remembered = _answers(repo)
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    fresh = _answers(repo)
    monkeypatch.delenv("GITML_NO_CACHE")
    assert first == remembered == fresh
    return fresh


def _git_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a logging ``git`` first on PATH (it runs the real git); return its log."""
    real = git(tmp_path, "--exec-path").stdout.strip() + "/git"
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    log = tmp_path / "git.log"
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_a_repeated_query_runs_no_git_process(
    registry: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = registry
    log = _git_log(tmp_path, monkeypatch)
    before = api.registry(root=repo, local=True)
    assert log.read_text().splitlines() == ["show-ref", "cat-file --batch --buffer"]
    log.unlink()
    assert api.registry(root=repo, local=True) == before
    assert not log.exists()  # the ref files were unchanged: the answer, remembered
    shown = [api.show("credit@production", root=repo, local=True) for _ in range(2)]
    assert shown[0] == shown[1]
    assert shown[0].info.version == "v0.1.0"
    # The first read the version's files (tag objects came from their cache); the second
    # was remembered whole.
    assert log.read_text().splitlines() == ["show-ref", "cat-file --batch"]


def test_the_memo_follows_every_change(
    registry: tuple[Path, list[str]], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, commits = registry
    answers = _check(repo, monkeypatch)
    assert answers["production"]["version"] == "v0.1.0"

    _tag(repo, clock, "credit#production#3", commits[2])  # a promotion
    answers = _check(repo, monkeypatch)
    assert answers["production"]["version"] == "v0.3.0"
    assert answers["history"][-1]["event"] == "promotion"

    git(repo, "tag", "-d", "credit#production#3")  # a tag removed
    assert _check(repo, monkeypatch)["production"]["version"] == "v0.1.0"

    git(repo, "branch", "production", commits[1])  # a stage branch appears, then moves
    stages = _check(repo, monkeypatch)["registry"][0]["stages"]
    assert stages[1]["tip_commit"] == commits[1]
    git(repo, "branch", "-f", "production", commits[2])
    stages = _check(repo, monkeypatch)["registry"][0]["stages"]
    assert stages[1]["tip_commit"] == commits[2]

    (repo / "gitml.yaml").write_text(CONFIG.format(stages="production, staging, canary"))
    stages = _check(repo, monkeypatch)["registry"][0]["stages"]
    assert [s["stage"] for s in stages] == ["production", "staging", "canary"]

    _tag(repo, clock, "credit@v0.3.0!#4", commits[2])  # a deregistration
    answers = _check(repo, monkeypatch)
    assert answers["latest"]["version"] == "v0.2.0"


def test_a_corrupt_or_foreign_memo_entry_is_not_used(
    registry: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = registry
    expected = _check(repo, monkeypatch)
    entries = sorted(cache_dir("registry").glob("*.marshal"))
    assert len(entries) == 7  # one per query, and the lookups inside the two shows
    header = marshal.loads(entries[0].read_bytes())[0]
    foreign = [
        b"not marshal",
        marshal.dumps((header, ("another state", []))),  # a key of another state
        marshal.dumps((header.replace("cpython", "pypy"), ("", []))),  # another Python
        marshal.dumps([]),
    ]
    for number, entry in enumerate(entries):
        entry.write_bytes(foreign[number % len(foreign)])
    assert _answers(repo) == expected
    assert _answers(repo) == expected  # rewritten, then read back


def test_no_cache_writes_nothing(
    registry: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = registry
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    _answers(repo)
    assert not cache_dir("registry").exists()
    assert not cache_dir("parsed").exists()


def test_the_full_read_lists_the_refs_exactly_as_the_key_listing(
    registry: tuple[Path, list[str]], tmp_path: Path
) -> None:
    repo, commits = registry
    git(repo, "tag", "lightweight", commits[0])
    git(repo, "branch", "staging", commits[1])
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))  # remote-tracking refs, origin/HEAD
    for where in (repo, clone):
        assert read_refs(where).listing == ref_listing(where)
        assert ref_listing(where).count(b"\n") > 5


def test_an_answer_is_not_filed_under_the_state_before_a_push(
    registry: tuple[Path, list[str]], clock: Clock
) -> None:
    repo, commits = registry
    with RegistryReader(repo, local=True) as reader:
        reader.memo()  # the key: the refs as they are now
        _tag(repo, clock, "credit#production#9", commits[2])  # a push lands meanwhile
        assert reader.summary()[0].stages[1].version == "v0.3.0"  # read after the push
    assert not list(cache_dir("registry").glob("*.marshal"))  # not filed under the old key
    for _ in ("computed", "remembered"):
        assert api.registry(root=repo, local=True)[0].stages[1].version == "v0.3.0"
    assert len(list(cache_dir("registry").glob("*.marshal"))) == 1


def test_tag_objects_are_read_once_and_pruned_with_their_tags(
    registry: tuple[Path, list[str]], clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, commits = registry
    log = _git_log(tmp_path, monkeypatch)
    api.registry(root=repo, local=True)
    batches = [c for c in log.read_text().splitlines() if c == "cat-file --batch --buffer"]
    assert len(batches) == 1  # every tag, in one process
    (tags_cache,) = cache_dir("tags").glob("*.marshal")
    assert len(_cached_tags(tags_cache)) == 5
    log.unlink()
    _tag(repo, clock, "credit#production#3", commits[2])
    api.registry(root=repo, local=True)  # memo miss: only the new tag object is read
    assert "cat-file --batch --buffer" in log.read_text().splitlines()
    assert len(_cached_tags(tags_cache)) == 6
    git(repo, "tag", "-d", "credit#staging#2")
    assert api.registry(root=repo, local=True)[0].stages[0].version is None
    assert len(_cached_tags(tags_cache)) == 5
    header = marshal.loads(tags_cache.read_bytes())[0]
    junk = {oid: (1, 2) for oid in _cached_tags(tags_cache)}
    tags_cache.write_bytes(marshal.dumps((header, junk)))  # read from git again
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    fresh = api.registry(root=repo, local=True)
    monkeypatch.delenv("GITML_NO_CACHE")
    for entry in cache_dir("registry").glob("*.marshal"):
        entry.unlink()  # so the answer is computed from the junk-holding tag cache
    assert api.registry(root=repo, local=True) == fresh


def _cached_tags(cache_file: Path) -> dict[str, object]:
    """The entries of a tag cache file."""
    entries: dict[str, object] = marshal.loads(cache_file.read_bytes())[1]
    return entries


@pytest.mark.parametrize(
    "content",
    [b"", b"not marshal", marshal.dumps(("tag-objects/2 cpython-00", {})), marshal.dumps([1])],
)
def test_an_unreadable_tag_cache_is_read_from_git_again(
    registry: tuple[Path, list[str]], content: bytes
) -> None:
    repo, _ = registry
    expected = api.registry(root=repo, local=True)
    (tags_cache,) = cache_dir("tags").glob("*.marshal")
    tags_cache.write_bytes(content)
    for entry in cache_dir("registry").glob("*.marshal"):
        entry.unlink()
    assert api.registry(root=repo, local=True) == expected
    assert len(_cached_tags(tags_cache)) == 5  # rewritten whole


def test_ref_fingerprint_follows_the_ref_files(
    registry: tuple[Path, list[str]], clock: Clock, tmp_path: Path
) -> None:
    repo, commits = registry
    seen = [ref_fingerprint(repo)]
    _tag(repo, clock, "credit#production#7", commits[2])  # a loose tag
    seen.append(ref_fingerprint(repo))
    git(repo, "pack-refs", "--all")  # the same refs, now packed (a harmless recompute)
    seen.append(ref_fingerprint(repo))
    git(repo, "branch", "-f", "staging", commits[0])  # a loose branch over packed refs
    seen.append(ref_fingerprint(repo))
    git(repo, "tag", "-d", "credit#production#7")  # deleted from packed-refs
    seen.append(ref_fingerprint(repo))
    assert None not in seen
    assert len(set(seen)) == len(seen)
    worktree = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(worktree), commits[1])
    assert ref_fingerprint(worktree) == ref_fingerprint(repo)  # shared refs
    (repo / "sub").mkdir()
    assert ref_fingerprint(repo / "sub") is None  # not the top level: git decides
    for number in range(MAX_LOOSE_REFS + 1):
        git(repo, "update-ref", f"refs/tags/many-{number}", commits[0])
    assert ref_fingerprint(repo) is None  # unpacked refs: git's listing is cheaper
    assert api.registry(root=repo, local=True) == api.registry(root=repo, local=True)


def test_a_settled_packed_refs_is_digested_once_per_change(
    registry: tuple[Path, list[str]], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, commits = registry
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    kept = cache_dir("refs")
    first = ref_fingerprint(repo)
    assert first is not None
    assert not kept.exists()  # written just now ("racy"): read and digested every time
    monkeypatch.setattr(ref_store, "SETTLED_NS", 0)  # as if written well before the read
    assert ref_fingerprint(repo) == first
    (entry,) = kept.iterdir()
    header, (signature, digest) = marshal.loads(entry.read_bytes())
    assert digest == usercache.digest(packed.read_bytes())
    assert signature[1:3] == (packed.stat().st_ino, packed.stat().st_size)
    # While the file's stat signature holds, the kept digest stands for its bytes ...
    entry.write_bytes(marshal.dumps((header, (signature, "0" * 40))))
    assert ref_fingerprint(repo) != first
    # ... and once git rewrites the file, its bytes count again.
    _tag(repo, clock, "credit#production#7", commits[2])
    git(repo, "pack-refs", "--all")
    repacked = ref_fingerprint(repo)
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    assert ref_fingerprint(repo) == repacked != first


def test_ref_fingerprint_steps_aside_for_git_dir(
    registry: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = registry
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert ref_fingerprint(repo) is None


def test_refs_read_before_the_memo_key_the_answers_computed_from_them(
    registry: tuple[Path, list[str]], clock: Clock
) -> None:
    """A command that reads the registry, writes a tag, then asks must not file the answer
    it computed from the older refs under the newer state."""
    repo, commits = registry
    with RegistryReader(repo, local=True) as reader:
        assert reader.state.models["credit"].stage_holder("production") is not None
        _tag(repo, clock, "credit#production#9", commits[2])  # written by the command
        assert reader.summary()[0].stages[1].version == "v0.1.0"  # the refs it had read
    for _ in ("computed", "remembered"):
        assert api.registry(root=repo, local=True)[0].stages[1].version == "v0.3.0"


@pytest.mark.parametrize(
    "message",
    [
        "Promote credit v0.2.0 to production\n\nversion: v0.2.0\npull-request: #12\n",
        "Roll back\r\n\r\nkind: rollback\r\npull-request: 7\r\n",
        "pull-request: 3\n\nmd5: abc\nmd5: def\n",  # a subject that looks like a field
        "Register\n\nmd5: abc",  # no final newline
        "free text from GTO",
        "",
    ],
)
def test_a_single_field_reads_as_the_parsed_fields_do(message: str) -> None:
    record = TagRecord("credit#production#1", "0" * 40, "Ada", "ada@example.com", 1, message)
    event = event_from_tag(record)
    assert event is not None
    expected = parse_fields(message)
    for key in ("version", "pull-request", "kind", "md5", "missing"):
        assert event.field(key) == expected.get(key), key
    assert event.fields == expected  # parsed whole; field() then reads the parsed dict
    assert [event.field(k) for k in expected] == list(expected.values())


def test_a_config_that_is_not_utf8_is_a_one_line_error(
    registry: tuple[Path, list[str]],
) -> None:
    repo, _ = registry
    (repo / "gitml.yaml").write_bytes(b"models:\n  cr\xe9dit: {}\n")  # Latin-1, not UTF-8
    result = gitml_cli(repo, "registry", "--local", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("gitml: error: gitml.yaml: not UTF-8 text")
    assert result.stderr.count("\n") == 1
