"""The plots ``dvc.yaml`` declares: parsed as DVC parses them, read base against head,
rendered as Mermaid charts and confusion tables, inert whatever the pull request wrote.

DVC itself (``dvc plots show --json``) is the oracle for what a definition means; DVCLive
writes the data files where it is installed, and hand-written files of its exact shapes
(``dvclive/plots/sklearn.py``) stand in everywhere.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from gitml.cli.main import main
from gitml.documents import packaged_schema, parse_text, schema_problems
from gitml.dvcio.plot_specs import PlotSpec, Series, plot_specs
from gitml.errors import ConfigError, GitmlError
from gitml.report.escape import text
from gitml.report.from_json import NOTICE, read_report, to_report
from gitml.report.jsondata import to_data
from gitml.report.markdown import render
from gitml.report.model import (
    ConfusionPlot,
    ModelReport,
    ModelStatus,
    Report,
    Side,
    XYPlot,
)
from gitml.report.plot_data import MAX_BYTES, MAX_POINTS
from gitml.report.plots import model_plots, without_curve_files
from gitml.report.plots_markdown import plots_block
from tests.adversarial.test_report_inert import HOSTILE, assert_inert, problems
from tests.helpers import PROJECT_ROOT, dvc, git
from tests.mermaid.check import parse_mermaid

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from gitml.report.model import Plot

FENCE = re.compile(r"```mermaid\n(.*?)\n```", re.DOTALL)

# DVC's get-started project (iterative/example-get-started), its dvc.yaml as written:
# DVCLive's sklearn plots of the train and test sets, and an image.
GET_STARTED = """\
stages:
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps:
    - data/features
    - model.pkl
    - src/evaluate.py
    outs:
    - eval
metrics:
- eval/metrics.json
plots:
- ROC:
    template: simple
    x: fpr
    y:
      eval/plots/sklearn/roc/train.json: tpr
      eval/plots/sklearn/roc/test.json: tpr
- Confusion-Matrix:
    template: confusion
    x: actual
    y:
      eval/plots/sklearn/cm/train.json: predicted
      eval/plots/sklearn/cm/test.json: predicted
- Precision-Recall:
    template: simple
    x: recall
    y:
      eval/plots/sklearn/prc/train.json: precision
      eval/plots/sklearn/prc/test.json: precision
- eval/plots/images/importance.png
"""
SKLEARN = "eval/plots/sklearn"


def specs_of(text: str, file: str = "dvc.yaml") -> tuple[tuple[PlotSpec, ...], tuple[str, ...]]:
    return plot_specs(parse_text(text, file), file)


# --- DVCLive's file shapes (dvclive/plots/sklearn.py) ---------------------------------


def roc(points: list[tuple[float, float]]) -> bytes:
    # sklearn's first threshold is infinite; DVCLive writes it as JSON's Infinity.
    rows = [
        {"fpr": x, "tpr": y, "threshold": float("inf") if i == 0 else 1 - x}
        for i, (x, y) in enumerate(points)
    ]
    return json.dumps({"roc": rows}, indent=4).encode()


def prc(points: list[tuple[float, float]]) -> bytes:
    rows = [{"precision": p, "recall": r, "threshold": 0.5} for r, p in points]
    return json.dumps({"precision_recall": rows}, indent=4).encode()


def confusion(pairs: dict[tuple[int, int], int]) -> bytes:
    # One record per evaluated row, classes as strings.
    rows = [
        {"actual": str(actual), "predicted": str(predicted)}
        for (actual, predicted), count in sorted(pairs.items())
        for _ in range(count)
    ]
    return json.dumps(rows, indent=4).encode()


def reader(files: dict[str, bytes]) -> Callable[[str], bytes | None]:
    return files.get


def report_with(plots: tuple[Plot, ...], name: str = "credit") -> Report:
    """A report of one model with ``plots``; labels equal revs, as a JSON report's do."""
    model = ModelReport(name, ModelStatus.CHANGED, (), (), "a" * 32, "b" * 32, plots=plots)
    return Report(
        base=Side("main", "1" * 40, "main"),
        head=Side("feature", "2" * 40, "feature"),
        stage="main",
        models=(model,),
        params=(),
        data=(),
    )


# --- parsing dvc.yaml -------------------------------------------------------------------


def test_get_started_plots_block() -> None:
    specs, notes = specs_of(GET_STARTED)
    assert [(s.id, s.template, s.title, s.stage) for s in specs] == [
        ("ROC", "simple", "ROC", None),
        ("Confusion-Matrix", "confusion", "Confusion-Matrix", None),
        ("Precision-Recall", "simple", "Precision-Recall", None),
    ]
    assert specs[0].series == (
        Series(f"{SKLEARN}/roc/train.json", "fpr", "tpr"),
        Series(f"{SKLEARN}/roc/test.json", "fpr", "tpr"),
    )
    assert specs[1].files == (f"{SKLEARN}/cm/train.json", f"{SKLEARN}/cm/test.json")
    assert notes == (
        "dvc.yaml: plots[3] ('eval/plots/images/importance.png'): an image (not drawn in "
        "the comment)",
    )


