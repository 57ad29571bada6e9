"""A replay's outcome for people: a terminal table or markdown, per window then the decision.

Every cell of a markdown table goes through gitml's one escaper (via
:mod:`gitml.report.tables`); prose takes the data path as code, the rest are gitml's own
words and numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.report.escape import code, text
from gitml.report.tables import table

if TYPE_CHECKING:
    from gitml.canary.judge import RuleResult, WindowResult
    from gitml.canary.replay import ReplayResult

_HEADER = ["rule", "candidate", "stable", "value", "limit", "result"]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _result(rule: RuleResult) -> str:
    if rule.status == "not evaluated":
        return f"not evaluated: {rule.detail}"
    if rule.within_chance:
        return "passed (within chance)"
    return rule.status


def _rows(window: WindowResult) -> list[list[str]]:
    return [
        [r.name, _number(r.candidate), _number(r.stable), _number(r.value), _number(r.limit),
         _result(r)]
        for r in window.rules
    ]  # fmt: skip


def _window_line(window: WindowResult, count_clock: bool) -> str:
    span = (
        f"rows {int(window.started) + 1}-{int(window.ended)}"
        if count_clock
        else f"{window.ended - window.started:.0f} s"
    )
    state = "healthy" if window.healthy else ("failed" if window.failed else "inconclusive")
    unknown = f", {window.unknown_labels} unknown label ids" if window.unknown_labels else ""
    return (
        f"window {window.index} ({span}): {window.candidate_records} candidate and "
        f"{window.stable_records} stable records{unknown}: {state}"
    )


def _headline(result: ReplayResult) -> list[str]:
    p = result.policy
    pair = result.pair
    return [
        f"canary replay of {pair.model} {pair.candidate.version} against "
        f"{pair.stable.version}, heading for {p.stage}",
        f"data: {result.rows} rows replayed, {result.routed['candidate']} answered by the "
        f"candidate ({p.percent:g}% split, seed {result.seed})",
        f"policy: windows of {p.window.describe()}, {p.windows} healthy in a row to pass, "
        f"confidence {p.confidence:g}",
    ]


def _decision_line(result: ReplayResult) -> str:
    d = result.decision
    if d is None:
        return "decision: none (undecided)"
    return f"decision: {d.verdict} after {d.windows} window(s): {d.rule}"


def render_table(result: ReplayResult) -> str:
    """The replay as plain text for a terminal."""
    count_clock = result.policy.window.requests is not None
    lines = [*_headline(result), f"data file: {result.data}", ""]
    for window in result.windows:
        lines += [_window_line(window, count_clock), table("table", _HEADER, _rows(window)), ""]
    lines.append(_decision_line(result))
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def render_markdown(result: ReplayResult) -> str:
    """The replay as markdown (a job summary or a pull-request comment)."""
    count_clock = result.policy.window.requests is not None
    head = _headline(result)
    lines = [f"## {text(head[0])}", "", *(f"- {text(line)}" for line in head[1:])]
    lines += [f"- data file: {code(result.data)}", ""]
    for window in result.windows:
        lines += [f"### {text(_window_line(window, count_clock))}", ""]
        lines += [table("md", _HEADER, _rows(window)), ""]
    lines.append(f"**{text(_decision_line(result))}**")
    lines += [f"- {text(note)}" for note in result.notes]
    return "\n".join(lines) + "\n"
