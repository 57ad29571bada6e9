"""`gitml init` in DVC repositories that are not the example project."""

from __future__ import annotations

import json
import os
import re
import shlex
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml.documents import packaged_schema, schema_problems
from gitml.errors import ConfigError
from gitml.init import MARK, WORKFLOWS
from gitml.install_files import InstallPlan, Package, detect
from gitml.setup_action import (
    ActionReference,
    installed_reference,
    parse_reference,
    reference_from_direct_url,
)
from gitml.templates.render import LOCAL_SETUP, render, render_workflows, template
from tests.helpers import BIN_DIR, PROJECT_ROOT, dvc, git, gitml, run
from tests.workflows.act import gitml_checkout, pull_request_payload, run_act
from tests.workflows.github_api import TOKEN, act_environment, expect_statuses, statuses

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

TEMPLATES = PROJECT_ROOT / "src" / "gitml" / "templates"
SHA = "0123456789abcdef0123456789abcdef01234567"
ACTION = f"acme/gitml@{SHA}"
USES = f"acme/gitml/.github/actions/setup-gitml@{SHA} # gitml"
DEFAULT_STAGES = ["staging", "production"]


# -- the shipped templates and gitml's own workflows ----------------------------------


def test_templates_rendered_with_the_local_action_are_the_repositorys_own_workflows() -> None:
    """gitml's own workflows are the templates with the checkout's setup action and this
    repository's stages: one source, so the two cannot drift apart."""
    own = PROJECT_ROOT / ".github" / "workflows"
    assert sorted(p.name for p in own.glob("*.yml")) == sorted(WORKFLOWS)
    assert sorted(p.name for p in (TEMPLATES / "workflows").glob("*.yml")) == sorted(WORKFLOWS)
    stages = yaml.safe_load((PROJECT_ROOT / "gitml.yaml").read_text())["stages"]
    for relative, text in render_workflows(LOCAL_SETUP, stages).items():
        assert (PROJECT_ROOT / relative).read_text() == text, relative
    # No copy of the setup action is shipped: adopters pin gitml's own by commit.
    assert not (TEMPLATES / "actions").exists()


def _named_gitml_installs(text: str) -> list[str]:
    """The arguments of every ``pip install`` in ``text`` that name gitml as a package
    to fetch from an index (``gitml``, ``gitml[s3]``, ``gitml==1.0``...)."""
    found = []
    for line in text.splitlines():
        if not re.search(r"\bpip3?\s+install\b", line):
            continue
        words = shlex.split(re.split(r"\bpip3?\s+install\b", line, maxsplit=1)[1], comments=True)
        found += [w for w in words if re.fullmatch(r"gitml(\[[^\]]*\])?([=<>!~].*)?", w, re.I)]
    return found


def test_nothing_installs_gitml_by_name_from_a_package_index(tmp_path: Path) -> None:
    # The check itself catches what the setup action once did.
    assert _named_gitml_installs('python -m pip install --quiet "gitml[${EXTRAS}]"') == [
        "gitml[${EXTRAS}]"
    ]
    assert _named_gitml_installs("pip install -U gitml==0.1.0 dvc") == ["gitml==0.1.0"]
    repo = _foreign_repo(tmp_path / "churn")
    gitml(repo, "init", "--gitml-action", ACTION)
    texts = {
        path: path.read_text()
        for folder in (TEMPLATES, PROJECT_ROOT / ".github", repo / ".github")
        for path in sorted(folder.rglob("*.yml"))
    }
    assert len(texts) == 3 * len(WORKFLOWS) + 1  # templates, ours + the action, the adopter's
    for path, text in texts.items():
        assert _named_gitml_installs(text) == [], path
    # The setup action installs gitml from its own checkout, pinned by its constraints.
    action = (PROJECT_ROOT / ".github" / "actions" / "setup-gitml" / "action.yml").read_text()
    assert 'gitml_root="$(cd "$GITHUB_ACTION_PATH/../../.." && pwd)"' in action
    assert '-c "$gitml_root/constraints.txt" "$gitml_root[${EXTRAS}]"' in action


