"""site.yml under act: the registry site built, packed as GitHub Pages takes it and
deployed (stand-ins for the Pages actions keep the artefact and record the deployment);
and register.yml and promote.yml publishing it themselves once they wrote a tag, since
tags pushed with the job token start no workflow."""

from __future__ import annotations

import hashlib
import tarfile
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml import api
from tests.helpers import PROJECT_ROOT, git
from tests.registry_flow import remote_tags
from tests.workflows.act import REPOSITORY, ActRun, name_dvc_remote_absolutely, run_act

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
BUILD = "build the registry site"
DEPLOY = "publish to GitHub Pages"
REGISTER = "register new model versions"
PROMOTE = "verify and record the promotion"
# act names a called workflow's jobs after the calling job's id and their own names.
CALLED = {f"site/{BUILD}", f"site/{DEPLOY}"}
PUSHED_REPOSITORY = {"full_name": REPOSITORY, "default_branch": "main"}
PAGE_URL = "https://acme.github.io/credit/"
MODEL_PAGE = "models/credit/index.html"
VERSION_PAGE = "models/credit/version-v0.1.0.html"


@pytest.fixture
def act_origin(origin_repo: Path, tmp_path: Path) -> Path:
    """``origin_repo`` naming its DVC remote absolutely (act runs jobs in a copy)."""
    return name_dvc_remote_absolutely(origin_repo, tmp_path / "dvc-remote")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _published(run: ActRun, dest: Path) -> dict[str, bytes]:
    """The files of the run's one Pages deployment, as Pages would serve them."""
    (deployment,) = run.deployments
    tar = run.artifacts / deployment["artifact"] / "artifact.tar"
    assert deployment["tar_sha256"] == hashlib.sha256(tar.read_bytes()).hexdigest()
    with tarfile.open(tar) as archive:
        # Packed from inside the site's directory, as upload-pages-artifact does.
        assert all(name == "." or name.startswith("./") for name in archive.getnames())
        archive.extractall(dest, filter="data")
    return _files(dest)


def _without_the_build_moment(page: bytes, start: datetime, end: datetime) -> str:
    """``page`` with the moment it was built, to the minute or the day, replaced by a
    marker. The site shows "now" as the end of the insights window and of a tenure still
    running; the act build and the local one ran seconds apart, both in [start, end]."""
    text = page.decode()
    minute = start.replace(second=0, microsecond=0)
    while minute <= end:
        text = text.replace(f"{minute:%Y-%m-%d %H:%M}", "<built at>")
        minute += timedelta(minutes=1)
    for day in {start.date(), end.date()}:
        text = text.replace(f"{day:%Y-%m-%d}", "<built on>")
    return text


def _assert_site_equals_gitml_site(
    published: dict[str, bytes], repo: Path, out: Path, start: datetime
) -> None:
    """Every published page is the one `gitml site` builds from ``repo``'s registry."""
    api.site(out, root=repo)
    built = _files(out)
    end = datetime.now(UTC)
    assert sorted(published) == sorted(built)
    for name, page in built.items():
        assert _without_the_build_moment(published[name], start, end) == (
            _without_the_build_moment(page, start, end)
        ), name


