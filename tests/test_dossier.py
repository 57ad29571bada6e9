"""``gitml dossier``: golden dossiers of a scripted registry, proofs that resolve in git,
byte-identical rebuilds, missing human fields named, hostile text inert, the HTML in a
real headless Chromium, and the dossier of the example pipeline's registered version.

The golden registry is built by hand (files DVC would write, tags gitml would write, at
fixed dates), so its bytes depend on nothing but this file. Regenerate the goldens on
purpose with ``pytest tests/test_dossier.py --update-golden`` and review the diff of
``tests/golden/dossier/``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from markdown_it import MarkdownIt

from gitml import api
from gitml.dossier import html as html_render
from gitml.dossier import markdown as md_render
from gitml.registry.record import Kind, Record, record_message
from tests.helpers import git, gitml
from tests.observe import record_canary, record_drift

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitml.dossier.model import Dossier
    from tests.conftest import Clock

GOLDEN = Path(__file__).parent / "golden" / "dossier"
RUN = "https://github.com/acme/credit/actions/runs/{}"
MODEL_MD5 = ["1" * 32, "2" * 32]
DATA_MD5 = ["a" * 32 + ".dir", "b" * 32 + ".dir"]
LOCK_SHA = ["c" * 64, "d" * 64]

GITML_YAML = {
    "version": 1,
    "models": {
        "credit": {
            "description": "Probability that a loan applicant defaults within 12 months",
            "artifact": "models/credit.skops",
            "metrics": ["metrics/credit.json"],
            "card": "models/credit.card.yaml",
            "data_schema": "data.schema.yaml",
            "baseline": "models/credit.baseline.json",
            "fairness": {
                "segments": ["region"],
                "report": "metrics/credit_segments.json",
                "min_group_rows": 30,
            },
        }
    },
    "stages": ["staging", "production"],
    "stage_branch": "{stage}",
    "metrics": {"roc_auc": "higher", "log_loss": "lower"},
    "gates": {
        "main": {"metrics": {"roc_auc": {"min": 0.75}}, "model_card": True, "data": True},
        "production": {
            "metrics": {
                "roc_auc": {"min": 0.8, "max_regression": {"atol": 0.005}},
                "fairness.region.demographic_parity_difference": {"max": 0.1},
            },
            "approvals": {"min": 1, "from": ["acme/risk"]},
        },
    },
    "drift": {"psi_warn": 0.1, "psi_drift": 0.25},
    "monitor": {"data": {"command": "credit-example batch --rows 4000 -o {output}"}},
}


def _interval(value: float, spread: float = 0.02) -> dict[str, float]:
    return {"value": value, "low": round(value - spread, 4), "high": round(value + spread, 4)}


def _segments(gap: float) -> dict[str, Any]:
    def group(rows: int, rate: float) -> dict[str, Any]:
        metrics = {
            "selection_rate": _interval(rate),
            "tpr": _interval(0.6),
            "fpr": _interval(0.1),
            "roc_auc": _interval(0.82),
            "calibration_gap": _interval(0.01, 0.005),
        }
        return {"rows": rows, "positives": rows // 8, "metrics": metrics}

    return {
        "format": 1,
        "threshold": 0.25,
        "confidence": 0.95,
        "bootstrap": {"resamples": 200, "seed": 11},
        "rows": 2000,
        "segments": {
            "region": {
                "groups": {"central": group(1200, 0.2), "north": group(800, 0.2 + gap)},
                "gaps": {
                    "demographic_parity_difference": _interval(gap),
                    "demographic_parity_ratio": _interval(0.85),
                    "equalized_odds_difference": _interval(0.04),
                },
            }
        },
    }


def _card(index: int, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "credit",
        "description": "Probability that a loan applicant defaults within 12 months.",
        "intended_use": "Rank applicants to support, not replace, a credit officer.",
        "model": {"path": "models/credit.skops", "md5": MODEL_MD5[index], "family": "hgb"},
        "training_data": {"path": "prepared/train.csv", "md5": "e" * 32, "rows": 1500},
        "evaluation_data": {"path": "prepared/test.csv", "md5": "f" * 32, "rows": 500},
        "limitations": ["Synthetic applicants only.", "Threshold belongs to credit policy."],
        "software": {"python": "3.11.7", "scikit-learn": "1.9.1"},
        "importance": {
            "method": "permutation",
            "scoring": "roc_auc",
            "repeats": 5,
            "seed": 13,
            "rows": 500,
            "features": [
                {"name": "num_late_payments_24m", "mean": 0.061, "std": 0.002},
                {"name": "debt_to_income", "mean": 0.031 + index / 100, "std": 0.003},
                {"name": "noise_1", "mean": 0.0001, "std": 0.0004},
            ],
        },
        **extra,
    }


def _lock(index: int) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "stages": {
            "prepare": {
                "cmd": "python -m credit_example prepare",
                "deps": [{"path": "data", "hash": "md5", "md5": DATA_MD5[index], "nfiles": 1}],
                "params": {"params.yaml": {"prepare": {"seed": 7}}},
                "outs": [{"path": "prepared/train.csv", "hash": "md5", "md5": "e" * 32}],
            },
            "train": {
                "cmd": "python -m credit_example train",
                "deps": [{"path": "prepared/train.csv", "hash": "md5", "md5": "e" * 32}],
                "params": {"params.yaml": {"train": {"max_leaf_nodes": 15 + index}}},
                "outs": [{"path": "models/credit.skops", "hash": "md5", "md5": MODEL_MD5[index]}],
            },
            "evaluate": {
                "cmd": "python -m credit_example evaluate",
                "deps": [{"path": "models/credit.skops", "hash": "md5", "md5": MODEL_MD5[index]}],
                "outs": [
                    {"path": "models/credit.baseline.json", "hash": "md5", "md5": "9" * 32},
                    {"path": "metrics/credit.json", "hash": "md5", "md5": str(index) * 32},
                ],
            },
        },
    }


def _write_version(
    repo: Path, index: int, card_extra: dict[str, Any], metric_names: dict[str, float]
) -> None:
    files: dict[str, Any] = {
        "gitml.yaml": GITML_YAML,
        "dvc.yaml": {"artifacts": {"credit": {"path": "models/credit.skops", "type": "model"}}},
        "dvc.lock": _lock(index),
        "data.dvc": {
            "outs": [{"md5": DATA_MD5[index], "nfiles": 1, "hash": "md5", "path": "data"}]
        },
        "params.yaml": {"prepare": {"seed": 7}, "train": {"max_leaf_nodes": 15 + index}},
        "data.schema.yaml": {"columns": {"income": {"type": "float"}}},
        "models/credit.card.yaml": _card(index, card_extra),
        "models/credit.baseline.json": {"format": 1, "rows": 1500},
    }
    for path, document in files.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(document, sort_keys=False))
    metrics = {"roc_auc": 0.81 + index / 100, "log_loss": 0.3 - index / 100, **metric_names}
    metrics["fairness"] = {"region": {"demographic_parity_difference": 0.03 + index / 100}}
    (repo / "metrics").mkdir(exist_ok=True)
    (repo / "metrics/credit.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (repo / "metrics/credit_segments.json").write_text(
        json.dumps(_segments(0.03 + index / 100), indent=2) + "\n"
    )


def _tag(repo: Path, name: str, commit: str, record: Record, clock: Clock) -> None:
    clock.tick()
    git(repo, "tag", "-a", name, commit, "-m", record_message(f"gitml: {name}", record))


def _record(index: int, commit: str, kind: Kind, stage: str | None, pr: int) -> Record:
    lineage: dict[str, Any] = {}
    if kind is Kind.REGISTRATION:
        lineage = {
            "artifact": "models/credit.skops",
            "commit": commit,
            "inputs": {"data": DATA_MD5[index]},
            "params_digest": LOCK_SHA[index],
            "stages": {"prepare": "a" * 64, "train": LOCK_SHA[index]},
            "metrics": {"roc_auc": 0.81 + index / 100},
        }
    else:
        lineage = {"stage": stage, "branch_commit": commit}
    return Record(
        kind=kind,
        model="credit",
        version=f"v0.{index + 1}.0",
        md5=MODEL_MD5[index],
        pull_request=pr,
        merged_by="grace",
        author="ada",
        approvers=("linus", "margaret"),
        run_url=RUN.format(100 + pr),
        writer="gitml test",
        **lineage,
    )


def build_registry(
    repo: Path,
    clock: Clock,
    card_extra: dict[str, Any] | None = None,
    metric_names: dict[str, float] | None = None,
) -> None:
    """Two versions of credit: v0.1.0 promoted to production, then a retraining prompted
    by drift, registered as v0.2.0 and promoted to production in its place."""
    git(repo.parent, "init", "-q", "-b", "main", str(repo))
    _write_version(repo, 0, card_extra or {}, metric_names or {})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Merge pull request #1 from acme/first-model")
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    _tag(repo, "credit@v0.1.0", first, _record(0, first, Kind.REGISTRATION, None, 1), clock)
    _tag(
        repo,
        "credit#production#1",
        first,
        _record(0, first, Kind.PROMOTION, "production", 2),
        clock,
    )
    # The monitor's recorded check of v0.1.0 in production, which found the drift.
    found_at = int(clock.tick().removeprefix("@").split()[0])
    record_drift(repo, "credit", "v0.1.0", 1, "drift", found_at, names=("income",))
    clock.tick()
    _write_version(repo, 1, card_extra or {}, metric_names or {})
    git(repo, "add", "-A")
    git(
        repo,
        "commit",
        "-qm",
        "Retrain credit on new data: batch-001.csv (4,000 rows)\n\n"
        "Why: gitml drift: verdict drift for credit on 4000 rows; drifted: income",
    )
    second = git(repo, "rev-parse", "HEAD").stdout.strip()
    _tag(repo, "credit@v0.2.0", second, _record(1, second, Kind.REGISTRATION, None, 3), clock)
    # The canary that judged v0.2.0 against production's v0.1.0 before its promotion.
    judged_at = int(clock.tick().removeprefix("@").split()[0])
    record_canary(repo, "credit", "v0.2.0", "v0.1.0", 1, "passed", judged_at)
    _tag(
        repo,
        "credit#production#2",
        second,
        _record(1, second, Kind.PROMOTION, "production", 4),
        clock,
    )


@pytest.fixture
def registry(tmp_path: Path, clock: Clock) -> Path:
    repo = tmp_path / "registry"
    build_registry(repo, clock)
    return repo


def _rendered(dossier: Dossier) -> dict[str, str]:
    return {
        "md": md_render.render(dossier),
        "html": html_render.render(dossier),
        "json": json.dumps(dossier.to_dict(), indent=2) + "\n",
    }


def test_dossier_matches_golden(registry: Path, request: pytest.FixtureRequest) -> None:
    for ref, name in (("credit@production", "credit-v0.2.0"), ("credit@v0.1.0", "credit-v0.1.0")):
        for suffix, text in _rendered(api.dossier(ref, root=registry)).items():
            golden = GOLDEN / f"{name}.{suffix}"
            if request.config.getoption("--update-golden"):
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_text(text)
            assert golden.exists(), f"{golden} missing: run with --update-golden"
            assert text == golden.read_text(), (
                f"{golden.name} differs (review, then --update-golden)"
            )


def assert_proofs_resolve(repo: Path, dossier: Dossier) -> None:
    """Every proof names a git object that holds what it proves; every URL is one a tag
    record holds (or the pull request page of the run it names)."""
    recorded: set[str] = set()
    for decision in dossier.oversight.decisions:
        message = git(repo, "cat-file", "-p", decision.tag.object).stdout
        recorded |= {part for part in message.replace('"', " ").split() if part.startswith("http")}
    proofs = dossier.proofs()
    assert proofs
    for proof in proofs:
        git(repo, "cat-file", "-e", proof.object)
        shown = git(repo, "cat-file", "-p", proof.object).stdout
        if proof.kind == "commit":
            assert proof.object == proof.value
        elif proof.kind == "tag":
            assert git(repo, "rev-parse", f"refs/tags/{proof.value}").stdout.strip() == proof.object
        elif proof.kind == "blob":
            commit = proof.label.rsplit(" at ", 1)[1]
            found = git(repo, "rev-parse", f"{commit}:{proof.value}").stdout.strip()
            assert found == proof.object, proof
        elif proof.kind in ("md5", "run"):
            assert proof.value in shown, proof
        elif proof.kind == "pull_request":
            assert f'"pull_request": {proof.value[1:]}' in shown, proof
        if proof.url is not None:
            run = proof.url.rsplit("/pull/", 1)[0] if proof.kind == "pull_request" else proof.url
            assert run in recorded or any(r.startswith(run + "/") for r in recorded), proof


def test_every_proof_resolves_to_a_git_object(registry: Path) -> None:
    for ref in ("credit@v0.1.0", "credit@v0.2.0"):
        assert_proofs_resolve(registry, api.dossier(ref, root=registry))


def test_rebuilt_from_the_same_refs_byte_identical(registry: Path, tmp_path: Path) -> None:
    first = _rendered(api.dossier("credit@production", root=registry))
    # A clone has the same refs and objects; nothing else (time, path, cache) may show.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(registry), str(clone))
    git(clone, "fetch", "-q", "--tags", "origin")
    assert _rendered(api.dossier("credit@production", root=clone, local=True)) == first
    assert _rendered(api.dossier("credit@v0.2.0", root=registry)) == first


def test_facts_of_each_section(registry: Path) -> None:
    dossier = api.dossier("credit@production", root=registry)
    assert dossier.version == "v0.2.0"
    assert [h.stage for h in dossier.general.stages] == ["production"]
    assert dossier.data.inputs_from == "record"
    assert [(i.path, i.md5) for i in dossier.data.inputs] == [("data", DATA_MD5[1])]
    assert dossier.data.data_gate_stages == ("main",)
    gates = {g.stage: g for g in dossier.metrics.gates}
    assert gates["production"].proof is not None
    assert gates["production"].proof.value == "credit#production#2"
    assert "roc_auc 0.82: within min 0.8" in gates["production"].bounds
    assert [s.column for s in dossier.fairness.segments] == ["region"]
    assert dossier.fairness.gap_gates == (
        "production: fairness.region.demographic_parity_difference: max 0.1",
    )
    assert next(f.name for f in dossier.fairness.importance) == "num_late_payments_24m"
    decisions = [
        (d.event, d.stage, d.pull_request.value if d.pull_request else None)
        for d in dossier.oversight.decisions
    ]
    assert decisions == [("registration", None, "#3"), ("promotion", "production", "#4")]
    changes = dossier.changes
    assert changes.against == "v0.1.0"
    assert changes.reason == "the version it replaced in production"
    assert {c.name for c in changes.metrics} >= {"roc_auc", "log_loss"}
    assert [(c.name, c.before, c.after) for c in changes.inputs] == [
        ("data", DATA_MD5[0], DATA_MD5[1])
    ]
    assert changes.stages == ("evaluate", "prepare", "train")
    drift = dossier.monitoring.drift
    assert [(e.relation, e.line) for e in drift] == [
        (
            "led to this version",
            "gitml drift: verdict drift for credit on 4000 rows; drifted: income",
        )
    ]
    # v0.1.0 held production when the drift was found: the same commit, seen from there.
    older = api.dossier("credit@v0.1.0", root=registry)
    assert [e.relation for e in older.monitoring.drift] == ["while this version held production"]
    # The recorded check is v0.1.0's own, proven by its tag; v0.2.0 has none.
    [check] = older.monitoring.checks
    assert (check.tag.value, check.verdict, check.drifted) == (
        "gitml.drift/credit/1",
        "drift",
        ("income",),
    )
    assert git(registry, "cat-file", "-t", check.tag.object).stdout.strip() == "tag"
    assert dossier.monitoring.checks == ()
    [canary] = dossier.monitoring.canaries
    assert (canary.tag.value, canary.verdict, canary.against, canary.windows) == (
        "gitml.canary/credit/1",
        "passed",
        "v0.1.0",
        3,
    )
    assert older.monitoring.canaries == ()
    assert older.changes.against is None


def test_missing_human_fields_are_listed_not_invented(registry: Path) -> None:
    dossier = api.dossier("credit@production", root=registry)
    assert [str(m) for m in dossier.missing] == [
        "not provided in models/credit.card.yaml: known_risks",
        "not provided in models/credit.card.yaml: human_oversight",
    ]
    markdown = md_render.render(dossier)
    assert "not provided in models/credit.card.yaml: known\\_risks" in markdown
    assert dossier.oversight.human_oversight is None


def test_a_complete_card_leaves_nothing_missing(tmp_path: Path, clock: Clock) -> None:
    repo = tmp_path / "complete"
    extra = {"known_risks": ["Proxy discrimination via region."], "human_oversight": "Officer."}
    build_registry(repo, clock, card_extra=extra)
    dossier = api.dossier("credit@v0.2.0", root=repo)
    assert dossier.missing == ()
    assert dossier.oversight.human_oversight == "Officer."


HOSTILE = (
    '<script>alert(1)</script><img src="https://evil.example/x.png"> @acme/team #12 '
    "[click](https://evil.example) | cell ![i](https://evil.example/i.png) $x$ `code`"
)


def test_hostile_card_text_and_metric_names_are_inert(tmp_path: Path, clock: Clock) -> None:
    repo = tmp_path / "hostile"
    extra = {"intended_use": HOSTILE, "limitations": [HOSTILE], "human_oversight": HOSTILE}
    build_registry(repo, clock, card_extra=extra, metric_names={"<b>x</b>|@y": 1.0})
    dossier = api.dossier("credit@v0.2.0", root=repo)
    page = html_render.render(dossier)
    assert "<script" not in page
    assert "<img" not in page
    assert 'src="' not in page
    assert 'href="https://evil' not in page
    assert "&lt;script&gt;" in page
    markdown = md_render.render(dossier)
    tokens = MarkdownIt("commonmark", {"html": True}).enable(["table"]).parse(markdown)
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                href = str(child.attrGet("href"))
                assert href.startswith(("#", "https://github.com/acme/credit/")), href
            assert child.type != "image"
            if child.type == "html_inline":
                allowed = ("<code>", "</code>", "<a id=", "</a>", "<span>", "</span>")
                assert child.content.startswith(allowed), child.content
    assert "@acme" not in markdown
    assert "<script" not in markdown


def test_cli_writes_each_format_safely(registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    gitml(registry, "dossier", "credit@production", "--format", "html", "-o", str(out))
    assert out.read_text() == html_render.render(api.dossier("credit@production", root=registry))
    again = gitml(
        registry, "dossier", "credit@production", "--format", "html", "-o", str(out), check=False
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr
    data = json.loads(gitml(registry, "dossier", "credit@v0.1.0", "--json").stdout)
    assert data["version"] == "v0.1.0"
    assert data["format"] == 1
    md = gitml(registry, "dossier", "credit@v0.1.0").stdout
    assert md.startswith("# Dossier: credit v0.1.0")
    unknown = gitml(registry, "dossier", "credit@v9.9.9", check=False)
    assert unknown.returncode == 1
    assert "version not found" in unknown.stderr
    empty = gitml(registry, "dossier", "credit@staging", check=False)
    assert empty.returncode == 1
    assert "no version of credit is recorded in staging" in empty.stderr


def open_in_chromium(page_file: Path) -> tuple[list[str], list[str]]:
    """The console errors and the requests of ``page_file`` opened from ``file://``."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri(), wait_until="load")
            assert page.title().startswith("Dossier: credit")
            # Following a proof citation stays on the page.
            page.click("a.proof >> nth=0")
        finally:
            browser.close()
    return errors, requests


