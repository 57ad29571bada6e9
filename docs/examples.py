"""Regenerate the README's "Look and ask" examples from a scripted team registry.

    .venv/bin/python docs/examples.py          # rewrite the README blocks and docs/site-model.png
    .venv/bin/python docs/examples.py --check  # exit 1 naming each README block that is stale

In a temporary directory it builds a registry the way a team's grows through 2026: pull
requests to two models (credit, churn) merged into ``main`` and registered by
``gitml.api.register`` as CI runs it, promotions to staging and production through
promotion pull requests recorded by ``gitml.api.promote_on_push``, and one rollback. Every
commit and tag has a fixed date and author; a stand-in for GitHub's REST API on 127.0.0.1
says who opened and who approved each pull request, so the records name them. Then it runs
the real ``gitml`` commands and writes each command line and its exact output (the
temporary directory shown as ``~``) between ``<!-- examples:NAME -->`` and
``<!-- /examples:NAME -->`` in README.md. The screenshot is the credit model's page of
``gitml site`` in headless Chromium (Debian's binary, driven by Playwright).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shlex
import subprocess  # noqa: TID251 (a docs script runs git and gitml as a user would)
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import yaml

from gitml import api
from gitml.registry.model_ref import parse_ref
from gitml.registry.observation import Observation, ObservationKind
from gitml.registry.observations import write_observation
from gitml.registry.reader import RegistryReader

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SCREENSHOT = ROOT / "docs" / "site-model.png"
GITML = Path(sys.executable).parent / "gitml"
REPOSITORY = "acme/credit-models"
PEOPLE = {"ada": "Ada Okafor", "bob": "Bob Lindqvist", "chen": "Chen Wei", "dana": "Dana Ruiz"}
GITHUB = ("GitHub", "noreply@github.com")  # the committer of merges made on github.com
CI = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
MODELS = {
    "credit": "Probability that a loan applicant defaults within 12 months",
    "churn": "Probability that a customer leaves within 90 days",
}
GITML_YAML = {
    "models": {
        m: {"artifact": f"models/{m}.skops", "metrics": [f"metrics/{m}.json"]} for m in MODELS
    },
    "stages": ["staging", "production"],
    "stage_branch": "{stage}/{model}",
    "metrics": {"roc_auc": "higher", "log_loss": "lower", "accuracy": "higher", "recall": "higher"},
}
# Pull requests: merged on 2026-DAY after WORK days, by AUTHOR, approved by APPROVER; in
# staging the next day and in production PROD days after the merge (None: not yet); the
# metrics, the params it sets (a "model" key starts them afresh) and the data inputs it
# changes (name: revision).
# (DAY, WORK, model, AUTHOR, APPROVER, PROD, title, metrics, params, data)
CHANGES: list[tuple[Any, ...]] = [
    ("01-14", 9, "credit", "ada", "bob", 6, "Baseline logistic regression",
     {"roc_auc": 0.781, "log_loss": 0.301, "accuracy": 0.861},
     {"model": "logistic_regression", "C": 1.0}, {"applications": 1}),
    ("02-11", 4, "credit", "bob", "ada", 6, "Gradient boosting",
     {"roc_auc": 0.812, "log_loss": 0.284, "accuracy": 0.868},
     {"model": "hist_gradient_boosting", "learning_rate": 0.1, "max_iter": 200}, {}),
    ("02-25", 6, "churn", "dana", "chen", 6, "Churn baseline",
     {"roc_auc": 0.742, "recall": 0.61, "accuracy": 0.83},
     {"model": "logistic_regression", "C": 0.5}, {"customers": 1}),
    ("03-18", 7, "credit", "chen", "bob", 6, "Add credit bureau data",
     {"roc_auc": 0.829, "log_loss": 0.276, "accuracy": 0.871}, {}, {"bureau": 1}),
    ("03-31", 2, "credit", "chen", "ada", 2, "Fix the bureau join that leaked the label",
     {"roc_auc": 0.824, "log_loss": 0.279, "accuracy": 0.87}, {}, {"bureau": 2}),
    ("05-13", 5, "churn", "dana", "ada", 6, "Add product usage features",
     {"roc_auc": 0.771, "recall": 0.66, "accuracy": 0.845}, {}, {"usage": 1}),
    ("05-27", 3, "credit", "bob", "chen", None, "Slower learning rate, more trees",
     {"roc_auc": 0.826, "log_loss": 0.278, "accuracy": 0.87},
     {"learning_rate": 0.06, "max_iter": 250}, {}),
    ("06-24", 2, "credit", "ada", "dana", 13, "Retrain on Q2 applications",
     {"roc_auc": 0.831, "log_loss": 0.274, "accuracy": 0.872}, {}, {"applications": 2}),
    ("07-22", 2, "churn", "ada", "dana", None, "Retrain on July customers",
     {"roc_auc": 0.779, "recall": 0.68, "accuracy": 0.85}, {}, {"customers": 2}),
    ("08-12", 8, "credit", "dana", "bob", 6, "Monotonic constraint on income",
     {"roc_auc": 0.834, "log_loss": 0.272, "accuracy": 0.873}, {"monotonic_income": True}, {}),
    ("09-16", 4, "credit", "bob", "ada", None, "Calibrate probabilities",
     {"roc_auc": 0.835, "log_loss": 0.268, "accuracy": 0.874}, {"calibration": "isotonic"}, {}),
]  # fmt: skip
ROLLBACK = ("03-25", "credit")  # v0.3.0's bureau join leaked the label: back to v0.2.0
# The monitor's daily check, recorded (`gitml drift credit@production --record` writes
# these): a few of them, (DAY, verdict, drifted features).
DRIFT_CHECKS = [
    ("04-20", "ok", ()),
    ("05-18", "warn", ("annual_income",)),
    ("06-15", "drift", ("annual_income", "credit_utilization")),
    ("07-20", "ok", ()),
    ("09-07", "ok", ()),
]
WINDOW = "--since 2026-01-01 --until 2026-09-30"  # a fixed end: figures do not age
END = int(datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC).timestamp())
EXAMPLES = {
    "search": [
        "search 'stage = production'",
        "search 'stage = production' --at 2026-03-24",
        "search 'stage = ever:production AND data ~ bureau' --sort=-metric.roc_auc",
        "search staging models in Q3 2026 with accuracy above 87% by bob",
    ],
    "search-error": ["search 'metric.auc > \"x\"'"],
    "insights": [f"insights {WINDOW}"],
    "insights-explain": [
        f"insights {WINDOW} --explain change-failure-rate",
        f"insights {WINDOW} --explain drift-alerts",
    ],
    "site": ["site -o site"],
}


class GitHubStandIn(BaseHTTPRequestHandler):
    """Answers for the pull requests in ``pulls``: each author, approver, base and merge."""

    pulls: ClassVar[dict[int, dict[str, Any]]] = {}
    opener = "ada"  # who runs `gitml promote` next, so opens its pull request

    def _answer(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200 if self.command == "GET" else 201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        number, reviews = re.findall(r"/pulls/(\d+)(/reviews)?", self.path)[0]
        pull = self.pulls[int(number)]
        self._answer(
            [{"user": {"login": pull["approver"]}, "state": "APPROVED"}] if reviews else pull
        )

    def do_POST(self) -> None:  # `gitml promote` opening its pull request
        base = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["base"]
        number = open_pull(self.opener, base, "chen" if self.opener == "ada" else "ada")
        self._answer(
            {"number": number, "html_url": f"https://github.com/{REPOSITORY}/pull/{number}"}
        )

    def log_message(self, *args: object) -> None:
        """Quiet: every request is the script's own."""


