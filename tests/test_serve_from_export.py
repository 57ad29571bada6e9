"""``gitml serve REF --from-export DIR``: the exported directory served without the
repository (as in the image ``gitml deploy render`` describes), answering exactly as
the registry-backed server does; a tampered or mismatched export is refused."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pandas as pd
import pytest

from gitml import api
from gitml.errors import ConfigError, StorageError
from gitml.serve.loaded import load_version
from gitml.serve.run import ServerThread, make_server
from tests.helpers import gitml
from tests.test_serve import as_records

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow
REF = "credit@v0.1.0"


def _export(repo: Path, tmp_path: Path) -> Path:
    api.register(root=repo, push=True)
    out = tmp_path / "export"
    gitml(repo, "export", REF, "--format", "dir", "-o", str(out))
    return out


def test_an_export_is_served_without_the_repository(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    exported = _export(repo, tmp_path)
    loaded = load_version(repo, REF)
    categorical = {f.name: str for f in loaded.signature.features if f.type == "category"}
    rows = pd.read_csv(repo / "prepared" / "test.csv", dtype=categorical).head(40)
    records = as_records(loaded, rows)
    elsewhere = tmp_path / "no-repository"
    elsewhere.mkdir()
    answers = {}
    for name, server in (
        ("registry", make_server(repo, REF, log_level="warning", access_log=False)),
        (
            "export",
            make_server(
                elsewhere, REF, from_export=exported, log_level="warning", access_log=False
            ),
        ),
    ):
        with (
            ServerThread(server.config.app) as running,
            httpx.Client(base_url=running.url, timeout=30) as client,
        ):
            health = client.get("/health").json()
            assert (health["status"], health["version"], health["md5"]) == (
                "ready",
                "v0.1.0",
                loaded.md5,
            )
            body = client.post("/predict", json={"records": records}).json()
            answers[name] = [p["probability"] for p in body["predictions"]]
    assert answers["export"] == answers["registry"]


def test_a_tampered_or_mismatched_export_is_refused(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    exported = _export(repo, tmp_path)
    with pytest.raises(ConfigError, match=r"holds credit@v0\.1\.0, not credit@v0\.2\.0"):
        make_server(tmp_path, "credit@v0.2.0", from_export=exported)
    spec = json.loads((exported / "gitml.json").read_text())
    model = exported / spec["model_file"]
    model.write_bytes(model.read_bytes() + b"\0")
    with pytest.raises(StorageError, match="md5"):
        make_server(tmp_path, REF, from_export=exported)
    both = gitml(
        tmp_path, "serve", REF, "--from-export", str(exported), "--reload-on-promotion",
        check=False,
    )  # fmt: skip
    assert both.returncode == 2
    assert "--from-export serves a fixed version" in both.stderr
