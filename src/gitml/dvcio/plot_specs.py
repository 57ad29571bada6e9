"""The plots a DVC project declares in ``dvc.yaml``, as frozen values (no DVC import).

DVC reads plot definitions from two places, and so does this module:

* the top-level ``plots:`` list, whose entries are a data file (``- path``), a data file
  with properties (``- path: {x: fpr, y: tpr, template: simple}``), or a named plot
  whose ``y`` maps files to fields (``- ROC: {x: fpr, y: {train.json: tpr, ...}}``). As
  in DVC, an entry is a named plot exactly when its ``y`` is such a mapping; otherwise
  its key is the data file;
* a stage's ``plots:`` outputs (``- file`` or ``- file: {cache: false, x: ..., y: ...}``).

DVC's defaults apply: template ``linear``; no ``x`` means the record index (DVC's
``step``); no ``y`` means the last field of the first record (resolved when the data is
read); the title is the plot's id. A stage output that names a file a top-level entry
also defines, and carries no plot property of its own, only declares the file as an
output: it is dropped so the same data is not drawn twice (``dvc plots show`` would draw
it a second time, against the record index).

Some entries cannot be resolved from ``dvc.yaml`` alone: a directory (DVC draws each file
in it, which needs a listing of the revision), a templated path (``${...}``, resolved by
DVC's ``vars``), the stages of ``foreach``/``matrix``, an image, or a path outside the
repository. Those are skipped, each with a note saying why, for the caller to show.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

DVC_YAML = "dvc.yaml"
DEFAULT_TEMPLATE = "linear"
# Files DVC reads as data series; images are drawn as they are, which a comment cannot
# do without uploading them somewhere.
DATA_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".csv", ".tsv"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg"})
# The properties that shape a plot; a stage output with none of them only declares a file.
PLOT_PROPS = ("x", "y", "template", "title", "x_label", "y_label", "header")
_TEXT_PROPS = ("template", "title", "x_label", "y_label")


class Series(NamedTuple):
    """One line (or one confusion matrix) of a plot: its data file and fields.

    ``x`` is None for the record index (DVC's ``step``); ``y`` is None for "the last
    field of the first record", DVC's default, known only once the data is read.
    """

    file: str
    x: str | None
    y: str | None


@dataclass(frozen=True)
class PlotSpec:
    """One plot as ``dvc.yaml`` defines it, paths relative to the repository root."""

    id: str
    title: str
    template: str
    x_label: str | None  # None: inferred from the fields, as DVC does
    y_label: str | None
    series: tuple[Series, ...]
    header: bool = True  # CSV/TSV files start with a row of field names
    stage: str | None = None  # the stage whose output it is; None when top-level only
    # A directory of data files (DVCLive's `dvclive/plots/metrics`): one plot per file,
    # listed on each side when the report is drawn (its one series names the directory).
    directory: bool = False

    @property
    def files(self) -> tuple[str, ...]:
        """The data files the plot reads, each once, in declaration order."""
        return tuple(dict.fromkeys(series.file for series in self.series))


def _fail(file: str, key: str, expected: str, value: Any) -> ConfigError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    message = f"expected {expected}, got {shown}"
    return ConfigError(f"{file}: {key}: {message}", [(file, key, message)])


def _text(props: Mapping[str, Any], name: str, file: str, key: str) -> str | None:
    value = props.get(name)
    if value is not None and not isinstance(value, str):
        raise _fail(file, f"{key}.{name}", "a string", value)
    return value


def _fields(value: Any, file: str, key: str) -> tuple[str, ...]:
    """A field name or a non-empty list of them."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(file, key, "a field name or a list of field names", value)


class _Resolver:
    """Turns the paths written in one ``dvc.yaml`` into repository paths, or a reason."""

    def __init__(self, file: str):
        self.file = file
        self.directory = posixpath.dirname(file)

    def directory_path(self, written: str, directory: str = "") -> str | None:
        """The repository path of a plots directory (``dvclive/plots/metrics``: no suffix,
        or a trailing slash), or None when ``written`` names no such directory."""
        if "${" in written or posixpath.isabs(written):
            return None
        joined = posixpath.normpath(posixpath.join(self.directory, directory, written))
        if joined in (".", "..") or joined.startswith("../"):
            return None
        if written.endswith("/") or not posixpath.splitext(joined)[1]:
            return joined
        return None

    def path(self, written: str, where: str, directory: str = "") -> tuple[str | None, str]:
        """``(repository path, "")``, or ``(None, why it is skipped)``."""
        label = f"{self.file}: {where} ({written!r})"
        if "${" in written:
            return None, f"{label}: a templated path (DVC resolves it from vars): not drawn"
        if written.endswith("/"):
            return None, f"{label}: a directory (its files are not listed here): not drawn"
        joined = posixpath.normpath(posixpath.join(self.directory, directory, written))
        if posixpath.isabs(written) or joined == ".." or joined.startswith("../"):
            return None, f"{label}: outside the repository: not drawn"
        suffix = posixpath.splitext(joined)[1].lower()
        if suffix in IMAGE_SUFFIXES:
            return None, f"{label}: an image (not drawn in the comment)"
        if not suffix:
            return None, f"{label}: a directory (its files are not listed here): not drawn"
        if suffix not in DATA_SUFFIXES:
            return None, f"{label}: not a data file DVC plots (JSON, YAML, CSV, TSV): not drawn"
        return joined, ""


def _x_for(x: Any, file: str, key: str) -> dict[str, str] | str | None:
    """The ``x`` property: a field, a ``{file: field}`` mapping, or None (record index)."""
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, dict) and x and all(isinstance(v, str) for v in x.values()):
        return {str(k): v for k, v in x.items()}
    raise _fail(file, f"{key}.x", "a field name or a mapping of file to field", x)


