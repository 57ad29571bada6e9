"""The GitHub Actions workflows: linted with real tools, and executed with `act`."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml import api
from gitml.report.from_json import NOTICE
from gitml.report.markdown import MARKER
from tests.helpers import BIN_DIR, PROJECT_ROOT, dvc, git, run
from tests.registry_flow import merge_pull_request, model_md5, remote_tags, set_param
from tests.workflows.act import (
    CHECKOUT,
    STANDINS,
    ActRun,
    name_dvc_remote_absolutely,
    pull_request_payload,
    remote_actions,
    run_act,
)
from tests.workflows.github_api import (
    HEADERS,
    REPOSITORY,
    TOKEN,
    Status,
    act_environment,
    expect_pull_request,
    expect_statuses,
    requested,
    statuses,
)

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
ALL = sorted(WORKFLOWS.glob("*.yml"))


def test_actionlint_reports_nothing() -> None:
    result = run(
        BIN_DIR / "actionlint",
        *map(str, ALL),
        cwd=PROJECT_ROOT,
        check=False,
        env={"PATH": f"{BIN_DIR}:/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _zizmor(*args: str) -> subprocess.CompletedProcess[str]:
    # Offline, and with no token in the environment (zizmor would try the network).
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    return subprocess.run(
        [str(BIN_DIR / "zizmor"), "--offline", "--persona=auditor", *args, ".github"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_zizmor_auditor_reports_nothing_unjustified() -> None:
    result = _zizmor("--format", "plain")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


# What zizmor's auditor persona finds once the inline ignores are not honoured: each is
# justified where it is (test_every_zizmor_ignore_is_listed_with_its_reason).
#  - dangerous-triggers: comment.yml's workflow_run is how a fork's pull request gets a
#    comment and a status; it runs no code of the pull request (it renders its JSON);
#  - self-repository: `uses: ./.github/actions/setup-gitml` resolves in the workspace, so
#    in a judging job it is the setup of the trusted checkout at the workspace root; act
#    and actionlint do not know zizmor's suggested `$/` form. The `site` jobs of
#    register.yml and promote.yml call `./.github/workflows/site.yml`, which GitHub reads
#    from the caller's own commit (never the workspace); act does not know `$/` there.
JUSTIFIED_FINDINGS = {
    ("dangerous-triggers", "comment.yml"): 1,
    ("self-repository", "comment.yml"): 1,
    ("self-repository", "monitor.yml"): 1,
    ("self-repository", "promote.yml"): 2,
    ("self-repository", "propose.yml"): 5,
    ("self-repository", "register.yml"): 2,
    ("self-repository", "review.yml"): 1,
    ("self-repository", "site.yml"): 1,
}


def test_zizmor_auditor_findings_are_exactly_the_justified_ones() -> None:
    result = _zizmor("--no-ignores", "--format", "json")
    findings: dict[tuple[str, str], int] = {}
    for finding in json.loads(result.stdout):
        (primary,) = [loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"]
        path = Path(primary["symbolic"]["key"]["Local"]["verbatim_path"]).name
        key = (finding["ident"], path)
        findings[key] = findings.get(key, 0) + 1
        # Each one carries its inline ignore, with a reason.
        comments = primary["concrete"].get("comments", [])
        assert any(f"zizmor: ignore[{finding['ident']}]" in c for c in comments), key
    assert findings == JUSTIFIED_FINDINGS


def test_every_zizmor_ignore_is_listed_with_its_reason() -> None:
    ignores = []
    for path in sorted((PROJECT_ROOT / ".github").rglob("*.yml")):
        for line in path.read_text().splitlines():
            if "zizmor: ignore[" in line:
                rule = re.search(r"zizmor: ignore\[([^\]]+)\]\s*(.*)", line)
                assert rule, line
                assert rule.group(2), f"{path.name}: an ignore without a reason: {line}"
                ignores.append((path.name, rule.group(1)))
    assert sorted(set(ignores)) == sorted((f, r) for r, f in JUSTIFIED_FINDINGS)


def test_workflows_match_githubs_schema() -> None:
    result = run(
        BIN_DIR / "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, ALL),
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_match_githubs_schema() -> None:
    """The composite setup action (and the test stand-ins) are valid GitHub actions."""
    actions = [
        PROJECT_ROOT / ".github" / "actions" / "setup-gitml" / "action.yml",
        *sorted((PROJECT_ROOT / "tests" / "workflows" / "standins").glob("*/action.yml")),
    ]
    result = run(
        BIN_DIR / "check-jsonschema",
        "--builtin-schema",
        "vendor.github-actions",
        *map(str, actions),
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# The GitHub Pages actions of site.yml, pinned by the commit of their release tag (read
# from the tags of snapshots of actions/configure-pages, upload-pages-artifact and
# deploy-pages). Under act, stand-ins pack the site and record its deployment locally
# (tests/test_site_workflow.py).
PAGES_ACTIONS = {
    "actions/configure-pages@983d7736d9b0ae728b81ab479565c72886d7745b": "v5.0.0",
    "actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9": "v5.0.0",
    "actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128": "v5.0.0",
}


def test_every_remote_action_is_pinned_and_has_a_stand_in() -> None:
    used = remote_actions(WORKFLOWS)
    for action in used:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{action} not pinned"
    assert used == {*STANDINS, CHECKOUT}
    assert set(PAGES_ACTIONS) <= set(STANDINS)


def test_the_site_workflow_publishes_with_least_privilege() -> None:
    site = _load("site.yml")
    assert site["permissions"] == {}
    assert set(site["on"]) == {"push", "workflow_call", "workflow_dispatch", "schedule"}
    assert "main" in site["on"]["push"]["branches"]
    assert "production" in site["on"]["push"]["branches"]
    build, deploy = site["jobs"]["build"], site["jobs"]["deploy"]
    assert build["if"] == SITE_SWITCH  # off: no build, so no deploy either (needs: build)
    assert build["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build"
    text = (WORKFLOWS / "site.yml").read_text()
    for action, tag in PAGES_ACTIONS.items():
        assert f"uses: {action} # {tag}" in text
    assert 'gitml site -o "$RUNNER_TEMP/site"' in text


def _load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # PyYAML reads the `on:` key as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _jobs() -> dict[tuple[str, str], dict]:
    return {
        (path.name, name): job for path in ALL for name, job in _load(path.name)["jobs"].items()
    }


# The repository variable that turns the Pages site off (GITML_SITE=false); unset, it is on.
SITE_SWITCH = "vars.GITML_SITE != 'false'"
SITE = "./.github/workflows/site.yml"
# Jobs that call a reusable workflow (no steps, no timeout of their own: the called jobs
# have theirs): what they call, the job they wait for and its output that counts the tags
# it wrote. Tags pushed with the job token start no workflow, so these publish the site.
CALLS = {
    ("register.yml", "site"): (SITE, "register", "registered"),
    ("promote.yml", "site"): (SITE, "promote", "recorded"),
}


def _steps(job: dict) -> list[dict]:
    """A job's steps (none for a job that calls a reusable workflow)."""
    return list(job.get("steps", []))


