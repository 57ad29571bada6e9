"""The plots ``dvc.yaml`` declares, base against head, as report values.

:func:`model_plots` reads each plot's data files on both sides (through callables the
caller supplies, so the files may come from git, the workspace or DVC's cache) and
builds, per :class:`~gitml.dvcio.plot_specs.PlotSpec`:

* an :class:`~gitml.report.model.XYPlot` for the x-y templates (``linear``, ``simple``,
  ``scatter``, ``smooth`` and any custom template): every series of both sides resampled
  onto one shared x grid (the functions of :mod:`gitml.report.curves`), because Mermaid's
  ``xychart`` draws all lines against one set of x labels;
* a :class:`~gitml.report.model.ConfusionPlot` for ``confusion`` and
  ``confusion_normalized``: counts of (x value, y value) pairs per data file.

A file missing on one side gives a plot of the other side; data that cannot be read
or holds no usable points gives a note on the plot, never an error.
"""

from __future__ import annotations

import math
import posixpath
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from gitml.dvcio.plot_specs import DATA_SUFFIXES, Series
from gitml.errors import GitmlError
from gitml.report.curves import CURVES, GRID_POINTS, interpolate, linear_grid
from gitml.report.model import ConfusionMatrix, ConfusionPlot, PlotLine, XYPlot
from gitml.report.plot_data import PlotDataError, category, number, read_table

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from gitml.dvcio.plot_specs import PlotSpec
    from gitml.report.model import Plot
    from gitml.report.plot_data import Table

    Reader = Callable[[str], bytes | None]

CONFUSION_TEMPLATES = frozenset({"confusion", "confusion_normalized"})
# A confusion table of more classes than this is too wide for a comment.
MAX_CLASSES = 20
# DVC names the record index "step" when a plot has no x field.
INDEX = "step"
MAX_FIELDS_LISTED = 8


class _Side:
    """One side's data files, each read and parsed once, with what went wrong."""

    def __init__(self, name: str, reader: Reader | None, wanted: dict[str, set[str]]):
        self.name = name
        self._reader = reader
        self._wanted = wanted  # per file, the fields some plot reads from it
        self._cache: dict[tuple[str, bool], Table | None] = {}
        self.problems: dict[str, str] = {}

    def table(self, file: str, header: bool) -> Table | None:
        """The file's columns; None when it is absent or unreadable (see ``problems``)."""
        key = (file, header)
        if key not in self._cache:
            self._cache[key] = self._read(file, header)
        return self._cache[key]

    def _read(self, file: str, header: bool) -> Table | None:
        if self._reader is None:
            return None
        try:
            data = self._reader(file)
            if data is None:
                return None
            return read_table(data, file, header, self._wanted.get(file, set()))
        except (PlotDataError, GitmlError) as exc:
            self.problems[file] = f"{file} on the {self.name} side: {exc}"
            return None


def _fields(table: Table) -> str:
    names = list(table.fields[:MAX_FIELDS_LISTED])
    more = ", …" if len(table.fields) > MAX_FIELDS_LISTED else ""
    return ", ".join(names) + more if names else "none"


def _y_field(series: Series, table: Table) -> str | None:
    """The y field; DVC's default is the last field of the first record."""
    if series.y is not None:
        return series.y
    return table.fields[-1] if table.fields else None


def _missing(table: Table, *fields: str | None) -> list[str]:
    """Those of ``fields`` the data lacks (DVC checks the first record)."""
    return [f for f in fields if f is not None and table.rows and f not in table.fields]


def _points(series: Series, table: Table, y: str) -> list[tuple[float, float]]:
    ys = table.columns[y]
    xs = range(table.rows) if series.x is None else table.columns[series.x]
    pairs = []
    for x_raw, y_raw in zip(xs, ys, strict=True):
        x_value, y_value = number(x_raw), number(y_raw)
        if x_value is not None and y_value is not None:
            pairs.append((x_value, y_value))
    return sorted(pairs)


def _digits(values: Sequence[float]) -> int:
    """Decimals that keep ~5 significant digits of the largest magnitude (at least 4)."""
    largest = max((abs(v) for v in values), default=0.0)
    if largest == 0:
        return 4
    return max(4, min(12, 4 - math.floor(math.log10(largest))))