def open_pull(author: str, base: str, approver: str) -> int:
    """A new pull request's number (model and promotion pull requests share the numbers)."""
    number = len(GitHubStandIn.pulls) + 1
    GitHubStandIn.pulls[number] = {
        "number": number,
        "user": {"login": author},
        "base": {"ref": base},
        "approver": approver,
    }
    return number


def merged(number: int, head: str, merge: str) -> None:
    GitHubStandIn.pulls[number].update(head={"sha": head}, merged=True, merge_commit_sha=merge)


def at(
    when: datetime, who: str | tuple[str, str], committer: tuple[str, str] | None = None
) -> None:
    """Make ``when`` the time, and ``who`` (a login, or a name and email) the author, of what
    git (and gitml, through git) writes next."""
    author = (PEOPLE[who], f"{who}@acme.example") if isinstance(who, str) else who
    for role, (name, email) in (("AUTHOR", author), ("COMMITTER", committer or author)):
        os.environ.update({f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": email})
        os.environ[f"GIT_{role}_DATE"] = when.isoformat()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def write_files(repo: Path, state: dict[str, dict[str, Any]]) -> None:
    """params.yaml, dvc.lock, the data's .dvc files and the metrics of every model's state."""
    lock: dict[str, Any] = {"schema": "2.0", "stages": {}}
    for model, s in state.items():
        deps: list[dict[str, Any]] = []
        for name, revision in sorted(s["data"].items()):  # DVC-tracked: `dvc add data/NAME.csv`
            out = {
                "md5": md5(f"{name} {revision}"),
                "size": 1000,
                "hash": "md5",
                "path": f"{name}.csv",
            }
            (repo / f"data/{name}.csv.dvc").write_text(yaml.safe_dump({"outs": [out]}))
            deps.append({**out, "path": f"data/{name}.csv"})
        if s.get("md5"):
            (repo / f"metrics/{model}.json").write_text(json.dumps(s["metrics"], indent=2) + "\n")
            out = {"path": f"models/{model}.skops", "hash": "md5", "md5": s["md5"], "size": 480_000}
            lock["stages"][f"train_{model}"] = {
                "cmd": f"python -m pipeline train {model}",
                "deps": deps,
                "outs": [out],
                "params": {"params.yaml": {model: s["params"]}},
            }
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    params = {model: s["params"] for model, s in state.items() if s["params"]}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def build(repo: Path) -> None:
    """The team's history: each change merged and registered, then promoted, in time order."""
    git(repo.parent, "init", "-q", "--bare", "origin.git")
    for folder in ("data", "metrics", "models"):
        (repo / folder).mkdir(parents=True)
    at(datetime(2026, 1, 5, 9, tzinfo=UTC), "ada")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", str(repo.parent / "origin.git"))
    (repo / "gitml.yaml").write_text(yaml.safe_dump(GITML_YAML, sort_keys=False))
    artifacts = {
        m: {"path": f"models/{m}.skops", "type": "model", "desc": d} for m, d in MODELS.items()
    }
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"artifacts": artifacts}, sort_keys=False))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up the model registry")
    git(repo, "push", "-q", "origin", "main")

    def day(text: str) -> datetime:
        month, date = text.split("-")
        return datetime(2026, int(month), int(date), tzinfo=UTC)

    events: list[tuple[datetime, str, Any]] = [(day(ROLLBACK[0]), "rollback", ROLLBACK[1])]
    events += [
        (day(d) + timedelta(hours=5, minutes=23), "drift", (v, f)) for d, v, f in DRIFT_CHECKS
    ]
    for c in CHANGES:
        events += [(day(c[0]), "change", c), (day(c[0]) + timedelta(days=1), "staging", c[2])]
        events += [(day(c[0]) + timedelta(days=c[5]), "production", c[2])] if c[5] else []
    state: dict[str, dict[str, Any]] = {m: {"params": {}, "data": {}} for m in MODELS}
    for n, (when, what, event) in enumerate(sorted(events, key=lambda e: e[0])):
        os.environ["GITHUB_RUN_ID"] = str(17_300_000_000 + 1371 * n)  # the CI run's, recorded
        if what == "change":
            change(repo, state, when, event)
        elif what == "drift":
            drift_check(repo, when, *event)
        else:
            move(repo, when, event, "production" if what == "rollback" else what, what)