@pytest.mark.parametrize("stages", [DEFAULT_STAGES, ["dev", "prod"], ["prod"]])
def test_rendered_workflows_pass_actionlint_and_zizmor(tmp_path: Path, stages: list[str]) -> None:
    """What init writes for an adopter lints clean: the only findings are comment.yml's
    justified workflow_run and the ./ calls of site.yml, each with its inline ignore."""
    github = tmp_path / ".github" / "workflows"
    github.mkdir(parents=True)
    for relative, text in render_workflows(USES, stages).items():
        (tmp_path / relative).write_text(f"{MARK}\n{text}")
    files = sorted(str(p) for p in github.glob("*.yml"))
    linted = run(BIN_DIR / "actionlint", *files, cwd=tmp_path, check=False)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    for persona in ("regular", "auditor"):
        audit = run(
            BIN_DIR / "zizmor", "--offline", f"--persona={persona}", "--format", "json",
            "--no-ignores", ".github", cwd=tmp_path, check=False, env=env,
        )  # fmt: skip
        found = []
        for finding in json.loads(audit.stdout):
            (primary,) = [
                loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"
            ]
            path = primary["symbolic"]["key"]["Local"]["verbatim_path"]
            found.append((finding["ident"], os.path.basename(path)))
        # The registry writers call site.yml by ./ (GitHub reads a called workflow from
        # the caller's commit; act refuses $/): ignored inline, with the reason.
        assert sorted(found) == [
            ("dangerous-triggers", "comment.yml"),
            ("self-repository", "promote.yml"),
            ("self-repository", "register.yml"),
        ], audit.stdout
        honoured = run(BIN_DIR / "zizmor", "--offline", f"--persona={persona}", ".github",
                       cwd=tmp_path, check=False, env=env)  # fmt: skip
        assert honoured.returncode == 0, honoured.stdout + honoured.stderr


# -- a foreign repository -------------------------------------------------------------

# A churn project's two stages (plain Python, no ML library): its files are laid out as
# this team chose (out/, eval/), nothing like the example project's models/ and metrics/.
FEATURIZE = """\
from pathlib import Path

Path("features.parquet").write_text("tenure,plan\\n" + "12,basic\\n" * 900)
"""
FIT = """\
import json
from pathlib import Path

import yaml

depth = yaml.safe_load(Path("params.yaml").read_text())["fit"]["depth"]
rows = Path("features.parquet").read_text().count("\\n") - 1
Path("out").mkdir(exist_ok=True)
Path("out/churn.joblib").write_bytes(f"churn model, depth {depth}".encode())
Path("eval").mkdir(exist_ok=True)
scores = {"roc_auc": round(0.6 + depth / 100, 3), "logloss": 0.4, "rows": rows}
Path("eval/scores.json").write_text(json.dumps(scores))
"""


def _foreign_repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    dvc(root, "init", "-q")
    (root / "featurize.py").write_text(FEATURIZE)
    (root / "fit.py").write_text(FIT)
    (root / "params.yaml").write_text("fit:\n  depth: 3\n")
    (root / "dvc.yaml").write_text(
        yaml.safe_dump(
            {
                "stages": {
                    "featurize": {
                        "cmd": "python featurize.py",
                        "deps": ["featurize.py"],
                        "outs": ["features.parquet"],
                    },
                    "fit": {
                        "cmd": "python fit.py",
                        "deps": ["features.parquet", "fit.py"],
                        "params": ["fit"],
                        "outs": ["out/churn.joblib"],
                        "metrics": [{"eval/scores.json": {"cache": False}}],
                    },
                },
                "artifacts": {
                    "churn": {
                        "path": "out/churn.joblib",
                        "type": "model",
                        "desc": "Churn in 90 days",
                    },
                    "features": {"path": "features.parquet", "type": "dataset"},
                },
            },
            sort_keys=False,
        )
    )
    (root / "eval").mkdir()
    (root / "eval" / "scores.json").write_text(
        json.dumps({"roc_auc": 0.71, "logloss": 0.4, "rows": 900})
    )
    return root


