"""``gitml site``: the static registry site of a scripted registry, opened in a real
headless Chromium from ``file://``.

The registry is the seeded fast-import plan of :mod:`tests.test_search` (two models,
36 versions, promotions, deregistrations, at fixed dates), with hostile text planted in
an author, a metric name and a params value. Every page is opened: no console error, no
request outside the site's directory, no hostile markup alive; what the pages show
equals ``gitml registry --json`` / ``gitml show --json``; the versions table sorts;
axe-core finds no serious or critical accessibility violation.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gitml.site.layout import CSP, SORT_SCRIPT
from gitml.site.pages import slug
from tests.axe.install import axe_source
from tests.helpers import gitml
from tests.observe import record_drift
from tests.test_search import _build, _plan

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

HOSTILE = '<img src=x onerror="document.title=1">'
HOSTILE_PARAM = "</td><script>document.title='pwned'</script>"
MAX_PAGE_BYTES = 1_000_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(repository, site directory) of the scripted registry."""
    base = tmp_path_factory.mktemp("site")
    versions, events = _plan()
    versions[0].author = HOSTILE
    versions[1].metrics = {**versions[1].metrics, HOSTILE: 0.5}
    versions[2].params = {**versions[2].params, "solver": HOSTILE_PARAM}
    repo = base / "repo"
    _build(repo, versions, events)
    _record_checks(repo)
    out = base / "out"
    result = gitml(repo, "site", "-o", str(out), "--local", "--json")
    assert json.loads(result.stdout)["largest_bytes"] < MAX_PAGE_BYTES
    return repo, out