def test_every_form_of_plot_definition() -> None:
    text = """\
stages:
  train:
    cmd: python train.py
    wdir: src
    plots:
    - ../logs/loss.tsv
    - ../logs/acc.csv:
        cache: false
        x: epoch
        y: [acc, val_acc]
        title: Accuracy
        header: true
  evaluate:
    cmd: python evaluate.py
    plots:
    - metrics/roc.json:
        cache: false
plots:
- metrics/roc.json:
    x: fpr
    y: tpr
- metrics/pr.json
- Loss:
    x: {logs/a.csv: step, logs/b.csv: epoch}
    y: {logs/a.csv: loss, logs/b.csv: [loss, val_loss]}
    x_label: Epoch
    y_label: Loss
    template: smooth
- Bare:
"""
    specs, notes = specs_of(text)
    assert notes == ()
    shown = {(s.id, s.stage): s for s in specs}
    # No suffix: a plots directory, drawn file by file once each side's files are listed.
    assert shown[("Bare", None)].directory
    assert shown[("Bare", None)].series == (Series("Bare", None, None),)
    # Stage outputs: paths under the stage's wdir; the defaults of DVC.
    loss = shown[("logs/loss.tsv", "train")]
    assert (loss.template, loss.title, loss.x_label, loss.series) == (
        "linear",
        "logs/loss.tsv",
        None,
        (Series("logs/loss.tsv", None, None),),
    )
    acc = shown[("logs/acc.csv", "train")]
    assert acc.series == (
        Series("logs/acc.csv", "epoch", "acc"),
        Series("logs/acc.csv", "epoch", "val_acc"),
    )
    assert acc.title == "Accuracy"
    # roc.json: a stage output (cache: false) that the top level defines: drawn once,
    # with the top-level properties, still known as the evaluate stage's output.
    assert [s.id for s in specs].count("metrics/roc.json") == 1
    assert shown[("metrics/roc.json", "evaluate")].series == (
        Series("metrics/roc.json", "fpr", "tpr"),
    )
    assert shown[("metrics/pr.json", None)].series == (Series("metrics/pr.json", None, None),)
    named = shown[("Loss", None)]
    assert (named.template, named.x_label, named.y_label) == ("smooth", "Epoch", "Loss")
    assert named.series == (
        Series("logs/a.csv", "step", "loss"),
        Series("logs/b.csv", "epoch", "loss"),
        Series("logs/b.csv", "epoch", "val_loss"),
    )
    assert named.files == ("logs/a.csv", "logs/b.csv")


def test_paths_that_cannot_be_resolved_are_skipped_with_a_reason() -> None:
    text = """\
stages:
  sweep:
    foreach: [a, b]
    do:
      cmd: python run.py ${item}
      plots:
      - out/${item}.json
  single:
    cmd: python run.py
    plots:
    - ${vars.out}/loss.csv
plots:
- dvclive/plots/metrics:
    x: step
- plots/:
- ../../etc/passwd.csv
- /abs/roc.json
- report.html
- Mixed:
    y: {ok.json: y, ../up.json: y, ../../outside.json: y}
"""
    specs, notes = specs_of(text, "sub/dvc.yaml")
    # A path may leave the dvc.yaml's directory (``../up.json``), not the repository.
    assert [(s.id, s.files, s.directory) for s in specs] == [
        # Directories (no suffix, or a trailing slash): listed on each side when drawn.
        ("sub/dvclive/plots/metrics", ("sub/dvclive/plots/metrics",), True),
        ("sub/plots", ("sub/plots",), True),
        ("Mixed", ("sub/ok.json", "up.json"), False),
    ]
    assert notes == (
        "sub/dvc.yaml: stages.sweep: the plots of a foreach/matrix stage are resolved by DVC "
        "per item: not drawn",
        "sub/dvc.yaml: stages.single.plots[0] ('${vars.out}/loss.csv'): a templated path "
        "(DVC resolves it from vars): not drawn",
        "sub/dvc.yaml: plots[2] ('../../etc/passwd.csv'): outside the repository: not drawn",
        "sub/dvc.yaml: plots[3] ('/abs/roc.json'): outside the repository: not drawn",
        "sub/dvc.yaml: plots[4] ('report.html'): not a data file DVC plots (JSON, YAML, CSV, "
        "TSV): not drawn",
        "sub/dvc.yaml: plots[5].Mixed.y ('../../outside.json'): outside the repository: not drawn",
    )


