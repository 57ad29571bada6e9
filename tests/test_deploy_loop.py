"""The rendered stage in the loop: promotion and rollback pull requests carry the stage's
manifests in deploy/<stage>/, the stage check and ``promote --on-push`` accept exactly
what gitml renders (or, for a rollback, what the stage ran before), and refuse anything
else: a hand-edited manifest, a missing folder, settings a pull request brings itself.

Real repositories throughout: the example template (whose gitml.yaml has deploy:), a bare
origin, a local DVC remote, a second version trained by DVC.
"""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING

import yaml

from gitml import api
from gitml.errors import VerificationError
from tests.helpers import git, gitml
from tests.registry_flow import merge_pull_request
from tests.test_promotion import merge_into

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

IMPROVE = ("train", "hist_gradient_boosting.max_leaf_nodes", 8)
FOLDER = "deploy/production"


def _files(repo: Path, rev: str, directory: str = FOLDER) -> dict[str, bytes]:
    names = git(repo, "ls-tree", "-r", "--name-only", rev, "--", directory).stdout.split()
    return {n.removeprefix(directory + "/"): _show(repo, f"{rev}:{n}") for n in names}


def _show(repo: Path, spec: str) -> bytes:
    import subprocess

    return subprocess.run(["git", "show", spec], cwd=repo, capture_output=True, check=True).stdout


def _two_versions_v1_in_production(repo: Path, clock: Clock) -> None:
    """v0.1.0 recorded in production (its branch created with the rendered stage), then
    v0.2.0 trained, merged and registered."""
    api.register(root=repo, push=True)
    clock.tick()
    created = api.promote("credit", "production", root=repo, push=True)
    assert created.kind == "new-stage"
    assert created.deploy_directory == FOLDER
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert outcome.status == "recorded", outcome.reason
    clock.tick()
    merge_pull_request(repo, 11, "l2", IMPROVE)
    clock.tick()
    api.register(root=repo, push=True)
    clock.tick()


def _image(files: dict[str, bytes]) -> str:
    deployment = yaml.safe_load(files["kubernetes/deployment.yaml"])
    image: str = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def test_promotion_and_rollback_carry_the_stage_and_rollback_restores_it_byte_for_byte(
    origin_repo: Path, clock: Clock
) -> None:
    repo = origin_repo
    _two_versions_v1_in_production(repo, clock)
    first = _files(repo, "origin/production")
    assert _image(first) == "ghcr.io/acme/credit:credit-v0.1.0"
    assert "kserve/inferenceservice.yaml" in first  # both targets of deploy.targets

    # The promotion branch: the registered commit's tree plus v0.2.0's rendered stage.
    prepared = api.promote("credit", "production", root=repo, push=True)
    assert prepared.kind == "promotion"
    head = f"origin/{prepared.branch}"
    outside = ["--", ".", f":(exclude){FOLDER}"]
    main_commit = git(repo, "rev-parse", "credit@v0.2.0^{commit}").stdout.strip()
    assert git(repo, "diff", "--stat", main_commit, head, *outside).stdout == ""
    # The pull request's diff of the folder is the deployment change.
    diff = git(repo, "diff", "origin/production", head, "--", FOLDER).stdout
    assert "-          image: ghcr.io/acme/credit:credit-v0.1.0" in diff
    assert "+          image: ghcr.io/acme/credit:credit-v0.2.0" in diff
    assert "+    gitml.dev/version: v0.2.0" in diff
    # ... and the summary says it in a reviewer's words, in the output and the PR body.
    assert prepared.deploy is not None
    rows = {what: (before, after) for what, before, after in prepared.deploy.rows}
    assert rows["version"] == ("v0.1.0", "v0.2.0")
    assert rows["image"] == (
        "ghcr.io/acme/credit:credit-v0.1.0",
        "ghcr.io/acme/credit:credit-v0.2.0",
    )
    assert "replicas (min–max)" not in rows  # unchanged settings are not listed
    assert "model.md5" in prepared.deploy.files_changed
    assert "**Deployment**" in (prepared.command or "")

    # The stage pull request's report shows the same, as the stage job runs it.
    report = gitml(repo, "report", "--base", "origin/production", "--head", head).stdout
    assert f"**Deployment** (<code>{FOLDER}/</code>" in report.replace("&#47;", "/")
    assert "| version | v0.1.0 | v0.2.0 |" in report
    data = json.loads(
        gitml(repo, "report", "--base", "origin/production", "--head", head, "--json").stdout
    )
    (model,) = data["models"]
    assert model["deployment"]["directory"] == FOLDER
    assert ["version", "v0.1.0", "v0.2.0"] in model["deployment"]["rows"]

    # The stage check passes it; merged, the promotion is recorded.
    (judged,) = api.promote_on_push("production", root=repo, dry_run=True, tip=head)
    assert judged.status == "would-record", judged.reason
    merge_into(repo, "production", head)
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert (outcome.status, outcome.version) == ("recorded", "v0.2.0")
    second = _files(repo, "origin/production")
    assert _image(second) == "ghcr.io/acme/credit:credit-v0.2.0"

    # The rollback restores, byte for byte, what production ran v0.1.0 with.
    clock.tick()
    back = api.rollback("credit", "production", root=repo, push=True)
    assert back.version == "v0.1.0"
    assert _files(repo, f"origin/{back.branch}") == first
    assert back.deploy is not None
    assert dict((w, (b, a)) for w, b, a in back.deploy.rows)["version"] == ("v0.2.0", "v0.1.0")
    (judged,) = api.promote_on_push(
        "production", root=repo, dry_run=True, tip=f"origin/{back.branch}"
    )
    assert (judged.status, judged.kind) == ("would-record", "rollback"), judged.reason
    merge_into(repo, "production", f"origin/{back.branch}")
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert (outcome.status, outcome.kind, outcome.version) == ("recorded", "rollback", "v0.1.0")
    assert _files(repo, "origin/production") == first
    # `gitml deploy render` agrees with what the branch carries.
    gitml(repo, "deploy", "render", "credit@production", "--target", "kubernetes", "-o", "out")
    rendered = (repo / "out" / "kubernetes" / "deployment.yaml").read_bytes()
    assert rendered == first["kubernetes/deployment.yaml"]