def _record_checks(repo: Path) -> None:
    """Drift checks of churn: two of its production version (ok, then drift), one of an
    older version; none of the other model."""
    registry = json.loads(gitml(repo, "registry", "--json", "--local").stdout)
    churn = next(m for m in registry if m["model"] == "churn")
    held = next(s["version"] for s in churn["stages"] if s["stage"] == "production")
    at = 1_790_000_000
    record_drift(repo, "churn", held, 1, "ok", at)
    record_drift(repo, "churn", held, 2, "drift", at + 86_400, names=("tenure", HOSTILE))
    record_drift(repo, "churn", "v0.1.0", 3, "warn", at + 2 * 86_400, stage=None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            yield launched
        finally:
            launched.close()


def _pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_every_page_opens_offline_without_errors(site: tuple[Path, Path], browser: Browser) -> None:
    _, out = site
    pages = _pages(out)
    assert len(pages) == 2 + 2 + 36  # index, insights, two model pages, a page per version
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        for path in pages:
            assert path.stat().st_size < MAX_PAGE_BYTES
            page.goto(path.as_uri(), wait_until="load")
            # The hostile strings are shown as text: no element, no script ran.
            assert page.title() not in ("1", "pwned"), path
            assert page.locator("img").count() == 0, path
            assert page.locator("script").count() <= 1, path
            for link in page.locator("a").evaluate_all("as => as.map(a => a.href)"):
                target = Path(link.split("#")[0].removeprefix("file://"))
                assert target.is_file(), f"{path}: broken link {link}"
        assert errors == []
        outside = [u for u in requests if not u.startswith(out.as_uri() + "/")]
        assert outside == []
    finally:
        context.close()
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    assert "<script>document.title" not in text
    assert HOSTILE not in text
    assert "&lt;img src=x onerror=&quot;document.title=1&quot;&gt;" in text
    assert CSP.count("script-src") == 1
    assert "unsafe-inline" not in CSP.split("script-src")[1]


def _table(page: Page, selector: str) -> list[list[str]]:
    rows: list[list[str]] = page.locator(f"{selector} tbody tr").evaluate_all(
        "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )
    return rows


def test_pages_show_what_the_registry_says(site: tuple[Path, Path], browser: Browser) -> None:
    repo, out = site
    registry: list[dict[str, Any]] = json.loads(gitml(repo, "registry", "--json", "--local").stdout)
    page = browser.new_page()
    try:
        page.goto((out / "index.html").as_uri())
        header = page.locator("table thead th").all_text_contents()
        shown = {row[0]: dict(zip(header, row, strict=True)) for row in _table(page, "table")}
        assert set(shown) == {m["model"] for m in registry}
        for m in registry:
            row = shown[m["model"]]
            assert row["latest"] == m["latest"]
            assert row["versions"] == str(m["versions"])
            for stage in m["stages"]:
                assert row[stage["stage"]] == (stage["version"] or "")
            page_file = out / "models" / slug(m["model"]) / "index.html"
            listing = json.loads(gitml(repo, "show", m["model"], "--json", "--local").stdout)
            page.goto(page_file.as_uri())
            versions = [r[0] for r in _table(page, "table[data-sortable]")]
            assert versions == [v["version"] for v in listing["versions"]]
            stages = {r[0]: r[1] for r in _table(page, "table:has(caption:text-is('Stages'))")}
            assert stages == {s["stage"]: s["version"] or "nothing" for s in m["stages"]}
            _check_drift(page, m)
            assert page.locator("svg[role=img]").count() >= 3  # two metric trends, a timeline
    finally:
        page.close()


def _check_drift(page: Page, model: dict[str, Any]) -> None:
    """The drift section: churn's recorded checks, and a note for the unchecked model."""
    if model["model"] != "churn":
        assert "No drift check of this model is recorded" in page.locator("p.note").inner_text()
        return
    held = next(s["version"] for s in model["stages"] if s["stage"] == "production")
    status = _table(page, "table:has(caption:has-text('Current drift status'))")
    assert ["production", held, "drift"] in [row[:3] for row in status]
    recent = _table(page, "table:has(caption:has-text('Latest recorded drift checks'))")
    assert [row[-1] for row in recent] == [
        "gitml.drift/churn/3",
        "gitml.drift/churn/2",
        "gitml.drift/churn/1",
    ]
    assert recent[1][4] == f"tenure, {HOSTILE}"  # shown as text


def test_the_versions_table_sorts_by_a_clicked_header(
    site: tuple[Path, Path], browser: Browser, tmp_path: Path
) -> None:
    _, out = site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto((out / "models" / "churn" / "index.html").as_uri())
        table = "table[data-sortable]"
        before = [r[0] for r in _table(page, table)]
        page.click(f"{table} thead th:nth-child(2) button")  # registered, ascending
        ascending = [r[0] for r in _table(page, table)]
        page.click(f"{table} thead th:nth-child(2) button")
        descending = [r[0] for r in _table(page, table)]
        assert sorted(ascending) == sorted(before)
        assert ascending != before
        assert descending == ascending[::-1]
        assert page.get_attribute(f"{table} thead th:nth-child(2)", "aria-sort") == "descending"
        # Registration order is version order in the plan: ascending dates, ascending versions.
        assert ascending[0] == "v0.1.0"
        shot = tmp_path / "model-page.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of a model page: {shot}")
    finally:
        page.close()


def test_no_serious_accessibility_violation(site: tuple[Path, Path], browser: Browser) -> None:
    _, out = site
    axe = axe_source()
    # axe is injected by the test, not the site: the site's CSP would (rightly) refuse it.
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        chosen = [out / "index.html", out / "insights.html", out / "models/churn/index.html"]
        chosen.append(next((out / "models/churn").glob("version-*.html")))
        for path in chosen:
            page.goto(path.as_uri())
            page.evaluate(axe)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [
                (v["id"], v["help"], len(v["nodes"]))
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], f"{path}: {serious}"
    finally:
        context.close()


def test_the_sort_script_is_optional(site: tuple[Path, Path], browser: Browser) -> None:
    _, out = site
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((out / "models" / "churn" / "index.html").as_uri())
        assert page.locator("table[data-sortable] tbody tr").count() == 18
        assert page.locator("table[data-sortable] thead button").count() == 0
    finally:
        context.close()
    assert SORT_SCRIPT in (out / "index.html").read_text(encoding="utf-8")


def test_large_models_paginate(tmp_path: Path) -> None:
    from gitml.site import pages

    versions, events = _plan(count=24)
    repo = tmp_path / "repo"
    _build(repo, versions, events)
    saved = pages.PAGE_SIZE
    pages.PAGE_SIZE = 5
    try:
        from gitml import api

        start = time.perf_counter()
        built = api.site(tmp_path / "out", root=repo, local=True)
        assert time.perf_counter() - start < 10
    finally:
        pages.PAGE_SIZE = saved
    folder = tmp_path / "out" / "models" / "churn"
    assert sorted(p.name for p in folder.glob("versions-*.html")) == [
        "versions-2.html",
        "versions-3.html",
    ]
    assert built.versions == 24


def test_refuses_a_directory_that_holds_something_else(tmp_path: Path) -> None:
    versions, events = _plan(count=4)
    repo = tmp_path / "repo"
    _build(repo, versions, events)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = gitml(repo, "site", "-o", str(out), "--local", check=False)
    assert result.returncode != 0
    assert "not empty and holds no site" in result.stderr


def test_the_insights_page_shows_every_figure(site: tuple[Path, Path]) -> None:
    from gitml import api

    repo, out = site
    text = (out / "insights.html").read_text(encoding="utf-8")
    for figure in api.insights(root=repo, local=True).figures:
        assert f"<h2>{figure.name}</h2>" in text
    assert "<svg" in text  # at least one figure has values to chart


def test_a_long_history_stays_small() -> None:
    from datetime import UTC, datetime, timedelta

    from gitml.registry.records import Tenure
    from gitml.site import pages

    points = [(f"v{i}", float(i)) for i in range(10_000)]
    sampled = pages._sample(points)
    assert len(sampled) == pages.TREND_POINTS
    assert sampled[0] == points[0]
    assert sampled[-1] == points[-1]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tenures = tuple(
        Tenure("m", "staging", f"v{i}", start + timedelta(days=i), None, "promotion", "holding")
        for i in range(1000)
    )
    html = pages._timeline(
        pages.ModelPages(_summary("m"), (), tenures), start + timedelta(days=2000)
    )
    assert html.count("<rect") == pages.TENURES_SHOWN
    assert "750 earlier ones" in html


def _summary(model: str) -> Any:
    from gitml.registry.records import ModelSummary

    return ModelSummary(model=model, latest=None, versions=0, stages=())


def test_source_date_epoch_makes_the_site_reproducible(
    site: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = site
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    for name in ("a", "b"):
        gitml(repo, "site", "-o", str(tmp_path / name), "--local")
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.*")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.*")}
    assert first == second
    assert len(first) > 10
    assert "2027-01-15" in (tmp_path / "a" / "insights.html").read_text(encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    bad = gitml(repo, "site", "-o", str(tmp_path / "c"), "--local", check=False)
    assert bad.returncode == 2
    assert bad.stderr == (
        "gitml: error: SOURCE_DATE_EPOCH='yesterday': expected Unix seconds, e.g. 1767225600\n"
    )