def test_the_registry_writers_publish_the_site_with_what_it_needs_only() -> None:
    """Each workflow that pushes registry tags calls site.yml once a run wrote one, behind
    the GITML_SITE switch, granting exactly what the called jobs ask for: `pages: write`
    and `id-token: write` reach the deploy job only because the caller grants them there."""
    jobs = _jobs()
    assert {key for key, job in jobs.items() if "uses" in job} == set(CALLS)
    site = _load("site.yml")
    assert "workflow_call" in site["on"]
    called: dict[str, str] = {}
    for job in site["jobs"].values():
        called |= job["permissions"]
    assert called == {"contents": "read", "pages": "write", "id-token": "write"}
    for (workflow, name), (uses, needs, output) in CALLS.items():
        job = jobs[(workflow, name)]
        assert job["uses"] == uses, workflow
        assert job["needs"] == needs, workflow
        assert job["if"] == f"needs.{needs}.outputs.{output} != '0' && {SITE_SWITCH}", workflow
        assert job["permissions"] == called, workflow
        assert not {"secrets", "with", "environment"} & set(job), workflow
        # The count comes from the step that pushes the tags (the only one with a token).
        writer = jobs[(workflow, needs)]
        step = PUSHING_STEPS[(workflow, needs)]
        assert writer["outputs"] == {output: f"${{{{ steps.{step}.outputs.{output} }}}}"}
        (pushing,) = [s for s in writer["steps"] if s.get("id") == step]
        assert f'echo "{output}=' in pushing["run"], workflow


