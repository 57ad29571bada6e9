"""``export``: a registered version as a plain directory or an MLflow model, checked by
loading it the way its consumers do (skops directly; MLflow's pyfunc when available)."""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd
import pytest
import yaml

from gitml import api
from gitml.errors import GitmlError, UsageError
from gitml.serve.export import export
from gitml.serve.loaded import LoadedModel, load_version
from gitml.signature import feature_frame
from tests.helpers import git, gitml
from tests.registry_flow import model_md5

if TYPE_CHECKING:
    from tests.conftest import Clock

pytestmark = pytest.mark.slow
REF = "credit@production"
# The Python of a virtualenv with MLflow and the model's scikit-learn and skops
# (.venv-mlflow, which ./dev test prepares from constraints-mlflow.txt and names here).
# MLflow pins packages this project does not want, so it never shares .venv.
MLFLOW_PYTHON_VARIABLE = "GITML_TEST_MLFLOW_PYTHON"
# The packages whose versions write and read the model bytes: the MLflow environment
# must have the training versions.
MODEL_PACKAGES = ("scikit-learn", "skops", "numpy", "scipy", "pandas")
SERVE_START_SECONDS = 180.0


@pytest.fixture
def production(origin_repo: Path, clock: Clock) -> Path:
    """A repository whose production stage records v0.1.0."""
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert (outcome.status, outcome.version) == ("recorded", "v0.1.0")
    return repo


def raw_rows(repo: Path, model: LoadedModel, count: int = 300) -> pd.DataFrame:
    """Held-out feature rows as pandas reads the CSV (ints stay int64, NaN where missing)."""
    categorical = {f.name: str for f in model.signature.features if f.type == "category"}
    frame = pd.read_csv(repo / "prepared" / "test.csv", dtype=categorical).head(count)
    return frame[list(model.signature.feature_names)]


def gitml_scores(model: LoadedModel, frame: pd.DataFrame) -> list[float]:
    scores = model.model.predict_proba(feature_frame(model.signature, frame))[:, 1]
    return [float(s) for s in scores]


def import_file(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_dir_holds_the_verified_model_and_its_files(
    production: Path, tmp_path: Path
) -> None:
    repo = production
    out = export(repo, REF, "dir", tmp_path / "exported")
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "credit.card.yaml",
        "credit.signature.json",
        "credit.skops",
        "gitml.json",
        "metrics.json",
    ]
    manifest = json.loads((out / "gitml.json").read_text())
    data = (out / "credit.skops").read_bytes()
    assert hashlib.md5(data).hexdigest() == manifest["md5"] == model_md5(repo, "main")
    assert (manifest["model"], manifest["version"], manifest["ref"]) == ("credit", "v0.1.0", REF)
    assert manifest["commit"] == git(repo, "rev-parse", "main").stdout.strip()
    committed = git(repo, "show", "main:models/credit.signature.json").stdout
    assert (out / "credit.signature.json").read_text() == committed
    assert json.loads((out / "metrics.json").read_text())["roc_auc"] > 0.75
    assert "skops.io.loads" in (out / "README.md").read_text()

    # Loadable exactly as the README says, and it scores like gitml's own load.
    import skops.io

    loaded = load_version(repo, REF)
    frame = raw_rows(repo, loaded)
    model = skops.io.loads(data, trusted=manifest["trusted_types"])
    scores = model.predict_proba(feature_frame(loaded.signature, frame))[:, 1]
    assert [float(s) for s in scores] == gitml_scores(loaded, frame)

    with pytest.raises(GitmlError, match="not an empty directory"):
        export(repo, REF, "dir", out)
    with pytest.raises(UsageError, match="unknown export format"):
        export(repo, REF, "onnx", tmp_path / "other")  # type: ignore[arg-type]
    assert not (tmp_path / "other").exists()
    # Nothing half-written is left next to the target.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".exported")) == []


def test_gitml_export_dir_command(production: Path, tmp_path: Path) -> None:
    repo = production
    out = tmp_path / "exported"
    result = gitml(repo, "export", REF, "--format", "dir", "-o", str(out))
    assert result.stdout == f"exported {REF} (dir) to {out}\n"
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "credit.card.yaml",
        "credit.signature.json",
        "credit.skops",
        "gitml.json",
        "metrics.json",
    ]
    manifest = json.loads((out / "gitml.json").read_text())
    assert (manifest["model"], manifest["version"], manifest["ref"]) == ("credit", "v0.1.0", REF)
    data = (out / "credit.skops").read_bytes()
    assert hashlib.md5(data).hexdigest() == manifest["md5"] == model_md5(repo, "main")
    for name in ("credit.signature.json", "credit.card.yaml"):
        committed = git(repo, "show", f"main:models/{name}").stdout
        assert (out / name).read_text() == committed
    import skops.io

    loaded = load_version(repo, REF)
    frame = raw_rows(repo, loaded)
    model = skops.io.loads(data, trusted=manifest["trusted_types"])
    scores = model.predict_proba(feature_frame(loaded.signature, frame))[:, 1]
    assert [float(s) for s in scores] == gitml_scores(loaded, frame)
    # A second export onto it is refused in one line, and changes nothing.
    again = gitml(repo, "export", REF, "--format", "dir", "-o", str(out), check=False)
    assert again.returncode == 1
    assert again.stderr == f"gitml: error: {out}: already exists and is not an empty directory\n"
    assert (out / "credit.skops").read_bytes() == data