def _grid(sides: list[list[tuple[float, float]]], by_index: bool) -> tuple[float, ...]:
    low = min(points[0][0] for points in sides)
    high = max(points[-1][0] for points in sides)
    whole = all(x.is_integer() for points in sides for x, _ in points)
    if whole and (2 if not by_index else 1) <= high - low < GRID_POINTS:
        # Steps or epochs: each one its own label, none invented between them. (Rates
        # at their extremes, 0 and 1, are whole too: a two-value range of a field is
        # sampled like any other.)
        return tuple(float(x) for x in range(int(low), int(high) + 1))
    if low == high:
        return (low,)
    return linear_grid(low, high, GRID_POINTS, _digits([high - low]))


def _xy_plot(spec: PlotSpec, sides: tuple[_Side, _Side]) -> XYPlot | None:
    notes: list[str] = []
    drawn: list[tuple[str, Series, str, list[tuple[float, float]]]] = []
    y_fields: list[str] = []
    for series in spec.series:
        for side in sides:
            table = side.table(series.file, spec.header)
            if table is None:
                continue
            y = _y_field(series, table)
            missing = _missing(table, series.x, y)
            if y is None or missing:
                wanted = ", ".join(repr(f) for f in missing) or "a y field"
                notes.append(
                    f"{series.file} on the {side.name} side has no field {wanted} "
                    f"(fields: {_fields(table)})"
                )
                continue
            y_fields.append(y)
            points = _points(series, table, y)
            if not points:
                notes.append(f"{series.file} on the {side.name} side: no numeric points")
                continue
            drawn.append((side.name, series, y, points))
    if not drawn and not notes:
        return None  # the files exist on neither side: nothing to say
    by_index = all(series.x is None for series in spec.series)
    xs = _grid([points for *_, points in drawn], by_index) if drawn else ()
    digits = _digits([y for *_, points in drawn for _, y in points])
    lines = []
    for side_name, series, y, points in drawn:
        values = tuple(round(interpolate(points, x), digits) for x in xs)
        lines.append(PlotLine(side_name, series.file, y, values))
        # A line that stops short of the grid by more than one grid step is extrapolated
        # flat: worth saying. Less (DVCLive's precision-recall starting at recall 0.008
        # where another starts at 0.003) is below what the chart can show.
        step = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        if points[0][0] - xs[0] > step or xs[-1] - points[-1][0] > step:
            notes.append(
                f"{series.file} ({y}) on the {side_name} side spans x "
                f"{points[0][0]:g} to {points[-1][0]:g} only: drawn flat beyond"
            )
    # DVC's labels: the one field when all series share it, else "x" / "y".
    x_fields = list(dict.fromkeys(s.x or INDEX for s in spec.series))
    y_fields = list(dict.fromkeys(y_fields))
    x_label = spec.x_label or (x_fields[0] if len(x_fields) == 1 else "x")
    y_label = spec.y_label or (y_fields[0] if len(y_fields) == 1 else "y")
    return XYPlot(
        spec.id, spec.title, spec.template, x_label, y_label, xs, tuple(lines), tuple(notes)
    )


def _class_order(labels: Collection[str]) -> tuple[str, ...]:
    """Numeric classes in numeric order (2 before 10), others alphabetically after them."""

    def key(label: str) -> tuple[int, float, str]:
        value = number(label)
        return (0, value, label) if value is not None else (1, 0.0, label)

    return tuple(sorted(labels, key=key))


def _matrix(
    found: Counter[tuple[str, str]] | None, labels: tuple[str, ...]
) -> tuple[tuple[int, ...], ...] | None:
    """Rows of x values, columns of y values; None for a side without the file."""
    if found is None:
        return None
    return tuple(tuple(found[(row, column)] for column in labels) for row in labels)


def _confusion_plot(spec: PlotSpec, sides: tuple[_Side, _Side]) -> ConfusionPlot | None:
    notes: list[str] = []
    matrices = []
    for series in spec.series:
        counts: dict[str, Counter[tuple[str, str]]] = {}
        y_field = series.y
        for side in sides:
            table = side.table(series.file, spec.header)
            if table is None:
                continue
            y = _y_field(series, table)
            if series.x is None or y is None:
                notes.append(f"{series.file}: a confusion plot needs x and y fields")
                break
            if _missing(table, series.x, y):
                notes.append(
                    f"{series.file} on the {side.name} side has no field {series.x!r} or "
                    f"{y!r} (fields: {_fields(table)})"
                )
                continue
            y_field = y
            pairs = zip(table.columns[series.x], table.columns[y], strict=True)
            counts[side.name] = Counter((category(a), category(p)) for a, p in pairs)
        if not counts or series.x is None or y_field is None:
            continue
        labels = _class_order({label for c in counts.values() for pair in c for label in pair})
        if len(labels) > MAX_CLASSES:
            notes.append(
                f"{series.file}: {len(labels)} classes, more than the {MAX_CLASSES} a "
                "table in a comment can show"
            )
            continue

        matrices.append(
            ConfusionMatrix(
                series.file,
                series.x,
                y_field,
                labels,
                _matrix(counts.get("base"), labels),
                _matrix(counts.get("head"), labels),
            )
        )
    if not matrices and not notes:
        return None
    x_label = spec.x_label or (spec.series[0].x or INDEX)
    y_label = spec.y_label or (matrices[0].y_field if matrices else spec.series[0].y or "y")
    return ConfusionPlot(
        spec.id, spec.title, spec.template, x_label, y_label, tuple(matrices), tuple(notes)
    )