def _named(
    plot_id: str, props: Mapping[str, Any], resolver: _Resolver, key: str
) -> tuple[PlotSpec | None, list[str]]:
    """A top-level plot whose ``y`` maps files to fields (``{ROC: {x: fpr, y: {...}}}``)."""
    file = resolver.file
    x = _x_for(props.get("x"), file, key)
    notes: list[str] = []
    series: list[Series] = []
    resolved_x: dict[str, str] = {}
    if isinstance(x, dict):
        for written, field in x.items():
            path, _ = resolver.path(written, f"{key}.x")
            if path is not None:
                resolved_x[path] = field
    # One x for every file (DVC joins it by record index); or each file's own.
    shared_x = x if isinstance(x, str) else next(iter(resolved_x.values()), None)
    for written, fields in props["y"].items():
        where = f"{key}.y.{written}"
        names = _fields(fields, file, where)
        path, why = resolver.path(str(written), f"{key}.y")
        if path is None:
            notes.append(why)
            continue
        series += [Series(path, resolved_x.get(path, shared_x), name) for name in names]
    if not series:
        notes.append(f"{file}: {key}: no data file left to draw")
        return None, notes
    return _spec(plot_id, props, tuple(series), file, key, None), notes


def _spec(
    plot_id: str,
    props: Mapping[str, Any],
    series: tuple[Series, ...],
    file: str,
    key: str,
    stage: str | None,
) -> PlotSpec:
    text = {name: _text(props, name, file, key) for name in _TEXT_PROPS}
    header = props.get("header", True)
    if not isinstance(header, bool):
        raise _fail(file, f"{key}.header", "true or false", header)
    return PlotSpec(
        id=plot_id,
        title=text["title"] or plot_id,
        template=text["template"] or DEFAULT_TEMPLATE,
        x_label=text["x_label"],
        y_label=text["y_label"],
        series=series,
        header=header,
        stage=stage,
    )


def _file_plot(
    path: str,
    props: Mapping[str, Any],
    file: str,
    key: str,
    stage: str | None,
    *,
    directory: bool = False,
) -> PlotSpec:
    """A plot of one data file (``- path`` or ``- path: {x: ..., y: field or [fields]}``),
    or of each data file in the directory ``path``."""
    x = _x_for(props.get("x"), file, key)
    if isinstance(x, dict):
        # ``x: {file: field}`` beside a plain ``y``: the field of this file (DVC's join).
        x = x.get(path, next(iter(x.values())))
    y = props.get("y")
    fields: tuple[str | None, ...] = (None,) if y is None else _fields(y, file, f"{key}.y")
    spec = _spec(path, props, tuple(Series(path, x, f) for f in fields), file, key, stage)
    return replace(spec, directory=True) if directory else spec


