"""``gitml export``: a registered version as an MLflow model or a plain directory.

Both formats carry the verified skops file (never a pickle), the signature, model
card and metrics committed with the version, and ``gitml.json``: where the bytes come
from (model, version, md5, commit) and the trusted-type list to load them with.

The MLflow format is a ``python_function`` model whose loader module ships inside the
export (``code/gitml_skops_pyfunc.py``, a copy of :mod:`gitml.serve.mlflow_pyfunc`):
MLflow can load and serve it without gitml installed, still checking the md5 and the
trusted types before skops parses the file. The ``MLmodel`` file is written here, so
exporting needs no MLflow either.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import shutil
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from gitml import __version__
from gitml.errors import GitmlError, UsageError
from gitml.registry.fetch import resolve_artifact
from gitml.serve.loaded import fetch_verified, read_version_files, signature_document
from gitml.storage import DEFAULT_TRUSTED_TYPES

if TYPE_CHECKING:
    from gitml.registry.fetch import ResolvedArtifact
    from gitml.serve.loaded import VersionFiles

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export"]

ExportFormat = Literal["mlflow", "dir"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("mlflow", "dir")

MANIFEST = "gitml.json"
MLFLOW_LOADER_MODULE = "gitml_skops_pyfunc"
MLFLOW_CODE_DIR = "code"
MLFLOW_DATA_DIR = "model"
# What loading and scoring the model needs, pinned to the versions that trained it:
# a skops file restores scikit-learn objects attribute by attribute, which only the
# scikit-learn version that wrote it is guaranteed to accept.
PINNED_PACKAGES = ("scikit-learn", "skops", "numpy", "scipy", "pandas")


def export(
    root: Path | str,
    ref: str,
    fmt: ExportFormat,
    out_dir: Path | str,
    *,
    local: bool = False,
) -> Path:
    """Write the model ``ref`` names to ``out_dir`` (absent or empty) as ``fmt``; return it.

    The bytes are fetched through DVC, checked against the registered md5 and loaded
    once with the trusted-type list, so an export never ships a file gitml itself
    would refuse. The directory appears complete or not at all: it is written next to
    ``out_dir`` and renamed into place.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (formats: {', '.join(EXPORT_FORMATS)})")
    target = Path(out_dir)
    _check_target(target)
    resolved = resolve_artifact(root, ref, local=local)
    data = fetch_verified(root, resolved)
    files = read_version_files(root, resolved, local=local)
    _check_loadable(data, resolved)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if fmt == "mlflow":
            _write_mlflow(staging, ref, resolved, data, files)
        else:
            _write_dir(staging, ref, resolved, data, files)
        _check_target(target)  # again: the fetch took time
        if os.path.lexists(target):
            target.rmdir()  # an empty directory; rename cannot replace it otherwise
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _check_target(target: Path) -> None:
    """Refuse an export target that is not absent or an empty directory. ``lstat``: a
    symbolic link is refused, even to an empty directory, and never followed."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise GitmlError(
            f"{target}: is a symbolic link; an export is written only to a new or an empty "
            "directory"
        )
    if not stat.S_ISDIR(info.st_mode) or any(target.iterdir()):
        raise GitmlError(f"{target}: already exists and is not an empty directory")


def _check_loadable(data: bytes, resolved: ResolvedArtifact) -> None:
    """Load the bytes the way serving does: md5 and trusted types, then skops."""
    from gitml.storage import load_model

    with tempfile.TemporaryDirectory(prefix="gitml-export-") as tmp:
        path = Path(tmp) / Path(resolved.path).name
        path.write_bytes(data)
        load_model(path, expected_md5=resolved.md5)


def _manifest(
    ref: str, resolved: ResolvedArtifact, files: VersionFiles, model_file: str
) -> dict[str, Any]:
    """``gitml.json``: provenance, what to load with, and the signature the loader needs."""
    signature = signature_document(files.signature)
    return {
        "model": resolved.model,
        "version": resolved.version,
        "ref": ref,
        "md5": resolved.md5,
        "commit": resolved.commit,
        "artifact": resolved.path,
        "model_file": model_file,
        "threshold": signature["threshold"],
        "target": signature["target"],
        "features": signature["features"],
        "trusted_types": list(DEFAULT_TRUSTED_TYPES),
        "exported_at": _now(),
        "exported_by": f"gitml {__version__}",
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_version_files(directory: Path, files: VersionFiles) -> dict[str, str]:
    """Signature and card verbatim (by their committed names), metrics merged."""
    written = {"signature": Path(files.signature_path).name}
    (directory / written["signature"]).write_text(files.signature_text, encoding="utf-8")
    if files.card_text is not None and files.card_path is not None:
        written["card"] = Path(files.card_path).name
        (directory / written["card"]).write_text(files.card_text, encoding="utf-8")
    written["metrics"] = "metrics.json"
    _write_json(directory / written["metrics"], dict(files.metrics))
    return written


def _title(resolved: ResolvedArtifact) -> str:
    return f"{resolved.model} {resolved.version or resolved.commit[:12]}"


def _write_dir(
    directory: Path, ref: str, resolved: ResolvedArtifact, data: bytes, files: VersionFiles
) -> None:
    model_file = Path(resolved.path).name
    (directory / model_file).write_bytes(data)
    written = _write_version_files(directory, files)
    _write_json(directory / MANIFEST, _manifest(ref, resolved, files, model_file))
    card = f"- `{written['card']}`: the model card\n" if "card" in written else ""
    (directory / "README.md").write_text(
        f"# {_title(resolved)}\n\n"
        f"Exported by gitml from `{ref}`: commit `{resolved.commit}`, "
        f"artefact `{resolved.path}` (md5 `{resolved.md5}`).\n\n"
        f"- `{model_file}`: the model, a skops file (no pickle)\n"
        f"- `{written['signature']}`: features, types, ranges and the decision threshold\n"
        f"{card}"
        f"- `metrics.json`: evaluation metrics of this version\n"
        f"- `{MANIFEST}`: provenance, and the types the model file may contain\n\n"
        "Load it with the hash check and trusted types gitml uses:\n\n"
        "```python\n"
        "import hashlib, json, skops.io\n\n"
        f'spec = json.load(open("{MANIFEST}"))\n'
        'data = open(spec["model_file"], "rb").read()\n'
        'assert hashlib.md5(data).hexdigest() == spec["md5"]\n'
        'model = skops.io.loads(data, trusted=spec["trusted_types"])\n'
        "```\n",
        encoding="utf-8",
    )


def _package_version(name: str, software: dict[str, Any]) -> str | None:
    """The version the card records for ``name``, else the installed one."""
    recorded = software.get(name)
    if recorded:
        return str(recorded)
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        return importlib.metadata.version(name)
    return None


def _environment(files: VersionFiles) -> tuple[str, list[str]]:
    """Python version and pinned requirements, from the card's ``software`` section."""
    card = files.card or {}
    software = card.get("software") if isinstance(card.get("software"), dict) else {}
    assert isinstance(software, dict)
    python = str(software.get("python") or platform.python_version())
    pins = []
    for name in PINNED_PACKAGES:
        version = _package_version(name, software)
        pins.append(f"{name}=={version}" if version else name)
    # Unpinned: serving with MLflow's virtualenv manager needs MLflow in the env, and
    # any recent MLflow loads a python_function model.
    return python, ["mlflow", *pins]