def model_plots(specs: Sequence[PlotSpec], base: Reader | None, head: Reader) -> tuple[Plot, ...]:
    """The report's plots for ``specs``, each side's files read through its callable.

    ``base``/``head`` return a file's bytes on that side, or None when it is not there;
    ``base`` is None when there is no base side at all. A plot whose files exist on
    neither side is left out; a problem reading or drawing one becomes a note on it.
    """
    wanted: dict[str, set[str]] = {}
    for spec in specs:
        for series in spec.series:
            wanted.setdefault(series.file, set()).update(
                field for field in (series.x, series.y) if field is not None
            )
    sides = (_Side("base", base, wanted), _Side("head", head, wanted))
    plots: list[Plot] = []
    for spec in specs:
        plot: Plot | None
        if spec.template in CONFUSION_TEMPLATES:
            plot = _confusion_plot(spec, sides)
        else:
            plot = _xy_plot(spec, sides)
        problems = [
            side.problems[file] for side in sides for file in spec.files if file in side.problems
        ]
        if plot is None and problems:  # nothing readable on either side: say why
            labels = (spec.x_label or "", spec.y_label or "")
            empty = spec.template in CONFUSION_TEMPLATES
            plot = (
                ConfusionPlot(spec.id, spec.title, spec.template, *labels, ())
                if empty
                else XYPlot(spec.id, spec.title, spec.template, *labels, (), ())
            )
        if plot is not None:
            plots.append(_with_notes(plot, problems))
    return tuple(plots)


def _with_notes(plot: Plot, problems: list[str]) -> Plot:
    return replace(plot, notes=(*problems, *plot.notes)) if problems else plot


def curve_files(plots_dir: str | None) -> frozenset[str]:
    """The files gitml's own curves (``roc.json``, ``pr.json``, ``calibration.json`` in a
    model's ``plots`` directory) already draw."""
    if not plots_dir:
        return frozenset()
    directory = posixpath.normpath(plots_dir)
    return frozenset(posixpath.join(directory, spec.file) for spec in CURVES)


def without_curve_files(specs: Sequence[PlotSpec], plots_dir: str | None) -> tuple[PlotSpec, ...]:
    """``specs`` less those whose every file is one of gitml's own curves (drawn once)."""
    drawn = curve_files(plots_dir)
    return tuple(spec for spec in specs if not set(spec.files) <= drawn)


# A plots directory is drawn file by file; past this many files the rest get a note (a
# comment with a hundred charts helps no reviewer).
MAX_DIRECTORY_PLOTS = 24


def expand_directories(
    specs: Sequence[PlotSpec], files_under: Callable[[str], Sequence[str]]
) -> tuple[tuple[PlotSpec, ...], tuple[str, ...]]:
    """``specs`` with each directory spec replaced by one spec per data file under it, as
    DVC draws a plots directory; ``files_under`` lists a directory's files (both sides').

    Returns the specs and a note per directory that had more files than are drawn.
    """
    expanded: list[PlotSpec] = []
    notes: list[str] = []
    for spec in specs:
        if not spec.directory:
            expanded.append(spec)
            continue
        (template,) = {series.file for series in spec.series}
        files = [f for f in files_under(template) if posixpath.splitext(f)[1] in DATA_SUFFIXES]
        if len(files) > MAX_DIRECTORY_PLOTS:
            notes.append(
                f"{template}: {len(files)} data files; the first {MAX_DIRECTORY_PLOTS} are drawn"
            )
        for file in files[:MAX_DIRECTORY_PLOTS]:
            series = tuple(Series(file, s.x, s.y) for s in spec.series)
            title = file if spec.title == spec.id else f"{spec.title}: {file}"
            expanded.append(replace(spec, id=file, title=title, series=series, directory=False))
    return tuple(expanded), tuple(notes)