def test_a_project_without_plots_has_none() -> None:
    assert specs_of("stages:\n  train:\n    cmd: python t.py\n") == ((), ())
    assert specs_of("plots:\n") == ((), ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a.json\n", "dvc.yaml: (top level): expected a mapping, got ['a.json']"),
        ("plots: a.json\n", "dvc.yaml: plots: expected a list of plots, got 'a.json'"),
        ("plots:\n- 3\n", "dvc.yaml: plots[0]: expected a path or a mapping"),
        ("plots:\n- {}\n", "dvc.yaml: plots[0]: expected a path or a mapping"),
        ("plots:\n- a.json: fpr\n", "dvc.yaml: plots[0].a.json: expected a mapping of plot"),
        ("plots:\n- a.json: {x: [1]}\n", "dvc.yaml: plots[0].a.json.x: expected a field name"),
        ("plots:\n- a.json: {y: 3}\n", "dvc.yaml: plots[0].a.json.y: expected a field name"),
        ("plots:\n- a.json: {y: []}\n", "dvc.yaml: plots[0].a.json.y: expected a field name"),
        ("plots:\n- P: {y: {}}\n", "dvc.yaml: plots[0].P.y: expected a mapping of file"),
        ("plots:\n- P: {y: {a.json: 1}}\n", "dvc.yaml: plots[0].P.y.a.json: expected a field"),
        ("plots:\n- a.json: {title: 2024}\n", "dvc.yaml: plots[0].a.json.title: expected a str"),
        ("plots:\n- a.json: {template: [x]}\n", "plots[0].a.json.template: expected a string"),
        ("plots:\n- a.csv: {header: 'no'}\n", "plots[0].a.csv.header: expected true or false"),
        ("stages: [train]\n", "dvc.yaml: stages: expected a mapping of stage name"),
        ("stages:\n  t: {plots: a.json}\n", "dvc.yaml: stages.t.plots: expected a list"),
        ("stages:\n  t: {wdir: 3, plots: [a.json]}\n", "dvc.yaml: stages.t.wdir: expected a"),
        (
            "stages:\n  t:\n    plots:\n    - a.json: {y: {b.json: y}}\n",
            "dvc.yaml: stages.t.plots[0].a.json.y: expected a field name",
        ),
    ],
)
def test_bad_shapes_name_the_file_and_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        specs_of(text)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


# --- DVC as the oracle ------------------------------------------------------------------


def test_dvc_reads_the_same_definitions_and_data(tmp_path: Path) -> None:
    """``dvc plots show --json`` resolves the same files, fields and titles, and reads the
    same points from JSON (DVCLive's shape), CSV and TSV."""
    files = {
        f"{SKLEARN}/roc/train.json": roc([(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)]),
        f"{SKLEARN}/roc/test.json": roc([(0.0, 0.0), (0.25, 0.75), (1.0, 1.0)]),
        f"{SKLEARN}/prc/train.json": prc([(0.0, 1.0), (0.6, 0.7), (1.0, 0.3)]),
        f"{SKLEARN}/prc/test.json": prc([(0.0, 1.0), (0.5, 0.6), (1.0, 0.3)]),
        f"{SKLEARN}/cm/train.json": confusion({(0, 0): 3, (0, 1): 1, (1, 1): 2}),
        f"{SKLEARN}/cm/test.json": confusion({(0, 0): 2, (1, 0): 1, (1, 1): 1}),
        "logs/loss.csv": b"epoch,loss\n0,0.9\n1,0.5\n2,0.4\n",
        "logs/acc.tsv": b"step\tacc\n0\t0.6\n1\t0.7\n",
    }
    extra = """\
- logs/loss.csv:
    x: epoch
    y: loss
    title: Training loss
- logs/acc.tsv:
    x: step
"""
    text = GET_STARTED.replace("- eval/plots/images/importance.png\n", extra)
    (tmp_path / "dvc.yaml").write_text(text)
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    git(tmp_path, "init", "-q")
    dvc(tmp_path, "init", "-q")
    shown = json.loads(dvc(tmp_path, "plots", "show", "--json").stdout)["data"]

    specs, notes = specs_of(text)
    assert notes == ()
    plots = model_plots(specs, None, reader(files))
    assert sorted(shown) == sorted(s.id for s in specs)
    for spec, plot in zip(specs, plots, strict=True):
        [vega] = shown[spec.id]
        content = vega["content"]
        assert content["title"]["text"] == spec.title == plot.title
        values = content["data"]["values"]
        if isinstance(plot, ConfusionPlot):
            for matrix in plot.matrices:
                name = matrix.file.rsplit("/", 1)[-1]
                pairs = [(v["actual"], v["predicted"]) for v in values if v["filename"] == name]
                assert matrix.head is not None
                counted = {
                    (a, p): matrix.head[i][j]
                    for i, a in enumerate(matrix.labels)
                    for j, p in enumerate(matrix.labels)
                    if matrix.head[i][j]
                }
                assert counted == {pair: pairs.count(pair) for pair in set(pairs)}
            continue
        assert isinstance(plot, XYPlot)
        encoding = content.get("encoding", {})
        y_field = (
            encoding["y"]["field"]
            if "y" in encoding
            else content["layer"][0]["encoding"]["y"]["field"]
        )
        assert (encoding["x"]["field"], y_field) == (plot.x_label, plot.y_label)
        for line in plot.lines:
            points = [v for v in values if "filename" not in v or line.file.endswith(v["filename"])]
            assert points
            # The curve passes through every point DVC read (sampled on the shared grid).
            for point in points:
                x, y = float(point[plot.x_label]), float(point[line.field])
                if x in plot.x:
                    assert line.y[plot.x.index(x)] == pytest.approx(y)


# --- building the plots ---------------------------------------------------------------