def test_init_scaffolds_a_foreign_dvc_repository(tmp_path: Path) -> None:
    repo = _foreign_repo(tmp_path / "churn")
    out = gitml(repo, "init", "--gitml-action", ACTION).stdout
    assert "wrote gitml.yaml" in out
    assert f"setup action: {USES}\n" in out
    assert "stages: staging, production (gitml's default)\n" in out
    assert "next steps:" in out
    assert "required reviewers" in out
    # The required status every pull request gets, and the real check names of the jobs.
    assert "require the `gitml/check` status" in out
    propose = yaml.safe_load((TEMPLATES / "workflows" / "propose.yml").read_text())
    for job in ("build", "build-fork", "stage"):
        assert f"'{propose['jobs'][job]['name']}'" in out, job
    # How to keep the pinned action allowed and how to move it.
    assert "allow `acme/gitml`" in out
    assert "gitml init --force --gitml-action acme/gitml@NEW_SHA" in out
    # What it could not decide.
    assert "  - no direction known for metrics rows: say under `metrics:`" in out
    config = yaml.safe_load((repo / "gitml.yaml").read_text())
    assert config["models"] == {
        "churn": {
            "artifact": "out/churn.joblib",
            "metrics": ["eval/scores.json"],
            "description": "Churn in 90 days",
        }
    }
    assert "metrics" not in config  # roc_auc and logloss say which way is better
    assert config["stages"] == DEFAULT_STAGES
    assert (repo / "gitml.yaml").read_text().startswith(MARK + "\n")
    for name in WORKFLOWS:
        written = (repo / ".github" / "workflows" / name).read_text()
        assert written == f"{MARK}\n{render(template(name), USES, DEFAULT_STAGES)}", name
        setups = [line for line in written.splitlines() if "setup-gitml" in line]
        assert setups, name
        assert {line.split("uses: ", 1)[1] for line in setups} == {USES}, name
    assert not (repo / ".github" / "actions").exists()  # the action is gitml's, pinned
    report = json.loads(gitml(repo, "validate", "--json").stdout)
    assert report["ok"], report


