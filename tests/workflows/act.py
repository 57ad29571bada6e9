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

from tests.helpers import BIN_DIR, copy_project, git

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
) -> ActRun:
    """Run one job of ``workflow`` (with the jobs it needs; every job when None) on
    ``event`` with ``payload``; collect what it produced. ``actions`` adds stand-ins,
    ``{"OWNER/REPO@SHA": folder}``, to the pinned ones."""
    cml_dir = work / "cml"
    artifacts = work / "artifacts"
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
    return ActRun(result.returncode, result.stdout + result.stderr, calls, artifacts)


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
