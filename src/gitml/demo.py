"""``gitml demo``: the whole GitOps loop on one machine, in a sandbox, in a few minutes.

A bare repository stands in for GitHub, a local directory for the DVC remote. Every step
runs the same commands the workflows run (``dvc``, ``gitml``), prints what a user would see
on GitHub, and stops with the step and the command that failed if anything goes wrong.
Works from a wheel (the example project ships as package data) and from a checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: TID251 - the demo is a scripted user session: it runs git like one
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from gitml.errors import GitmlError

# dvc.yaml ships as dvc.yaml.in: DVC would otherwise take it for a pipeline of this repository.
EXAMPLE_FILES = {
    "dvc.yaml.in": "dvc.yaml",
    "params.yaml": "params.yaml",
    "gitml.yaml": "gitml.yaml",
    "data.schema.yaml": "data.schema.yaml",
    "dvcignore": ".dvcignore",
}
GITIGNORE = "/data\n/prepared\n__pycache__/\n"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo Data Scientist",
    "GIT_AUTHOR_EMAIL": "ds@example.com",
    "GIT_COMMITTER_NAME": "Demo Data Scientist",
    "GIT_COMMITTER_EMAIL": "ds@example.com",
}


class DemoFailed(GitmlError):
    """A demo step failed; the message names the step and the command."""


@dataclass
class Sandbox:
    """The demo's directories and the environment every command runs with."""

    root: Path
    out: TextIO
    env: dict[str, str] = field(default_factory=dict)
    step: str = ""
    clock: int = 1_767_225_600

    @property
    def repo(self) -> Path:
        return self.root / "credit"

    def tick(self) -> None:
        """Advance the fixed clock: tags are ordered by whole-second time, as in GTO."""
        self.clock += 60
        self.env["GIT_AUTHOR_DATE"] = self.env["GIT_COMMITTER_DATE"] = f"@{self.clock} +0000"

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def heading(self, number: str, title: str) -> None:
        self.step = f"{number} {title}"
        self.say(f"\n=== {number}. {title}")

    def run(
        self, *args: str, show: bool = True, ok: tuple[int, ...] = (0,), cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one command like a user would; print it (and its output when ``show``)."""
        self.tick()
        self.say(f"$ {' '.join(args)}")
        executable = {
            "gitml": [sys.executable, "-m", "gitml"],
            "dvc": [sys.executable, "-m", "dvc"],
            "credit-example": [sys.executable, "-m", "credit_example"],
        }
        command = [*executable.get(args[0], [args[0]]), *args[1:]]
        result = subprocess.run(
            command, cwd=cwd or self.repo, env=self.env, capture_output=True, text=True, check=False
        )
        if show and (result.stdout.strip() or result.returncode not in ok):
            self.say(result.stdout.rstrip())
        if result.returncode not in ok:
            raise DemoFailed(
                f"step '{self.step}' failed: `{' '.join(args)}` exited "
                f"{result.returncode}: {result.stderr.strip()[-600:]}"
            )
        return result

    def github(self, text: str) -> None:
        """What GitHub would show at this point."""
        self.say(f"  [on GitHub] {text}")


def _copy_example(target: Path) -> None:
    """The example project: config files from package data, code from installed packages."""
    import credit_example
    import gitml

    templates = resources.files("gitml.templates").joinpath("example")
    for source, name in EXAMPLE_FILES.items():
        (target / name).write_text(templates.joinpath(source).read_text("utf-8"), "utf-8")
    (target / ".gitignore").write_text(GITIGNORE)
    package = Path(credit_example.__file__).parent
    shutil.copytree(
        package, target / "src" / "credit_example", ignore=shutil.ignore_patterns("__pycache__")
    )
    # The pipeline depends on a few gitml modules by path (their code makes the bytes).
    import yaml

    stages = yaml.safe_load((target / "dvc.yaml").read_text())["stages"].values()
    for dep in sorted({d for stage in stages for d in stage.get("deps", [])}):
        if dep.startswith("src/gitml/"):
            source = Path(gitml.__file__).parent / dep.removeprefix("src/gitml/")
            (target / dep).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / dep)


def _merge(box: Sandbox, branch: str, into: str, number: int, title: str) -> None:
    box.run("git", "checkout", "-q", into)
    box.run(
        "git",
        "merge",
        "-q",
        "--no-ff",
        branch,
        "-m",
        f"Merge pull request #{number} from team/{branch.split('/')[-1]}\n\n{title}",
    )
    box.run("git", "push", "-q", "origin", into)
    box.github(f"PR #{number} '{title}' merged into {into}")


def _show_deployment(box: Sandbox, stage: str, branch: str, prepared: dict[str, Any]) -> None:
    """What the pull request changes on the cluster: its diff of the stage's deploy folder
    (what a GitOps controller applies after the merge), summarised."""
    folder = prepared.get("deploy_directory")
    if not folder:
        return
    box.run("git", "diff", "--stat", f"origin/{stage}", f"origin/{branch}", "--", folder)
    for what, before, after in (prepared.get("deploy") or {}).get("rows", []):
        box.say(f"  {folder}: {what} {before} → {after}")


def _promote(box: Sandbox, stage: str, version: str, number: int) -> None:
    prepared = box.run(
        "gitml",
        "promote",
        "credit",
        "--to",
        stage,
        "--version",
        version,
        "--push",
        "--json",
        show=False,
    ).stdout
    import json

    branch = json.loads(prepared)["branch"]
    if json.loads(prepared)["kind"] == "new-stage":
        box.github(f"branch {stage} created with credit {version} and its rendered deploy/{stage}/")
    else:
        box.run("git", "fetch", "-q", "origin")
        _show_deployment(box, stage, branch, json.loads(prepared))
        box.run("gitml", "check", "--stage", stage, "--head", f"origin/{branch}")
        box.github(f"PR #{number} 'Promote credit {version} to {stage}': gate passed, approved")
        _merge(box, f"origin/{branch}", stage, number, f"Promote credit {version} to {stage}")
    box.say(f"  [CI: promote.yml on push to {stage}]")
    box.run("gitml", "promote", "--on-push", stage, "--push")
    box.run("git", "checkout", "-q", "main")


def run_demo(
    directory: Path | None = None, keep: bool = False, rows: int = 20_000, out: TextIO = sys.stdout
) -> Path:
    """Play the whole loop; return the sandbox (deleted unless ``keep``)."""
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="gitml-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise GitmlError(f"--dir {root}: not empty; the demo needs an empty directory")
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "DVC_"))}
    env.update(
        IDENTITY,
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        GIT_CONFIG_NOSYSTEM="1",
        DVC_NO_ANALYTICS="1",
        OMP_NUM_THREADS="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    box = Sandbox(root, out, env)
    started = time.monotonic()
    try:
        _play(box, rows)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    box.say(f"\nDemo finished in {time.monotonic() - started:.0f} s.")
    box.say(
        f"Sandbox kept at {root} (origin.git, dvc-remote, credit/)."
        if keep
        else "Sandbox removed (run with --keep to explore it)."
    )
    return root


# The demo team's policy for candidates heading to production (gitml.yaml canary.STAGE).
CANARY_POLICY = """
canary:
  production:
    percent: 20
    window: {requests: 250}
    windows: 3
    rules:
      error_rate: {max_increase: 0.01}
      score_psi: {max: 0.25}
      estimated_roc_auc: {max_drop: 0.03}
      realised_roc_auc: {max_drop: 0.03, min_labels: 150}
"""


def _play(box: Sandbox, rows: int) -> None:
    repo, origin, remote = box.repo, box.root / "origin.git", box.root / "dvc-remote"
    box.heading("1", "A team repository: data, pipeline, baseline model")
    box.run("git", "init", "-q", "--bare", str(origin), cwd=box.root)
    repo.mkdir()
    _copy_example(repo)
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("rows: 20000", f"rows: {rows}"))
    box.run("git", "init", "-q", "-b", "main")
    box.run("git", "remote", "add", "origin", str(origin))
    box.run("dvc", "init", "-q")
    box.run("dvc", "remote", "add", "-d", "storage", str(remote))
    box.run("credit-example", "data")
    box.run("dvc", "add", "-q", "data")
    box.run("dvc", "repro", "-q", show=False)
    box.run("dvc", "metrics", "show")
    box.run("git", "add", "-A")
    box.run("git", "commit", "-q", "-m", "Baseline credit model")
    box.run("dvc", "push", "-q")
    box.run("git", "push", "-q", "-u", "origin", "main")
    box.say("  [CI: register.yml on push to main]")
    box.run("gitml", "register", "--push")
    _promote(box, "staging", "v0.1.0", 1)
    _promote(box, "production", "v0.1.0", 2)

    box.heading("2", "A pull request proposes a model: the report a reviewer reads")
    box.run("git", "checkout", "-q", "-b", "fewer-leaves")
    params.write_text(params.read_text().replace("max_leaf_nodes: 15", "max_leaf_nodes: 8"))
    log = box.run("dvc", "repro", show=False).stdout
    (box.root / "repro.log").write_text(log)
    box.say("  [CI: propose.yml: the sticky comment on PR #3 reads]")
    box.run("gitml", "report", "--base", "main", "--repro-log", str(box.root / "repro.log"))
    box.run("gitml", "check", "--base", "main")
    box.run("git", "commit", "-q", "-am", "Fewer leaves per tree")
    box.run("dvc", "push", "-q")
    box.run("git", "push", "-q", "origin", "fewer-leaves")

    box.heading("3", "Merge to main registers v0.2.0; merge to staging promotes it")
    _merge(box, "fewer-leaves", "main", 3, "Fewer leaves per tree")
    box.say("  [CI: register.yml on push to main]")
    box.run("gitml", "register", "--push")
    _promote(box, "staging", "v0.2.0", 4)

    box.heading("4", "Production: a gate that refuses, then one that passes")
    box.run("git", "checkout", "-q", "-b", "tiny-trees", "main")
    params.write_text(
        params.read_text()
        .replace("max_iter: 250", "max_iter: 1")
        .replace("max_leaf_nodes: 8", "max_leaf_nodes: 2")
    )
    box.run("dvc", "repro", "-q", show=False)
    box.run("git", "commit", "-q", "-am", "Experiment: a single two-leaf tree")
    box.run("dvc", "push", "-q")
    box.say("  (an admin merged this experiment past the main gate, so it is registered)")
    _merge(box, "tiny-trees", "main", 5, "Experiment: a single two-leaf tree")
    box.run("gitml", "register", "--push")
    prepared = box.run(
        "gitml",
        "promote",
        "credit",
        "--to",
        "production",
        "--version",
        "v0.3.0",
        "--push",
        "--json",
        show=False,
    ).stdout
    import json

    branch = json.loads(prepared)["branch"]
    box.run("git", "fetch", "-q", "origin")
    box.say("  [CI: propose.yml on PR #6 into production: the required gate check]")
    box.run("gitml", "check", "--stage", "production", "--head", f"origin/{branch}", ok=(3,))
    box.github("PR #6 'Promote credit v0.3.0 to production': ❌ gitml/check failed — not mergeable")
    _promote(box, "production", "v0.2.0", 7)

    box.heading("5", "Roll production back, and ask the registry what runs where")
    prepared = box.run(
        "gitml", "rollback", "credit", "--stage", "production", "--push", "--json", show=False
    ).stdout
    branch = json.loads(prepared)["branch"]
    box.run("git", "fetch", "-q", "origin")
    _show_deployment(box, "production", branch, json.loads(prepared))
    _merge(box, f"origin/{branch}", "production", 8, "Roll back credit in production")
    box.run("gitml", "promote", "--on-push", "production", "--push")
    box.run("git", "checkout", "-q", "main")
    box.run("gitml", "registry")
    box.run("gitml", "history", "credit")
    box.run("gitml", "get", "credit@production", "-o", str(box.root / "production.skops"))
    box.run("gitml", "verify")

    box.heading("6", "For the auditor: lineage and the dossier of what runs in production")
    box.run("gitml", "lineage", "credit@production")
    dossier = box.root / "credit-production.dossier.html"
    box.run("gitml", "dossier", "credit@production", "--format", "html", "-o", str(dossier))
    box.say(f"  (one HTML file, every fact with its proof: {dossier.name} in the sandbox)")

    box.heading("7", "Canary: the policy stops a bad candidate and passes a good one")
    (repo / "gitml.yaml").write_text((repo / "gitml.yaml").read_text() + CANARY_POLICY)
    box.run("git", "commit", "-q", "-am", "Canary policy for production")
    box.run("git", "push", "-q", "origin", "main")
    batch = box.root / "live.csv"
    box.run("credit-example", "batch", "--rows", "4000", "--seed", "7", "-o", str(batch))
    box.say("  (live traffic with outcomes known, replayed as gitml serve --canary judges it)")
    for candidate, code in (("v0.3.0", 6), ("v0.2.0", 0)):
        box.run(
            "gitml", "canary", "replay", f"credit@{candidate}", "--against",
            "credit@production", "--data", str(batch), "--record", "--push", ok=(code,),
        )  # fmt: skip
    box.run("gitml", "history", "credit")
