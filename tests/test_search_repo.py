"""``--repo URL`` for the read-only views (search, insights, lineage, site): each reads
another repository through the cached blob-less partial clone that ``gitml registry
--repo`` uses, and answers exactly what it answers inside that repository.

The source is served over ``file://`` with ``uploadpack.allowFilter`` (as a hosting
service does): the clone gets commits and trees, and git fetches the blobs a command
reads on demand.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.helpers import git, gitml
from tests.test_search_trust import build_registry

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock


@pytest.fixture
def source(tmp_path: Path, clock: Clock) -> tuple[Path, str]:
    """The registry of tests/test_search_trust.py, and its ``file://`` URL."""
    repo = tmp_path / "repo"
    build_registry(repo, clock)
    git(repo, "config", "uploadpack.allowFilter", "true")
    return repo, f"file://{repo}"


def _missing_blobs(clone: Path) -> int:
    listing = git(clone, "rev-list", "--objects", "--all", "--missing=print").stdout
    return sum(line.startswith("?") for line in listing.splitlines())


def _clone(tmp_path: Path) -> Path:
    (clone,) = (tmp_path / "_home" / ".cache" / "gitml" / "repos").iterdir()
    return clone


def test_search_reads_another_repository(source: tuple[Path, str], tmp_path: Path) -> None:
    repo, url = source
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    query = ("metric.roc_auc > 0.8 OR model = churn", "--sort=-metric.roc_auc")
    here = gitml(repo, "search", *query, "--json")
    there = gitml(elsewhere, "search", *query, "--repo", url, "--json")
    assert json.loads(there.stdout) == json.loads(here.stdout)
    assert there.stderr == here.stderr  # the forged version left out, named alike
    assert [v["version"] for v in json.loads(there.stdout)["left_out"]] == ["v0.3.0"]
    # A partial clone: the metrics files and locks it read were fetched, notes.txt never.
    clone = _clone(tmp_path)
    assert not (clone / "metrics").exists()
    notes = git(repo, "rev-parse", "credit@v0.1.0:notes.txt").stdout.strip()
    assert f"?{notes}" in git(clone, "rev-list", "--objects", "--all", "--missing=print").stdout
    assert _missing_blobs(clone) > 0


def test_insights_read_another_repository(source: tuple[Path, str], tmp_path: Path) -> None:
    repo, url = source
    window = ("--since", "2026-01-01", "--until", "2026-12-31", "--json")
    here = json.loads(gitml(repo, "insights", *window).stdout)
    there = json.loads(gitml(tmp_path, "insights", *window, "--repo", url).stdout)
    assert there == here
    (frequency,) = [f for f in here["figures"] if f["metric"] == "deployment-frequency"]
    assert frequency["values"]["promotions"] == 1


def test_lineage_reads_another_repository(source: tuple[Path, str], tmp_path: Path) -> None:
    repo, url = source
    here = gitml(repo, "lineage", "credit@production", "--json")
    there = gitml(tmp_path, "lineage", "credit@production", "--repo", url, "--json")
    assert json.loads(there.stdout) == json.loads(here.stdout)
    assert json.loads(there.stdout)["version"] == "v0.2.0"


def test_site_reads_another_repository(source: tuple[Path, str], tmp_path: Path) -> None:
    repo, url = source
    gitml(repo, "site", "-o", str(tmp_path / "here"))
    gitml(tmp_path, "site", "-o", str(tmp_path / "there"), "--repo", url)
    here = {p.relative_to(tmp_path / "here"): p for p in (tmp_path / "here").rglob("*.html")}
    there = {p.relative_to(tmp_path / "there"): p for p in (tmp_path / "there").rglob("*.html")}
    assert sorted(there) == sorted(here)
    assert len(here) > 3
    for name, page in here.items():
        assert there[name].read_text() == page.read_text(), name
