"""The delivery figures, computed from a :class:`~gitml.insights.events.History`.

Pure: events in, figures out, no git. Each figure keeps the events behind it
(``evidence``) so ``--explain`` can show where every number comes from, and says
``no data`` with the reason rather than report a zero the history does not support.
Durations are in seconds; the window is ``[since, until]``, both inclusive.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from types import MappingProxyType
from typing import TYPE_CHECKING

from gitml.insights.drift_figures import alert_before, drift_alerts
from gitml.insights.model import (
    DAY_S,
    Evidence,
    Figure,
    Insights,
    Window,
    count,
    seconds,
    span,
    stats,
)

if TYPE_CHECKING:
    from datetime import datetime

    from gitml.insights.events import History, Hold, Proposal

WEEK_S = 7 * 86_400
FAILED = ("rolled back", "unassigned")


def compute(
    history: History,
    until: datetime,
    since: datetime | None = None,
    *,
    model: str | None = None,
    failure_window_days: float = 7.0,
) -> Insights:
    """Every figure of ``history`` over ``[since, until]``; ``since`` None starts at the
    history's first event (and stays None when it has none)."""
    if since is None:
        starts = [p.registered_at for p in history.proposals] + [h.start for h in history.holds]
        since = min(starts) if starts else None
    window = Window(since, until) if since is not None else None
    figures = (
        deployment_frequency(history, window),
        lead_time(history, window),
        change_failure_rate(history, window, failure_window_days),
        time_to_restore(history, window, failure_window_days),
        production_tenure(history, window),
        drift_alerts(history, window),
        prs_per_author(history, window),
        proposal_share(history, window),
        retrain_latency(history, window),
    )
    return Insights(since, until, model, history.stage, failure_window_days, figures)


def _no_data(key: str, why: str) -> Figure:
    return Figure(key, f"no data: {why}", no_data=f"no data: {why}")


EMPTY = "the registry has no events for this query"


def _promotions(history: History, window: Window) -> list[Hold]:
    """Holds that began with a promotion inside the window."""
    return [h for h in history.holds if h.began == "promotion" and h.start in window]


def _hold_evidence(hold: Hold, what: str) -> Evidence:
    return Evidence(hold.start, hold.model, hold.version, what, hold.start_tag, hold.commit)


def deployment_frequency(history: History, window: Window | None) -> Figure:
    """Production promotions per week of the window."""
    key = "deployment-frequency"
    if window is None:
        return _no_data(key, EMPTY)
    if window.seconds <= 0:
        return _no_data(key, "the window has no length")
    promotions = _promotions(history, window)
    if not promotions:
        return _no_data(key, "no production promotion in the window")
    weeks = window.seconds / WEEK_S
    rate = len(promotions) / weeks
    return Figure(
        key,
        f"{rate:.2f} per week ({count(len(promotions), 'promotion')} in {weeks:.2f} weeks)",
        MappingProxyType({"per_week": rate, "promotions": len(promotions), "weeks": weeks}),
        evidence=tuple(_hold_evidence(h, "promoted to production") for h in promotions),
    )


def lead_time(history: History, window: Window | None) -> Figure:
    """First commit -> registration -> production of each version promoted in the window."""
    key = "lead-time"
    if window is None:
        return _no_data(key, EMPTY)
    registered = {(p.model, p.version): p for p in history.proposals}
    total, to_register, to_production = [], [], []
    evidence: list[Evidence] = []
    for hold in _promotions(history, window):
        proposal = registered.get((hold.model, hold.version))
        if proposal is None:
            continue  # a commit promoted unregistered: nothing was proposed
        to_production.append(seconds(proposal.registered_at, hold.start))
        first = proposal.first_commit
        if first is not None:
            total.append(seconds(first.time, hold.start))
            to_register.append(seconds(first.time, proposal.registered_at))
            evidence.append(
                Evidence(first.time, hold.model, hold.version, "first PR commit", None, first.sha)
            )
        evidence += [
            Evidence(
                proposal.registered_at,
                hold.model,
                hold.version,
                "registered",
                proposal.tag,
                proposal.commit,
            ),
            _hold_evidence(hold, "promoted to production"),
        ]
    if not to_production:
        return _no_data(key, "no registered version was promoted to production in the window")
    values = {
        **stats("commit_to_production", total),
        **stats("commit_to_registration", to_register),
        **stats("registration_to_production", to_production),
    }
    if total:
        summary = (
            f"median {span(values['commit_to_production_median'])}, "
            f"p90 {span(values['commit_to_production_p90'])} "
            f"(first commit to production, {count(len(total), 'version')})"
        )
    else:
        summary = "first commit to production: no data (no registered commit is a PR merge)"
    summary += (
        f"; registration to production median {span(values['registration_to_production_median'])}"
    )
    return Figure(key, summary, MappingProxyType(values), evidence=tuple(evidence))