def change(
    repo: Path, state: dict[str, dict[str, Any]], when: datetime, c: tuple[Any, ...]
) -> None:
    """The pull request ``c`` of CHANGES, merged at ``when`` and registered by CI."""
    _, work, model, author, approver, _, title, metrics, params, data = c
    number = open_pull(author, "main", approver)
    branch = f"{author}/{re.sub(r'[^a-z0-9]+', '-', title.lower())[:30]}"
    s = state[model]
    at(when - timedelta(days=work, hours=-10), author)
    git(repo, "checkout", "-q", "-b", branch, "main")
    s["params"] = {**({} if "model" in params else s["params"]), **params}
    s["data"].update(data)
    write_files(repo, state)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", title)
    at(when - timedelta(hours=7.5), author)  # the pipeline reproduced the day before the merge
    s["metrics"], s["md5"] = metrics, md5(f"{model} {title}")
    write_files(repo, state)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"Reproduce {model}: roc_auc {metrics['roc_auc']}")
    head = git(repo, "rev-parse", "HEAD").strip()
    at(when + timedelta(hours=11), author, GITHUB)
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #{number} from {branch}")
    merged(number, head, git(repo, "rev-parse", "HEAD").strip())
    git(repo, "push", "-q", "origin", "main")
    at(when + timedelta(hours=11, minutes=6), CI)
    (registered,) = api.register(root=repo, push=True, verify_remote=False)
    if registered.warnings:
        raise SystemExit(f"{title}: the record leaves out: {registered.warnings}")


def move(repo: Path, when: datetime, model: str, stage: str, kind: str) -> None:
    """`gitml promote` (or `rollback`) by the model's owner, its pull request merged, and
    `gitml promote --on-push` in CI recording it; a rollback is done within the hour."""
    owner = GitHubStandIn.opener = "ada" if model == "credit" else "dana"
    start = when + timedelta(hours=9 if kind == "rollback" else 10)
    at(start, owner)
    ask = api.rollback if kind == "rollback" else api.promote
    prepared = ask(model, stage, root=repo, push=True)
    merge = start + timedelta(minutes=40 if kind == "rollback" else 240)
    if prepared.pull_request:  # else the stage branch was created at the version
        number = int(prepared.pull_request.rsplit("/", 1)[1])
        at(merge, owner, GITHUB)
        git(repo, "fetch", "-q", "origin")
        git(repo, "checkout", "-q", "-B", prepared.base, f"origin/{prepared.base}")
        message = f"Merge pull request #{number} from {prepared.branch}"
        git(repo, "merge", "-q", "--no-ff", f"origin/{prepared.branch}", "-m", message)
        tip = git(repo, "rev-parse", "HEAD").strip()
        merged(number, tip, tip)
        git(repo, "push", "-q", "origin", prepared.base)
        git(repo, "checkout", "-q", "main")
    at(merge + timedelta(minutes=6), CI)
    outcomes = api.promote_on_push(stage, root=repo, verify_remote=False)
    if not any(o.model == model and o.status == "recorded" for o in outcomes):
        raise SystemExit(f"{when:%Y-%m-%d} {model} {stage}: not recorded: {outcomes}")


