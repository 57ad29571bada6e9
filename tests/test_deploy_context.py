"""The rendered build context works without a docker daemon, as far as one can check here.

A fresh virtualenv gets exactly what the Dockerfile installs (its ``pip install`` steps,
run as written: ``--require-hashes`` from the rendered requirements, then the gitml
wheel with ``--no-deps --no-index``); the exported artefact passes the Dockerfile's
``md5sum --check``; and in that virtualenv, with no DVC and no git library, gitml loads
the model with its md5 and trusted types and predicts what the project's own install
predicts. Then the Dockerfile's ENTRYPOINT, run from that virtualenv on 127.0.0.1 (the
image's paths mapped onto the context), answers ``/health`` ready and predicts the same.
"""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.helpers import gitml
from tests.test_deploy_render import _production
from tests.test_serve_command import ServeProcess

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

PROJECT_ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
WHEELS_IN_IMAGE = "/tmp/wheels/"  # where the Dockerfile copies the gitml wheel
WORKDIR = "/srv/gitml"  # the image's working directory, where the model is copied


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
    return result


def _pip_steps(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's ``pip install`` commands, joined across continuation lines."""
    logical, current = [], ""
    for line in dockerfile.splitlines():
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            logical.append(current.strip())
            current = ""
    steps = []
    for instruction in logical:
        if instruction.startswith("RUN ") and "pip install" in instruction:
            steps.append(shlex.split(instruction[4:].split("&&")[0]))
    return steps


SCRIPT = """
import json, sys, csv
import gitml.serve.app, gitml.serve.run  # the server's modules import without DVC or git
from gitml.storage import load_model
spec = json.load(open("model/gitml.json"))
model = load_model("model/" + spec["model_file"], trusted=spec["trusted_types"],
                   expected_md5=spec["md5"])
import pandas as pd
rows = pd.DataFrame(json.loads(sys.argv[1]))
print(json.dumps([round(float(p), 12) for p in model.predict_proba(rows)[:, 1]]))
for heavy in ("dvc", "scmrepo", "git"):
    try:
        __import__(heavy)
    except ImportError:
        continue
    raise SystemExit(f"{heavy} is installed in the serving environment")
"""


@pytest.mark.slow
def test_build_context_installs_and_predicts_without_a_daemon(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    _production(origin_repo, clock)
    gitml(origin_repo, "deploy", "render", "credit@production", "--target", "kubernetes")
    context = origin_repo / "deploy" / "production"
    # What the Dockerfile's header says to put beside it before building.
    gitml(origin_repo, "export", "credit@v0.1.0", "--format", "dir", "-o", str(context / "model"))
    _run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "-w", str(context / "dist"), str(PROJECT_ROOT), cwd=tmp_path,
    )  # fmt: skip
    # The Dockerfile's artefact check, with the same tool.
    _run("md5sum", "--check", "--strict", "model.md5", cwd=context)

    venv = tmp_path / "image-venv"
    _run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    steps = _pip_steps((context / "Dockerfile").read_text())
    assert len(steps) == 2
    assert "--require-hashes" in steps[0]
    assert {"--no-deps", "--no-index"} <= set(steps[1])
    for step in steps:
        assert step[:3] == ["python", "-m", "pip"]
        argv = [str(python), *(a.replace(WHEELS_IN_IMAGE, "dist/") for a in step[1:])]
        _run(*argv, cwd=context)

    with (origin_repo / "data" / "batch-000.csv").open(newline="") as handle:
        rows = [row for _, row in zip(range(5), csv.DictReader(handle), strict=False)]
    signature = json.loads((context / "model" / "credit.signature.json").read_text())
    features = [f["name"] for f in signature["features"]]
    table = {name: [_value(row[name]) for row in rows] for name in features}
    in_image = _run(str(python), "-c", SCRIPT, json.dumps(table), cwd=context)
    here = _run(sys.executable, "-c", SCRIPT.split("for heavy")[0], json.dumps(table), cwd=context)
    assert json.loads(in_image.stdout) == json.loads(here.stdout)
    assert len(json.loads(in_image.stdout)) == 5
    # The image's entrypoint, as written, from the image's environment: ready and right.
    entrypoint = _entrypoint((context / "Dockerfile").read_text())
    assert entrypoint[:2] == ["gitml", "serve"]
    command = [
        str(venv / "bin" / "gitml"),
        *[a.replace(f"{WORKDIR}/model", str(context / "model")) for a in entrypoint[1:]],
    ]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = "0"
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    served = ServeProcess(process)
    try:
        health = served.wait_ready()
        assert (health["status"], health["version"]) == ("ready", "v0.1.0")
        records = [{name: table[name][i] for name in features} for i in range(5)]
        answer = httpx.post(f"{served.url}/predict", json={"records": records}, timeout=30)
        scores = [round(p["probability"], 12) for p in answer.json()["predictions"]]
        assert scores == json.loads(here.stdout)
    finally:
        process.kill()
        process.wait(30)


def _entrypoint(dockerfile: str) -> list[str]:
    """The Dockerfile's ENTRYPOINT, an exec-form JSON array."""
    (line,) = [x for x in dockerfile.splitlines() if x.startswith("ENTRYPOINT ")]
    argv: list[str] = json.loads(line.removeprefix("ENTRYPOINT "))
    return argv


def _value(text: str) -> object:
    if text == "":
        return None
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text