def _failures(history: History, window: Window, days: float) -> tuple[list[Hold], list[Hold]]:
    """The window's promotions, and those ended by a rollback or unassignment in time."""
    promotions = _promotions(history, window)
    failed = [
        h
        for h in promotions
        if h.ended in FAILED and h.end is not None and seconds(h.start, h.end) <= days * DAY_S
    ]
    return promotions, failed


def change_failure_rate(history: History, window: Window | None, days: float) -> Figure:
    """Share of the window's production promotions rolled back or unassigned in time."""
    key = "change-failure-rate"
    if window is None:
        return _no_data(key, EMPTY)
    promotions, failed = _failures(history, window, days)
    if not promotions:
        return _no_data(key, "no production promotion in the window")
    rate = len(failed) / len(promotions)
    evidence = [_hold_evidence(h, _outcome(h, h in failed)) for h in promotions]
    return Figure(
        key,
        f"{rate:.0%} ({len(failed)} of {count(len(promotions), 'promotion')} failed "
        f"within {days:g} days)",
        MappingProxyType({"rate": rate, "failed": len(failed), "promotions": len(promotions)}),
        evidence=tuple(evidence),
    )


def _outcome(hold: Hold, failed: bool) -> str:
    """How a promotion's hold ended, and by which tag: ``promoted; rolled back at T by
    TAG (failure)``."""
    what = f"promoted; {hold.ended}"
    if hold.end is not None:
        what += f" at {hold.end.isoformat(' ')[:19]}"
    if hold.end_tag:
        what += f" by {hold.end_tag}"
    return what + (" (failure)" if failed else "")


def time_to_restore(history: History, window: Window | None, days: float) -> Figure:
    """Promotion -> recorded rollback or unassignment, for each failed promotion."""
    key = "time-to-restore"
    if window is None:
        return _no_data(key, EMPTY)
    _, failed = _failures(history, window, days)
    if not failed:
        return _no_data(key, "no failed production promotion in the window")
    spans = [seconds(h.start, h.end) for h in failed if h.end is not None]
    values = stats("restore", spans)
    evidence: list[Evidence] = []
    for h in failed:
        evidence.append(_hold_evidence(h, "promoted to production"))
        if h.end is not None:
            evidence.append(Evidence(h.end, h.model, h.version, h.ended, h.end_tag))
    return Figure(
        key,
        f"median {span(values['restore_median'])}, p90 {span(values['restore_p90'])} "
        f"({count(len(spans), 'failure')})",
        MappingProxyType(values),
        evidence=tuple(evidence),
    )


def production_tenure(history: History, window: Window | None) -> Figure:
    """Per version, the time it held production inside the window."""
    key = "production-tenure"
    if window is None:
        return _no_data(key, EMPTY)
    held: dict[str, float] = defaultdict(float)
    evidence = []
    for h in history.holds:
        if h.start > window.until or (h.end is not None and h.end < window.since):
            continue
        start = max(h.start, window.since)
        end = min(h.end or window.until, window.until)
        held[f"{h.model}@{h.version}"] += seconds(start, end)
        evidence.append(
            Evidence(
                h.start,
                h.model,
                h.version,
                f"held from {h.began} until {h.ended}"
                + (f" at {h.end.isoformat()}" if h.end else ""),
                h.start_tag,
            )
        )
    if not held:
        return _no_data(key, "no version held production in the window")
    median = statistics.median(held.values())
    longest = max(held, key=lambda name: held[name])
    return Figure(
        key,
        f"median {span(median)} over {count(len(held), 'version')}; "
        f"longest {longest} {span(held[longest])}",
        MappingProxyType(dict(held)),
        evidence=tuple(evidence),
    )


