"""`gitml demo`: the whole loop in a sandbox, with its transcript's key lines asserted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gitml.demo import EXAMPLE_FILES
from tests.helpers import PROJECT_ROOT, gitml

if TYPE_CHECKING:
    from pathlib import Path


def test_shipped_example_is_the_repositorys_own() -> None:
    templates = PROJECT_ROOT / "src" / "gitml" / "templates" / "example"
    for shipped, own in EXAMPLE_FILES.items():
        assert (templates / shipped).read_bytes() == (PROJECT_ROOT / own).read_bytes(), own


@pytest.mark.slow
def test_demo_plays_the_whole_loop(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    result = gitml(tmp_path, "demo", "--rows", "4000", "--dir", str(sandbox), "--keep")
    out = result.stdout
    for line in [
        "=== 1. A team repository: data, pipeline, baseline model",
        "credit: registered v0.1.0",
        "credit v0.1.0 → staging: recorded as credit#staging#1",
        "credit v0.1.0 → production: recorded as credit#production#2",
        "## gitml report: <code>workspace</code> vs <code>main</code>",
        "| credit | 🟢 improved | roc\\_auc 0.8209 → 0.8333 (+0.0124, +1.51%) |",
        "credit: registered v0.2.0",
        "credit v0.2.0 → staging: recorded as credit#staging#3",
        "  deploy/staging: version v0.1.0 → v0.2.0",
        "  deploy/production: image ghcr.io/acme/credit:credit-v0.2.0 → "
        "ghcr.io/acme/credit:credit-v0.1.0",
        "credit → production: failed (baseline credit@v0.1.0 (production))",
        "credit v0.2.0 → production: recorded as credit#production#4",
        "credit v0.1.0 → production: recorded as credit#production#5",
        "credit  v0.3.0  3         v0.2.0   v0.1.0",
        "ok: 3 version(s), 2 stage branch(es) checked, 0 problem(s)",
        "=== 6. For the auditor: lineage and the dossier of what runs in production",
        "$ gitml lineage credit@production",
        "=== 7. Canary: the policy stops a bad candidate and passes a good one",
        "canary of v0.3.0 for production: stopped after 1 window against v0.1.0",
        "canary of v0.2.0 for production: passed after 3 windows against v0.1.0",
        f"Sandbox kept at {sandbox}",
    ]:
        assert line in out, line
    assert "rolled production back to v0.1.0" in out
    assert (sandbox / "production.skops").is_file()
    dossier = (sandbox / "credit-production.dossier.html").read_text()
    assert "credit v0.1.0" in dossier


def test_demo_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("keep me")
    result = gitml(tmp_path, "demo", "--dir", str(tmp_path / "x"), check=False)
    assert result.returncode == 1
    assert "not empty" in result.stderr
    assert (tmp_path / "x" / "file").read_text() == "keep me"
