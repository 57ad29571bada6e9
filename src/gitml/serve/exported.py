"""Serving an exported version: ``gitml serve REF --from-export DIR``, no git, no DVC.

A container (``gitml deploy render``) holds the directory ``gitml export --format dir``
wrote: the skops file, ``gitml.json`` (model, version, md5, commit, the signature) and
``metrics.json``. The md5 was checked against the registry when the image was built;
it is checked again here on the bytes skops parses, and only gitml's own trusted types
load (the manifest's list is not taken: what may run comes from the server, not from
the directory). ``REF`` must name the exported model, and its version when it names one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitml.errors import ConfigError
from gitml.registry.model_ref import parse_ref
from gitml.serve.loaded import LoadedModel
from gitml.signature import signature_from_text

MANIFEST = "gitml.json"
MAX_MANIFEST_BYTES = 1_000_000  # a manifest is a few KB; more is no export of gitml's


def _read_json(path: Path, what: str) -> Any:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes; not a gitml {what}")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None


def load_export(directory: Path | str, ref: str) -> LoadedModel:
    """The model of an exported directory, verified, as the server serves it."""
    from gitml.storage import load_model

    folder = Path(directory)
    manifest_path = folder / MANIFEST
    spec = _read_json(manifest_path, "export manifest")
    keys = ("model", "version", "md5", "commit", "model_file", "features", "threshold")
    if not isinstance(spec, dict) or any(key not in spec for key in keys):
        raise ConfigError(
            f"{manifest_path}: expected the manifest gitml export writes, with {', '.join(keys)}"
        )
    wanted = parse_ref(ref)
    if wanted.model != spec["model"] or wanted.version not in (None, spec["version"]):
        raise ConfigError(
            f"--from-export {folder}: holds {spec['model']}@{spec['version']}, not {ref}"
        )
    model_file = str(spec["model_file"])
    if Path(model_file).name != model_file:
        raise ConfigError(f"{manifest_path}: model_file {model_file!r}: expected a file name")
    document = {
        "name": spec["model"],
        "target": spec.get("target"),
        "threshold": spec["threshold"],
        "features": spec["features"],
    }
    signature = signature_from_text(json.dumps(document), str(manifest_path))
    metrics_path = folder / "metrics.json"
    metrics = _read_json(metrics_path, "metrics") if metrics_path.is_file() else {}
    # The md5 is checked on the bytes before skops parses them; only trusted types load.
    model = load_model(folder / model_file, expected_md5=str(spec["md5"]))
    return LoadedModel(
        name=str(spec["model"]),
        version=str(spec["version"]) if spec["version"] else None,
        md5=str(spec["md5"]),
        commit=str(spec["commit"]),
        stage=wanted.stage,
        model=model,
        signature=signature,
        metrics=metrics if isinstance(metrics, dict) else {},
        card=None,
        artifact=str(spec.get("artifact") or model_file),
        ref=ref,
    )