@pytest.mark.parametrize(
    "reference",
    [
        "acme/gitml@main",
        "acme/gitml@0123abc",
        "acme/gitml",
        f"acme@{SHA}",
        f"https://github.com/acme/gitml@{SHA}",
        f"acme/gitml@{SHA} # v1",
        f"acme/gitml@{SHA}; curl evil.example",
        f"-acme/gitml@{SHA}",
        f"acme/../gitml@{SHA}",
    ],
)
def test_gitml_action_must_name_a_full_commit_of_a_github_repository(
    tmp_path: Path, reference: str
) -> None:
    repo = _foreign_repo(tmp_path / "churn")
    result = gitml(repo, "init", f"--gitml-action={reference}", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("gitml: error: --gitml-action: ")
    assert result.stderr.count("\n") == 1
    assert not (repo / "gitml.yaml").exists()
    assert not (repo / ".github").exists()


def test_parse_reference_normalises_the_commit() -> None:
    assert parse_reference(f"Acme-Labs/gitml.fork@{SHA.upper()}") == ActionReference(
        "Acme-Labs/gitml.fork", SHA
    )


def test_init_pins_the_running_gitml_or_stops_before_writing(tmp_path: Path) -> None:
    """Without --gitml-action: the installed gitml's own commit when its installation
    names one (PEP 610), else a one-line error naming the way out and nothing written."""
    repo = _foreign_repo(tmp_path / "churn")
    expected: ActionReference | None = None
    try:
        expected = installed_reference()
    except ConfigError as error:
        refusal = str(error)
    if expected is None:
        result = gitml(repo, "init", check=False)
        assert result.returncode == 1
        assert result.stderr == f"gitml: error: {refusal}\n"
        assert "pass --gitml-action OWNER/REPO@COMMIT_SHA" in result.stderr
        assert "--config-only" in result.stderr
        assert not (repo / "gitml.yaml").exists()
        assert not (repo / ".github").exists()
        # Asked to, it writes gitml.yaml alone.
        only = gitml(repo, "init", "--config-only")
        assert only.stdout.splitlines()[0] == "wrote gitml.yaml"
        assert "setup action:" not in only.stdout
        assert not (repo / ".github").exists()
    else:
        gitml(repo, "init")
        text = (repo / ".github" / "workflows" / "register.yml").read_text()
        assert f"uses: {expected.line()}\n" in text


# -- deriving the reference from how gitml is installed -------------------------------


def _gitml_checkout(path: Path, origin: str) -> Path:
    """A gitml checkout at ``path`` whose ``origin`` is ``origin`` and whose HEAD is on
    origin's main (as after a fetch; no network here)."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "pyproject.toml").write_text('[project]\nname = "gitml"\n')
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "gitml")
    git(path, "remote", "add", "origin", origin)
    git(path, "update-ref", "refs/remotes/origin/main", "HEAD")
    return path


def _dir_info(path: Path) -> dict[str, object]:
    return {"url": path.as_uri(), "dir_info": {"editable": True}}


def test_a_git_install_names_its_repository_and_commit() -> None:
    direct_url = {
        "url": "https://github.com/acme/gitml.git",
        "vcs_info": {"vcs": "git", "commit_id": SHA, "requested_revision": "main"},
    }
    reference = reference_from_direct_url(direct_url, "1.2.3")
    assert reference == ActionReference("acme/gitml", SHA, "1.2.3")
    assert reference.line() == f"acme/gitml/.github/actions/setup-gitml@{SHA} # gitml 1.2.3"


@pytest.mark.parametrize(
    ("direct_url", "message"),
    [
        (
            {
                "url": "https://gitlab.com/acme/gitml.git",
                "vcs_info": {"vcs": "git", "commit_id": SHA},
            },
            "not a GitHub repository",
        ),
        (
            {"url": "https://github.com/acme/gitml", "vcs_info": {"vcs": "hg", "commit_id": SHA}},
            "not a GitHub repository",
        ),
        (
            {
                "url": "https://github.com/acme/gitml.git",
                "vcs_info": {"vcs": "git", "commit_id": "main"},
            },
            "names no full commit",
        ),
        (
            {"url": "https://files.example/gitml-1.0-py3-none-any.whl", "archive_info": {}},
            "installed from an archive",
        ),
        ({"dir_info": {}}, "has no url"),
    ],
)
def test_installs_that_name_no_github_commit_are_refused(
    direct_url: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        reference_from_direct_url(direct_url, "1.0")
    assert "pass --gitml-action OWNER/REPO@COMMIT_SHA" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_clean_pushed_checkout_names_its_origin_and_head(tmp_path: Path) -> None:
    secret = "https://x-access-token:s3cr3t@github.com/acme/gitml.git"
    checkout = _gitml_checkout(tmp_path / "gitml", secret)
    head = git(checkout, "rev-parse", "HEAD").stdout.strip()
    assert reference_from_direct_url(_dir_info(checkout), "0.1.0") == ActionReference(
        "acme/gitml", head, "0.1.0"
    )

    def refused(match: str, path: Path = checkout) -> None:
        with pytest.raises(ConfigError, match=match) as raised:
            reference_from_direct_url(_dir_info(path), "0.1.0")
        assert "s3cr3t" not in str(raised.value)
        assert "--gitml-action" in str(raised.value)

    # A change no commit holds: what is installed is not HEAD.
    (checkout / "pyproject.toml").write_text('[project]\nname = "gitml"\nversion = "2"\n')
    refused("working tree has changes no commit holds")
    # A commit GitHub cannot serve: not on any branch of origin.
    git(checkout, "commit", "-q", "-am", "local only")
    refused("is on no branch of origin")
    # Installed from a folder inside a checkout, or from no checkout at all.
    (checkout / "sub").mkdir()
    refused("a folder inside the checkout", checkout / "sub")
    (tmp_path / "plain").mkdir()
    refused("not a git checkout", tmp_path / "plain")
    # An origin that is not GitHub, shown without the credentials its URL carries.
    other = _gitml_checkout(tmp_path / "other", "https://bot:s3cr3t@gitlab.example/acme/gitml")
    refused(r"origin https://gitlab\.example/acme/gitml is not on GitHub", other)
    git(other, "remote", "remove", "origin")
    refused("without an `origin` remote", other)


# -- the project's install files ------------------------------------------------------

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "churn"
version = "0.1.0"
dependencies = ["pyyaml"]

[project.optional-dependencies]
train = ["scikit-learn"]
s3 = ["dvc-s3"]
docs = ["sphinx"]
"""


def test_init_installs_the_files_git_tracks_wherever_they_are(tmp_path: Path) -> None:
    repo = _foreign_repo(tmp_path / "churn")
    (repo / "src").mkdir()
    (repo / "src" / "requirements.txt").write_text("pyyaml\n")
    (repo / "requirements").mkdir()
    (repo / "requirements" / "base.txt").write_text("pyyaml\n")
    (repo / "requirements" / "dev.txt").write_text("-r base.txt\npytest\n")
    (repo / "constraints.txt").write_text("pyyaml<7\n")
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "lib").mkdir()
    (repo / "lib" / "setup.py").write_text("from setuptools import setup\n\nsetup()\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "requirements.txt").write_text("sphinx\n")
    git(repo, "add", "-A")
    (repo / "requirements-local.txt").write_text("ipython\n")  # not tracked: not the team's
    out = gitml(repo, "init", "--config-only").stdout
    assert not (repo / ".github").exists()
    install = yaml.safe_load((repo / "gitml.yaml").read_text())["install"]
    assert install == {
        "requirements": ["requirements/base.txt", "src/requirements.txt"],
        "constraints": ["constraints.txt"],
        "packages": [{"path": ".", "extras": ["train", "s3"]}, {"path": "lib"}],
    }
    notes = [line.removeprefix("  - ") for line in out.splitlines() if line.startswith("  - ")]
    assert (
        "several requirements files: installing requirements/base.txt, src/requirements.txt; "
        "left out docs/requirements.txt, requirements/dev.txt (edit install.requirements in "
        "gitml.yaml to choose)"
    ) in notes
    assert (
        "extras of the root package left out: docs (add them to install.packages[].extras "
        "if the pipeline needs them)"
    ) in notes
    assert any(note.startswith("lib/setup.py: its extras are not read") for note in notes)
    assert "several Python packages: installing ., lib (edit install.packages)" in notes
    printed = gitml(repo, "install-args").stdout.splitlines()
    assert printed == [
        "-c",
        "constraints.txt",
        "-r",
        "requirements/base.txt",
        "-r",
        "src/requirements.txt",
        ".[train,s3]",
        "./lib",
    ]


def test_extras_are_read_from_poetry_and_setup_cfg_and_tool_configs_are_no_package() -> None:
    files = {
        "pyproject.toml": (
            '[tool.poetry]\nname = "churn"\n\n[tool.poetry.extras]\nserve = ["uvicorn"]\n'
            'test = ["pytest"]\n\n[build-system]\nrequires = ["poetry-core"]\n'
        ),
        "pkg/setup.py": "from setuptools import setup\n\nsetup()\n",
        "pkg/setup.cfg": "[options.extras_require]\ngpu = torch\n",
        "tools/pyproject.toml": "[tool.ruff]\nline-length = 100\n",
        "tests/fixture/setup.py": "raise SystemExit\n",
    }
    detection = detect(files, files.get)
    assert detection.plan == InstallPlan(
        packages=(Package(".", ("serve",)), Package("pkg", ("gpu",)))
    )
    assert any("extras of the root package left out: test" in note for note in detection.notes)


def test_install_args_prints_nothing_without_a_section(tmp_path: Path) -> None:
    (tmp_path / "gitml.yaml").write_text("version: 1\nstages: [staging]\n")
    assert gitml(tmp_path, "install-args").stdout == ""


HOSTILE = [
    ("requirements[0]", {"requirements": ["--index-url=https://evil.example/simple"]}),
    ("requirements[0]", {"requirements": ["-e"]}),
    ("requirements[0]", {"requirements": ["../outside.txt"]}),
    ("requirements[0]", {"requirements": ["src/../../outside.txt"]}),
    ("requirements[0]", {"requirements": ["/etc/passwd"]}),
    ("requirements[0]", {"requirements": ["https://evil.example/requirements.txt"]}),
    ("requirements[0]", {"requirements": ["r.txt --extra-index-url=https://evil.example"]}),
    ("requirements[0]", {"requirements": ["r.txt\n--index-url=https://evil.example"]}),
    ("constraints[0]", {"constraints": ["-c"]}),
    ("packages[0].path", {"packages": [{"path": "-e ."}]}),
    ("packages[0].path", {"packages": [{"path": "git+https://evil.example/pkg"}]}),
    ("packages[0].path", {"packages": [{"path": ".."}]}),
    ("packages[0].extras[0]", {"packages": [{"path": ".", "extras": ["x] --pre ["]}]}),
    ("packages[0]", {"packages": [{"path": ".", "url": "https://evil.example"}]}),
    ("requirements", {"requirements": "requirements.txt"}),
]


@pytest.mark.parametrize(("key", "section"), HOSTILE)
def test_hostile_install_entries_are_refused(
    tmp_path: Path, key: str, section: dict[str, object]
) -> None:
    (tmp_path / "r.txt").write_text("pyyaml\n")
    document = {"version": 1, "install": section}
    (tmp_path / "gitml.yaml").write_text(yaml.safe_dump(document))
    result = gitml(tmp_path, "install-args", check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"gitml: error: gitml.yaml: install.{key}: ")
    assert result.stderr.count("\n") == 1
    # The shipped schema refuses it too (gitml validate, every command that loads it).
    problems = schema_problems(document, packaged_schema("gitml.schema.json"), "gitml.yaml")
    assert f"install.{key}" in [problem.key for problem in problems]


def test_install_files_must_be_in_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "outside.txt").write_text("evil\n")
    (repo / "linked.txt").symlink_to(tmp_path / "outside.txt")
    for entry, message in [
        ("requirements: [linked.txt]", "'linked.txt' leads out of the repository"),
        ("requirements: [missing.txt]", "'missing.txt' is not a file in the repository"),
        ("packages: [{path: src}]", "'src' is not a Python package folder"),
    ]:
        (repo / "gitml.yaml").write_text(f"version: 1\ninstall: {{{entry}}}\n")
        result = gitml(repo, "install-args", check=False)
        assert result.returncode == 1
        assert message in result.stderr
        assert result.stderr.count("\n") == 1


