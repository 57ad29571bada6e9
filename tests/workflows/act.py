"""Running the repository's real workflow files with `act` in self-hosted mode (no docker).

Remote actions are replaced by the small local composite stand-ins beside this file, keyed
by the exact pinned SHAs the workflows use; `cml` is a stand-in that records its calls.
The workflows `gitml init` writes pin gitml's own setup action by commit; its stand-in is
a copy of this gitml checkout (:func:`gitml_checkout`), so act installs gitml from it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import BIN_DIR, copy_project, dvc, git

REPOSITORY = "acme/credit"
# Where adopting repositories' workflows find gitml's setup action in these tests.
GITML_REPOSITORY = "acme/gitml"

STANDINS_DIR = Path(__file__).parent / "standins"
STANDINS = {
    "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97": "setup-python",
    "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae": "cache",
    "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f": "upload-artifact",
    "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c": "download-artifact",
    "iterative/setup-cml@f12ea7685438c1fc438d50f77519b3860cf5fa98": "setup-cml",
    # GitHub Pages (v5.0.0 each): the site is packed and its deployment recorded, locally.
    "actions/configure-pages@983d7736d9b0ae728b81ab479565c72886d7745b": "configure-pages",
    "actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9": (
        "upload-pages-artifact"
    ),
    "actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128": "deploy-pages",
}
# act copies the local tree itself for a plain checkout; one with another `ref` would be
# fetched from GitHub, so the stand-in copies the test repository instead.
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
STANDINS[CHECKOUT] = "checkout"
USES = re.compile(r"^\s*-?\s*uses:\s*([^\s#]+)", re.MULTILINE)


def remote_actions(workflows: Path) -> set[str]:
    """Every remote ``uses:`` reference in the workflows and local composite actions."""
    found = set()
    for path in [*workflows.rglob("*.yml"), *workflows.parent.rglob("action.yml")]:
        found |= {u for u in USES.findall(path.read_text()) if not u.startswith("./")}
    return found


@dataclass
class ActRun:
    """What one act run left behind."""

    returncode: int
    output: str
    cml_calls: list[tuple[list[str], str]]
    artifacts: Path
    # What the deploy-pages stand-in recorded, in order: artifact, page_url, ref, sha,
    # event, workflow and the sha256 of the artifact.tar it deployed.
    deployments: list[dict[str, str]]

    def jobs(self, outcome: str = "succeeded") -> set[str]:
        """Names of the jobs that ``succeeded`` (or ``failed``) in this run."""
        pattern = re.compile(rf"^\[[^/\]]+/([^\]]+)\] +🏁 +Job {outcome}$", re.MULTILINE)
        return {name.strip() for name in pattern.findall(self.output)}

    def job_output(self, job: str) -> str:
        """The lines act printed for the job named ``job`` (its steps' output included)."""
        prefix = re.compile(rf"^\[[^/\]]+/{re.escape(job)} *\]")
        return "\n".join(line for line in self.output.splitlines() if prefix.match(line))


def run_act(
    repo: Path,
    event: str,
    workflow: str,
    job: str | None,
    payload: dict[str, object],
    work: Path,
    env: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    timeout: int = 300,
    actions: dict[str, Path] | None = None,
    variables: dict[str, str] | None = None,
) -> ActRun:
    """Run one job of ``workflow`` (with the jobs it needs; every job when None) on
    ``event`` with ``payload``; collect what it produced. ``actions`` adds stand-ins,
    ``{"OWNER/REPO@SHA": folder}``, to the pinned ones; ``variables`` are the
    repository's variables (``vars.NAME``)."""
    cml_dir = work / "cml"
    artifacts = work / "artifacts"
    pages = work / "pages"
    cml_dir.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    event_file = work / f"{event}.json"
    event_file.write_text(json.dumps(payload))
    args = [
        str(BIN_DIR / "act"),
        event,
        "-W",
        f".github/workflows/{workflow}",
        *(["-j", job] if job else []),
        "-e",
        str(event_file),
        "-P",
        "ubuntu-latest=-self-hosted",
        "--no-cache-server",
        "--action-offline-mode",
        "--env",
        f"GITML_TEST_BIN={BIN_DIR}",
        "--env",
        f"GITML_TEST_CML={cml_dir}",
        "--env",
        f"GITML_TEST_ARTIFACTS={artifacts}",
        "--env",
        f"GITML_TEST_PAGES={pages}",
        "--env",
        f"GITML_TEST_SOURCE={repo}",
        "--env",
        "GITHUB_REPOSITORY=acme/credit",
    ]
    for action, folder in STANDINS.items():
        args += ["--local-repository", f"{action}={STANDINS_DIR / folder}"]
    for action, path in (actions or {}).items():
        args += ["--local-repository", f"{action}={path}"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    for key, value in (secrets or {}).items():
        args += ["-s", f"{key}={value}"]
    for key, value in (variables or {}).items():
        args += ["--var", f"{key}={value}"]
    result = subprocess.run(
        args,
        cwd=repo,
        env=_runner_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    calls = []
    for args_file in sorted(cml_dir.glob("call-*.args")):
        calls.append((args_file.read_text().splitlines(), args_file.with_suffix(".md").read_text()))
    records = sorted(pages.glob("deploy-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    deployments = [json.loads(record.read_text()) for record in records]
    return ActRun(result.returncode, result.stdout + result.stderr, calls, artifacts, deployments)


def name_dvc_remote_absolutely(repo: Path, remote: Path) -> Path:
    """``repo`` (pushed to its origin) with its DVC remote named by absolute path, as an
    s3:// URL would be: act runs each job in a copy elsewhere.

    The single template commit is rewritten, so every version's commit (stage branches
    start there) names the remote that way.
    """
    dvc(repo, "remote", "add", "--force", "--default", "storage", str(remote))
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    git(repo, "push", "-q", "--force", "origin", "main")
    return repo


def gitml_checkout(dest: Path) -> tuple[str, Path]:
    """A commit of this gitml checkout's sources at ``dest`` (as GitHub would serve the
    repository's tree to a workflow that pins its setup action): ``("acme/gitml@SHA",
    dest)``, for ``gitml init --gitml-action`` and ``run_act(actions=...)``."""
    copy_project(dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "gitml")
    sha = git(dest, "rev-parse", "HEAD").stdout.strip()
    return f"{GITML_REPOSITORY}@{sha}", dest


def _runner_environment() -> dict[str, str]:
    """The test's environment without the test venv on PATH: a runner has no gitml or DVC
    until a workflow installs them (the setup-python stand-in gives each job its own)."""
    env = dict(os.environ)
    path = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in path if p and Path(p) != BIN_DIR)
    env.pop("VIRTUAL_ENV", None)
    return env


def pull_request_payload(
    number: int, head: str, base: str, sha: str, head_repository: str = REPOSITORY
) -> dict[str, object]:
    """A ``pull_request`` event payload (the fields the workflows read)."""

    def repo(full_name: str) -> dict[str, object]:
        owner, name = full_name.split("/")
        return {"full_name": full_name, "name": name, "owner": {"login": owner}}

    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": head, "sha": sha, "repo": repo(head_repository)},
            "base": {"ref": base, "repo": repo(REPOSITORY)},
        },
        "repository": repo(REPOSITORY),
    }