def _mlflow_column(feature: dict[str, Any]) -> dict[str, Any]:
    """An MLflow ColSpec of one feature.

    Integers that may be missing are ``double``: pandas holds such a column as float64,
    which MLflow refuses to cast to ``long`` (MLflow's own advice for this case).
    Nullable features are not ``required``, which also lets a client leave them out.
    """
    kind = feature["type"]
    if kind == "category":
        mlflow_type = "string"
    elif kind == "integer" and not feature["nullable"]:
        mlflow_type = "long"
    else:
        mlflow_type = "double"
    return {"type": mlflow_type, "name": feature["name"], "required": not feature["nullable"]}


def _mlmodel(
    resolved: ResolvedArtifact, files: VersionFiles, python: str, manifest: dict[str, Any]
) -> dict[str, Any]:
    inputs = [_mlflow_column(f) for f in signature_document(files.signature)["features"]]
    outputs = [
        {"type": "double", "name": "probability", "required": True},
        {"type": "long", "name": "decision", "required": True},
    ]
    return {
        "flavors": {
            "python_function": {
                "loader_module": MLFLOW_LOADER_MODULE,
                "code": MLFLOW_CODE_DIR,
                "data": MLFLOW_DATA_DIR,
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "python_version": python,
            }
        },
        # The md5 is 128 bits, exactly a UUID: the same bytes get the same model_uuid.
        "model_uuid": resolved.md5,
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "signature": {
            # MLflow stores the column specs as JSON strings inside the YAML.
            "inputs": json.dumps(inputs),
            "outputs": json.dumps(outputs),
            "params": None,
        },
        "metadata": {
            "gitml": {
                key: manifest[key]
                for key in ("model", "version", "ref", "md5", "commit", "artifact", "exported_by")
            }
        },
    }