def drift_check(repo: Path, when: datetime, verdict: str, drifted: tuple[str, ...]) -> None:
    """The scheduled check of credit@production, recorded as `gitml drift --record` records
    it (the same writer; the batch and its figures are the monitor's, not computed here)."""
    at(when, CI)
    with RegistryReader(repo) as reader:
        info = reader.resolve(parse_ref("credit@production"))
    assert info.md5 is not None
    seen = Observation(
        ObservationKind.DRIFT, "credit", info.version, info.md5, verdict, 4000,
        stage="production", names=drifted, writer="gitml",
    )  # fmt: skip
    subject = f"Drift check of credit {info.version}: {verdict}"
    write_observation(repo, seen, info.commit, subject, push=True)


def run_examples(home: Path, repo: Path) -> dict[str, str]:
    """Each README block: the command lines and what they print (stderr included, in order)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GIT_"))}
    # SOURCE_DATE_EPOCH: the site describes the registry at the end of the window.
    env.update(TZ="UTC", COLUMNS="100", LC_ALL="C.UTF-8", SOURCE_DATE_EPOCH=str(END))
    blocks = {}
    for name, commands in EXAMPLES.items():
        shown = []
        for command in commands:
            argv = shlex.split(command)
            done = subprocess.run(
                [GITML, *argv],
                cwd=repo,
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            shown.append(
                f"$ gitml {shlex.join(argv)}\n{done.stdout.replace(str(home), '~').rstrip()}\n"
            )
        blocks[name] = "```console\n" + "\n".join(shown) + "```\n"
    alt = "The credit model's page of the site: stages, metric trends, stage timeline, versions"
    blocks["site"] += f"\n![{alt}](docs/site-model.png)\n"
    return blocks


def screenshot(site: Path) -> None:
    """The credit model's page as Chromium shows it from disk, the whole page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.goto((site / "models" / "credit" / "index.html").as_uri())
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()


def rewrite(text: str, blocks: dict[str, str]) -> tuple[str, dict[str, str]]:
    """``text`` with each block replaced, and the old text of each block that changed."""
    changed = {}
    for name, body in blocks.items():
        start, end = f"<!-- examples:{name} -->\n", f"<!-- /examples:{name} -->"
        if start not in text or end not in text:
            raise SystemExit(f"README.md: no block {start.strip()} ... {end}")
        before, rest = text.split(start, 1)
        old, after = rest.split(end, 1)
        if old != body:
            changed[name] = old
        text = before + start + body + end + after
    return text, changed


def main(argv: list[str]) -> int:
    """Build the registry, run the examples, rewrite (or with ``--check`` compare) the README."""
    if argv not in ([], ["--check"]):
        raise SystemExit("usage: docs/examples.py [--check]")
    server = ThreadingHTTPServer(("127.0.0.1", 0), GitHubStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
        os.environ.pop("GITHUB_ACTIONS", None)
        os.environ.update(
            HOME=tmp,
            XDG_CONFIG_HOME=f"{tmp}/.config",
            XDG_CACHE_HOME=f"{tmp}/.cache",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=f"{tmp}/.gitconfig",
            GITHUB_TOKEN="stand-in",
            GITHUB_REPOSITORY=REPOSITORY,
            GITHUB_SERVER_URL="https://github.com",
            GITHUB_API_URL=f"http://127.0.0.1:{server.server_address[1]}",
        )
        build(home / "credit-models")
        server.shutdown()
        blocks = run_examples(home, home / "credit-models")
        text, changed = rewrite(README.read_text(encoding="utf-8"), blocks)
        if argv:
            for name, old in changed.items():
                stale = f"README.md: block examples:{name} is stale; run docs/examples.py"
                diff = difflib.unified_diff(
                    old.splitlines(), blocks[name].splitlines(), lineterm=""
                )
                sys.stderr.write("\n".join([stale, *diff, ""]))
            return 1 if changed else 0
        README.write_text(text, encoding="utf-8")
        screenshot(home / "credit-models" / "site")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
