"""``credit-example``: the example pipeline's stages, as ``dvc.yaml`` runs them.

``credit-example data`` regenerates every file under ``data/`` from the recipe in
``params.yaml`` (byte-identical to what ``data.dvc`` records); ``prepare``, ``train`` and
``evaluate`` are the DVC stages. Each validates ``params.yaml`` first.
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


def main(argv: list[str] | None = None) -> int:
    """Run one stage; a bad ``params.yaml`` stops it with a one-line error naming the key."""
    parser = argparse.ArgumentParser(prog="credit-example", description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS), help="the step to run")
    parser.add_argument("--params", default="params.yaml", help="parameters file")
    args = parser.parse_args(argv)
    from credit_example.params import load_params

    try:
        params = load_params(args.params)
        print(COMMANDS[args.command](params))
    except GitmlError as exc:
        print(f"credit-example {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
