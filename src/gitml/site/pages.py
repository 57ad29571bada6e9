"""The site's pages, rendered from what the registry holds (pure: values in, HTML out).

Pages link to each other by relative paths from :class:`Paths`, so the site works from
``file://`` and from any sub-path of GitHub Pages.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gitml.site.drift import model_drift, version_drift
from gitml.site.layout import e, keyed, page, table
from gitml.site.svg import Span, bar_chart, line_chart, timeline

if TYPE_CHECKING:
    from gitml.insights.model import Insights
    from gitml.registry.observations import ObservedEvent
    from gitml.registry.records import ModelSummary, Tenure, VersionInfo

PAGE_SIZE = 500  # versions per page of a model's versions table
# A model page stays under 1 MB at any registry size: its timeline shows the latest
# tenures, and a trend chart samples at most this many versions (evenly, last included).
TENURES_SHOWN = 250
TREND_POINTS = 400
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(name: str) -> str:
    """A file name for ``name``: its safe characters, plus a digest when any were
    dropped (so ``a/b`` and ``a-b`` never share a file, and ``..`` is never a path)."""
    safe = _UNSAFE.sub("-", name).strip(".-")[:60]
    if safe == name and safe:
        return safe
    return f"{safe or 'x'}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class ModelPages:
    """Everything the pages of one model show."""

    summary: ModelSummary
    versions: tuple[VersionInfo, ...]  # greatest first, as ``gitml show MODEL`` lists them
    tenures: tuple[Tenure, ...]
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # version -> flat params
    drift_checks: tuple[ObservedEvent, ...] = ()  # recorded drift checks, oldest first

    @cached_property
    def checks_by_version(self) -> dict[str, list[ObservedEvent]]:
        """The recorded drift checks of each version, oldest first."""
        found: dict[str, list[ObservedEvent]] = {}
        for check in self.drift_checks:
            found.setdefault(check.observation.version, []).append(check)
        return found

    @property
    def dir(self) -> str:
        """The model's directory, relative to the site root."""
        return f"models/{slug(self.summary.model)}"

    def page_name(self, number: int) -> str:
        """File name of the versions page ``number`` (1-based)."""
        return "index.html" if number == 1 else f"versions-{number}.html"

    @property
    def page_count(self) -> int:
        """How many versions pages the model has."""
        return max(1, -(-len(self.versions) // PAGE_SIZE))


def version_file(version: str) -> str:
    """File name of a version's page inside its model's directory."""
    return f"version-{slug(version)}.html"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def _code(text: object) -> str:
    return f"<code>{e(text)}</code>"


def _metrics(v: VersionInfo) -> dict[str, float]:
    raw = v.record.get("metrics") or {}
    return {str(k): float(x) for k, x in raw.items() if isinstance(x, int | float)}


def _status(v: VersionInfo) -> str:
    if not v.registered:
        return "assigned commit (no version tag)"
    return "registered" if v.active else "deregistered"


# -- the index ------------------------------------------------------------------------


def index_page(models: list[ModelPages]) -> str:
    """Every model: latest version, versions count and what each stage holds."""
    stages = list(dict.fromkeys(s.stage for m in models for s in m.summary.stages))
    rows = []
    for m in models:
        s = m.summary
        held = {x.stage: x for x in s.stages}
        link = f'<a href="{e(m.dir)}/index.html">{e(s.model)}</a>'
        if s.deprecated:
            link += " (deprecated)"
        latest = (
            f'<a href="{e(m.dir)}/{e(version_file(s.latest))}">{e(s.latest)}</a>'
            if s.latest
            else "none"
        )
        cells = [link, latest, keyed(e(s.versions), s.versions)]
        for stage in stages:
            info = held.get(stage)
            cells.append(e(info.version) if info is not None and info.version else "")
        rows.append(cells)
    body = (
        f"<p>{len(models)} models, read from the registry's git tags and stage branches.</p>"
        + table(("model", "latest", "versions", *stages), rows, sortable=True, caption="Models")
    )
    return page("Model registry", body, home="", sortable=True)


# -- a model --------------------------------------------------------------------------


def _stage_table(m: ModelPages) -> str:
    rows = []
    for s in m.summary.stages:
        pending = f"branch tip holds {e(s.tip_version or 'an unregistered artefact')}"
        rows.append(
            [
                e(s.stage),
                e(s.version) if s.version else "nothing",
                e(_when(s.assigned_at)),
                _code(s.branch),
                pending if s.pending else "",
            ]
        )
    return table(("stage", "holds", "since", "branch", "pending"), rows, caption="Stages")


def _sample(points: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """At most :data:`TREND_POINTS` of ``points``, evenly spaced, the last one kept."""
    if len(points) <= TREND_POINTS:
        return points
    step = len(points) / (TREND_POINTS - 1)
    picked = [points[int(i * step)] for i in range(TREND_POINTS - 1)]
    return [*picked, points[-1]]


def _trends(m: ModelPages) -> str:
    ordered = [v for v in reversed(m.versions) if v.registered]
    names = sorted({k for v in ordered for k in _metrics(v)})
    charts = []
    for name in names:
        points = _sample([(v.version, _metrics(v)[name]) for v in ordered if name in _metrics(v)])
        chart = line_chart(f"{name} across versions of {m.summary.model}", points)
        charts.append(
            f"<figure>{chart}<figcaption>{e(name)}, oldest version first</figcaption></figure>"
        )
    return "".join(charts) or "<p><em>no metrics recorded with the registrations</em></p>"


def _timeline(m: ModelPages, now: datetime) -> str:
    shown = m.tenures[-TENURES_SHOWN:]
    spans = [Span(t.stage, t.version, t.start, t.end or now, t.ended) for t in shown]
    rows = [
        [
            e(t.stage),
            e(t.version) + (" (deregistered)" if t.deregistered else ""),
            e(_when(t.start)),
            e(_when(t.end)) if t.end else "still holding",
            e(t.began),
            e(t.ended),
        ]
        for t in shown
    ]
    earlier = len(m.tenures) - len(shown)
    note = (
        f"<p>The latest {len(shown)} tenures; {earlier} earlier ones: "
        f"{_code(f'gitml history {m.summary.model}')}.</p>"
        if earlier
        else ""
    )
    chart = timeline(f"stage timeline of {m.summary.model}", spans)
    return (
        note
        + (f"<figure>{chart}</figure>" if chart else "")
        + table(
            ("stage", "version", "from", "until", "began by", "ended by"), rows, caption="Tenures"
        )
    )


def model_page(m: ModelPages, number: int, now: datetime) -> str:
    """Page ``number`` of a model: stages, drift, trends, timeline and its versions."""
    s = m.summary
    chunk = m.versions[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    metric_names = sorted({k for v in chunk for k in _metrics(v)})
    rows = []
    for v in chunk:
        metrics = _metrics(v)
        stamp = v.registered_at.timestamp() if v.registered_at else 0
        rows.append(
            [
                f'<a href="{e(version_file(v.version))}">{e(v.version)}</a>',
                keyed(e(_when(v.registered_at)), stamp),
                e(v.lineage.author or v.author),
                e(", ".join(v.stages)),
                e(_status(v)),
                *[e(f"{metrics[k]:.6g}") if k in metrics else "" for k in metric_names],
            ]
        )
    nav = ""
    if m.page_count > 1:
        links = [
            e(str(n)) if n == number else f'<a href="{m.page_name(n)}">{n}</a>'
            for n in range(1, m.page_count + 1)
        ]
        nav = f'<nav class="pages" aria-label="versions pages">Pages: {" ".join(links)}</nav>'
    parts = [
        f"<p>Latest version: {e(s.latest or 'none')}; {len(m.versions)} versions"
        + ("; the model is deprecated" if s.deprecated else "")
        + ".</p>",
    ]
    if number == 1:
        parts += [
            "<h2>Stages</h2>",
            _stage_table(m),
            "<h2>Drift</h2>",
            model_drift(s.stages, m.drift_checks),
            "<h2>Metric trends</h2>",
            _trends(m),
            "<h2>Stage timeline</h2>",
            _timeline(m, now),
        ]
    parts += [
        "<h2>Versions</h2>",
        nav,
        table(
            ("version", "registered", "author", "stages", "status", *metric_names),
            rows,
            sortable=True,
            caption=f"Versions of {s.model}, greatest first",
        ),
        nav,
    ]
    title = f"Model {s.model}" + (f" (versions page {number})" if number > 1 else "")
    return page(title, "\n".join(parts), home="../../", sortable=True)


# -- a version ------------------------------------------------------------------------


def _pairs(data: dict[str, Any], caption: str) -> str:
    rows = [[_code(k), _code(v)] for k, v in sorted(data.items())]
    return table(("name", "value"), rows, caption=caption)


def _diff(old: dict[str, Any], new: dict[str, Any], caption: str) -> str:
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        change = ""
        if isinstance(a, int | float) and isinstance(b, int | float):
            change = f"{b - a:+.6g}"
        rows.append(
            [_code(key), _code("" if a is None else a), _code("" if b is None else b), e(change)]
        )
    if not rows:
        return f"<p>{e(caption)}: unchanged.</p>"
    return table(("name", "before", "after", "change"), rows, caption=caption)


def version_page(m: ModelPages, v: VersionInfo, replaced: VersionInfo | None) -> str:
    """A version: its card, lineage, metrics and params, and what changed since the
    version it replaced (the next lower one)."""
    lin = v.lineage
    card = [
        ["model", f'<a href="index.html">{e(v.model)}</a>'],
        ["version", e(v.version)],
        ["status", e(_status(v))],
        ["stages held now", e(", ".join(v.stages) or "none")],
        ["registered", e(_when(v.registered_at))],
        ["registered by", e(f"{v.author} <{v.email}>" if v.email else v.author)],
        ["commit", _code(v.commit)],
        ["tag", _code(v.tag or "")],
        ["artefact", _code(v.artifact or "")],
        ["md5", _code(v.md5 or "")],
        ["pull request", e(f"#{v.pull_request}" if v.pull_request else "")],
        ["merged by", e(v.merged_by or "")],
    ]
    lineage = [
        ["author", e(lin.author or "")],
        ["approvers", e(", ".join(lin.approvers))],
        ["CI run", _code(lin.run_url or "")],
        ["params digest", _code(lin.params_digest or "")],
    ]
    lineage += [[f"input {_code(p)}", _code(md5)] for p, md5 in sorted(lin.inputs.items())]
    lineage += [[f"stage {_code(p)}", _code(d)] for p, d in sorted(lin.pipeline_stages.items())]
    params = m.params.get(v.version, {})
    parts = [
        "<h2>Card</h2>",
        table(("field", "value"), card, caption="Version card"),
        "<h2>Lineage</h2>",
        table(("field", "value"), lineage, caption="Recorded lineage"),
        "<h2>Metrics</h2>",
        _pairs(_metrics(v), "Metrics recorded at registration"),
        "<h2>Params</h2>",
        _pairs(params, "params.yaml at the registered commit"),
        "<h2>Drift checks</h2>",
        version_drift(m.checks_by_version.get(v.version, [])),
        "<h2>Changes since the version it replaced</h2>",
    ]
    if replaced is None:
        parts.append("<p>The first version of the model: nothing to compare with.</p>")
    else:
        parts += [
            f'<p>Compared with <a href="{e(version_file(replaced.version))}">'
            f"{e(replaced.version)}</a>.</p>",
            _diff(_metrics(replaced), _metrics(v), "Metrics"),
            _diff(m.params.get(replaced.version, {}), params, "Params"),
            _diff(dict(replaced.lineage.inputs), dict(lin.inputs), "Data inputs (md5)"),
        ]
    parts.append(
        "<p>Every fact with the git object that proves it: "
        f"{_code(f'gitml dossier {v.model}@{v.version} --format html')}.</p>"
    )
    return page(f"{v.model} {v.version}", "\n".join(parts), home="../../")


# -- insights -------------------------------------------------------------------------


def insights_page(found: Insights | None, reason: str = "") -> str:
    """The delivery figures, each with its definition and a chart of its values."""
    if found is None:
        return page("Insights", f"<p>{e(reason)}</p>", home="")
    since = _when(found.since) or "the first event"
    parts = [f"<p>From {e(since)} to {e(_when(found.until))}, stage {e(found.stage)}.</p>"]
    for figure in found.figures:
        parts.append(f"<h2>{e(figure.name)}</h2><p>{e(figure.definition)}</p>")
        if figure.no_data:
            parts.append(f"<p><em>{e(figure.no_data)}</em></p>")
            continue
        parts.append(f"<p>{e(figure.summary)}</p>")
        bars = [(k, float(x)) for k, x in figure.values.items() if x is not None]
        chart = bar_chart(figure.name, bars)
        if chart:
            parts.append(f"<figure>{chart}</figure>")
        rows = [[e(k), e("no data" if x is None else f"{x:.6g}")] for k, x in figure.values.items()]
        parts.append(table(("value", "number"), rows, caption=figure.name))
    return page("Insights", "\n".join(parts), home="")
