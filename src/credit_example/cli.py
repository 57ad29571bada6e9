"""``credit-example``: the example pipeline's stages, as ``dvc.yaml`` runs them.

``credit-example data`` regenerates every file under ``data/`` from the recipe in
``params.yaml`` (byte-identical to what ``data.dvc`` records); ``prepare``, ``train`` and
``evaluate`` are the DVC stages. Each validates ``params.yaml`` first. ``batch`` writes
new data with its recipe; ``adopt`` adds such a batch to ``data/`` and ``params.yaml``
(what ``gitml retrain`` runs, see gitml.yaml ``retrain.adopt``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gitml.errors import GitmlError


def _data(params: dict) -> str:
    from credit_example.generate import write_csv

    data_dir = Path("data")
    wanted = {batch["file"] for batch in params["data"]["batches"]}
    for batch in params["data"]["batches"]:
        write_csv(data_dir / batch["file"], batch["rows"], batch["seed"], batch["shift"])
    stray = sorted(p.name for p in data_dir.glob("*.csv") if p.name not in wanted)
    note = f" (not in params.yaml, left as is: {', '.join(stray)})" if stray else ""
    return f"wrote {len(wanted)} batch file(s) under data/{note}"


def _prepare(params: dict) -> str:
    from credit_example.prepare import prepare

    counts = prepare(params)
    return f"prepared {counts['train']} training and {counts['test']} test rows"


def _train(params: dict) -> str:
    from credit_example.train import train

    timing = train(params)
    return f"trained {params['train']['model']} in {timing['train_seconds']:.2f} s"


def _evaluate(params: dict) -> str:
    from credit_example.evaluate import evaluate

    metrics = evaluate(params)
    shown = {k: metrics[k] for k in ("roc_auc", "average_precision", "log_loss", "f1")}
    return json.dumps(shown)


COMMANDS = {"data": _data, "prepare": _prepare, "train": _train, "evaluate": _evaluate}


def _batch(args: argparse.Namespace) -> str:
    from credit_example.batches import recipe_path, write_batch

    output = Path(args.output)
    recipe = write_batch(output, args.rows, args.seed, args.shift)
    what = f"{recipe['rows']} rows (seed {recipe['seed']}, shift {recipe['shift']})"
    return f"wrote {what} to {output} and {recipe_path(output).name}"


def _adopt(args: argparse.Namespace) -> str:
    from credit_example.batches import adopt

    recipe = Path(args.recipe) if args.recipe else None
    entry = adopt(Path(args.file), Path(args.into), Path(args.params), recipe)
    return f"added {args.into}/{entry['file']} and its recipe to {args.params} data.batches"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="credit-example", description=__doc__)
    steps = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (
        ("data", "regenerate data/ from params.yaml data.batches"),
        ("prepare", "stage: split the data"),
        ("train", "stage: fit the model"),
        ("evaluate", "stage: metrics, plots, card, signature, baseline"),
    ):
        step = steps.add_parser(name, help=text)
        step.add_argument("--params", default="params.yaml", help="parameters file")
    batch = steps.add_parser(
        "batch", help="write a generator batch and its recipe (<file>.recipe.json)"
    )
    batch.add_argument("--rows", type=int, required=True, help="number of applicants (>= 100)")
    batch.add_argument("--seed", type=int, required=True, help="random seed (>= 0)")
    batch.add_argument("--shift", type=float, default=0.0, help="downturn in [0, 1] (default 0)")
    batch.add_argument("-o", "--output", required=True, help="CSV file to write")
    adopt = steps.add_parser(
        "adopt",
        help="add a batch to data/ and its recipe to params.yaml, after proving the recipe "
        "regenerates its exact bytes",
    )
    adopt.add_argument("file", help="the batch (its recipe is read from <file>.recipe.json)")
    adopt.add_argument("--into", default="data", help="data directory (default: data)")
    adopt.add_argument("--recipe", help="recipe file (default: <file>.recipe.json)")
    adopt.add_argument("--params", default="params.yaml", help="parameters file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one step; bad input stops it with a one-line error naming the file and key."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "batch":
            print(_batch(args))
        elif args.command == "adopt":
            print(_adopt(args))
        else:
            from credit_example.params import load_params

            params = load_params(args.params)
            print(COMMANDS[args.command](params))
    except GitmlError as exc:
        print(f"credit-example {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
