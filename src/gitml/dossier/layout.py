"""The dossier arranged for reading (pure): Annex IV's eight sections as paragraphs,
tables and lists of cells, each cell optionally citing a proof. The markdown and HTML
renderers draw the same layout, so the two formats always state the same facts.

Cells hold raw text (:mod:`gitml.dossier.blocks`); escaping is the renderer's job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.dossier.blocks import Bullets, Cell, Heading, Paragraph, Section, Table
from gitml.report.values import format_value

if TYPE_CHECKING:
    from gitml.dossier.blocks import Block
    from gitml.dossier.model import (
        Change,
        Digest,
        Dossier,
        Interval,
        Proof,
        Value,
    )


NOT_RECORDED = "not recorded"
DRIFT_NOTE = (
    "Drift checks are in git when run with gitml drift --record (as the monitor workflow "
    "runs them), whatever they found; a check run without it is only its job's log."
)


def _c(text: object, proof: Proof | None = None, *, code: bool = False) -> Cell:
    return Cell("-" if text is None or text == "" else str(text), proof, code=code)


def _value(value: Value) -> str:
    return format_value(value) if not isinstance(value, str) else value


def _fact(
    name: str, value: object, proof: Proof | None = None, *, code: bool = False
) -> tuple[Cell, ...]:
    return (Cell(name), _c(value if value is not None else NOT_RECORDED, proof, code=code))


def _digest_row(digest: Digest) -> tuple[Cell, ...]:
    return (_c(digest.path, code=True), _c(digest.md5 or NOT_RECORDED, digest.proof, code=True))


def _interval(interval: Interval | None) -> str:
    if interval is None or interval.value is None:
        return "n/a"
    text = format_value(interval.value)
    if interval.low is not None and interval.high is not None:
        text += f" [{format_value(interval.low)}, {format_value(interval.high)}]"
    return text


def _general(d: Dossier) -> Section:
    g = d.general
    rows = [
        _fact("model", g.model, code=True),
        _fact("version", g.version, g.tag, code=True),
        _fact("registered at", g.registered_at, g.tag),
        _fact("registered commit", g.commit.value, g.commit, code=True),
        _fact("description", g.description, g.card),
        _fact("intended use", g.intended_use, g.card),
        _fact("model family", g.family, g.card),
        _fact("format", g.format, g.card),
    ]
    if g.artifact is not None:
        rows.append(_fact("artefact", g.artifact.path, code=True))
        rows.append(_fact("artefact md5", g.artifact.md5, g.artifact.proof, code=True))
    held = ", ".join(f"{h.stage} (since {h.since or '-'})" for h in g.stages) or "none"
    rows.append(_fact("stages held now", held, g.stages[0].tag if len(g.stages) == 1 else None))
    blocks: list[Block] = [Table(("fact", "value"), tuple(rows))]
    if len(g.stages) > 1:
        blocks.append(Bullets(tuple((Cell(h.stage), _c(h.since, h.tag)) for h in g.stages)))
    return Section(1, "General description and intended purpose", tuple(blocks))


def _development(d: Dossier) -> Section:
    dev = d.development
    blocks: list[Block] = [
        Paragraph(
            (
                Cell("Built from code commit "),
                _c(dev.code_commit.value, dev.code_commit, code=True),
                Cell(" by the DVC pipeline recorded in "),
                _c("dvc.lock", dev.lock, code=True),
                Cell("."),
            )
        ),
        Table(
            ("stage", "command", "params read", "outputs (md5)", "recorded lock-entry sha256"),
            tuple(
                (
                    _c(s.name, code=True),
                    _c(s.command, code=True),
                    _c(", ".join(s.params) or "none"),
                    _c(
                        "; ".join(f"{o.path} {o.md5 or '-'}" for o in s.outs) or "none",
                        s.outs[0].proof if s.outs else None,
                        code=True,
                    ),
                    _c(s.recorded_hash or NOT_RECORDED, code=True),
                )
                for s in dev.stages
            ),
        ),
        Heading("Stage inputs"),
        Table(
            ("stage", "dependency", "md5"),
            tuple((_c(s.name, code=True), *_digest_row(dep)) for s in dev.stages for dep in s.deps),
        ),
        Heading("Parameters"),
        Paragraph(
            (
                Cell("Params digest (sha256 of the params the artefact's stages read): "),
                _c(dev.params_digest or NOT_RECORDED, dev.params_digest_proof, code=True),
                Cell("; values from "),
                _c(
                    dev.params_file.value if dev.params_file else NOT_RECORDED,
                    dev.params_file,
                    code=True,
                ),
                Cell("."),
            )
        ),
        Table(
            ("param", "value"),
            tuple((_c(p.name, code=True), _c(p.value, code=True)) for p in dev.params),
        ),
        Heading("Software"),
        Table(
            ("package", "version"),
            tuple((_c(p.name, code=True), _c(p.value)) for p in dev.software),
        )
        if dev.software
        else Paragraph((Cell("The model card records no software versions."),)),
    ]
    return Section(2, "Development process and design choices", tuple(blocks))


def _data(d: Dossier) -> Section:
    data = d.data
    source = (
        "the registration record"
        if data.inputs_from == "record"
        else "dvc.lock at the registered commit"
    )
    blocks: list[Block] = [
        Paragraph((Cell(f"DVC-tracked data inputs, as {source} states them:"),)),
        Table(("input", "md5"), tuple(_digest_row(i) for i in data.inputs))
        if data.inputs
        else Paragraph((Cell("No DVC-tracked data input is recorded."),)),
        Table(
            ("data", "path", "md5", "rows", "positive rate"),
            tuple(
                (
                    Cell(s.role),
                    _c(s.path, code=True),
                    _c(s.md5, s.proof, code=True),
                    _c(format_value(s.rows) if s.rows is not None else None),
                    _c(format_value(s.positive_rate) if s.positive_rate is not None else None),
                )
                for s in data.datasets
            ),
        ),
    ]
    if data.schema_path:
        gated = ", ".join(data.data_gate_stages)
        applies = (
            f"the `data` gate applies in: {gated}" if gated else "no gate applies the `data` check"
        )
        blocks.append(
            Paragraph(
                (
                    Cell("Declared data schema: "),
                    _c(data.schema_path, data.schema, code=True),
                    Cell(f"; {applies}."),
                )
            )
        )
    else:
        blocks.append(Paragraph((Cell("No data schema is declared (no `data` gate applies)."),)))
    return Section(3, "Data and data governance", tuple(blocks))


def _metrics(d: Dossier) -> Section:
    m = d.metrics
    blocks: list[Block] = [
        Table(
            ("metric", "value", "better"),
            tuple(
                (_c(x.name, code=True), _c(_value(x.value), x.proof), _c(x.direction or "unknown"))
                for x in m.metrics
            ),
        ),
        Heading("Gates"),
    ]
    for gate in m.gates:
        kind = "required" if gate.required else "advisory"
        blocks.append(Paragraph((Cell(f"{gate.stage} ({kind}): "), _c(gate.outcome, gate.proof))))
        blocks.append(
            Bullets(
                tuple((Cell(rule),) for rule in gate.rules)
                + tuple((Cell(f"recorded value check: {b}"),) for b in gate.bounds)
            )
        )
    blocks.append(Heading("Limitations (model card)"))
    blocks.append(
        Bullets(tuple((Cell(line),) for line in m.limitations))
        if m.limitations
        else Paragraph((Cell("Not provided in the model card."),))
    )
    return Section(4, "Metrics and their limits", tuple(blocks))


def _fairness(d: Dossier) -> Section:
    f = d.fairness
    blocks: list[Block] = []
    if f.report is None:
        declared = ", ".join(f.segments_declared) or "none"
        blocks.append(
            Paragraph(
                (
                    Cell(
                        "No fairness report at the registered commit "
                        f"(segments declared: {declared})."
                    ),
                )
            )
        )
    else:
        level = f" ({format_value(f.confidence)} confidence intervals)" if f.confidence else ""
        blocks.append(
            Paragraph(
                (
                    Cell("Per-segment report "),
                    _c(f.report.value, f.report, code=True),
                    Cell(f"{level}."),
                )
            )
        )
    for segment in f.segments:
        blocks.append(Heading(f"Segment {segment.column}"))
        names = sorted({i.name for g in segment.groups for i in g.metrics})
        blocks.append(
            Table(
                ("group", "rows", "positives", *names),
                tuple(
                    (
                        _c(g.name, code=True),
                        _c(format_value(g.rows) if g.rows is not None else None),
                        _c(format_value(g.positives) if g.positives is not None else None),
                        *(
                            _c(_interval(next((i for i in g.metrics if i.name == n), None)))
                            for n in names
                        ),
                    )
                    for g in segment.groups
                ),
            )
        )
        if segment.gaps:
            blocks.append(
                Table(
                    ("gap", "value [interval]"),
                    tuple((_c(i.name, code=True), _c(_interval(i))) for i in segment.gaps),
                )
            )
    blocks.append(
        Bullets(tuple((Cell(rule),) for rule in f.gap_gates))
        if f.gap_gates
        else Paragraph((Cell("No gate rule applies to a fairness gap."),))
    )
    blocks.append(Heading("Explanations"))
    if f.importance:
        blocks.append(
            Paragraph(
                (
                    Cell("Permutation importance from the model card "),
                    _c(f.importance_method, f.importance_proof),
                    Cell(":"),
                )
            )
        )
        blocks.append(
            Table(
                ("rank", "feature", "mean decrease", "std"),
                tuple(
                    (
                        Cell(str(rank)),
                        _c(x.name, code=True),
                        _c(format_value(x.mean)),
                        _c(format_value(x.std)),
                    )
                    for rank, x in enumerate(f.importance, 1)
                ),
            )
        )
    else:
        blocks.append(Paragraph((Cell("The model card records no feature importance."),)))
    return Section(5, "Fairness and explanations", tuple(blocks))


def _oversight(d: Dossier) -> Section:
    o = d.oversight
    rows = tuple(
        (
            Cell(x.event + (f" to {x.stage}" if x.stage and x.event != "registration" else "")),
            _c(x.at),
            _c(x.tag.value, x.tag, code=True),
            _c(x.pull_request.value if x.pull_request else None, x.pull_request),
            _c(x.author),
            _c(", ".join(x.approvers) or None),
            _c(x.merged_by),
            _c("run" if x.run else None, x.run),
        )
        for x in o.decisions
    )
    blocks: list[Block] = [
        Table(
            (
                "decision",
                "when",
                "tag",
                "pull request",
                "author",
                "approvers",
                "merged by",
                "CI run",
            ),
            rows,
        ),
        Paragraph(
            (Cell("Human oversight (model card): "), _c(o.human_oversight or "not provided"))
        ),
    ]
    return Section(6, "Human oversight and approvals", tuple(blocks))


def _changes(d: Dossier) -> Section:
    c = d.changes
    if c.against is None:
        return Section(7, "Changes across versions", (Paragraph((Cell(f"This is {c.reason}."),)),))

    def table(what: str, changes: tuple[Change, ...]) -> Block:
        if not changes:
            return Paragraph((Cell(f"No {what} changed."),))
        return Table(
            (what, f"{c.against}", d.version),
            tuple(
                (
                    _c(x.name, code=True),
                    _c(_value(x.before), code=True),
                    _c(_value(x.after), code=True),
                )
                for x in changes
            ),
        )

    blocks: list[Block] = [
        Paragraph(
            (
                Cell(f"Compared with {c.against}, {c.reason} (commit "),
                _c(
                    c.against_commit.value if c.against_commit else None,
                    c.against_commit,
                    code=True,
                ),
                Cell(")."),
            )
        ),
        table("metric", c.metrics),
        table("param", c.params),
        table("data input", c.inputs),
        Paragraph(
            (
                Cell("Pipeline stages whose dvc.lock entry changed: "),
                _c(", ".join(c.stages) or "none"),
            )
        ),
    ]
    if c.params_digest is not None:
        blocks.append(table("digest", (c.params_digest,)))
    return Section(7, "Changes across versions", tuple(blocks))


def _monitoring(d: Dossier) -> Section:
    m = d.monitoring
    blocks: list[Block] = []
    if m.baseline is not None:
        blocks.append(
            Paragraph(
                (
                    Cell("Drift baseline "),
                    _c(m.baseline.path, m.baseline_blob, code=True),
                    Cell(", md5 "),
                    _c(m.baseline.md5 or NOT_RECORDED, m.baseline.proof, code=True),
                    Cell("."),
                )
            )
        )
    else:
        blocks.append(Paragraph((Cell("No drift baseline is declared for this model."),)))
    blocks.append(
        Table(
            ("threshold", "value"),
            tuple((_c(p.name, code=True), _c(p.value)) for p in m.thresholds),
        )
    )
    blocks.append(
        Paragraph(
            (
                Cell("Monitoring data source: "),
                _c(m.source or "not configured", code=bool(m.source)),
            )
        )
    )
    blocks.append(Heading("Recorded drift checks"))
    if m.checks:
        blocks.append(
            Table(
                ("when", "tag", "checked as", "verdict", "drifted", "rows"),
                tuple(
                    (
                        _c(c.at),
                        _c(c.tag.value, c.tag, code=True),
                        _c(c.stage or "version"),
                        _c(c.verdict),
                        _c(", ".join(c.drifted) or "none"),
                        _c(c.rows),
                    )
                    for c in m.checks
                ),
            )
        )
    else:
        blocks.append(Paragraph((Cell("No drift check of this version is recorded."),)))
    blocks.append(Heading("Canary analyses"))
    if m.canaries:
        blocks.append(
            Table(
                ("when", "tag", "for stage", "against", "verdict", "windows", "deciding rule"),
                tuple(
                    (
                        _c(c.at),
                        _c(c.tag.value, c.tag, code=True),
                        _c(c.stage or ""),
                        _c(c.against or ""),
                        _c(c.verdict),
                        _c(c.windows if c.windows is not None else ""),
                        _c(c.rule or ""),
                    )
                    for c in m.canaries
                ),
            )
        )
    else:
        blocks.append(
            Paragraph((Cell("No canary analysis of this version as the candidate is recorded."),))
        )
    blocks.append(Heading("Drift evidence"))
    if m.drift:
        blocks.append(
            Table(
                ("when", "commit", "finding", "relation"),
                tuple(
                    (
                        _c(e.at),
                        _c(e.commit.value[:12], e.commit, code=True),
                        _c(e.line),
                        _c(e.relation),
                    )
                    for e in m.drift
                ),
            )
        )
    else:
        blocks.append(
            Paragraph((Cell(f"No retraining commit on {m.branch} cites drift of this version."),))
        )
    blocks.append(Paragraph((Cell(DRIFT_NOTE),)))
    return Section(8, "Post-market monitoring", tuple(blocks))


def sections(dossier: Dossier) -> tuple[Section, ...]:
    """The eight sections of ``dossier``, in Annex IV's order."""
    build = (_general, _development, _data, _metrics, _fairness, _oversight, _changes, _monitoring)
    return tuple(b(dossier) for b in build)


def missing_lines(dossier: Dossier) -> tuple[str, ...]:
    """What a person still has to write, one line each."""
    return tuple(str(m) for m in dossier.missing)