def prs_per_author(history: History, window: Window | None) -> Figure:
    """Distinct registering pull requests per recorded author and month."""
    key = "prs-per-author"
    if window is None:
        return _no_data(key, EMPTY)
    prs: dict[str, set[int]] = defaultdict(set)
    evidence = []
    for p in _proposed(history, window):
        if p.pull_request is None:
            continue
        author = p.author or "(author not recorded)"
        prs[f"{author} {p.registered_at:%Y-%m}"].add(p.pull_request)
        evidence.append(
            Evidence(
                p.registered_at,
                p.model,
                p.version,
                f"PR #{p.pull_request} by {author}",
                p.tag,
                p.commit,
            )
        )
    if not prs:
        return _no_data(key, "no version registered in the window records a pull request")
    counts = {cell: float(len(numbers)) for cell, numbers in sorted(prs.items())}
    mean = statistics.fmean(counts.values())
    return Figure(
        key,
        f"{mean:.2f} per author-month ({sum(counts.values()):g} PRs, "
        f"{count(len(counts), 'author-month')})",
        MappingProxyType(counts),
        evidence=tuple(evidence),
    )


def proposal_share(history: History, window: Window | None) -> Figure:
    """Share of the window's registered versions that held production by its end."""
    key = "proposal-share"
    if window is None:
        return _no_data(key, EMPTY)
    proposed = _proposed(history, window)
    if not proposed:
        return _no_data(key, "no version was registered in the window")
    first_hold: dict[tuple[str, str], Hold] = {}
    for h in history.holds:
        if h.start <= window.until:
            first_hold.setdefault((h.model, h.version), h)
    reached = [p for p in proposed if (p.model, p.version) in first_hold]
    share = len(reached) / len(proposed)
    evidence = []
    for p in proposed:
        hold = first_hold.get((p.model, p.version))
        what = f"registered; production at {hold.start.isoformat()}" if hold else "registered"
        evidence.append(Evidence(p.registered_at, p.model, p.version, what, p.tag, p.commit))
    return Figure(
        key,
        f"{share:.0%} ({len(reached)} of {len(proposed)} registered versions)",
        MappingProxyType({"share": share, "reached": len(reached), "proposed": len(proposed)}),
        evidence=tuple(evidence),
    )


def retrain_latency(history: History, window: Window | None) -> Figure:
    """``gitml retrain`` commit -> merge -> registration -> production."""
    key = "retrain-latency"
    if window is None:
        return _no_data(key, EMPTY)
    retrained = {(p.model, p.version): p for p in history.proposals if p.retraining}
    total, from_alert = [], []
    evidence: list[Evidence] = []
    for hold in _promotions(history, window):
        p = retrained.get((hold.model, hold.version))
        if p is None or p.retraining is None:
            continue
        total.append(seconds(p.retraining.time, hold.start))
        alert = alert_before(history, p.model, p.retraining.time)
        if alert is not None:
            from_alert.append(seconds(alert.at, hold.start))
            evidence.append(
                Evidence(alert.at, alert.model, alert.version, "drift alert", alert.tag)
            )
        evidence.append(
            Evidence(
                p.retraining.time, p.model, p.version, "retrain commit", None, p.retraining.sha
            )
        )
        if p.merged_at is not None:
            evidence.append(Evidence(p.merged_at, p.model, p.version, "merged", None, p.commit))
        evidence.append(Evidence(p.registered_at, p.model, p.version, "registered", p.tag))
        evidence.append(_hold_evidence(hold, "promoted to production"))
    if not total:
        return _no_data(key, "no `gitml retrain` PR's version was promoted in the window")
    values = {
        **stats("retrain_to_production", total),
        **stats("drift_to_production", from_alert),
    }
    if from_alert:
        drift = (
            f"from the drift alert median {span(values['drift_to_production_median'])} "
            f"({count(len(from_alert), 'version')})"
        )
    else:
        drift = "no drift alert recorded before them"
    return Figure(
        key,
        f"median {span(values['retrain_to_production_median'])} from the retrain commit "
        f"({count(len(total), 'version')}); {drift}",
        MappingProxyType(values),
        evidence=tuple(evidence),
    )


def _proposed(history: History, window: Window) -> list[Proposal]:
    return [p for p in history.proposals if p.registered_at in window]