def _edited(repo: Path, base: str, name: str, edit: dict[str, str | None]) -> str:
    """A branch from ``base`` with files changed (None: deleted), committed and pushed."""
    git(repo, "checkout", "-q", "-B", name, base)
    for path, text in edit.items():
        target = repo / path
        if text is None:
            git(repo, "rm", "-q", "-r", path)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            git(repo, "add", path)
    git(repo, "commit", "-qm", f"Edit {', '.join(edit)}")
    git(repo, "push", "-q", "origin", name)
    git(repo, "checkout", "-q", "main")
    return f"origin/{name}"


def _judge(repo: Path, tip: str) -> tuple[str, str, int]:
    (outcome,) = api.promote_on_push("production", root=repo, dry_run=True, tip=tip)
    return outcome.status, outcome.reason, outcome.exit_code


def test_a_stage_branch_that_deploys_anything_else_is_refused(
    origin_repo: Path, clock: Clock
) -> None:
    repo = origin_repo
    _two_versions_v1_in_production(repo, clock)
    prepared = api.promote("credit", "production", root=repo, push=True)
    head = f"origin/{prepared.branch}"
    deployment = f"{FOLDER}/kubernetes/deployment.yaml"
    text = _show(repo, f"{head}:{deployment}").decode()

    # A hand-edited image in the promotion pull request.
    tampered = _edited(
        repo, head, "tampered",
        {deployment: text.replace("ghcr.io/acme/credit:credit-v0.2.0", "evil.example/x:latest")},
    )  # fmt: skip
    status, reason, code = _judge(repo, tampered)
    assert (status, code) == ("refused", VerificationError.exit_code)
    assert reason.startswith(f"{FOLDER}/: kubernetes/deployment.yaml is not what gitml renders")

    # The rendered stage left out.
    status, reason, _ = _judge(repo, _edited(repo, head, "bare", {FOLDER: None}))
    assert status == "refused"
    assert reason.startswith(f"{FOLDER}/: missing")

    # Settings the pull request brings itself: its gitml.yaml names another image
    # registry and its manifests agree, but the stage is rendered with the settings of the
    # registered commit.
    config = (repo / "gitml.yaml").read_text().replace("ghcr.io/acme/credit", "evil.example/x")
    forged = {
        "gitml.yaml": config,
        deployment: text.replace("ghcr.io/acme/credit", "evil.example/x"),
    }
    status, reason, _ = _judge(repo, _edited(repo, head, "forged-settings", forged))
    assert status == "refused"
    assert "kubernetes/deployment.yaml is not what gitml renders" in reason

    # A rollback that brings v0.2.0's folder with v0.1.0's artefact (a restored folder
    # must be one the stage carried for that version).
    back = api.rollback("credit", "production", to="v0.1.0", root=repo, push=True)
    crossed = _edited(
        repo, f"origin/{back.branch}", "crossed",
        {f"{FOLDER}/{n}": t.decode() for n, t in _files(repo, head).items()},
    )  # fmt: skip
    status, reason, _ = _judge(repo, crossed)
    assert status == "refused"
    assert "nor what production ran it with before" in reason

    # With the version unchanged, a pull request editing only the manifests is refused
    # too: it changes what runs.
    current = _show(repo, f"origin/production:{deployment}").decode()
    edited_only = _edited(
        repo, "origin/production", "pull-policy",
        {deployment: current.replace("imagePullPolicy: IfNotPresent", "imagePullPolicy: Always")},
    )  # fmt: skip
    status, reason, _ = _judge(repo, edited_only)
    assert status == "refused"
    assert "kubernetes/deployment.yaml" in reason
    # The untouched stage is still up to date, and gitml verify finds nothing wrong ...
    assert _judge(repo, "origin/production")[0] == "up-to-date"
    assert not [p for p in api.verify(root=repo, check_remote=False).problems if "deploy" in p]
    # ... until someone pushes an edited manifest to the stage branch past any review.
    edited_commit = git(repo, "rev-parse", edited_only).stdout.strip()
    git(repo, "push", "-q", "origin", f"{edited_commit}:refs/heads/production")
    git(repo, "fetch", "-q", "origin")
    problems = api.verify(root=repo, check_remote=False).problems
    assert [p for p in problems if "deploy" in p] == [
        f"credit: stage branch production: {FOLDER}/: kubernetes/deployment.yaml is not what "
        "gitml renders for credit v0.1.0 in production, nor what production ran it with before "
        "(edited by hand? prepare it again with `gitml promote` or `gitml rollback`)"
    ]