def get_started_files(shift: float) -> dict[str, bytes]:
    return {
        f"{SKLEARN}/roc/train.json": roc([(0.0, 0.0), (0.5, 0.8 + shift), (1.0, 1.0)]),
        f"{SKLEARN}/roc/test.json": roc([(0.0, 0.0), (0.25, 0.5 + shift), (1.0, 1.0)]),
        f"{SKLEARN}/prc/train.json": prc([(0.0, 1.0), (1.0, 0.3)]),
        f"{SKLEARN}/prc/test.json": prc([(0.0, 1.0), (1.0, 0.3 + shift)]),
        f"{SKLEARN}/cm/train.json": confusion({(0, 0): 5, (0, 1): 1, (1, 0): 2, (1, 1): 4}),
        f"{SKLEARN}/cm/test.json": confusion(
            {(0, 0): 4, (0, 1): 2, (1, 0): 1 if shift else 2, (1, 1): 3}
        ),
    }


def test_dvclive_shaped_files_base_against_head() -> None:
    specs, _ = specs_of(GET_STARTED)
    base, head = get_started_files(0.0), get_started_files(0.1)
    roc_plot, cm_plot, pr_plot = model_plots(specs, reader(base), reader(head))
    assert isinstance(roc_plot, XYPlot)
    assert (roc_plot.x_label, roc_plot.y_label, roc_plot.notes) == ("fpr", "tpr", ())
    assert roc_plot.x == tuple(round(i / 20, 4) for i in range(21))
    assert [(line.side, line.file.rsplit("/", 1)[1]) for line in roc_plot.lines] == [
        ("base", "train.json"),
        ("head", "train.json"),
        ("base", "test.json"),
        ("head", "test.json"),
    ]
    at = roc_plot.x.index(0.25)
    assert [line.y[at] for line in roc_plot.lines] == [0.4, 0.45, 0.5, 0.6]
    assert isinstance(cm_plot, ConfusionPlot)
    assert (cm_plot.x_label, cm_plot.y_label, cm_plot.normalized) == (
        "actual",
        "predicted",
        False,
    )
    train, test = cm_plot.matrices
    assert (train.labels, train.base, train.head) == (
        ("0", "1"),
        ((5, 1), (2, 4)),
        ((5, 1), (2, 4)),
    )
    assert (test.base, test.head) == (((4, 2), (2, 3)), ((4, 2), (1, 3)))
    assert isinstance(pr_plot, XYPlot)
    assert [line.y[-1] for line in pr_plot.lines] == [0.3, 0.3, 0.3, 0.4]


def test_rendered_plots_exactly() -> None:
    specs, _ = specs_of(GET_STARTED)
    base, head = get_started_files(0.0), get_started_files(0.1)
    _, cm_plot, _ = model_plots(specs, reader(base), reader(head))
    [block] = plots_block((cm_plot,), "main", "feature")
    assert block == (
        "<details><summary>Plots declared in dvc.yaml (1; base <code>main</code>, head "
        "<code>feature</code>)</summary>\n\n"
        "**Confusion-Matrix**\n\n"
        "<code>eval/plots/sklearn/cm/train.json</code> (base → head; count)\n\n"
        "| actual ↓ · predicted → | 0 | 1 |\n"
        "|:--|--:|--:|\n"
        "| 0 | 5 | 1 |\n"
        "| 1 | 2 | 4 |\n\n"
        "<code>eval/plots/sklearn/cm/test.json</code> (base → head; count)\n\n"
        "| actual ↓ · predicted → | 0 | 1 |\n"
        "|:--|--:|--:|\n"
        "| 0 | 4 | 2 |\n"
        "| 1 | 2 → 1 (-1) | 3 |\n\n"
        "</details>"
    )
    files = {"loss.csv": b"step,loss\n0,2.5\n1,1.5\n2,1.25\n"}
    [spec], _ = specs_of("plots:\n- loss.csv:\n    x: step\n    title: Loss\n")
    [loss] = model_plots([spec], None, reader(files))
    [block] = plots_block((loss,), "main", "feature")
    assert block.split("\n\n")[1:3] == [
        "**Loss** · lines: head loss.csv",
        "```mermaid\nxychart-beta\n"
        '    title "Loss"\n'
        '    x-axis "step" ["0", "1", "2"]\n'
        '    y-axis "loss" 1.25 --> 2.5\n'
        '    line "head feature loss.csv" [2.5, 1.5, 1.25]\n'
        "```",
    ]


def test_normalized_confusion_shows_shares_of_each_column() -> None:
    [spec], _ = specs_of(
        "plots:\n- cm.json:\n    template: confusion_normalized\n    x: actual\n    y: predicted\n"
    )
    base = {"cm.json": confusion({(0, 0): 3, (1, 0): 1, (1, 1): 4})}
    head = {"cm.json": confusion({(0, 0): 3, (1, 0): 1, (0, 1): 1, (1, 1): 3})}
    [plot] = model_plots([spec], reader(base), reader(head))
    assert isinstance(plot, ConfusionPlot)
    assert plot.normalized
    [block] = plots_block((plot,), "main", "feature")
    assert "| 0 | 0.750 | 0.000 → 0.250 (+0.250) |" in block.splitlines()
    assert "| 1 | 0.250 | 1.000 → 0.750 (-0.250) |" in block.splitlines()