def test_only_the_deploy_job_holds_the_pages_permissions() -> None:
    """act does not apply `permissions:`: the workflows the act runs below use are read.
    The deploy job alone asks for `pages: write` and `id-token: write`; a job that calls
    site.yml grants them (a called job gets no more than its caller has) and runs no step."""
    holders = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            if {"pages", "id-token"} & set(job.get("permissions", {})):
                holders.add((path.name, name))
                assert "steps" not in job or (path.name, name) == ("site.yml", "deploy")
    assert holders == {("site.yml", "deploy"), ("register.yml", "site"), ("promote.yml", "site")}
    site = yaml.safe_load((WORKFLOWS / "site.yml").read_text())["jobs"]
    assert site["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert site["build"]["permissions"] == {"contents": "read"}


@pytest.mark.slow
def test_act_site_workflow_builds_packs_and_deploys_the_registry_site(
    act_origin: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_origin
    api.register(root=repo, push=True)
    clock.tick()
    api.promote("credit", "staging", root=repo, push=True)
    clock.tick()
    api.promote_on_push("staging", root=repo, push=True)
    git(repo, "checkout", "-q", "main")
    payload = {"ref": "refs/heads/main", "repository": PUSHED_REPOSITORY}
    start = datetime.now(UTC)
    result = run_act(repo, "workflow_dispatch", "site.yml", None, payload, tmp_path / "act")
    assert result.returncode == 0, result.output[-5000:]
    assert result.jobs() == {BUILD, DEPLOY}
    published = _published(result, tmp_path / "published")
    assert {"index.html", "insights.html", MODEL_PAGE, VERSION_PAGE} <= set(published)
    assert b"<td>staging</td>" in published[VERSION_PAGE]
    _assert_site_equals_gitml_site(published, repo, tmp_path / "built", start)
    (deployment,) = result.deployments
    assert deployment["artifact"] == "github-pages"
    assert deployment["page_url"] == PAGE_URL
    assert (deployment["event"], deployment["ref"]) == ("workflow_dispatch", "refs/heads/main")
    assert f"deployed github-pages to {PAGE_URL}" in result.job_output(DEPLOY)


@pytest.mark.slow
def test_act_register_publishes_the_site_once_it_tagged_a_version(
    act_origin: Path, clock: Clock, tmp_path: Path
) -> None:
    """The whole register workflow: the new version's tag, then site.yml called as its
    job, which publishes a site holding that version. A run that tags nothing calls it
    not at all."""
    repo = act_origin
    payload = {"ref": "refs/heads/main", "repository": PUSHED_REPOSITORY}
    start = datetime.now(UTC)
    result = run_act(repo, "push", "register.yml", None, payload, tmp_path / "act-1")
    assert result.returncode == 0, result.output[-5000:]
    assert remote_tags(repo) == ["credit@v0.1.0"]
    assert result.jobs() == {REGISTER, *CALLED}
    (deployment,) = result.deployments
    assert (deployment["event"], deployment["ref"]) == ("push", "refs/heads/main")
    published = _published(result, tmp_path / "published")
    assert VERSION_PAGE in published
    git(repo, "fetch", "-q", "--tags", "origin")
    _assert_site_equals_gitml_site(published, repo, tmp_path / "built", start)

    clock.tick()
    again = run_act(repo, "push", "register.yml", None, payload, tmp_path / "act-2")
    assert again.returncode == 0, again.output[-5000:]
    assert again.jobs() == {REGISTER}
    assert again.deployments == []


@pytest.mark.slow
def test_act_promote_publishes_the_site_once_it_recorded_the_promotion(
    act_origin: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_origin
    api.register(root=repo, push=True)
    clock.tick()
    api.promote("credit", "staging", root=repo, push=True)
    git(repo, "checkout", "-q", "staging")
    clock.tick()
    payload = {"ref": "refs/heads/staging", "repository": PUSHED_REPOSITORY}
    result = run_act(repo, "push", "promote.yml", None, payload, tmp_path / "act")
    assert result.returncode == 0, result.output[-5000:]
    assert "credit#staging#1" in remote_tags(repo)
    assert result.jobs() == {PROMOTE, *CALLED}
    (deployment,) = result.deployments
    assert (deployment["event"], deployment["ref"]) == ("push", "refs/heads/staging")
    # Built from the default branch with every tag: the promotion just recorded shows.
    published = _published(result, tmp_path / "published")
    assert b"<td>staging</td>" in published[VERSION_PAGE]


@pytest.mark.slow
def test_act_site_switched_off_publishes_nothing(
    act_origin: Path, clock: Clock, tmp_path: Path
) -> None:
    """GITML_SITE=false (a repository without Pages): register.yml registers and calls no
    site; site.yml itself (on a push, by hand, daily) builds and deploys nothing."""
    repo = act_origin
    payload = {"ref": "refs/heads/main", "repository": PUSHED_REPOSITORY}
    off = {"GITML_SITE": "false"}
    registered = run_act(
        repo, "push", "register.yml", None, payload, tmp_path / "act-1", variables=off
    )
    assert registered.returncode == 0, registered.output[-5000:]
    assert remote_tags(repo) == ["credit@v0.1.0"]
    assert registered.jobs() == {REGISTER}
    site = run_act(repo, "push", "site.yml", None, payload, tmp_path / "act-2", variables=off)
    assert site.returncode == 0, site.output[-5000:]
    assert site.jobs() == set()
    assert registered.deployments == site.deployments == []
