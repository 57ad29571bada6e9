"""A DVC project whose install files are not at the repository's root."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.adoption.repos import Clock, assert_remote_complete, commit, init_repo
from tests.helpers import dvc

if TYPE_CHECKING:
    from pathlib import Path

# A project whose install files are not at the root: the pipeline's requirements under
# src/, and the package itself in pyproject.toml with an optional-dependency extra.
NESTED_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "demand-forecast"
version = "0.3.0"
requires-python = ">=3.11"
dependencies = ["pyyaml>=6"]

[project.optional-dependencies]
train = ["scikit-learn>=1.5", "dvc>=3.50"]

[tool.hatch.build.targets.wheel]
packages = ["src/demand_forecast"]
"""

NESTED_TRAIN = '''\
"""Stage `train`: a stand-in forecaster whose bytes and error follow params.yaml."""

import json
import random
from pathlib import Path

import yaml

params = yaml.safe_load(Path("params.yaml").read_text())["train"]
rng = random.Random(params["seed"])
Path("models").mkdir(exist_ok=True)
Path("models/forecaster.bin").write_bytes(rng.randbytes(4096))
Path("metrics").mkdir(exist_ok=True)
mae = round(12.0 / params["window"] + rng.random(), 6)
Path("metrics/forecast.json").write_text(json.dumps({"mae": mae, "r2": round(1 - mae / 20, 6)}))
'''

NESTED_DVC_YAML = """\
artifacts:
  forecaster:
    path: models/forecaster.bin
    type: model
    desc: Daily demand per store
stages:
  train:
    cmd: python src/demand_forecast/train.py
    deps:
    - src/demand_forecast/train.py
    params:
    - train
    outs:
    - models/forecaster.bin
    metrics:
    - metrics/forecast.json:
        cache: false
"""


def nested_install(path: Path) -> Path:
    """A small DVC project installed from ``src/requirements.txt`` and ``pyproject.toml``.

    One commit on ``main``: the pipeline run once, its model pushed to the local remote.
    """
    clock = Clock()
    repo = init_repo(path)
    package = repo / "src" / "demand_forecast"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Demand forecasting."""\n')
    (package / "train.py").write_text(NESTED_TRAIN)
    (repo / "src" / "requirements.txt").write_text("pyyaml>=6\ndvc>=3.50\n")
    (repo / "pyproject.toml").write_text(NESTED_PYPROJECT)
    (repo / "params.yaml").write_text("train:\n  seed: 11\n  window: 7\n")
    (repo / "dvc.yaml").write_text(NESTED_DVC_YAML)
    dvc(repo, "repro", "-q")
    commit(repo, clock, "Forecast demand per store")
    dvc(repo, "push", "-q")
    assert_remote_complete(repo)
    return repo