def test_csv_tsv_yaml_and_headerless_data() -> None:
    text = """\
plots:
- a.csv: {x: epoch, y: loss}
- b.tsv: {x: epoch, y: loss}
- c.yaml: {x: epoch, y: loss}
- d.yml: {x: epoch, y: loss}
- e.csv: {x: '0', y: '1', header: false}
- f.json: {x: epoch, y: loss}
"""
    files = {
        "a.csv": b"epoch,loss\r\n0,1.0\r\n1,0.5\r\n2,0.25\r\n",
        "b.tsv": b"epoch\tloss\n0\t1.0\n1\t0.5\n2\t0.25\n",
        "c.yaml": b"train:\n- {epoch: 0, loss: 1.0}\n- {epoch: 1, loss: 0.5}\n"
        b"- {epoch: 2, loss: 0.25}\n",
        "d.yml": b"- epoch: 0\n  loss: 1.0\n- epoch: 1\n  loss: 0.5\n- epoch: 2\n  loss: 0.25\n",
        "e.csv": b"0,1.0\n1,0.5\n2,0.25\n",
        # Two record lists in one mapping: merged record by record, as DVC does.
        "f.json": b'{"x": [{"epoch": 0}, {"epoch": 1}, {"epoch": 2}],'
        b' "y": {"deep": [{"loss": 1.0}, {"loss": 0.5}, {"loss": 0.25}]}}',
    }
    specs, _ = specs_of(text)
    plots = model_plots(specs, None, reader(files))
    assert len(plots) == 6
    for plot in plots:
        assert isinstance(plot, XYPlot)
        assert plot.notes == ()
        assert plot.x == (0.0, 1.0, 2.0)
        assert [line.y for line in plot.lines] == [(1.0, 0.5, 0.25)]


def test_x_and_y_default_to_the_index_and_the_last_field() -> None:
    [spec], _ = specs_of("plots:\n- metrics.json\n")
    files = {
        "metrics.json": json.dumps([{"acc": 0.5, "loss": 3}, {"acc": 0.6, "loss": 2}]).encode()
    }
    [plot] = model_plots([spec], None, reader(files))
    assert isinstance(plot, XYPlot)
    assert (plot.x_label, plot.y_label, plot.x) == ("step", "loss", (0.0, 1.0))
    assert plot.lines[0].y == (3.0, 2.0)


def test_a_file_on_one_side_only() -> None:
    specs, _ = specs_of(GET_STARTED)
    head = get_started_files(0.1)
    base = {k: v for k, v in get_started_files(0.0).items() if "test" not in k}
    roc_plot, cm_plot, _ = model_plots(specs, reader(base), reader(head))
    assert isinstance(roc_plot, XYPlot)
    assert [(line.side, line.file.rsplit("/", 1)[1]) for line in roc_plot.lines] == [
        ("base", "train.json"),
        ("head", "train.json"),
        ("head", "test.json"),
    ]
    assert isinstance(cm_plot, ConfusionPlot)
    assert cm_plot.matrices[1].base is None
    markdown = "\n".join(plots_block((cm_plot,), "main", "feature"))
    assert "(head only: not on the base side; count)" in markdown
    # Removed on head: the base's counts, each marked gone.
    [plot] = model_plots([specs[1]], reader(head), reader({}))
    assert isinstance(plot, ConfusionPlot)
    assert all(matrix.head is None for matrix in plot.matrices)
    assert "| 0 | 5 → — | 1 → — |" in "\n".join(plots_block((plot,), "main", "feature"))
    # No base side at all (a new model), or the files on neither side.
    assert all(line.side == "head" for line in model_plots(specs[:1], None, reader(head))[0].lines)  # type: ignore[union-attr]
    assert model_plots(specs, reader({}), reader({})) == ()


def test_a_training_curve_shorter_on_one_side_is_drawn_flat_with_a_note() -> None:
    [spec], _ = specs_of("plots:\n- loss.csv: {x: step, y: loss}\n")
    base = {"loss.csv": b"step,loss\n0,1\n1,0.5\n2,0.4\n"}
    head = {"loss.csv": b"step,loss\n0,1\n1,0.5\n2,0.4\n3,0.3\n4,0.2\n"}
    [plot] = model_plots([spec], reader(base), reader(head))
    assert isinstance(plot, XYPlot)
    assert plot.x == (0.0, 1.0, 2.0, 3.0, 4.0)
    assert plot.lines[0].y == (1.0, 0.5, 0.4, 0.4, 0.4)
    assert plot.notes == (
        "loss.csv (loss) on the base side spans x 0 to 2 only: drawn flat beyond",
    )


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (b"{not json", "cm.json on the head side: not valid JSON (line 1)"),
        (b"\xff\xfe", "cm.json on the head side: not UTF-8 text"),
        (b'{"roc": 3}', "cm.json on the head side: no list of records in it"),
        (b"[1, 2]", "cm.json on the head side: expected a list of records"),
        (b'"text"', "cm.json on the head side: expected a list of records, or a mapping"),
        (
            b"[" + b"{}," * MAX_POINTS + b"{}]",
            "cm.json on the head side: more than 200,000 records",
        ),
        (b"[" + b"1," * 1_000_001 + b"1]", "cm.json on the head side: more than 1,000,000 values"),
        (b"[[[" * 500 + b"]]]" * 500, "cm.json on the head side: nested too deeply"),
        (b'[{"fpr": "a", "tpr": "b"}]', "cm.json on the head side: no numeric points"),
        (b'[{"recall": 1, "precision": 1}]', "cm.json on the head side has no field 'fpr'"),
    ],
)
def test_unreadable_data_is_a_note_not_an_error(data: bytes, note: str) -> None:
    [spec], _ = specs_of("plots:\n- cm.json: {x: fpr, y: tpr}\n")
    good = {"cm.json": roc([(0.0, 0.0), (1.0, 1.0)])}
    [plot] = model_plots([spec], reader(good), reader({"cm.json": data}))
    assert isinstance(plot, XYPlot)
    assert plot.notes[0].startswith(note), plot.notes
    assert [line.side for line in plot.lines] == ["base"]  # the readable side is drawn