# -- stages from GTO's tags -----------------------------------------------------------


def test_init_offers_the_stages_gto_tags_already_use(tmp_path: Path) -> None:
    """GTO's own stage names, in the order its tags first used them, instead of
    staging/production; the workflows follow them."""
    repo = _foreign_repo(tmp_path / "churn")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Churn model")
    git(repo, "tag", "-a", "release-1", "-m", "not a registry tag")
    gto = str(BIN_DIR / "gto")
    run(gto, "register", "churn", "--version", "v0.1.0", cwd=repo)
    run(gto, "assign", "churn", "--version", "v0.1.0", "--stage", "dev", cwd=repo)
    run(gto, "assign", "churn", "--version", "v0.1.0", "--stage", "prod", cwd=repo)
    assert "churn#prod#2" in git(repo, "tag", "--list").stdout
    out = gitml(repo, "init", "--gitml-action", ACTION).stdout
    assert "stages: dev, prod (from the repository's GTO tags)\n" in out
    assert "stages dev, prod are in the order the tags first used them" in out
    assert "`registry: {accept_gto_tags: true}` keeps their history" in out
    config = yaml.safe_load((repo / "gitml.yaml").read_text())
    assert config["stages"] == ["dev", "prod"]
    assert config["registry"] == {"accept_gto_tags": True}
    workflows = repo / ".github" / "workflows"
    promote = yaml.safe_load((workflows / "promote.yml").read_text())
    assert promote[True]["push"]["branches"] == ["dev", "prod", "dev/**", "prod/**"]
    assert promote["jobs"]["promote"]["environment"] == (
        "${{ startsWith(github.ref_name, 'prod') && 'prod' || 'dev' }}"
    )
    propose = yaml.safe_load((workflows / "propose.yml").read_text())
    assert propose[True]["pull_request"]["branches"] == ["main", "dev", "prod", "dev/**", "prod/**"]
    monitor = yaml.safe_load((workflows / "monitor.yml").read_text())
    assert monitor[True]["workflow_dispatch"]["inputs"]["stage"]["default"] == "prod"
    assert "`gitml promote MODEL --to dev`" in out
    assert "Put `prod` behind a GitHub environment named `prod`" in out
    assert "staging" not in out.split("next steps:")[1]


