"""A model registry written by GTO itself (``gto register``, ``assign``, ``deprecate``)."""

from __future__ import annotations

import random
import subprocess
from typing import TYPE_CHECKING

from tests.adoption.repos import Clock, assert_remote_complete, commit, init_repo
from tests.helpers import BIN_DIR, dvc, run

if TYPE_CHECKING:
    from pathlib import Path

# A GTO-only registry: two models declared in dvc.yaml, a third only in GTO's own
# artifacts.yaml, their files tracked with `dvc add`.
GTO_DVC_YAML = """\
artifacts:
  churn:
    path: models/churn.bin
    type: model
    desc: Which customers will leave next month
  ranker:
    path: models/ranker.bin
    type: model
    labels:
    - search
"""

GTO_ARTIFACTS_YAML = """\
scorer:
  type: model
  path: models/scorer.bin
  virtual: true
  labels:
  - legacy
  description: The rule-based credit scorer, kept for comparison
"""

GTO_MODELS = ("churn", "ranker", "scorer")


def _write_model(repo: Path, name: str, generation: int) -> None:
    """A small artefact whose bytes differ per generation (what a retraining changes)."""
    data = random.Random(f"{name}-{generation}").randbytes(2048)
    (repo / "models" / f"{name}.bin").write_bytes(data)


def _tags(repo: Path) -> set[str]:
    return set(run("git", "tag", "--list", cwd=repo).stdout.split())


def _redate_tag(repo: Path, name: str, seconds: int) -> None:
    """Give the annotated tag ``name`` the tagger time ``seconds``; all else stays as written."""
    old_id = run("git", "rev-parse", f"refs/tags/{name}", cwd=repo).stdout.strip()
    header, _, message = run("git", "cat-file", "tag", old_id, cwd=repo).stdout.partition("\n\n")
    lines = header.split("\n")
    for index, line in enumerate(lines):
        if line.startswith("tagger "):
            identity = line.rsplit(" ", 2)[0]
            lines[index] = f"{identity} {seconds} +0000"
    made = subprocess.run(
        ["git", "mktag"],
        input="\n".join(lines) + "\n\n" + message,
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    run("git", "update-ref", f"refs/tags/{name}", made.stdout.strip(), old_id, cwd=repo)


def gto(repo: Path, clock: Clock, *args: str) -> None:
    """Run the real ``gto``, then date the tags it wrote at the clock's next minute.

    GTO writes tags through dulwich, which stamps them with the wall clock whatever
    ``GIT_COMMITTER_DATE`` says; GTO orders events by whole-second tag times, so two
    commands in one second would tie. Re-dating keeps GTO's name, target, tagger and
    message and makes the order (and every build of the fixture) fixed.
    """
    before = _tags(repo)
    env = clock.tick()
    run(BIN_DIR / "gto", *args, cwd=repo, env=env)
    for name in sorted(_tags(repo) - before):
        _redate_tag(repo, name, clock.now)


def gto_registry(path: Path) -> Path:
    """A registry written by ``gto`` itself, no gitml anywhere.

    Tags, in order (GTO's default numbered stage tags unless said otherwise):

    * commit 1: ``churn@v0.0.1``, ``ranker@v1.0.0``, ``scorer@v0.1.0``;
    * commit 2 (churn retrained): ``churn@v0.0.2``; churn v0.0.1 to ``prod``, v0.0.2 to ``dev``;
    * commit 3 (churn and ranker retrained): ``churn@v0.0.3``, ``ranker@v1.1.0``;
      ranker v1.1.0 to ``prod`` as a simple tag (``ranker#prod``, no number); churn v0.0.3
      to ``dev``, then deregistered (``dev`` falls back to v0.0.2); churn unassigned from
      ``prod``; scorer v0.1.0 to ``prod``;
    * commit 4 (churn retrained): ``gto assign churn HEAD --version v0.1.0 --stage dev``
      (registers and assigns at once); the model ``scorer`` deprecated.

    Every artefact version is pushed to the local DVC remote.
    """
    clock = Clock()
    repo = init_repo(path)
    (repo / "models").mkdir()
    for name in GTO_MODELS:
        _write_model(repo, name, 1)
        dvc(repo, "add", "-q", f"models/{name}.bin")
    (repo / "dvc.yaml").write_text(GTO_DVC_YAML)
    (repo / "artifacts.yaml").write_text(GTO_ARTIFACTS_YAML)
    commit(repo, clock, "Add the churn, ranker and scorer models")
    dvc(repo, "push", "-q")
    gto(repo, clock, "register", "churn")
    gto(repo, clock, "register", "ranker", "--version", "v1.0.0")
    gto(repo, clock, "register", "scorer", "--version", "v0.1.0")

    _write_model(repo, "churn", 2)
    dvc(repo, "add", "-q", "models/churn.bin")
    commit(repo, clock, "Retrain churn on December's data")
    dvc(repo, "push", "-q")
    gto(repo, clock, "register", "churn")
    gto(repo, clock, "assign", "churn", "--version", "v0.0.1", "--stage", "prod")
    gto(repo, clock, "assign", "churn", "--version", "v0.0.2", "--stage", "dev")

    for name in ("churn", "ranker"):
        _write_model(repo, name, 3)
        dvc(repo, "add", "-q", f"models/{name}.bin")
    commit(repo, clock, "Retrain churn and ranker")
    dvc(repo, "push", "-q")
    gto(repo, clock, "register", "churn")
    gto(repo, clock, "register", "ranker", "--bump-minor")
    gto(
        repo,
        clock,
        "assign",
        "ranker",
        "--version",
        "v1.1.0",
        "--stage",
        "prod",
        "--simple",
        "true",
    )
    gto(repo, clock, "assign", "churn", "--version", "v0.0.3", "--stage", "dev")
    gto(repo, clock, "deprecate", "churn", "v0.0.3")
    gto(repo, clock, "deprecate", "churn", "v0.0.1", "prod")
    gto(repo, clock, "assign", "scorer", "--version", "v0.1.0", "--stage", "prod")

    _write_model(repo, "churn", 4)
    dvc(repo, "add", "-q", "models/churn.bin")
    commit(repo, clock, "Retrain churn with the new features")
    dvc(repo, "push", "-q")
    gto(repo, clock, "assign", "churn", "HEAD", "--version", "v0.1.0", "--stage", "dev")
    gto(repo, clock, "deprecate", "scorer")
    assert_remote_complete(repo)
    return repo