def test_the_cli_prints_the_deployment_change(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    _two_versions_v1_in_production(repo, clock)
    result = gitml(repo, "promote", "credit", "--to", "production")
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"  deploy: {FOLDER}/, ") for line in lines), result.stdout
    assert "    version: v0.1.0 → v0.2.0" in lines
    assert (
        "    image: ghcr.io/acme/credit:credit-v0.1.0 → ghcr.io/acme/credit:credit-v0.2.0" in lines
    )


def test_the_summary_reads_hostile_manifests_as_inert_text() -> None:
    """A pull request's folder is data: a YAML bomb, a non-mapping, markdown in a value."""
    from gitml.deploy.summary import change, markdown_lines

    names = "abcdefghij"
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}]\n".encode() for p, n in itertools.pairwise(names)
    )
    value = "![x](https://evil.example/p.png) @team #1"
    injected = (
        f"metadata:\n  annotations: {{gitml.dev/version: '{value}'}}\n"
        "spec:\n  template:\n    spec:\n      containers: [{image: '<img src=x>|cell'}]\n"
    ).encode()
    before = {"kubernetes/deployment.yaml": bomb, "Dockerfile": b"no FROM here\n"}
    after = {"kubernetes/deployment.yaml": injected, "kubernetes/hpa.yaml": b"- a list\n"}
    found = change("deploy/production", before, after)
    assert found is not None
    rows = {what: (old, new) for what, old, new in found.rows}
    assert rows["version"] == ("?", value)
    assert rows["base image"] == ("?", "none")
    markdown = "\n".join(markdown_lines(found))
    assert "![x](" not in markdown  # no image is fetched
    assert "<img" not in markdown  # no raw HTML
    assert "\\|cell" in markdown  # the pipe stays inside its cell
    assert "@team" not in markdown  # a mention is split, so nobody is notified
    assert change("deploy/production", after, after) is None