def test_html_opens_in_chromium_without_errors_or_requests(tmp_path: Path, clock: Clock) -> None:
    repo = tmp_path / "hostile"
    build_registry(repo, clock, card_extra={"intended_use": HOSTILE}, metric_names={"<i>m": 1.0})
    page_file = tmp_path / "dossier.html"
    page_file.write_text(html_render.render(api.dossier("credit@production", root=repo)))
    errors, requests = open_in_chromium(page_file)
    assert errors == []
    assert {r.split("#")[0] for r in requests} == {page_file.as_uri()}


@pytest.mark.slow
def test_example_registered_version(origin_repo: Path, tmp_path: Path, clock: Clock) -> None:
    """The example pipeline, trained and registered by gitml: its dossier is complete but
    for the human fields its card lacks; proofs resolve; a fresh clone gives the same
    bytes; the HTML opens cleanly. Prints the time against show + history + the card."""
    repo = origin_repo
    api.register(root=repo, push=True)
    dossier = api.dossier("credit@v0.1.0", root=repo)
    assert_proofs_resolve(repo, dossier)
    assert {m.field for m in dossier.missing} <= {
        "known_risks",
        "human_oversight",
        "limitations",
        "intended_use",
    }
    assert dossier.general.artifact is not None
    assert dossier.general.artifact.md5
    assert dossier.data.inputs
    assert dossier.development.stages
    assert dossier.metrics.metrics
    assert dossier.monitoring.baseline is not None
    clone = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(repo.parent / "origin.git"), str(clone))
    page = tmp_path / "example.html"
    gitml(clone, "dossier", "credit@v0.1.0", "--format", "html", "-o", str(page))
    assert page.read_text() == html_render.render(dossier)
    errors, requests = open_in_chromium(page)
    assert errors == []
    assert {r.split("#")[0] for r in requests} == {page.as_uri()}
    timings = measure(clone)
    print(f"\ndossier timings on a fresh clone: {timings}")
    assert timings["dossier"] < 5.0