def _entries(value: Any, file: str, key: str) -> Iterable[tuple[str, Any, str]]:
    """``(written path or id, props or None, key path)`` of a ``plots:`` list."""
    if value is None:
        return
    if not isinstance(value, list):
        raise _fail(file, key, "a list of plots", value)
    for index, entry in enumerate(value):
        where = f"{key}[{index}]"
        if isinstance(entry, str):
            yield entry, None, where
        elif isinstance(entry, dict) and entry:
            for name, props in entry.items():
                if props is not None and not isinstance(props, dict):
                    raise _fail(file, f"{where}.{name}", "a mapping of plot properties", props)
                yield str(name), props, f"{where}.{name}"
        else:
            expected = "a path or a mapping of a path or plot id to its properties"
            raise _fail(file, where, expected, entry)


def _stage_plots(
    document: Mapping[str, Any], resolver: _Resolver
) -> tuple[list[tuple[str, PlotSpec, bool]], list[str]]:
    """``(path, spec, has plot properties)`` of every stage's plots outputs, and notes."""
    file = resolver.file
    stages = document.get("stages") or {}
    if not isinstance(stages, dict):
        raise _fail(file, "stages", "a mapping of stage name to definition", stages)
    found: list[tuple[str, PlotSpec, bool]] = []
    notes: list[str] = []
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            continue  # a stage's own shape is DVC's to check; only its plots matter here
        key = f"stages.{name}"
        if "foreach" in stage or "matrix" in stage:
            body = stage.get("do")
            if (body if isinstance(body, dict) else stage).get("plots"):
                notes.append(
                    f"{file}: {key}: the plots of a foreach/matrix stage are resolved by "
                    "DVC per item: not drawn"
                )
            continue
        wdir = stage.get("wdir") or ""
        if not isinstance(wdir, str):
            raise _fail(file, f"{key}.wdir", "a directory path", wdir)
        for written, props, where in _entries(stage.get("plots"), file, f"{key}.plots"):
            folder = resolver.directory_path(written, wdir)
            path, why = (folder, "") if folder else resolver.path(written, where, wdir)
            if path is None:
                notes.append(why)
                continue
            props = props or {}
            if props.get("y") is not None and isinstance(props["y"], dict):
                raise _fail(file, f"{where}.y", "a field name or a list of field names", props["y"])
            spec = _file_plot(path, props, file, where, str(name), directory=bool(folder))
            found.append((path, spec, any(props.get(p) is not None for p in PLOT_PROPS)))
    return found, notes


def plot_specs(
    document: Mapping[str, Any], file: str = DVC_YAML
) -> tuple[tuple[PlotSpec, ...], tuple[str, ...]]:
    """Every plot ``dvc.yaml`` defines, and a note for each one that cannot be drawn.

    ``document`` is the parsed ``dvc.yaml``; ``file`` its path in the repository, which
    names it in errors and anchors its relative paths. Specs come in DVC's order: the
    stages' plots outputs, then the top-level ``plots:``. A shape DVC would refuse raises
    :class:`~gitml.errors.ConfigError` naming the file and the key.
    """
    if not isinstance(document, Mapping):
        raise _fail(file, "(top level)", "a mapping", document)
    resolver = _Resolver(file)
    stage_plots, notes = _stage_plots(document, resolver)
    top: list[PlotSpec] = []
    top_paths: set[str] = set()
    for written, props, where in _entries(document.get("plots"), file, "plots"):
        props = props or {}
        if isinstance(props.get("y"), dict):
            if not props["y"]:
                raise _fail(file, f"{where}.y", "a mapping of file to field(s)", props["y"])
            spec, why = _named(written, props, resolver, where)
            notes += why
        else:
            folder = resolver.directory_path(written)
            path, reason = (folder, "") if folder else resolver.path(written, where)
            if path is None:
                notes.append(reason)
                continue
            stage = next((s.stage for p, s, _ in stage_plots if p == path), None)
            spec = _file_plot(path, props, file, where, stage, directory=bool(folder))
            top_paths.add(path)
        if spec is not None:
            top.append(spec)
    outputs = [spec for path, spec, own in stage_plots if own or path not in top_paths]
    return (*outputs, *top), tuple(notes)