def test_a_plot_unreadable_on_both_sides_is_its_notes() -> None:
    [spec], _ = specs_of("plots:\n- cm.json: {template: confusion, x: actual, y: predicted}\n")
    [plot] = model_plots([spec], reader({"cm.json": b"["}), reader({"cm.json": b"{}"}))
    assert isinstance(plot, ConfusionPlot)
    assert (plot.matrices, plot.notes) == (
        (),
        (
            "cm.json on the base side: not valid JSON (line 1)",
            "cm.json on the head side: no list of records in it",
        ),
    )
    [block] = plots_block((plot,), "main", "feature")
    assert block.split("\n\n")[1:4] == [
        "**cm.json**",
        "> cm.json on the base side: not valid JSON (line 1)",
        "> cm.json on the head side: no list of records in it",
    ]


def test_sizes_are_bounded() -> None:
    [spec], _ = specs_of("plots:\n- big.csv: {x: step, y: loss}\n")
    rows = "".join(f"{i},{i}\n" for i in range(MAX_POINTS))
    at_limit = {"big.csv": ("step,loss\n" + rows).encode()}
    [plot] = model_plots([spec], None, reader(at_limit))
    assert isinstance(plot, XYPlot)
    assert (plot.notes, len(plot.x)) == ((), 21)
    over = {"big.csv": ("step,loss\n" + rows + "0,0\n").encode()}
    [plot] = model_plots([spec], None, reader(over))
    assert plot.notes == (
        "big.csv on the head side: more than 200,000 records (gitml reads at most that many)",
    )
    huge = {"big.csv": b"step,loss\n" + b"0," + b"1" * MAX_BYTES}
    [plot] = model_plots([spec], None, reader(huge))
    assert plot.notes == ("big.csv on the head side: larger than 32 MiB",)
    # A cell longer than Python's csv limit (128 KiB) is refused, not read.
    wide = {"big.csv": b"step,loss\n0," + b"1" * 200_000 + b"\n"}
    [plot] = model_plots([spec], None, reader(wide))
    assert plot.notes[0].startswith("big.csv on the head side: not valid CSV/TSV: field larger")


def test_too_many_classes_and_missing_fields_are_notes() -> None:
    [spec], _ = specs_of("plots:\n- cm.json: {template: confusion, x: actual, y: predicted}\n")
    many = json.dumps([{"actual": str(i), "predicted": str(i)} for i in range(25)]).encode()
    [plot] = model_plots([spec], None, reader({"cm.json": many}))
    assert isinstance(plot, ConfusionPlot)
    assert (plot.matrices, plot.notes) == (
        (),
        ("cm.json: 25 classes, more than the 20 a table in a comment can show",),
    )
    wrong = json.dumps([{"label": "0", "guess": "1"}]).encode()
    [plot] = model_plots([spec], None, reader({"cm.json": wrong}))
    assert plot.notes == (
        "cm.json on the head side has no field 'actual' or 'predicted' (fields: label, guess)",
    )


def test_a_reader_error_is_a_note() -> None:
    [spec], _ = specs_of("plots:\n- roc.json: {x: fpr, y: tpr}\n")

    def failing(path: str) -> bytes | None:
        raise GitmlError(f"{path}: not in the DVC cache or remote")

    [plot] = model_plots([spec], failing, reader({"roc.json": roc([(0.0, 0.0), (1.0, 1.0)])}))
    assert plot.notes == ("roc.json on the base side: roc.json: not in the DVC cache or remote",)


def test_project_plots_drop_gitml_curves_and_draw_the_confusion_table() -> None:
    """This repository's dvc.yaml: roc/pr/calibration are gitml's own curves (drawn once);
    confusion.csv becomes a table whose counts are the ones metrics/credit.json reports."""
    specs, notes = plot_specs(parse_text((PROJECT_ROOT / "dvc.yaml").read_text(), "dvc.yaml"))
    assert notes == ()
    [spec] = without_curve_files(specs, "metrics/plots/")
    assert (spec.id, spec.template, spec.stage) == (
        "metrics/plots/confusion.csv",
        "confusion",
        "evaluate",
    )

    def workspace(path: str) -> bytes | None:
        file = PROJECT_ROOT / path
        return file.read_bytes() if file.is_file() else None

    [plot] = model_plots([spec], workspace, workspace)
    assert isinstance(plot, ConfusionPlot)
    [matrix] = plot.matrices
    counts = json.loads((PROJECT_ROOT / "metrics" / "credit.json").read_text())["confusion"]
    assert matrix.labels == ("0", "1")
    assert matrix.head == ((counts["tn"], counts["fp"]), (counts["fn"], counts["tp"]))