def measure(clone: Path, repeats: int = 3) -> dict[str, float]:
    """Best-of wall time of ``gitml dossier`` and of its floor, ``gitml show`` + ``gitml
    history`` + reading the card (``show`` answers with the card), as the commands a user
    runs and as API calls."""

    def best(*commands: tuple[str, ...]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for command in commands:
                gitml(clone, *command)
            times.append(time.perf_counter() - start)
        return min(times)

    def best_call(call: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return min(times)

    shutil.rmtree(Path.home() / ".cache" / "gitml", ignore_errors=True)
    card = ("show", "credit@v0.1.0", "--json")  # the card is part of show's answer
    return {
        "dossier": round(best(("dossier", "credit@v0.1.0", "--format", "html")), 3),
        "floor": round(best(card, ("history", "credit")), 3),
        # In-process, without the interpreter's start-up that each command pays.
        "dossier_api": round(
            best_call(lambda: html_render.render(api.dossier("credit@v0.1.0", root=clone))), 3
        ),
        "floor_api": round(
            best_call(
                lambda: (api.show("credit@v0.1.0", root=clone), api.history("credit", root=clone))
            ),
            3,
        ),
    }


@pytest.mark.slow
def test_register_workflow_uploads_the_dossier(
    origin_repo: Path, tmp_path: Path, clock: Clock
) -> None:
    """register.yml under act: the version it registers gets its HTML and JSON dossier
    uploaded as the `gitml-dossier` artefact (the upload stand-in keeps them locally)."""
    from tests.helpers import dvc
    from tests.registry_flow import remote_tags
    from tests.workflows.act import REPOSITORY, run_act

    repo = origin_repo
    # act runs the job in a copy elsewhere: the DVC remote must be named absolutely.
    dvc(repo, "remote", "add", "--force", "--default", "storage", str(tmp_path / "dvc-remote"))
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    git(repo, "push", "-q", "--force", "origin", "main")
    payload = {"ref": "refs/heads/main", "repository": {"full_name": REPOSITORY}}
    result = run_act(repo, "push", "register.yml", "register", payload, tmp_path / "act")
    assert result.returncode == 0, result.output[-4000:]
    assert remote_tags(repo) == ["credit@v0.1.0"]
    uploaded = result.artifacts / "gitml-dossier"
    assert sorted(p.name for p in uploaded.iterdir()) == [
        "credit@v0.1.0.dossier.html",
        "credit@v0.1.0.dossier.json",
    ]
    git(repo, "fetch", "-q", "--tags", "origin")
    dossier = api.dossier("credit@v0.1.0", root=repo)
    assert (uploaded / "credit@v0.1.0.dossier.html").read_text() == html_render.render(dossier)
    data = json.loads((uploaded / "credit@v0.1.0.dossier.json").read_text())
    assert data == json.loads(json.dumps(dossier.to_dict()))
