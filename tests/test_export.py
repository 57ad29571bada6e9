"""``export``: a registered version as a plain directory or an MLflow model, checked by
loading it the way its consumers do (skops directly; MLflow's pyfunc when available)."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
import yaml

from gitml import api
from gitml.errors import GitmlError, UsageError
from gitml.serve.export import export
from gitml.serve.loaded import LoadedModel, load_version
from gitml.signature import feature_frame
from tests.helpers import git
from tests.registry_flow import model_md5

if TYPE_CHECKING:
    from tests.conftest import Clock

pytestmark = pytest.mark.slow
REF = "credit@production"
# A Python with MLflow, the model's scikit-learn and skops, for the MLflow round trip
# when MLflow is not installed in this environment (it pins packages the project
# does not want, so it usually lives in its own virtualenv).
MLFLOW_PYTHON = os.environ.get("GITML_TEST_MLFLOW_PYTHON", "/tmp/mlflow-venv/bin/python")


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


_MLFLOW_SCRIPT = """
import json, sys
import mlflow.pyfunc
import pandas as pd

model_dir, csv_file = sys.argv[1], sys.argv[2]
frame = pd.read_csv(csv_file, dtype={c: str for c in json.loads(sys.argv[3])})
model = mlflow.pyfunc.load_model(model_dir)
out = model.predict(frame)
print(json.dumps({"probability": out["probability"].tolist(),
                  "decision": out["decision"].tolist()}))
"""


def test_mlflow_pyfunc_predicts_what_gitml_predicts(production: Path, tmp_path: Path) -> None:
    repo = production
    out = export(repo, REF, "mlflow", tmp_path / "mlflow-model")
    loaded = load_version(repo, REF)
    frame = raw_rows(repo, loaded)
    categorical = [f.name for f in loaded.signature.features if f.type == "category"]
    expected = gitml_scores(loaded, frame)

    if importlib.util.find_spec("mlflow") is not None:
        import mlflow.pyfunc

        result = mlflow.pyfunc.load_model(str(out)).predict(frame)
        probabilities, decisions = result["probability"].tolist(), result["decision"].tolist()
    else:
        if not Path(MLFLOW_PYTHON).is_file():
            pytest.skip(
                "MLflow is not installed here and GITML_TEST_MLFLOW_PYTHON "
                f"({MLFLOW_PYTHON}) is not a Python with mlflow, scikit-learn and skops"
            )
        csv_file = tmp_path / "rows.csv"
        frame.to_csv(csv_file, index=False)
        # No gitml on that interpreter's path: the export must stand on its own.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        done = subprocess.run(
            [MLFLOW_PYTHON, "-c", _MLFLOW_SCRIPT, str(out), str(csv_file), json.dumps(categorical)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.strip().splitlines()[-1])
        probabilities, decisions = result["probability"], result["decision"]
        assert sys.executable != MLFLOW_PYTHON
    assert probabilities == pytest.approx(expected, abs=1e-12)
    threshold = loaded.signature.threshold
    assert decisions == [int(p >= threshold) for p in expected]