# --- untrusted text ---------------------------------------------------------------------


def _csv_safe(value: str) -> str:
    """``value`` with what a CSV header cell cannot hold unquoted made a space."""
    return "".join(c if c not in ',"\n\r' else " " for c in value)


def _named_project(names: Callable[[int], str]) -> tuple[Plot, ...]:
    """Plots whose title, labels, files, fields and classes are ``names(i)``."""
    x, y, actual, predicted = names(2), names(3), names(4), names(5)
    document = {
        "plots": [
            {f"m/{names(0)}.json": {"x": x, "y": y, "title": names(6), "x_label": names(7)}},
            {
                names(8): {
                    "template": "confusion",
                    "x": actual,
                    "y": {f"m/{names(1)}.csv": predicted},
                }
            },
            {names(9): {"y": {f"m/{names(0)}.json": [y, names(10)]}, "x": x, "y_label": names(11)}},
        ]
    }
    specs, notes = plot_specs(document)
    assert notes == ()
    # The paths as dvc.yaml resolves them (a ``//`` in a name is one ``/`` of the path).
    [roc_file], [cm_file] = specs[0].files, specs[1].files

    def files(shift: float) -> dict[str, bytes]:
        points = [{x: i / 4, y: (i / 4) ** 0.5 + shift, names(10): i / 8} for i in range(5)]
        classes = [names(12), names(13)]
        rows = [f'"{a}","{p}"' for a in classes for p in classes] * (2 if shift else 1)
        return {
            roc_file: json.dumps({"roc": points}).encode(),
            cm_file: (f"{actual},{predicted}\n" + "\n".join(rows) + "\n").encode(),
        }

    return model_plots(specs, reader(files(0.0)), reader(files(0.1)))


def _named(prefix: str, hostile: str = "") -> Callable[[int], str]:
    return lambda i: f"{prefix}{i} {_csv_safe(hostile) if hostile else 'name'}"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_names_are_inert(hostile: str) -> None:
    plain_plots = _named_project(_named("p"))
    hostile_plots = _named_project(_named("h", hostile))
    assert len(hostile_plots) == len(plain_plots) == 3
    assert all(not plot.notes for plot in hostile_plots), [p.notes for p in hostile_plots]
    markdown = render(report_with(hostile_plots))
    # The hostile title is shown (escaped), and so is a hostile class value in its table.
    assert f"**{text(_named('h', hostile)(6))}**" in markdown
    assert f"| {text(_named('h', hostile)(12))} |" in markdown
    assert_inert(markdown, render(report_with(plain_plots)))


def test_every_chart_parses_with_mermaid() -> None:
    """Mermaid's own parser (tests/mermaid) accepts every chart: hostile titles, labels
    and file names, negative, large and tiny values, a single point, many lines."""
    reports = [report_with(_named_project(_named("h", hostile))) for hostile in HOSTILE]
    reports.append(report_with(_named_project(_named("p"))))
    reports.append(report_with(_rich_plots()))
    text = """\
plots:
- a.csv: {x: step, y: [loss, gain, tiny]}
- b.csv: {x: step, y: loss}
- Many:
    x: step
    y: {a.csv: [loss, gain], b.csv: loss, c.json: [v, w]}
"""
    files = {
        "a.csv": b"step,loss,gain,tiny\n0,-2.5,1000000.5,0.0000012\n1,-1,2500000,0.0000003\n",
        "b.csv": b"step,loss\n7,3\n",
        "c.json": json.dumps([{"step": i, "v": -i, "w": i * 1e-9} for i in range(40)]).encode(),
    }
    specs, _ = specs_of(text)
    reports.append(report_with(model_plots(specs, reader(files), reader(files))))
    charts = [chart for report in reports for chart in FENCE.findall(render(report))]
    assert len(charts) == 6 * 2 + 2 + 2 + 3
    results = parse_mermaid(charts)
    failures = [(c, r.get("error")) for c, r in zip(charts, results, strict=True) if not r["ok"]]
    assert failures == []
    assert {r.get("type") for r in results} == {"xychart"}


def test_hostile_notes_and_report_labels_are_inert() -> None:
    [spec], _ = specs_of("plots:\n- roc.json: {x: fpr, y: tpr}\n")
    bad = {"roc.json": json.dumps([{HOSTILE[1]: 1}]).encode()}
    [plot] = model_plots([spec], None, reader(bad))
    assert "has no field 'fpr', 'tpr'" in plot.notes[0]
    [plain_plot] = model_plots([spec], None, reader({"roc.json": b'[{"a": 1}]'}))
    assert problems("\n\n".join(plots_block((plot,), HOSTILE[2], HOSTILE[0]))) == []
    assert_inert(render(report_with((plot,))), render(report_with((plain_plot,))))


# --- JSON ---------------------------------------------------------------------------------