def test_export_mlflow_writes_a_pyfunc_model_without_pickle(
    production: Path, tmp_path: Path
) -> None:
    repo = production
    out = export(repo, REF, "mlflow", tmp_path / "mlflow-model")
    mlmodel = yaml.safe_load((out / "MLmodel").read_text())
    pyfunc = mlmodel["flavors"]["python_function"]
    assert pyfunc["loader_module"] == "gitml_skops_pyfunc"
    assert (pyfunc["code"], pyfunc["data"]) == ("code", "model")
    assert (out / "code" / "gitml_skops_pyfunc.py").is_file()
    assert mlmodel["metadata"]["gitml"]["version"] == "v0.1.0"
    inputs = {c["name"]: c for c in json.loads(mlmodel["signature"]["inputs"])}
    assert (inputs["age"]["type"], inputs["age"]["required"]) == ("long", True)
    assert (inputs["annual_income"]["type"], inputs["annual_income"]["required"]) == (
        "double",
        False,
    )
    assert inputs["interest_rate"]["type"] == "double"
    assert (inputs["region"]["type"], inputs["region"]["required"]) == ("string", False)
    outputs = [c["name"] for c in json.loads(mlmodel["signature"]["outputs"])]
    assert outputs == ["probability", "decision"]
    assert not [p for p in out.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]

    card = yaml.safe_load((out / "credit.card.yaml").read_text())
    requirements = (out / "requirements.txt").read_text().splitlines()
    for package in ("scikit-learn", "skops", "numpy"):
        assert f"{package}=={card['software'][package]}" in requirements
    assert "mlflow" in requirements
    python_env = yaml.safe_load((out / "python_env.yaml").read_text())
    assert python_env["python"] == card["software"]["python"]
    assert python_env["dependencies"] == ["-r requirements.txt"]
    conda = yaml.safe_load((out / "conda.yaml").read_text())
    assert conda["dependencies"][-1] == {"pip": requirements}

    # The shipped loader, imported from the export as MLflow imports it (no gitml in it).
    tree = ast.parse((out / "code" / "gitml_skops_pyfunc.py").read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {name.split(".")[0] for name in imported} <= {
        "__future__",
        "hashlib",
        "json",
        "pathlib",
        "typing",
        "numpy",
        "pandas",
        "skops",
    }
    loader = import_file(out / "code" / "gitml_skops_pyfunc.py", "gitml_skops_pyfunc_copy")
    loaded = load_version(repo, REF)
    frame = raw_rows(repo, loaded)
    predicted = loader._load_pyfunc(str(out / "model")).predict(frame)
    assert list(predicted.columns) == ["probability", "decision"]
    assert predicted["probability"].tolist() == gitml_scores(loaded, frame)
    threshold = loaded.signature.threshold
    assert predicted["decision"].tolist() == [
        int(p >= threshold) for p in gitml_scores(loaded, frame)
    ]
    # An optional (nullable) column may be left out, as MLflow's signature allows.
    partial = loader.load(out / "model").predict(frame.drop(columns=["region"]))
    assert len(partial) == len(frame)

    # A model file changed after export is refused before skops reads it.
    tampered = tmp_path / "tampered"
    shutil.copytree(out, tampered)
    model_file = tampered / "model" / "credit.skops"
    data = bytearray(model_file.read_bytes())
    data[-1] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="md5"):
        loader.load(tampered / "model")


def mlflow_python() -> Path:
    """The MLflow environment's interpreter: skip locally without one, fail in CI."""
    value = os.environ.get(MLFLOW_PYTHON_VARIABLE)
    if not value:
        reason = (
            f"{MLFLOW_PYTHON_VARIABLE} is not set: no MLflow environment to load and serve "
            "the export in (./dev test prepares .venv-mlflow and sets it)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the MLflow round trip, but {reason}")
        pytest.skip(reason)
    python = Path(value)
    if not python.is_file():
        pytest.fail(f"{MLFLOW_PYTHON_VARIABLE}={value} is not a Python interpreter")
    return python


def mlflow_environment(python: Path) -> dict[str, str]:
    """The environment for MLflow's processes: its virtualenv first on PATH (MLflow runs
    its scoring server from there), and nothing that would put gitml on its path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = "file:./mlruns"  # no server, nothing outside tmp_path
    return env


# Runs in the MLflow environment: load the export with MLflow's own loader, with pickle
# disabled, and score the CSV rows. Prints the scores as JSON on its last line.
_PYFUNC_SCRIPT = """
import importlib.util, json, pickle, sys