@pytest.mark.slow
def test_init_keeps_the_stage_names_of_a_registry_gto_wrote(tmp_path: Path) -> None:
    """The adoption fixture's registry, written by gto alone: `prod` was used first."""
    from tests.adoption.projects import gto_registry

    repo = gto_registry(tmp_path / "registry")
    out = gitml(repo, "init", "--gitml-action", ACTION).stdout
    assert "stages: prod, dev (from the repository's GTO tags)\n" in out
    config = yaml.safe_load((repo / "gitml.yaml").read_text())
    assert config["stages"] == ["prod", "dev"]
    assert config["stage_branch"] == "{stage}/{model}"


# -- running twice, and --force -------------------------------------------------------


def _tree(repo: Path) -> dict[str, tuple[bytes, int]]:
    """Every file outside .git: its bytes and modification time."""
    return {
        str(path.relative_to(repo)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    repo = _foreign_repo(tmp_path / "churn")
    (repo / "requirements.txt").write_text("pyyaml\n")
    git(repo, "add", "-A")
    first = gitml(repo, "init", "--gitml-action", ACTION)
    assert first.stdout.count("wrote ") == 1 + len(WORKFLOWS)
    before = _tree(repo)
    again = gitml(repo, "init", "--gitml-action", ACTION)
    assert again.returncode == 0
    assert "wrote " not in again.stdout
    assert again.stdout.count("unchanged ") == 1 + len(WORKFLOWS)
    assert _tree(repo) == before
    forced = gitml(repo, "init", "--force", "--gitml-action", ACTION)
    assert "wrote " not in forced.stdout
    assert _tree(repo) == before


def test_force_replaces_only_what_init_wrote(tmp_path: Path) -> None:
    repo = _foreign_repo(tmp_path / "churn")
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    own = "# our own propose workflow\nname: propose\n"
    (workflows / "propose.yml").write_text(own)
    gitml(repo, "init", "--gitml-action", ACTION, check=False)
    register = workflows / "register.yml"
    rendered = register.read_text()
    register.write_text(rendered.replace("name: register\n", "name: register-tuned\n"))
    unmarked = "kept  .github/workflows/propose.yml (not written by gitml init: left alone, "
    again = gitml(repo, "init", "--gitml-action", ACTION, check=False)
    assert again.returncode == 1
    assert "kept  .github/workflows/register.yml (exists; --force overwrites)" in again.stdout
    assert f"{unmarked}also with --force)" in again.stdout
    assert "name: register-tuned" in register.read_text()
    forced = gitml(repo, "init", "--force", "--gitml-action", ACTION, check=False)
    assert forced.returncode == 1  # the team's propose.yml is still kept
    assert "wrote .github/workflows/register.yml" in forced.stdout
    assert f"{unmarked}also with --force)" in forced.stdout
    assert register.read_text() == rendered
    assert (workflows / "propose.yml").read_text() == own
    # The same holds for gitml.yaml: a team's own is never replaced.
    (repo / "gitml.yaml").write_text("version: 1\nstages: [qa, live]\n")
    gitml(repo, "init", "--force", "--gitml-action", ACTION, check=False)
    assert (repo / "gitml.yaml").read_text() == "version: 1\nstages: [qa, live]\n"


def test_init_needs_a_declared_model(tmp_path: Path) -> None:
    repo = tmp_path / "plain"
    repo.mkdir()
    (repo / "dvc.yaml").write_text("stages: {}\n")
    result = gitml(repo, "init", "--gitml-action", ACTION, check=False)
    assert result.returncode == 1
    assert "dvc.yaml: no `artifacts:` entry of type model" in result.stderr
    assert not (repo / "gitml.yaml").exists()
    missing = gitml(tmp_path, "init", "--gitml-action", ACTION, check=False)
    assert "dvc.yaml: not found" in missing.stderr


# -- the written workflows, run by act ------------------------------------------------


def _job_names(*jobs: str) -> list[str]:
    """The names act shows for these jobs of propose.yml."""
    propose = yaml.safe_load((TEMPLATES / "workflows" / "propose.yml").read_text())
    return [propose["jobs"][job]["name"] for job in jobs]


def _origin(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))


@pytest.mark.slow
def test_scaffolded_workflows_run_in_the_foreign_repository(
    tmp_path: Path, clock: Clock, httpserver: HTTPServer
) -> None:
    """The workflows `gitml init` wrote, run by act in the repository it wrote them to,
    gitml's setup action a copy of this checkout at the pinned commit: no constraints.txt
    (setup-python's pip cache must not demand one), the project's src/requirements.txt
    installed, and the pipeline's own files (eval/, out/) are what the pull request run
    commits back, then registers."""
    reference, checkout = gitml_checkout(tmp_path / "gitml")
    actions = {reference: checkout}
    repo = _foreign_repo(tmp_path / "churn")
    (repo / "src").mkdir()
    (repo / "src" / "requirements.txt").write_text("pyyaml\n")
    git(repo, "add", "-A")
    gitml(repo, "init", "--gitml-action", reference)
    assert yaml.safe_load((repo / "gitml.yaml").read_text())["install"] == {
        "requirements": ["src/requirements.txt"]
    }
    remote = tmp_path / "dvc-remote"
    dvc(repo, "remote", "add", "-d", "storage", str(remote))
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Churn model, with gitml")
    _origin(repo, tmp_path)
    git(repo, "push", "-q", "-u", "origin", "main")
    assert not (repo / "constraints.txt").exists()
    assert not (repo / "requirements.txt").exists()

    # A pull request that deepens the model, without running the pipeline.
    git(repo, "checkout", "-q", "-b", "deeper")
    (repo / "params.yaml").write_text("fit:\n  depth: 5\n")
    git(repo, "commit", "-qam", "Deeper model")
    git(repo, "push", "-q", "origin", "deeper")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    expect_statuses(httpserver)
    payload = pull_request_payload(3, "deeper", "main", sha)
    env, secrets = act_environment(httpserver), {"GITHUB_TOKEN": TOKEN}
    proposed = run_act(
        repo, "pull_request", "propose.yml", "gate", payload, tmp_path / "act-1", env, secrets,
        actions=actions,
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.output[-5000:]
    # Both jobs installed gitml from the pinned checkout, then the project's file.
    for job in _job_names("build", "gate"):
        lines = proposed.job_output(job)
        assert f"{reference.replace('@', '/.github/actions/setup-gitml@')}" in lines, job
        assert "Success - Main Install the project's dependency files" in lines, job
        assert "gitml.yaml names no install files" not in lines, job
    git(repo, "fetch", "-q", "origin")
    pushed = git(repo, "rev-parse", "origin/deeper").stdout.strip()
    committed = git(repo, "diff", "--name-only", sha, pushed).stdout.split()
    assert committed == ["dvc.lock", "eval/scores.json"]
    assert json.loads(git(repo, "show", f"{pushed}:eval/scores.json").stdout)["roc_auc"] == 0.65
    assert [(s.sha, s.state) for s in statuses(httpserver)] == [(pushed, "success")]
    ((_args, report),) = proposed.cml_calls
    assert "churn" in report

    # Merged: the push to main registers the version whose bytes the run pushed.
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "origin/deeper")
    git(repo, "push", "-q", "origin", "main")
    clock.tick()
    push = {"ref": "refs/heads/main", "repository": {"full_name": "acme/credit"}}
    registered = run_act(
        repo, "push", "register.yml", "register", push, tmp_path / "act-2", actions=actions
    )
    assert registered.returncode == 0, registered.output[-5000:]
    tags = git(repo, "ls-remote", "--tags", "--refs", "origin").stdout
    assert "refs/tags/churn@v" in tags


@pytest.mark.slow
def test_propose_runs_on_a_dvc_get_started_project(tmp_path: Path, httpserver: HTTPServer) -> None:
    """The adoption fixture (DVC 3's get-started layout, DVCLive metrics at the top level,
    its requirements in src/): init, then the pull request it already has is built and
    judged by the written propose.yml."""
    from tests.adoption.projects import BASE, HEAD, get_started

    reference, checkout = gitml_checkout(tmp_path / "gitml")
    repo = get_started(tmp_path / "tickets", "git")
    out = gitml(repo, "init", "--gitml-action", reference).stdout
    assert yaml.safe_load((repo / "gitml.yaml").read_text())["install"] == {
        "requirements": ["src/requirements.txt"]
    }, out
    # act runs each job in a copy elsewhere: the remote by its absolute path.
    dvc(repo, "remote", "add", "--force", "-d", "storage", str(tmp_path / "dvc-remote"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Adopt gitml")
    _origin(repo, tmp_path)
    git(repo, "push", "-q", "origin", BASE)
    git(repo, "checkout", "-q", HEAD)
    git(repo, "merge", "-q", "--no-edit", BASE)
    git(repo, "push", "-q", "origin", HEAD)
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    expect_statuses(httpserver)
    payload = pull_request_payload(7, HEAD, BASE, sha)
    proposed = run_act(
        repo, "pull_request", "propose.yml", "gate", payload, tmp_path / "act",
        act_environment(httpserver), {"GITHUB_TOKEN": TOKEN}, actions={reference: checkout},
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.output[-6000:]
    assert proposed.jobs() == set(_job_names("build", "gate"))
    git(repo, "fetch", "-q", "origin")
    judged = git(repo, "rev-parse", f"origin/{HEAD}").stdout.strip()
    assert [(s.sha, s.state) for s in statuses(httpserver)] == [(judged, "success")]
    ((_args, report),) = proposed.cml_calls
    assert "ticket-classifier" in report
    # DVCLive's nested metrics judged by their names, and the plots dvc.yaml declares drawn.
    assert "| ticket-classifier | 🟢 improved |" in report
    assert "roc\\_auc.test ↑" in report
    assert "log\\_loss.test ↓" in report
    assert "**ROC" in report
    assert "**Precision-Recall**" in report
    assert "**Confusion-Matrix**" in report

    # Merged: the push to main registers the version whose bytes the run pushed.
    git(repo, "checkout", "-q", BASE)
    git(repo, "merge", "-q", "--ff-only", f"origin/{HEAD}")
    git(repo, "push", "-q", "origin", BASE)
    push = {"ref": f"refs/heads/{BASE}", "repository": {"full_name": "acme/credit"}}
    registered = run_act(
        repo, "push", "register.yml", "register", push, tmp_path / "act-2",
        actions={reference: checkout},
    )  # fmt: skip
    assert registered.returncode == 0, registered.output[-5000:]
    git(repo, "fetch", "-q", "--tags", "origin")
    (version,) = json.loads(gitml(repo, "show", "ticket-classifier", "--json").stdout)["versions"]
    assert version["version"] == "v0.1.0"
    assert (
        version["md5"]
        == yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["train"]["outs"][0]["md5"]
    )