def test_triggers_and_permissions() -> None:
    """act does not apply branch filters: check the trigger configuration here."""
    propose, register, promote = _load("propose.yml"), _load("register.yml"), _load("promote.yml")
    assert propose["on"]["pull_request"]["branches"] == [
        "main",
        "staging",
        "production",
        "staging/**",
        "production/**",
    ]
    assert register["on"] == {"push": {"branches": ["main"]}}
    assert promote["on"]["push"]["branches"] == [
        "staging",
        "production",
        "staging/**",
        "production/**",
    ]
    assert propose["on"]["workflow_dispatch"]["inputs"]["pr"]["required"] is True
    assert propose["on"]["workflow_dispatch"]["inputs"]["sha"]["required"] is False
    for document in (propose, register, promote, _load("comment.yml")):
        assert document["permissions"] == {}
        for job in document["jobs"].values():
            if "uses" in job:
                continue  # a call of site.yml: test_the_registry_writers_publish_the_site_...
            assert "timeout-minutes" in job
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            assert writes <= {"contents", "pull-requests", "statuses"}
    # The jobs that judge a pull request set gitml/check themselves; the one that runs the
    # candidate's pipeline sets nothing and comments nothing.
    comment = _load("comment.yml")["jobs"]["comment"]
    for job in (propose["jobs"]["gate"], propose["jobs"]["stage"], comment):
        assert job["permissions"]["statuses"] == "write"
        assert any("gitml commit-status" in step.get("run", "") for step in job["steps"])
    assert propose["jobs"]["build"]["permissions"] == {"contents": "write"}
    monitor = _load("monitor.yml")
    assert set(monitor["on"]) == {"schedule", "workflow_dispatch"}
    assert monitor["on"]["schedule"][0]["cron"]
    assert monitor["permissions"] == {}
    (job,) = monitor["jobs"].values()
    assert "timeout-minutes" in job
    # It pushes a branch, opens a pull request and dispatches propose.yml for it.
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "actions": "write",
    }
    assert register["concurrency"] == {"group": "register-main", "cancel-in-progress": False}
    # One promotion at a time per stage branch, never cancelled half-way.
    assert promote["concurrency"] == {
        "group": "promote-${{ github.ref_name }}",
        "cancel-in-progress": False,
    }
    # A newer push (or dispatch) for the same pull request supersedes the running one.
    assert propose["concurrency"] == {
        "group": "propose-${{ github.event.pull_request.number || inputs.pr }}",
        "cancel-in-progress": True,
    }
    assert promote["jobs"]["promote"]["environment"].startswith("${{")
    # A review (which triggers no pull_request event) re-runs propose for its pull request:
    # the job can only dispatch workflows, and reads the default branch for the setup action.
    review = _load("review.yml")
    assert review["on"] == {"pull_request_review": {"types": ["submitted", "dismissed"]}}
    assert review["permissions"] == {}
    (dispatch,) = review["jobs"].values()
    assert "timeout-minutes" in dispatch
    assert dispatch["permissions"] == {"contents": "read", "actions": "write"}
    assert "environment" not in dispatch
    assert "secrets." not in json.dumps(dispatch)
    assert "github.event.pull_request.head.repo.full_name == github.repository" in dispatch["if"]
    # A newer review of the same pull request supersedes the running dispatch.
    assert review["concurrency"] == {
        "group": "review-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    fork = propose["jobs"]["build-fork"]
    assert fork["permissions"] == {"contents": "read"}
    assert "environment" not in fork
    assert "secrets." not in json.dumps(fork)


def test_secrets_only_in_jobs_with_a_deployment_environment() -> None:
    """The remote's credentials are environment secrets: a job reads them only inside its
    `environment:` (dvc-remote, or the stage's own for promote.yml)."""
    with_secrets = set()
    for key, job in _jobs().items():
        if "secrets." in json.dumps(job):
            with_secrets.add(key)
            assert job.get("environment"), key
    assert with_secrets == {
        ("monitor.yml", "drift"),
        ("promote.yml", "promote"),
        ("propose.yml", "build"),
        ("propose.yml", "gate"),
        ("propose.yml", "stage"),
        ("register.yml", "register"),
    }


def _checkouts(job: dict) -> list[dict]:
    return [s for s in _steps(job) if s.get("uses", "").startswith(CHECKOUT)]


SETUP = "./.github/actions/setup-gitml"
BASE = "${{ github.base_ref || needs.resolve.outputs.base }}"
# The jobs that judge a candidate, and the trusted ref each installs gitml from (comment.yml
# runs on workflow_run: its plain checkout is the default branch).
JUDGES = {
    ("propose.yml", "gate"): BASE,
    ("propose.yml", "stage"): BASE,
    ("promote.yml", "promote"): "${{ github.event.repository.default_branch }}",
    ("comment.yml", "comment"): None,
}


def test_judges_run_gitml_from_the_trusted_ref_and_read_the_candidate_as_data() -> None:
    """Finding 4: the gate, the stage checks, promote --on-push and every commit status run
    gitml installed from the base (or default) branch, checked out at the workspace root,
    where `./.github/actions/setup-gitml` resolves; the candidate is a second checkout
    under candidate/, and no step runs anything from it."""
    jobs = _jobs()
    for key, ref in JUDGES.items():
        job, steps = jobs[key], jobs[key]["steps"]
        trusted, *candidate = _checkouts(job)
        assert "path" not in trusted["with"], key
        assert trusted["with"].get("ref") == ref, key
        setup = [i for i, s in enumerate(steps) if s.get("uses") == SETUP]
        assert setup == [steps.index(trusted) + 1], key  # right after the trusted checkout
        assert steps[setup[0]]["with"] == {"pip-cache": "false"}, key  # no cache feeds it
        for checkout in candidate:
            assert checkout["with"]["path"] == "candidate", key
            assert steps.index(checkout) > setup[0], key
        for step in steps:
            assert "candidate/" not in step.get("uses", ""), key
            runs_gitml = re.search(r"(^|[\s;&|(])gitml\s", step.get("run", ""))
            if runs_gitml and candidate and steps.index(step) > steps.index(candidate[0]):
                assert step.get("working-directory") == "candidate", (key, step.get("name"))
        if candidate:
            # The DVC remote too is the trusted branch's: the candidate's .dvc/config could
            # send the job's credentials (and its presence checks) to a remote it chose.
            remote = [
                i for i, s in enumerate(steps) if "cp .dvc/config candidate/" in s.get("run", "")
            ]
            assert remote == [steps.index(candidate[0]) + 1], key
            assert "rm -f candidate/.dvc/config.local" in steps[remote[0]]["run"], key
    # Every job that sets gitml/check is one of them.
    for key, job in jobs.items():
        if any("gitml commit-status" in s.get("run", "") for s in _steps(job)):
            assert key in JUDGES, key


# (workflow, job) -> the checkouts, each (path, fetch-depth): full history wherever history
# or tags are read, one commit for a checkout that only installs gitml.
CHECKOUTS = {
    ("propose.yml", "resolve"): [(".", 1)],
    ("propose.yml", "build"): [(".", 0)],
    ("propose.yml", "gate"): [(".", 1), ("candidate", 0)],
    ("propose.yml", "build-fork"): [(".", 0)],
    ("propose.yml", "stage"): [(".", 1), ("candidate", 0)],
    ("comment.yml", "comment"): [(".", 1)],
    ("register.yml", "register"): [(".", 0)],
    ("promote.yml", "promote"): [(".", 1), ("candidate", 0)],
    ("monitor.yml", "drift"): [(".", 0)],
    ("review.yml", "dispatch"): [(".", 1)],
    ("site.yml", "build"): [(".", 0)],
    ("site.yml", "deploy"): [],
    ("register.yml", "site"): [],  # calls site.yml
    ("promote.yml", "site"): [],
}
# The steps that push (by id), the only ones given a token git can use: through a
# credential helper in their own environment, never in .git/config.
PUSHING_STEPS = {
    ("propose.yml", "build"): "push",
    ("register.yml", "register"): "register",
    ("promote.yml", "promote"): "record",
    ("monitor.yml", "drift"): "drift",
}


def test_no_checkout_keeps_credentials_and_only_pushing_steps_get_a_token() -> None:
    found, pushing = {}, {}
    for key, job in _jobs().items():
        found[key] = [
            (c["with"].get("path", "."), c["with"]["fetch-depth"]) for c in _checkouts(job)
        ]
        for checkout in _checkouts(job):
            assert checkout["with"]["persist-credentials"] is False, key
        assert "github.token" not in json.dumps(job.get("env", {})), key
        for step in _steps(job):
            if "GIT_CONFIG_COUNT" in step.get("env", {}):
                assert key not in pushing, key
                pushing[key] = step["id"]
        if key in PUSHING_STEPS:
            assert job["permissions"]["contents"] == "write", key
        else:
            assert job["permissions"].get("contents") != "write", key
    assert found == CHECKOUTS
    assert pushing == PUSHING_STEPS
    # The dispatched build of a reviewed fork never reaches the push step.
    build = _load("propose.yml")["jobs"]["build"]
    (push,) = [s for s in build["steps"] if s.get("id") == "push"]
    assert "needs.resolve.outputs.fork != 'true'" in push["if"]


def test_the_pushing_steps_credential_helper_answers_github_only() -> None:
    """What git asks the helper in those steps: the token for the server, nothing else."""
    for (workflow, name), step_id in PUSHING_STEPS.items():
        (step,) = [s for s in _load(workflow)["jobs"][name]["steps"] if s.get("id") == step_id]
        env = {
            key: str(value).replace("${{ github.server_url }}", "https://github.com")
            for key, value in step["env"].items()
            if key.startswith("GIT_CONFIG_")
        }
        base = {
            "PATH": "/usr/bin:/bin",
            "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GITHUB_TOKEN": "t0ken-of-the-step",
            **env,
        }
        asked = subprocess.run(
            ["git", "credential", "fill"],
            input="protocol=https\nhost=github.com\npath=acme/credit.git\n\n",
            env=base,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "username=x-access-token\npassword=t0ken-of-the-step\n" in asked.stdout, workflow
        elsewhere = subprocess.run(
            ["git", "credential", "fill"],
            input="protocol=https\nhost=elsewhere.example\n\n",
            env=base,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "t0ken" not in elsewhere.stdout, workflow


SEPARATORS = {";", ";;", "&", "&&", "|", "||", "(", ")"}


def _commands(script: str) -> list[list[str]]:
    """The simple commands of the lines of a shell script that mention ``cml``
    (continuation lines joined), as words."""
    joined = re.sub(r"\\\n\s*", " ", script)
    commands: list[list[str]] = []
    for line in joined.splitlines():
        if not re.search(r"\bcml\b", line):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for word in [*lexer, ";"]:
            if word in SEPARATORS:
                if command:
                    commands.append(command)
                command = []
            else:
                command.append(word)
    return commands


def test_every_cml_call_turns_publishing_off() -> None:
    """CML uploads every local file a link in the report points to unless told not to
    (`--publish`, default true; documented form `--publish=<true|false>`)."""
    scripts = [s.get("run", "") for job in _jobs().values() for s in _steps(job)]
    setup = PROJECT_ROOT / ".github" / "actions" / "setup-gitml" / "action.yml"
    scripts += [s.get("run", "") for s in yaml.safe_load(setup.read_text())["runs"]["steps"]]
    calls = [c for script in scripts for c in _commands(script) if c and c[0] == "cml"]
    assert len(calls) == 3  # the gate, the stage checks, the fork's comment
    for call in calls:
        assert "--publish=false" in call, call
        assert not [w for w in call if w.startswith(("--publish-url", "--native"))]
    assert _commands('cml comment update \\\n  --publish=false x.md && echo "a; b" # c')[0] == [
        "cml",
        "comment",
        "update",
        "--publish=false",
        "x.md",
    ]


# Per workflow, the repository variable that sets its jobs' timeout, and the default.
TIMEOUTS = {
    ("propose.yml", "build"): ("GITML_PROPOSE_TIMEOUT_MINUTES", 60),
    ("propose.yml", "gate"): ("GITML_PROPOSE_TIMEOUT_MINUTES", 60),
    ("propose.yml", "build-fork"): ("GITML_PROPOSE_TIMEOUT_MINUTES", 60),
    ("propose.yml", "stage"): ("GITML_PROMOTE_TIMEOUT_MINUTES", 20),
    ("register.yml", "register"): ("GITML_REGISTER_TIMEOUT_MINUTES", 20),
    ("promote.yml", "promote"): ("GITML_PROMOTE_TIMEOUT_MINUTES", 20),
    ("monitor.yml", "drift"): ("GITML_MONITOR_TIMEOUT_MINUTES", 30),
    ("site.yml", "build"): ("GITML_SITE_TIMEOUT_MINUTES", 20),
    # A job that calls a workflow has no timeout: the called build job's is this one.
    ("register.yml", "site"): ("GITML_SITE_TIMEOUT_MINUTES", 20),
    ("promote.yml", "site"): ("GITML_SITE_TIMEOUT_MINUTES", 20),
}


def test_timeouts_are_repository_variables_documented_in_the_readme() -> None:
    """act does not apply job timeouts (0.2.89 leaves the expression unevaluated), so the
    expressions are checked here, and each variable must be in the README with its default."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    for path in ALL:
        for name, job in _load(path.name)["jobs"].items():
            timed = job
            if "uses" in job:
                assert "timeout-minutes" not in job, name  # GitHub refuses it on a call
                timed = _load(Path(job["uses"]).name)["jobs"]["build"]
            timeout = timed["timeout-minutes"]
            if (path.name, name) not in TIMEOUTS:
                assert isinstance(timeout, int), (path.name, name)  # small helper jobs
                assert timeout <= 10, (path.name, name)
                continue
            variable, default = TIMEOUTS[(path.name, name)]
            assert timeout == f"${{{{ fromJSON(vars.{variable} || '{default}') }}}}", name
            assert f"| `{variable}` | {default} |" in readme, variable


def test_a_piped_command_cannot_hide_its_failure() -> None:
    """GitHub's default ``bash -e`` has no pipefail: ``dvc repro | tee log`` would pass
    when repro fails. A step that pipes sets pipefail or reads the status it needs."""
    hiding = []
    for (workflow, name), job in _jobs().items():
        for step in _steps(job):
            script = step.get("run", "")
            piped = re.search(r"[^|]\|[^|]", script.replace("||", ""))
            if not piped or step.get("shell") == "bash":
                continue  # an explicit `shell: bash` runs with -o pipefail
            if "set -o pipefail" not in script and "PIPESTATUS" not in script:
                hiding.append((workflow, name, step.get("name", script.splitlines()[0])))
    assert hiding == []


def test_no_untrusted_expression_inside_run() -> None:
    """Event fields, dispatch inputs and what jobs resolved reach scripts through env only."""
    untrusted = re.compile(
        r"\$\{\{\s*(github\.(head_ref|event\.(pull_request|issue|comment|"
        r"head_commit|commits|workflow_run|inputs))|inputs\.|needs\.|steps\.)"
    )
    documents = [yaml.safe_load(path.read_text()) for path in ALL]
    steps = [step for doc in documents for job in doc["jobs"].values() for step in _steps(job)]
    setup = PROJECT_ROOT / ".github" / "actions" / "setup-gitml" / "action.yml"
    steps += yaml.safe_load(setup.read_text())["runs"]["steps"]
    for step in steps:
        assert not untrusted.search(step.get("run", "")), step


@pytest.fixture
def act_repo(origin_repo: Path, tmp_path: Path) -> Path:
    """``origin_repo`` with an absolute DVC remote URL (act runs jobs in a copy elsewhere)."""
    remote = tmp_path / "dvc-remote"
    name_dvc_remote_absolutely(origin_repo, remote)
    assert f"url = {remote}" in (origin_repo / ".dvc" / "config").read_text()
    return origin_repo


# A push event's repository: promote.yml installs gitml from its default branch.
PUSHED_REPOSITORY = {"full_name": REPOSITORY, "default_branch": "main"}
# What a branch's gitml says on every command (stderr), to tell whose gitml ran where.
BASE_GITML = "this is the gitml of the target branch"
CANDIDATE_GITML = "this is the candidate's own gitml, which passes its own checks"
# The target's gitml: the package as it is, saying so.
BASE_CODE = f"""
import sys as _sys

_sys.stderr.write({BASE_GITML!r} + "\\n")
"""
# A candidate that changed src/gitml so that `gitml check` and `gitml promote` pass.
CANDIDATE_CODE = f"""
import sys as _sys

_sys.stderr.write({CANDIDATE_GITML!r} + "\\n")
if _sys.argv[1:2] in (["check"], ["promote"]):
    print("passed")
    _sys.exit(0)
"""


def _commit_gitml(repo: Path, branch: str, code: str, message: str) -> str:
    """Commit on ``branch`` (pushed) the template's src/gitml/__init__.py plus ``code``."""
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").stdout.split()[0]
    original = git(repo, "show", f"{root}:src/gitml/__init__.py").stdout
    git(repo, "checkout", "-q", branch)
    (repo / "src" / "gitml" / "__init__.py").write_text(original + code)
    git(repo, "commit", "-qam", message)
    git(repo, "push", "-q", "origin", branch)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


@pytest.mark.slow
def test_act_push_to_main_registers_and_pushes_the_version_tag(
    act_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_repo
    payload = {"ref": "refs/heads/main", "repository": {"full_name": REPOSITORY}}
    result = run_act(repo, "push", "register.yml", "register", payload, tmp_path / "act")
    assert result.returncode == 0, result.output[-4000:]
    assert remote_tags(repo) == ["credit@v0.1.0"]


def _dispatch_payload(inputs: dict[str, object]) -> dict[str, object]:
    return {
        "ref": "refs/heads/main",
        "inputs": inputs,
        "repository": {"full_name": REPOSITORY, "name": "credit", "owner": {"login": "acme"}},
    }


def _stored(tmp_path: Path, md5: str) -> bool:
    return (tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]).is_file()


def _open_pr_branch(repo: Path, branch: str, leaves: int | None, message: str) -> str:
    """A pushed branch from main that changes max_leaf_nodes (or only the README)."""
    git(repo, "checkout", "-q", "-b", branch, "main")
    if leaves is None:
        with (repo / "README.md").open("a") as readme:
            readme.write("\nA line of documentation.\n")
    else:
        set_param(repo, "train", "hist_gradient_boosting.max_leaf_nodes", leaves)
    git(repo, "commit", "-qam", message)
    git(repo, "push", "-q", "origin", branch)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


@pytest.mark.slow
def test_act_pull_request_reproduces_commits_back_reports_and_sets_the_status(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    repo = act_repo
    # The author changed a parameter but did not run the pipeline.
    sha = _open_pr_branch(repo, "fewer-leaves", 8, "Fewer leaves per tree")
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "gate",
        pull_request_payload(5, "fewer-leaves", "main", sha),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-5000:]
    # The reproduced outputs were committed back to the pull request branch ...
    git(repo, "fetch", "-q", "origin")
    log = git(repo, "log", "--format=%s", "origin/fewer-leaves", "-2").stdout.splitlines()
    assert log == ["Reproduce pipeline outputs [gitml]", "Fewer leaves per tree"]
    pushed = git(repo, "rev-parse", "origin/fewer-leaves").stdout.strip()
    committed = git(repo, "diff", "--name-only", sha, pushed).stdout.split()
    assert "dvc.lock" in committed
    assert "metrics/credit.json" in committed
    # ... the artefact and the run-cache are in the DVC remote, so main's lock will name
    # stored bytes and an unchanged pipeline restores instead of retraining ...
    assert _stored(tmp_path, model_md5(repo, "origin/fewer-leaves"))
    assert [p for p in (tmp_path / "dvc-remote" / "runs").rglob("*") if p.is_file()]
    # (DVC keeps no run-cache for evaluate: its model card is an uncached non-metric output.)
    lock = yaml.safe_load(git(repo, "show", f"{pushed}:dvc.lock").stdout)
    timing = "metrics/credit_timing.json"
    (metrics,) = [o for o in lock["stages"]["train"]["outs"] if o["path"] == timing]
    assert _stored(tmp_path, metrics["md5"])  # uncached: dvc push --run-cache leaves it out
    # ... the gate status was set on that commit through the API ...
    assert statuses(httpserver) == [Status(pushed, "success", "gitml/check", "gitml gate for main")]
    # ... and one sticky comment was posted with the report, without image upload.
    ((args, report),) = result.cml_calls
    assert args[:5] == [
        "comment",
        "update",
        "--publish=false",
        "--target=pr/5",
        "--watermark-title=gitml report",
    ]
    assert args[5].endswith("/report.md")
    assert "## gitml report" in report
    assert "**Gate** (stage <code>main</code>): ✅ passed" in report
    assert "pipeline: ran" in report
    assert (result.artifacts / "gitml-plots" / "credit-roc.png").is_file()


@pytest.mark.slow
def test_act_pull_request_whose_outputs_match_gets_the_status_on_its_head(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Nothing to commit back: the required status still lands, on the head commit."""
    repo = act_repo
    sha = _open_pr_branch(repo, "docs", None, "Document the example")
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "gate",
        pull_request_payload(6, "docs", "main", sha),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-5000:]
    assert "outputs match what the branch committed" in result.output
    assert "Running stage" not in result.output
    assert git(repo, "ls-remote", "origin", "refs/heads/docs").stdout.split()[0] == sha
    assert statuses(httpserver) == [Status(sha, "success", "gitml/check", "gitml gate for main")]
    ((args, _report),) = result.cml_calls
    assert args[2:4] == ["--publish=false", "--target=pr/6"]


STRICT_MAIN_GATE = "roc_auc: {min: 0.99, max_regression: {atol: 0.02}}"


@pytest.mark.slow
def test_act_pull_request_is_judged_by_the_base_branchs_gitml_not_its_own(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Finding 4: a same-repository pull request whose src/gitml makes `gitml check` pass.
    Its own code still builds it (the build job runs its pipeline), but the report, the
    gate and gitml/check come from the base branch's gitml: the gate fails."""
    repo = act_repo
    config = repo / "gitml.yaml"
    config.write_text(
        config.read_text().replace(
            "roc_auc: {min: 0.75, max_regression: {atol: 0.02}}", STRICT_MAIN_GATE
        )
    )
    assert STRICT_MAIN_GATE in config.read_text()
    git(repo, "commit", "-qam", "A stricter gate for main")
    _commit_gitml(repo, "main", BASE_CODE, "gitml, as reviewed")
    git(repo, "checkout", "-q", "-b", "lenient", "main")
    sha = _commit_gitml(repo, "lenient", CANDIDATE_CODE, "A gitml whose gate always passes")
    git(repo, "checkout", "-q", "main")
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "gate",
        pull_request_payload(11, "lenient", "main", sha),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode != 0
    assert result.jobs() == {BUILD}
    assert result.jobs("failed") == {GATE}
    # The candidate's gitml ran where its code runs anyway (its own build) ...
    assert CANDIDATE_GITML in result.job_output(BUILD)
    # ... and never in the job that judged it.
    judged = result.job_output(GATE)
    assert BASE_GITML in judged
    assert CANDIDATE_GITML not in judged
    assert "credit → main: failed" in judged
    assert "&gt;= 0.99 | ❌ fail" in judged  # the base's stricter minimum, not met
    assert statuses(httpserver) == [Status(sha, "failure", "gitml/check", "gitml gate for main")]
    ((args, report),) = result.cml_calls
    assert args[2:4] == ["--publish=false", "--target=pr/11"]
    assert "**Gate** (stage <code>main</code>): ❌ failed" in report


@pytest.mark.slow
def test_act_unchanged_pipeline_restores_from_the_remote_run_cache(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A run that was already made (its run-cache pushed) is restored, not retrained: the
    model's bytes are those of the first run (skops output is not byte-stable)."""
    repo = act_repo
    git(repo, "checkout", "-q", "-b", "earlier", "main")
    set_param(repo, "train", "hist_gradient_boosting.max_leaf_nodes", 8)
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    run(BIN_DIR / "gitml", "run-cache", "push", cwd=repo)
    earlier = model_md5_of_workspace(repo)
    git(repo, "checkout", "-q", "-f", "main")
    sha = _open_pr_branch(repo, "again", 8, "Fewer leaves per tree, again")
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "build",
        pull_request_payload(7, "again", "main", sha),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-5000:]
    assert "Running stage 'train'" not in result.output
    assert "Stage 'train' is cached - skipping run, checking out outputs" in result.output
    git(repo, "fetch", "-q", "origin")
    assert model_md5(repo, "origin/again") == earlier


def model_md5_of_workspace(repo: Path) -> str:
    """The model's md5 in the working tree's dvc.lock."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"].endswith(".skops"))


@pytest.mark.slow
def test_act_push_to_staging_records_the_promotion(
    act_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_repo
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    git(repo, "checkout", "-q", "staging")
    payload = {"ref": "refs/heads/staging", "repository": PUSHED_REPOSITORY}
    clock.tick()
    result = run_act(repo, "push", "promote.yml", "promote", payload, tmp_path / "act")
    assert result.returncode == 0, result.output[-4000:]
    assert "credit#staging#1" in remote_tags(repo)
    assert "deploy hook for staging" in result.output


@pytest.mark.slow
def test_act_refuses_a_promotion_whose_artefact_is_not_stored(
    act_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_repo
    api.register(root=repo, push=True)
    api.promote("credit", "production", root=repo, push=True)
    md5 = model_md5(repo)
    (tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    # The pushed stage branch also carries a gitml that passes its own checks: it is data
    # here; the default branch's gitml records, or refuses.
    _commit_gitml(repo, "main", BASE_CODE, "gitml, as reviewed")
    _commit_gitml(repo, "production", CANDIDATE_CODE, "A gitml that lets anything through")
    payload = {"ref": "refs/heads/production", "repository": PUSHED_REPOSITORY}
    result = run_act(repo, "push", "promote.yml", "promote", payload, tmp_path / "act")
    assert result.returncode != 0
    recorded = result.job_output("verify and record the promotion")
    assert f"artefact {md5}" in recorded, recorded[-3000:]
    assert "not in the DVC remote" in recorded
    assert "deploy hook for" not in result.output
    assert not [t for t in remote_tags(repo) if "#production#" in t]
    assert BASE_GITML in result.output
    assert CANDIDATE_GITML not in result.output


def _staging_candidate(repo: Path, clock: Clock) -> None:
    """credit v0.1.0 recorded in staging, v0.2.0 registered on main (the next candidate)."""
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    clock.tick()
    api.promote_on_push("staging", root=repo)
    clock.tick()
    merge_pull_request(repo, 8, "leaves", ("train", "hist_gradient_boosting.max_leaf_nodes", 8))
    clock.tick()
    api.register(root=repo, push=True)


@pytest.mark.slow
def test_act_pull_request_into_a_stage_verifies_without_retraining(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    repo = act_repo
    _staging_candidate(repo, clock)
    prepared = api.promote("credit", "staging", root=repo, push=True)
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "stage",
        pull_request_payload(9, prepared.branch, "staging", prepared.commit),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-4000:]
    assert "Running stage" not in result.output  # no retraining
    assert "credit v0.2.0 → staging: would-record" in result.output
    assert statuses(httpserver) == [
        Status(prepared.commit, "success", "gitml/check", "gitml promotion checks for staging")
    ]
    ((args, report),) = result.cml_calls
    assert args[2:4] == ["--publish=false", "--target=pr/9"]
    assert "<code>HEAD</code> vs <code>origin/staging</code>" in report
    # The sticky comment says what the merge changes on the cluster (deploy/staging/).
    assert "**Deployment** (<code>deploy/staging/</code>" in report
    assert "| version | v0.1.0 | v0.2.0 |" in report


@pytest.mark.slow
def test_act_stage_pull_request_is_judged_by_the_stage_branchs_gitml_not_its_own(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Finding 4: a promotion pull request whose src/gitml makes `gitml promote` pass, for
    a version whose artefact is missing from the remote: the stage branch's gitml fails it."""
    repo = act_repo
    _staging_candidate(repo, clock)
    _commit_gitml(repo, "staging", BASE_CODE, "gitml, as reviewed")
    prepared = api.promote("credit", "staging", root=repo, push=True)
    md5 = model_md5(repo, prepared.commit)
    (tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    git(repo, "fetch", "-q", "origin")
    head = _commit_gitml(repo, prepared.branch, CANDIDATE_CODE, "A gitml that lets it through")
    git(repo, "checkout", "-q", "main")
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "stage",
        pull_request_payload(9, prepared.branch, "staging", head),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode != 0
    assert result.jobs("failed") == {STAGE}
    judged = result.job_output(STAGE)
    assert BASE_GITML in judged
    assert CANDIDATE_GITML not in judged
    assert f"artefact {md5}" in judged
    assert "not in the DVC remote" in judged
    assert statuses(httpserver) == [
        Status(head, "failure", "gitml/check", "gitml promotion checks for staging")
    ]


FORK = "someone/credit"
FORK_SHA = "f" * 40


def _workflow_run(head_repository: str, conclusion: str = "success") -> dict[str, object]:
    return {
        "workflow_run": {
            "id": 1,
            "event": "pull_request",
            "conclusion": conclusion,
            "head_sha": FORK_SHA,
            "head_branch": "leaves",
            "head_repository": {"full_name": head_repository},
        },
        "repository": {"full_name": REPOSITORY},
    }


GOLDEN_REPORT = PROJECT_ROOT / "tests" / "golden" / "report" / "improved.json"
PLANTED = "<img src=x onerror=alert(1)>[prize](https://evil.example/x.png) @acme/team"


def _fork_report(kind: str) -> str:
    """The JSON report a fork's build uploaded: as gitml writes it, with a metric name
    planted to render as markup, or not a report at all."""
    data = json.loads(GOLDEN_REPORT.read_text())
    if kind == "planted":
        data["models"][0]["metrics"][0]["name"] = PLANTED
    elif kind == "invalid":
        data = {"schema_version": 1, "models": "all good"}
    return json.dumps(data)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("number", "code", "report", "status"),
    [
        ("5\n", "0\n", "valid", "pending"),  # the fork's gate passed: a trusted build decides
        ("5\n", "3\n", "planted", "failure"),  # the fork's gate failed: blocks the merge
        ("5; touch /tmp/pwned\n", "0\n", "valid", None),  # forged: nothing posted or set
        ("5\n", "0\n", "invalid", None),  # not a report: nothing posted or set
    ],
)
def test_act_comment_renders_a_fork_report_sets_its_status_and_rejects_forgeries(
    act_repo: Path,
    tmp_path: Path,
    httpserver: HTTPServer,
    number: str,
    code: str,
    report: str,
    status: str | None,
) -> None:
    """Finding 7: the trusted job posts markdown it rendered itself from the fork's JSON
    (validated), through cml with publishing off; never a file the fork wrote."""
    artifact = tmp_path / "act" / "artifacts" / "gitml-report"
    artifact.mkdir(parents=True)
    (artifact / "report.json").write_text(_fork_report(report))
    (artifact / "report.md").write_text("<img src=x onerror=alert(1)> posted as is?\n")
    (artifact / "pr-number").write_text(number)
    (artifact / "gate-code").write_text(code)
    expect_pull_request(
        httpserver, 5, head_ref="leaves", head_sha=FORK_SHA, base="main", head_repository=FORK
    )
    expect_statuses(httpserver)
    result = run_act(
        act_repo,
        "workflow_run",
        "comment.yml",
        "comment",
        _workflow_run(FORK),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert (result.returncode == 0) is (status is not None), result.output[-3000:]
    if status is None:
        assert result.cml_calls == []
        assert statuses(httpserver) == []
        expected = "bad pull request number" if report == "valid" else "missing required key(s)"
        assert expected in result.output
        return
    ((args, posted),) = result.cml_calls
    assert args[2:4] == ["--publish=false", "--target=pr/5"]
    assert "/fork-report/" not in args[-1]  # the comment is the file this job rendered
    assert posted.startswith(f"{MARKER}\n\n## gitml report: ")
    assert NOTICE in posted
    assert "posted as is" not in posted
    assert "<img" not in posted
    if report == "planted":
        assert "&lt;img src=x onerror=alert(1)&gt;" in posted
        assert "](https://" not in posted
    # The pull request number was checked against the run's head commit ...
    assert requested(httpserver, "GET", f"/repos/{REPOSITORY}/pulls/5") == [None]
    # ... and the status is the fork gate's verdict, never a success from untrusted code.
    (set_status,) = statuses(httpserver)
    assert (set_status.sha, set_status.state, set_status.context) == (
        FORK_SHA,
        status,
        "gitml/check",
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("head_repository", "conclusion"), [(REPOSITORY, "success"), (FORK, "failure")]
)
def test_act_comment_skips_runs_that_uploaded_no_fork_report(
    act_repo: Path, tmp_path: Path, httpserver: HTTPServer, head_repository: str, conclusion: str
) -> None:
    """Same-repository runs comment themselves; a failed run left no artefact to read."""
    result = run_act(
        act_repo,
        "workflow_run",
        "comment.yml",
        "comment",
        _workflow_run(head_repository, conclusion),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-3000:]
    assert result.jobs() == set()  # the job's condition is false: it never started
    assert result.cml_calls == []
    assert httpserver.log == []


@pytest.mark.slow
def test_act_schedule_finds_drift_and_opens_a_retraining_pull_request(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The scheduled monitor: production's model against gitml.yaml's monitor.data (the
    example's generator in a downturn) → drift → a pushed retraining branch, its pull
    request, and the propose workflow dispatched for it through the API."""
    repo = act_repo
    api.register(root=repo, push=True)
    for stage in ("staging", "production"):
        clock.tick()
        api.promote("credit", stage, root=repo, push=True)
        clock.tick()
        api.promote_on_push(stage, root=repo, push=True)
    httpserver.expect_request(
        f"/repos/{REPOSITORY}/pulls", method="POST", headers=HEADERS
    ).respond_with_json(
        {"number": 12, "html_url": "https://github.example/acme/credit/pull/12"}, status=201
    )
    httpserver.expect_request(
        f"/repos/{REPOSITORY}/actions/workflows/propose.yml/dispatches",
        method="POST",
        headers=HEADERS,
    ).respond_with_data("", status=204)
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "main")
    result = run_act(
        repo,
        "schedule",
        "monitor.yml",
        "drift",
        {"schedule": "23 5 * * *", "repository": {"full_name": REPOSITORY}},
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-5000:]
    # The check itself is in the registry: a drift observation on production's version.
    git(repo, "fetch", "-q", "--tags", "origin")
    (check,) = [e for e in api.history("credit", root=repo) if e.event == "drift-check"]
    assert (check.tag, check.stage, check.version) == (
        "gitml.drift/credit/1",
        "production",
        "v0.1.0",
    )
    assert check.detail is not None
    assert check.detail.startswith("drift (")
    branches = git(repo, "ls-remote", "--heads", "origin", "retrain/*").stdout.split()
    (branch,) = [b.removeprefix("refs/heads/") for b in branches if b.startswith("refs/")]
    assert branch.startswith("retrain/credit-")
    (pull,) = requested(httpserver, "POST", f"/repos/{REPOSITORY}/pulls")
    assert isinstance(pull, dict)
    assert (pull["head"], pull["base"]) == (branch, "main")
    dispatches = f"/repos/{REPOSITORY}/actions/workflows/propose.yml/dispatches"
    assert requested(httpserver, "POST", dispatches) == [{"ref": "main", "inputs": {"pr": "12"}}]
    # The branch adds the batch to the DVC-tracked data, recorded so it regenerates.
    git(repo, "fetch", "-q", "origin", f"{branch}:refs/remotes/origin/{branch}")
    changed = git(repo, "diff", "--name-only", "main", f"origin/{branch}").stdout.split()
    assert {"data.dvc", "params.yaml"} <= set(changed)


BUILD = "reproduce, report and gate (trusted)"
GATE = "report and gate (gitml of the base branch)"
STAGE = "verify and gate a promotion (no retraining)"
RESOLVE = "resolve the dispatched pull request"


@pytest.mark.slow
def test_act_dispatched_retraining_pull_request_is_reproduced_committed_back_and_gated(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The monitor's pull request (opened with GITHUB_TOKEN: no pull_request event) gets
    propose by dispatch: resolved through the API, reproduced, committed back, gated."""
    repo = act_repo
    branch = "retrain/credit-0123abcd"
    sha = _open_pr_branch(repo, branch, 8, "Retrain credit on a new batch")
    git(repo, "checkout", "-q", "main")
    expect_pull_request(httpserver, 12, head_ref=branch, head_sha=sha, base="main")
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "workflow_dispatch",
        "propose.yml",
        None,  # the whole workflow: the dispatch must route to the build job only
        _dispatch_payload({"pr": 12}),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-5000:]
    assert result.jobs() == {RESOLVE, BUILD, GATE}
    assert requested(httpserver, "GET", f"/repos/{REPOSITORY}/pulls/12") == [None]
    git(repo, "fetch", "-q", "origin")
    pushed = git(repo, "rev-parse", f"origin/{branch}").stdout.strip()
    assert git(repo, "log", "-1", "--format=%s", pushed).stdout.strip() == (
        "Reproduce pipeline outputs [gitml]"
    )
    assert git(repo, "rev-parse", f"{pushed}^").stdout.strip() == sha
    assert _stored(tmp_path, model_md5(repo, pushed))
    assert statuses(httpserver) == [Status(pushed, "success", "gitml/check", "gitml gate for main")]
    ((args, _report),) = result.cml_calls
    assert args[2:4] == ["--publish=false", "--target=pr/12"]


@pytest.mark.slow
def test_act_promotion_pull_request_opened_from_ci_is_dispatched_and_only_verified(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """`gitml promote` in CI opens the pull request and dispatches propose on the default
    branch; the dispatched run verifies and gates the candidate, never retrains."""
    repo = act_repo
    _staging_candidate(repo, clock)
    httpserver.expect_request(
        f"/repos/{REPOSITORY}/pulls", method="POST", headers=HEADERS
    ).respond_with_json({"number": 9, "html_url": "https://github.example/pull/9"}, status=201)
    httpserver.expect_request(
        f"/repos/{REPOSITORY}", method="GET", headers=HEADERS
    ).respond_with_json({"full_name": REPOSITORY, "default_branch": "main"})
    dispatches = f"/repos/{REPOSITORY}/actions/workflows/propose.yml/dispatches"
    httpserver.expect_request(dispatches, method="POST", headers=HEADERS).respond_with_data(
        "", status=204
    )
    ci = {**act_environment(httpserver), "GITHUB_TOKEN": TOKEN, "GITHUB_ACTIONS": "true"}
    out = run(BIN_DIR / "gitml", "promote", "credit", "--to", "staging", "--push", cwd=repo, env=ci)
    assert "pull request: https://github.example/pull/9 (propose dispatched)" in out.stdout
    assert requested(httpserver, "POST", dispatches) == [{"ref": "main", "inputs": {"pr": "9"}}]
    branch = "promote/credit-v0.2.0-to-staging"
    candidate = git(repo, "rev-parse", branch).stdout.strip()
    expect_pull_request(httpserver, 9, head_ref=branch, head_sha=candidate, base="staging")
    expect_statuses(httpserver)
    result = run_act(
        repo,
        "workflow_dispatch",
        "propose.yml",
        None,
        _dispatch_payload({"pr": 9}),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-5000:]
    assert result.jobs() == {RESOLVE, STAGE}
    assert "Running stage" not in result.output
    assert "credit v0.2.0 → staging: would-record" in result.output
    assert statuses(httpserver) == [
        Status(candidate, "success", "gitml/check", "gitml promotion checks for staging")
    ]
    ((args, _report),) = result.cml_calls
    assert args[2:4] == ["--publish=false", "--target=pr/9"]


@pytest.mark.slow
def test_act_fork_trusted_build_runs_only_the_reviewed_head(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A maintainer dispatches propose with a reviewed fork pull request's number and head
    commit: it is built with secrets, its artefact pushed to the DVC remote and its report
    re-posted. The fork did not commit the reproduced outputs, so the status fails until
    its author commits them (handed over as an artefact); then it passes, without
    retraining. A head that moved since the review is refused before anything runs."""
    repo = act_repo
    git(repo, "checkout", "-q", "-b", "fork-leaves", "main")
    set_param(repo, "train", "hist_gradient_boosting.max_leaf_nodes", 8)
    git(repo, "commit", "-qam", "Fewer leaves (from a fork)")
    reviewed = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "update-ref", "refs/pull/7/head", reviewed)  # GitHub's ref for the fork's head
    git(repo, "checkout", "-q", "main")
    heads_before = git(repo, "ls-remote", "--heads", "origin").stdout

    def dispatch(head: str, reviewed_sha: str, work: str) -> ActRun:
        httpserver.clear_all_handlers()
        expect_pull_request(
            httpserver, 7, head_ref="leaves", head_sha=head, base="main", head_repository=FORK
        )
        expect_statuses(httpserver)
        return run_act(
            repo,
            "workflow_dispatch",
            "propose.yml",
            None,
            _dispatch_payload({"pr": 7, "sha": reviewed_sha}),
            tmp_path / work,
            env=act_environment(httpserver),
            secrets={"GITHUB_TOKEN": TOKEN},
        )

    first = dispatch(reviewed, reviewed, "act-1")
    assert first.returncode != 0  # the status says why: the fork's dvc.lock is stale
    assert first.jobs() == {RESOLVE, BUILD}
    assert first.jobs("failed") == {GATE}
    assert "Running stage 'train'" in first.output
    outputs = first.artifacts / "gitml-outputs"
    lock = yaml.safe_load((outputs / "dvc.lock").read_text())
    md5 = next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"].endswith(".skops"))
    assert _stored(tmp_path, md5)
    assert statuses(httpserver) == [
        Status(
            reviewed,
            "failure",
            "gitml/check",
            "dvc.lock does not name the reproduced outputs: commit them",
        )
    ]
    ((args, report),) = first.cml_calls
    assert args[2:4] == ["--publish=false", "--target=pr/7"]
    assert "## gitml report" in report
    assert git(repo, "ls-remote", "--heads", "origin").stdout == heads_before  # no push

    # The author commits exactly the handed-over outputs; the maintainer reviews again.
    git(repo, "checkout", "-q", "fork-leaves")
    for path in sorted(p for p in outputs.rglob("*") if p.is_file()):
        target = repo / path.relative_to(outputs)
        target.write_bytes(path.read_bytes())
    git(repo, "commit", "-qam", "Commit the reproduced outputs")
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "update-ref", "refs/pull/7/head", head)
    git(repo, "checkout", "-q", "main")
    httpserver.clear_log()
    second = dispatch(head, head, "act-2")
    assert second.returncode == 0, second.output[-5000:]
    assert second.jobs() == {RESOLVE, BUILD, GATE}
    assert "Running stage" not in second.output
    assert "outputs match what the branch committed" in second.output
    assert statuses(httpserver) == [Status(head, "success", "gitml/check", "gitml gate for main")]

    # The fork pushes again after the review: the old review builds nothing.
    httpserver.clear_log()
    moved = dispatch("e" * 40, head, "act-3")
    assert moved.returncode != 0
    assert "head moved to eeeeeeeeeeee since" in moved.output
    assert moved.jobs("failed") == {RESOLVE}
    assert moved.cml_calls == []
    assert statuses(httpserver) == []


REVIEW = "re-run the promotion checks after a review"
PROPOSE_DISPATCHES = f"/repos/{REPOSITORY}/actions/workflows/propose.yml/dispatches"
# What a reviewer wrote: text of the event that must reach no script.
REVIEW_BODY = '$(touch "$RUNNER_TEMP/pwned") `touch /tmp/gitml-pwned` LGTM'


def _review_payload(
    number: int, head: str, base: str, sha: str, head_repository: str, action: str
) -> dict[str, object]:
    """A ``pull_request_review`` event payload (the fields review.yml reads, and a review
    whose body is hostile)."""
    payload = pull_request_payload(number, head, base, sha, head_repository)
    state = "approved" if action == "submitted" else "dismissed"
    owner, name = REPOSITORY.split("/")
    return {
        **payload,
        "action": action,
        "review": {"state": state, "body": REVIEW_BODY, "user": {"login": "alice"}},
        "repository": {
            "full_name": REPOSITORY,
            "name": name,
            "owner": {"login": owner},
            "default_branch": "main",
        },
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("action", "base"), [("submitted", "staging"), ("dismissed", "production/credit")]
)
def test_act_review_of_a_promotion_pull_request_dispatches_propose_for_it(
    origin_repo: Path,
    clock: Clock,
    tmp_path: Path,
    httpserver: HTTPServer,
    action: str,
    base: str,
) -> None:
    """A review triggers no pull_request event: review.yml dispatches the default branch's
    propose.yml with the pull request's number (its stage job re-judges the approvals),
    with the default branch's gitml; the pull request's own gitml never runs."""
    repo = origin_repo
    _commit_gitml(repo, "main", BASE_CODE, "gitml, as reviewed")
    git(repo, "checkout", "-q", "-b", "promote/credit-v0.1.0-to-staging", "main")
    head = _commit_gitml(
        repo, "promote/credit-v0.1.0-to-staging", CANDIDATE_CODE, "A gitml of its own"
    )
    git(repo, "checkout", "-q", "main")
    httpserver.expect_request(PROPOSE_DISPATCHES, method="POST", headers=HEADERS).respond_with_data(
        "", status=204
    )
    result = run_act(
        repo,
        "pull_request_review",
        "review.yml",
        None,
        _review_payload(9, "promote/credit-v0.1.0-to-staging", base, head, REPOSITORY, action),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-5000:]
    assert result.jobs() == {REVIEW}
    assert requested(httpserver, "POST", PROPOSE_DISPATCHES) == [
        {"ref": "main", "inputs": {"pr": "9"}}
    ]
    assert [request.path for request, _response in httpserver.log] == [PROPOSE_DISPATCHES]
    assert "propose.yml dispatched on main for pull request #9" in result.output
    assert BASE_GITML in result.output
    assert CANDIDATE_GITML not in result.output
    assert not Path("/tmp/gitml-pwned").exists()
    assert not list(tmp_path.rglob("pwned"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("base", "head_repository"),
    [
        ("main", REPOSITORY),  # propose's build job would reproduce the pipeline again
        ("staging", FORK),  # a fork's run has a read-only token; stage never judges a fork
        ("feature", REPOSITORY),  # not a stage: propose.yml never checked it
        ("stagingx", REPOSITORY),  # a stage's name is a prefix of it, not its folder
    ],
)
def test_act_review_dispatches_nothing_for_main_a_fork_or_another_branch(
    repo: Path, tmp_path: Path, httpserver: HTTPServer, base: str, head_repository: str
) -> None:
    result = run_act(
        repo,
        "pull_request_review",
        "review.yml",
        None,
        _review_payload(4, "leaves", base, "a" * 40, head_repository, "submitted"),
        tmp_path / "act",
        env=act_environment(httpserver),
        secrets={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.output[-3000:]
    assert result.jobs() == set()  # the job's condition is false: it never started
    assert httpserver.log == []