def refuse(*args, **kwargs):
    raise AssertionError("pickle was used while loading or scoring the model")

# The export must load without pickle: skops reads the file, the loader is plain code.
pickle.load = pickle.loads = refuse
pickle.Unpickler = refuse

import mlflow.pyfunc
import pandas as pd

model_dir, csv_file, categorical = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
frame = pd.read_csv(csv_file, dtype={c: str for c in categorical})
model = mlflow.pyfunc.load_model(model_dir)
out = model.predict(frame)
print(json.dumps({"probability": out["probability"].tolist(),
                  "decision": out["decision"].tolist(),
                  "loader": type(model._model_impl).__module__,
                  "gitml_importable": importlib.util.find_spec("gitml") is not None}))
"""


def run_in_mlflow(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args],
        capture_output=True,
        text=True,
        env=mlflow_environment(python),
        cwd=cwd,
        check=False,
        timeout=300,
    )


def test_mlflow_environment_has_the_training_versions() -> None:
    """constraints-mlflow.txt pins the packages that read model bytes as constraints.txt does."""
    root = Path(__file__).resolve().parents[1]

    def pins(name: str) -> dict[str, str]:
        text = (root / name).read_text()
        found = dict(re.findall(r"(?im)^([a-z0-9_.-]+)==(\S+)$", text))
        return {k.lower(): v for k, v in found.items() if k.lower() in MODEL_PACKAGES}

    assert set(pins("constraints-mlflow.txt")) == set(MODEL_PACKAGES)
    assert pins("constraints-mlflow.txt") == pins("constraints.txt")


def test_mlflow_pyfunc_predicts_what_gitml_predicts(production: Path, tmp_path: Path) -> None:
    python = mlflow_python()
    repo = production
    out = export(repo, REF, "mlflow", tmp_path / "mlflow-model")
    loaded = load_version(repo, REF)
    frame = raw_rows(repo, loaded)
    categorical = [f.name for f in loaded.signature.features if f.type == "category"]
    expected = gitml_scores(loaded, frame)
    csv_file = tmp_path / "rows.csv"
    frame.to_csv(csv_file, index=False)

    done = run_in_mlflow(
        python, tmp_path, "-c", _PYFUNC_SCRIPT, str(out), str(csv_file), json.dumps(categorical)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Same scikit-learn, same bytes, same frame: the same probabilities, bit for bit
    # (JSON floats round-trip exactly).
    assert result["probability"] == expected
    threshold = loaded.signature.threshold
    assert result["decision"] == [int(p >= threshold) for p in expected]
    assert result["loader"] == "gitml_skops_pyfunc"  # the shipped loader, not gitml
    assert result["gitml_importable"] is False  # the export stands on its own

    # The trusted-type list is in force inside MLflow too: without the type the trees
    # need, the loader refuses the file before skops builds anything.
    manifest_file = out / "model" / "gitml.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["trusted_types"] = [t for t in manifest["trusted_types"] if "TreePredictor" not in t]
    manifest_file.write_text(json.dumps(manifest))
    refused = run_in_mlflow(
        python, tmp_path, "-c", _PYFUNC_SCRIPT, str(out), str(csv_file), json.dumps(categorical)
    )
    assert refused.returncode != 0
    assert "refusing to load, untrusted types:" in refused.stderr
    assert "TreePredictor" in refused.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mlflow_models_serve_answers_invocations(production: Path, tmp_path: Path) -> None:
    python = mlflow_python()
    repo = production
    out = export(repo, REF, "mlflow", tmp_path / "mlflow-model")
    loaded = load_version(repo, REF)
    frame = raw_rows(repo, loaded, count=50)
    expected = gitml_scores(loaded, frame)
    # JSON records as a client sends them: null where a value is missing.
    records = json.loads(frame.to_json(orient="records"))

    port = free_port()
    log = tmp_path / "mlflow-serve.log"
    command = [
        *(str(python.parent / "mlflow"), "models", "serve", "-m", str(out)),
        *("--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)),
    ]
    with log.open("wb") as sink:
        # Its own process group: MLflow starts the scoring server as a child.
        server = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=mlflow_environment(python),
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVE_START_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/ping", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no /ping answer in time: {log.read_text()}"
            # Waiting on the process (not a sleep): returns at once if it died.
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=0.25)
            assert server.returncode is None, f"mlflow models serve exited: {log.read_text()}"
        response = httpx.post(f"{url}/invocations", json={"dataframe_records": records}, timeout=60)
        assert response.status_code == 200, response.text
        predictions = response.json()["predictions"]
        assert [p["probability"] for p in predictions] == expected
        threshold = loaded.signature.threshold
        assert [p["decision"] for p in predictions] == [int(s >= threshold) for s in expected]
        # A record that breaks the signature is refused by MLflow's schema check.
        bad = httpx.post(
            f"{url}/invocations",
            json={"dataframe_records": [{**records[0], "age": "forty"}]},
            timeout=60,
        )
        assert bad.status_code == 400, bad.text
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(30)
