"""``gitml search`` returns facts: a match whose record git contradicts is left out and
named; and the forms of a descending sort.

The repository is real git with registry tags as gitml writes them: credit v0.1.0 and
v0.2.0 have true records, v0.3.0's record claims an artefact md5 that ``dvc.lock`` at its
commit does not hold (a forged tag) and a better roc_auc than any true version; churn
v0.1.0 is a tag GTO wrote (no record), which this registry accepts.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pytest

from gitml.errors import UsageError
from gitml.registry.record import Kind, Record, record_message
from gitml.search.order import Order, descending, parse_sort
from tests.helpers import git, gitml

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

GITML_YAML = """\
models:
  credit: {artifact: models/credit.skops, metrics: [metrics/credit.json]}
  churn: {artifact: models/churn.skops, metrics: [metrics/churn.json]}
stages: [staging, production]
registry: {accept_gto_tags: true}
"""
LOCK = """\
schema: '2.0'
stages:
  train_{model}:
    cmd: train {model}
    outs:
    - path: models/{model}.skops
      hash: md5
      md5: {md5}
      size: 10
"""
FORGED_MD5 = hashlib.md5(b"not what was built").hexdigest()


def md5_of(name: str) -> str:
    """The artefact md5 ``dvc.lock`` holds for the commit of ``name``."""
    return hashlib.md5(name.encode()).hexdigest()


def _commit(repo: Path, clock: Clock, model: str, name: str, metrics: dict[str, float]) -> str:
    """A commit whose ``dvc.lock`` holds ``md5_of(name)`` for the model's artefact."""
    clock.tick()
    (repo / "metrics").mkdir(exist_ok=True)
    (repo / "metrics" / f"{model}.json").write_text(json.dumps(metrics))
    (repo / "dvc.lock").write_text(LOCK.format(model=model, md5=md5_of(name)))
    # Read by no query: it stays out of a partial clone (tests/test_search_repo.py).
    (repo / "notes.txt").write_text(f"{name}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"Train {name}")
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def _tag(repo: Path, clock: Clock, name: str, commit: str, record: Record | None) -> None:
    clock.tick()
    message = record_message(f"Record {name}", record) if record else f"Registering {name}\n"
    git(repo, "tag", "-a", name, commit, "-m", message)


def build_registry(repo: Path, clock: Clock) -> dict[str, str]:
    """The repository of this module's docstring; ``{version: commit}`` of credit."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "gitml.yaml").write_text(GITML_YAML)
    commits = {}
    claims = {"v0.1.0": 0.81, "v0.2.0": 0.86, "v0.3.0": 0.97}
    for n, (version, auc) in enumerate(claims.items(), start=1):
        commit = _commit(repo, clock, "credit", f"credit{n}", {"roc_auc": auc - 0.01})
        claimed = FORGED_MD5 if version == "v0.3.0" else md5_of(f"credit{n}")
        record = Record(
            Kind.REGISTRATION, "credit", version, md5=claimed, artifact="models/credit.skops",
            commit=commit, author="ada", metrics={"roc_auc": auc},
        )  # fmt: skip
        _tag(repo, clock, f"credit@{version}", commit, record)
        commits[version] = commit
    promotions = (("production", "v0.2.0", md5_of("credit2")), ("staging", "v0.3.0", FORGED_MD5))
    for n, (stage, version, md5) in enumerate(promotions, start=1):
        record = Record(Kind.PROMOTION, "credit", version, stage=stage, md5=md5)
        _tag(repo, clock, f"credit#{stage}#{n}", commits[version], record)
    churn = _commit(repo, clock, "churn", "churn1", {"accuracy": 0.9})
    _tag(repo, clock, "churn@v0.1.0", churn, None)
    return commits


@pytest.fixture
def registry(tmp_path: Path, clock: Clock) -> Path:
    repo = tmp_path / "repo"
    build_registry(repo, clock)
    return repo


def _search(repo: Path, *args: str) -> tuple[list[str], dict[str, object], str]:
    """``gitml search ARGS --json``: ``model@version`` in order, the JSON, stderr."""
    done = gitml(repo, "search", *args, "--json")
    data = json.loads(done.stdout)
    return [f"{v['model']}@{v['version']}" for v in data["versions"]], data, done.stderr


WARNING = (
    "gitml: warning: 1 version left out: its record disagrees with git: credit@v0.3.0 "
    f"(record md5 {FORGED_MD5[:8]}, dvc.lock {md5_of('credit3')[:8]}); run gitml verify\n"
)


def test_a_match_git_contradicts_is_left_out_and_named(registry: Path) -> None:
    found, data, stderr = _search(registry, "model = credit")
    assert found == ["credit@v0.2.0", "credit@v0.1.0"]
    assert stderr == WARNING
    commit = git(registry, "rev-parse", "credit@v0.3.0^{commit}").stdout.strip()
    assert data["left_out"] == [
        {
            "model": "credit",
            "version": "v0.3.0",
            "commit": commit,
            "recorded_md5": FORGED_MD5,
            "git_md5": md5_of("credit3"),
            "reason": f"its record claims artefact md5 {FORGED_MD5}, but dvc.lock at "
            f"{commit[:12]} holds {md5_of('credit3')} for models/credit.skops",
        }
    ]
    # The table says the same, and `gitml registry` believes the same versions.
    table = gitml(registry, "search", "model = credit")
    assert "v0.3.0" not in table.stdout
    assert table.stderr == WARNING
    (credit,) = [r for r in json.loads(gitml(registry, "registry", "--json").stdout) if
                 r["model"] == "credit"]  # fmt: skip
    assert credit["latest"] == "v0.2.0"
    assert {s["stage"]: s["version"] for s in credit["stages"]} == {
        "staging": None,
        "production": "v0.2.0",
    }


def test_only_the_forged_record_claims_the_match(registry: Path) -> None:
    # Its record's roc_auc (0.97) is the only one above 0.9: nothing true matches.
    found, data, stderr = _search(registry, "metric.roc_auc > 0.9")
    assert found == []
    assert [v["version"] for v in data["left_out"]] == ["v0.3.0"]
    assert stderr == WARNING
    table = gitml(registry, "search", "metric.roc_auc > 0.9")
    assert table.stdout == "no version matches\n"


def test_no_warning_when_no_contradicted_version_matches(registry: Path) -> None:
    # churn's tag carries no record (GTO's): it claims no md5 and is returned, as
    # `gitml registry` counts it; the forged credit version does not match.
    found, data, stderr = _search(registry, "model = churn OR metric.roc_auc < 0.83")
    assert found == ["churn@v0.1.0", "credit@v0.1.0"]
    assert data["left_out"] == []
    assert stderr == ""
    assert gitml(registry, "search", "stage = staging").stderr == ""


def test_the_limit_counts_believed_versions_and_stops_there(registry: Path) -> None:
    found, data, stderr = _search(registry, "model = credit", "--sort=-version", "--limit=1")
    assert found == ["credit@v0.2.0"]  # v0.3.0 came first, and was left out
    assert stderr == WARNING
    # Ascending, the limit is filled before v0.3.0 is reached: it is never checked.
    found, data, stderr = _search(registry, "model = credit", "--sort=version", "--limit=1")
    assert (found, data["left_out"], stderr) == (["credit@v0.1.0"], [], "")


def test_a_record_whose_lock_cannot_be_read_is_left_out(registry: Path, clock: Clock) -> None:
    clock.tick()
    (registry / "dvc.lock").write_text("stages: [\n")
    git(registry, "commit", "-qam", "Break the lock")
    commit = git(registry, "rev-parse", "HEAD").stdout.strip()
    record = Record(
        Kind.REGISTRATION, "credit", "v0.4.0", md5=md5_of("credit4"),
        artifact="models/credit.skops", commit=commit,
    )  # fmt: skip
    _tag(registry, clock, "credit@v0.4.0", commit, record)
    found, data, stderr = _search(registry, "version >= v0.2.0")
    assert found == ["credit@v0.2.0"]
    unread = data["left_out"][0]
    assert (unread["version"], unread["git_md5"]) == ("v0.4.0", None)
    assert unread["reason"].startswith(f"dvc.lock at {commit[:12]}: not valid YAML")
    assert stderr.startswith("gitml: warning: 2 versions left out: their records disagree")


DESCENDING = [
    ("--sort=-metric.roc_auc",),
    ("--sort", "metric.roc_auc:desc"),
    ("--sort", "metric.roc_auc", "--desc"),
]


@pytest.mark.parametrize("sort", DESCENDING)
def test_every_descending_form_sorts_alike(registry: Path, sort: tuple[str, ...]) -> None:
    found, _, _ = _search(registry, "model = credit OR model = churn", *sort)
    # churn has no roc_auc: last, whichever the direction.
    assert found == ["credit@v0.2.0", "credit@v0.1.0", "churn@v0.1.0"]


@pytest.mark.parametrize("sort", [("--sort", "metric.roc_auc"), ("--sort", "metric.roc_auc:asc")])
def test_ascending_forms(registry: Path, sort: tuple[str, ...]) -> None:
    found, _, _ = _search(registry, "model = credit OR model = churn", *sort)
    assert found == ["credit@v0.1.0", "credit@v0.2.0", "churn@v0.1.0"]


def test_sort_errors_are_one_line(registry: Path) -> None:
    cases = {
        ("--desc",): "--desc reverses --sort FIELD: give the field",
        ("--sort", "metric.roc_auc:desc", "--desc"): "give the order once",
        ("--sort=-metric.roc_auc:asc",): "give the order once",
        ("--sort", "stage:desc"): "expected FIELD, FIELD:desc or -FIELD",
    }
    for args, message in cases.items():
        done = gitml(registry, "search", "model = credit", *args, check=False)
        assert done.returncode == 2, args
        assert message in done.stderr, (args, done.stderr)
        assert len(done.stderr.splitlines()) == 1, done.stderr


def test_parse_sort_forms() -> None:
    assert parse_sort(None) is None
    assert parse_sort("registered") == Order("registered", "", descending=False)
    assert parse_sort("registered:asc") == Order("registered", "", descending=False)
    assert parse_sort("-metric.auc") == Order("metric", "auc", descending=True)
    assert parse_sort("param.train.depth:desc") == Order("param", "train.depth", descending=True)
    assert descending("pr") == "pr:desc"
    for bad in ("metric", "owner", "-pr:desc", "pr:up", "label"):
        with pytest.raises(UsageError, match="--sort"):
            parse_sort(bad)