def _write_mlflow(
    directory: Path, ref: str, resolved: ResolvedArtifact, data: bytes, files: VersionFiles
) -> None:
    model_file = Path(resolved.path).name
    data_dir = directory / MLFLOW_DATA_DIR
    data_dir.mkdir()
    (data_dir / model_file).write_bytes(data)
    manifest = _manifest(ref, resolved, files, model_file)
    _write_json(data_dir / MANIFEST, manifest)

    code_dir = directory / MLFLOW_CODE_DIR
    code_dir.mkdir()
    loader = Path(__file__).with_name("mlflow_pyfunc.py")
    shutil.copyfile(loader, code_dir / f"{MLFLOW_LOADER_MODULE}.py")

    python, requirements = _environment(files)
    (directory / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    environment = {
        "python": python,
        "build_dependencies": ["pip", "setuptools", "wheel"],
        "dependencies": ["-r requirements.txt"],
    }
    (directory / "python_env.yaml").write_text(
        yaml.safe_dump(environment, sort_keys=False), encoding="utf-8"
    )
    conda = {
        "name": f"gitml-{resolved.model}",
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", "pip", {"pip": requirements}],
    }
    (directory / "conda.yaml").write_text(yaml.safe_dump(conda, sort_keys=False), encoding="utf-8")
    mlmodel = _mlmodel(resolved, files, python, manifest)
    (directory / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=False), encoding="utf-8")
    written = _write_version_files(directory, files)
    card = f"- `{written['card']}`: the model card\n" if "card" in written else ""
    (directory / "README.md").write_text(
        f"# {_title(resolved)} (MLflow model)\n\n"
        f"Exported by gitml from `{ref}`: commit `{resolved.commit}`, "
        f"artefact `{resolved.path}` (md5 `{resolved.md5}`).\n\n"
        "A `python_function` model; its loader (`code/gitml_skops_pyfunc.py`) checks the "
        "md5 and the trusted types, then loads the skops file. No pickle, no gitml needed.\n\n"
        "```sh\n"
        "mlflow models serve -m . --env-manager local   # POST /invocations\n"
        "```\n\n"
        "```python\n"
        "import mlflow\n\n"
        'model = mlflow.pyfunc.load_model(".")\n'
        "model.predict(frame)   # DataFrame: probability, decision\n"
        "```\n\n"
        "MLflow enforces the signature's column types on `predict`: integer features as "
        "int64, integer features that may be missing as float64 (as pandas reads them), "
        "categories as strings. `mlflow models serve` converts JSON input itself.\n\n"
        f"- `{MLFLOW_DATA_DIR}/{model_file}`, `{MLFLOW_DATA_DIR}/{MANIFEST}`: the model and "
        "its provenance and trusted types\n"
        f"- `{written['signature']}`: gitml's signature (the `MLmodel` signature derives "
        "from it)\n"
        f"{card}"
        "- `metrics.json`: evaluation metrics of this version\n"
        "- `requirements.txt`, `python_env.yaml`, `conda.yaml`: the training versions of "
        "scikit-learn, skops, numpy, scipy and pandas\n",
        encoding="utf-8",
    )
