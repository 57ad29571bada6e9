"""New data for the example: a generator batch with its recipe, and adopting it.

``credit-example batch`` writes a batch and ``<batch>.recipe.json`` (rows, seed, shift,
md5): the recipe is what lets the batch join the training data without breaking the
example's promise that ``credit-example data`` regenerates every byte of ``data/`` on a
fresh clone. ``credit-example adopt`` (gitml.yaml ``retrain.adopt``, run by ``gitml
retrain``) proves that promise for the batch first: it regenerates the batch from its
recipe and compares bytes, then appends the recipe to ``params.yaml`` ``data.batches``
and places the batch under ``data/`` with the next free ``batch-NNN.csv`` name.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

import yaml

from credit_example.generate import csv_text
from credit_example.io import atomic_write_text
from credit_example.params import load_params
from gitml.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

RECIPE_SUFFIX = ".recipe.json"  # gitml's convention (gitml.monitor.source.RECIPE_SUFFIX)
GENERATOR = "credit_example.generate"
_BATCH_NAME = re.compile(r"^batch-(\d+)\.csv$")


def recipe_path(batch: Path) -> Path:
    """Where the recipe of ``batch`` lives: ``<batch>.recipe.json`` next to it."""
    return batch.with_name(batch.name + RECIPE_SUFFIX)


def write_batch(output: Path, rows: int, seed: int, shift: float) -> dict[str, Any]:
    """Write a generator batch to ``output`` and its recipe next to it; return the recipe."""
    if rows < 100:
        raise ConfigError(f"--rows {rows}: expected at least 100 (params.yaml's minimum)")
    if seed < 0:
        raise ConfigError(f"--seed {seed}: expected a non-negative integer")
    if not 0.0 <= shift <= 1.0:
        raise ConfigError(f"--shift {shift}: expected a number in [0, 1]")
    text = csv_text(rows, seed, float(shift))
    recipe = {
        "generator": GENERATOR,
        "rows": rows,
        "seed": seed,
        "shift": float(shift),
        "md5": hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest(),
    }
    atomic_write_text(output, text)
    atomic_write_text(recipe_path(output), json.dumps(recipe, indent=2) + "\n")
    return recipe


def read_recipe(path: Path) -> dict[str, Any]:
    """The recipe at ``path``, checked: integer rows >= 100 and seed >= 0, shift in [0, 1]."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no recipe (a batch from `credit-example batch` has one next to it)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable JSON recipe ({exc})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a JSON object with rows, seed and shift")
    rows, seed, shift = document.get("rows"), document.get("seed"), document.get("shift")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 100:
        raise ConfigError(f"{path}: rows: expected an integer >= 100, got {rows!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{path}: seed: expected an integer >= 0, got {seed!r}")
    if not isinstance(shift, int | float) or isinstance(shift, bool) or not 0 <= shift <= 1:
        raise ConfigError(f"{path}: shift: expected a number in [0, 1], got {shift!r}")
    return {"rows": rows, "seed": seed, "shift": float(shift)}


def next_name(batches: list[dict[str, Any]], into: Path) -> str:
    """The next ``batch-NNN.csv`` after every numbered batch in params and in ``into``."""
    names = [b["file"] for b in batches] + [p.name for p in into.glob("batch-*.csv")]
    numbers = [int(m.group(1)) for n in names if (m := _BATCH_NAME.match(n))]
    return f"batch-{max(numbers, default=-1) + 1:03d}.csv"


def _append_batch(text: str, entry: dict[str, Any], file: str) -> str:
    """``params.yaml`` text with ``entry`` appended to ``data.batches``, comments kept.

    The edit is textual (PyYAML would drop the comments) and then proven: the result
    must parse to the same document with exactly one more batch.
    """
    lines = text.splitlines(keepends=True)
    start = None
    in_data = False
    for n, line in enumerate(lines):
        if re.match(r"^data:\s*(#.*)?$", line):
            in_data = True
        elif in_data and re.match(r"^\S", line):
            in_data = False
        elif in_data and re.match(r"^\s+batches:\s*(#.*)?$", line):
            start = n
            break
    if start is None:
        raise ConfigError(f"{file}: data.batches: not found as a block list")
    key_indent = len(lines[start]) - len(lines[start].lstrip())
    item_indent: int | None = None
    last = start
    for n in range(start + 1, len(lines)):
        stripped = lines[n].strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(lines[n]) - len(lines[n].lstrip())
        if item_indent is None and stripped.startswith("- ") and indent >= key_indent:
            item_indent = indent
        if item_indent is None or indent < item_indent:
            break
        if indent == item_indent and not stripped.startswith("- "):
            break
        last = n
    if item_indent is None:
        raise ConfigError(f"{file}: data.batches: not found as a block list")
    pad = " " * item_indent
    item = (
        f"{pad}- file: {entry['file']}\n{pad}  rows: {entry['rows']}\n"
        f"{pad}  seed: {entry['seed']}\n{pad}  shift: {entry['shift']!r}\n"
    )
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    new_text = "".join([*lines[: last + 1], item, *lines[last + 1 :]])
    before, after = yaml.safe_load(text), yaml.safe_load(new_text)
    expected = {
        **before,
        "data": {**before["data"], "batches": [*before["data"]["batches"], entry]},
    }
    if after != expected:
        raise ConfigError(f"{file}: cannot append to data.batches safely: add {entry} by hand")
    return new_text


def adopt(
    batch: Path, into: Path, params_file: Path, recipe_file: Path | None = None
) -> dict[str, Any]:
    """Add ``batch`` to ``into`` and its recipe to ``params_file``; return the new entry.

    Refused unless the recipe regenerates exactly the batch's bytes, and when the same
    recipe is already in ``params.yaml``.
    """
    recipe = read_recipe(recipe_file or recipe_path(batch))
    try:
        data = batch.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{batch}: file not found") from None
    regenerated = csv_text(recipe["rows"], recipe["seed"], recipe["shift"]).encode("utf-8")
    if data != regenerated:
        raise ConfigError(
            f"{batch}: its bytes are not what its recipe (rows {recipe['rows']}, seed "
            f"{recipe['seed']}, shift {recipe['shift']}) regenerates, so a fresh clone's "
            "`credit-example data` could not reproduce it"
        )
    params = load_params(params_file)
    batches: list[dict[str, Any]] = params["data"]["batches"]
    for existing in batches:
        same = (existing["rows"], existing["seed"], float(existing["shift"]))
        if same == (recipe["rows"], recipe["seed"], recipe["shift"]):
            raise ConfigError(
                f"{batch}: already in {params_file} data.batches as {existing['file']} "
                f"(rows {recipe['rows']}, seed {recipe['seed']}, shift {recipe['shift']})"
            )
    entry = {"file": next_name(batches, into), **recipe}
    text = _append_batch(params_file.read_text(encoding="utf-8"), entry, str(params_file))
    target = into / entry["file"]
    atomic_write_text(target, regenerated.decode("utf-8"))
    try:
        atomic_write_text(params_file, text)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return entry