def _rich_plots() -> tuple[Plot, ...]:
    specs, _ = specs_of(GET_STARTED)
    base = {k: v for k, v in get_started_files(0.0).items() if "cm/test" not in k}
    plots = model_plots(specs, reader(base), reader(get_started_files(0.1)))
    [normalized], _ = specs_of(
        "plots:\n- cm.json: {template: confusion_normalized, x: actual, y: predicted}\n"
    )
    extra = model_plots(
        [normalized], reader({"cm.json": b"{"}), reader({"cm.json": confusion({(0, 1): 2})})
    )
    return (*plots, *extra)


def test_json_round_trip_renders_the_same_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = report_with(_rich_plots())
    data = to_data(report)
    assert schema_problems(data, packaged_schema("report.schema.json"), "report") == []
    assert [p["kind"] for p in data["models"][0]["plots"]] == ["xy", "confusion", "xy", "confusion"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data, indent=2))
    assert to_data(read_report(path)) == data
    assert read_report(path) == report
    out = tmp_path / "comment.md"
    assert main(["report", "--from-json", str(path), "-o", str(out)]) == 0
    capsys.readouterr()
    direct = render(report)
    assert out.read_text().replace(f"\n\n{NOTICE}", "", 1) == direct
    assert "Plots declared in dvc.yaml (4;" in direct


def test_a_report_without_plots_still_reads() -> None:
    data = to_data(report_with(()))
    del data["models"][0]["plots"]
    assert schema_problems(data, packaged_schema("report.schema.json"), "report") == []
    assert to_report(data).models[0].plots == ()


def _broken(change: str) -> dict[str, Any]:
    data = to_data(report_with(_rich_plots()))
    xy, cm = data["models"][0]["plots"][:2]
    if change == "line length":
        xy["lines"][0]["y"] = xy["lines"][0]["y"][:-1]
    elif change == "not square":
        cm["matrices"][0]["head"] = [[1, 2]]
    elif change == "too many classes":
        cm["matrices"][0]["labels"] = [str(i) for i in range(21)]
    elif change == "negative count":
        cm["matrices"][0]["head"][0][0] = -1
    elif change == "unknown kind":
        xy["kind"] = "pie"
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("line length", "not a gitml report: a plot line does not have one value per x"),
        ("not square", "not a gitml report: a confusion matrix is not 2 x 2, as its labels"),
        ("too many classes", "not a gitml report: a confusion matrix has more than 20 classes"),
        ("negative count", "models[0].plots[1]"),
        ("unknown kind", "models[0].plots[0]"),
    ],
)
def test_an_invalid_plot_in_a_json_report_is_refused(
    change: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(_broken(change)))
    assert main(["report", "--from-json", str(path)]) == 1
    stderr = capsys.readouterr().err
    assert expected in stderr, stderr
    assert stderr.count("\n") == 1


# --- DVCLive itself -----------------------------------------------------------------------


def test_real_dvclive_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DVCLive's own files and dvc.yaml (where DVCLive is installed)."""
    live_module = pytest.importorskip("dvclive")
    pytest.importorskip("sklearn")
    import random

    monkeypatch.chdir(tmp_path)
    rng = random.Random(7)
    labels = [rng.randint(0, 1) for _ in range(300)]
    sides = {}
    for side, noise in (("base", 0.8), ("head", 0.6)):
        scores = [min(1.0, max(0.0, 0.4 * y + noise * rng.random())) for y in labels]
        with live_module.Live(
            f"{side}/eval", dvcyaml=f"{side}/dvc.yaml", save_dvc_exp=False, report=None
        ) as live:
            for kind in ("roc", "precision_recall", "calibration", "det"):
                live.log_sklearn_plot(kind, labels, scores, name=f"{kind}/test.json")
            predicted = [int(s > 0.5) for s in scores]
            live.log_sklearn_plot("confusion_matrix", labels, predicted, name="cm/test.json")
        sides[side] = tmp_path / side
    document = parse_text((sides["head"] / "dvc.yaml").read_text(), "dvc.yaml")
    specs, _ = plot_specs(document)

    def side_reader(root: Path) -> Callable[[str], bytes | None]:
        return lambda path: (root / path).read_bytes() if (root / path).is_file() else None

    plots = model_plots(specs, side_reader(sides["base"]), side_reader(sides["head"]))
    assert [(type(p).__name__, p.title) for p in plots] == [
        ("XYPlot", "Receiver operating characteristic (ROC)"),
        ("XYPlot", "Precision-Recall Curve"),
        ("XYPlot", "Calibration Curve"),
        ("XYPlot", "Detection error tradeoff (DET)"),
        ("ConfusionPlot", "Confusion Matrix"),
    ]
    # DVCLive drops a curve's last point (its thresholds are one shorter than the curve),
    # so base and head may span different x ranges: said, not hidden.
    notes = [note for plot in plots for note in plot.notes]
    assert all(note.endswith("drawn flat beyond") for note in notes), notes
    for plot in plots[:4]:
        assert isinstance(plot, XYPlot)
        assert [line.side for line in plot.lines] == ["base", "head"]
    confusion_plot = plots[4]
    assert isinstance(confusion_plot, ConfusionPlot)
    [matrix] = confusion_plot.matrices
    assert matrix.head is not None
    assert sum(map(sum, matrix.head)) == len(labels)
    results = parse_mermaid(FENCE.findall(render(report_with(plots))))
    assert len(results) == 4
    assert all(r["ok"] for r in results), results
