"""New data without a repository: the example's batch/adopt steps, the per-batch split,
and where ``monitor.data`` gets a batch (path, DVC-tracked file, command)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from credit_example.batches import adopt, write_batch
from credit_example.generate import write_csv
from credit_example.prepare import prepare
from gitml.config import config_from_document
from gitml.errors import ConfigError
from gitml.hooks import HookFailed
from gitml.monitor.source import MonitorData, open_batch, save_batch
from tests.helpers import PROJECT_ROOT, dvc, example, git

if TYPE_CHECKING:
    from pathlib import Path

PARAMS = (PROJECT_ROOT / "params.yaml").read_text()


def test_batch_writes_the_csv_and_its_recipe(tmp_path: Path) -> None:
    out = example(
        tmp_path, "batch", "--rows", "200", "--seed", "3", "--shift", "0.5", "-o", "b.csv"
    )
    assert out.stdout == "wrote 200 rows (seed 3, shift 0.5) to b.csv and b.csv.recipe.json\n"
    write_csv(tmp_path / "same.csv", 200, 3, 0.5)
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "same.csv").read_bytes()
    recipe = json.loads((tmp_path / "b.csv.recipe.json").read_text())
    assert recipe == {
        "generator": "credit_example.generate",
        "rows": 200,
        "seed": 3,
        "shift": 0.5,
        "md5": recipe["md5"],
    }
    bad = example(
        tmp_path,
        "batch",
        "--rows",
        "200",
        "--seed",
        "3",
        "--shift",
        "2",
        "-o",
        "x.csv",
        check=False,
    )
    assert bad.stderr == "credit-example batch: error: --shift 2.0: expected a number in [0, 1]\n"
    assert not (tmp_path / "x.csv").exists()


def test_adopt_appends_the_recipe_keeping_comments(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(PARAMS)
    (tmp_path / "data").mkdir()
    write_batch(tmp_path / "b.csv", 300, 11, 1.0)
    entry = adopt(tmp_path / "b.csv", tmp_path / "data", params)
    assert entry == {"file": "batch-001.csv", "rows": 300, "seed": 11, "shift": 1.0}
    text = params.read_text()
    assert text.startswith(PARAMS.split("prepare:")[0].rstrip("\n"))  # comments and order kept
    assert "# Every tunable of the example pipeline." in text
    assert yaml.safe_load(text)["data"]["batches"][1] == entry
    assert (tmp_path / "data" / "batch-001.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    # A second, different batch gets the next name; the same recipe again is refused.
    write_batch(tmp_path / "c.csv", 300, 12, 1.0)
    assert adopt(tmp_path / "c.csv", tmp_path / "data", params)["file"] == "batch-002.csv"
    with pytest.raises(
        ConfigError, match=r"already in .*params.yaml data.batches as batch-001.csv"
    ):
        adopt(tmp_path / "b.csv", tmp_path / "data", params)


def test_adopt_refuses_what_its_recipe_cannot_regenerate(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(PARAMS)
    write_batch(tmp_path / "b.csv", 300, 11, 1.0)
    (tmp_path / "b.csv").write_text((tmp_path / "b.csv").read_text().replace("north", "east", 1))
    with pytest.raises(ConfigError, match="its bytes are not what its recipe"):
        adopt(tmp_path / "b.csv", tmp_path / "data", params)
    (tmp_path / "c.csv").write_text("age\n1\n")
    with pytest.raises(ConfigError, match=r"c.csv.recipe.json: no recipe"):
        adopt(tmp_path / "c.csv", tmp_path / "data", params)
    (tmp_path / "c.csv.recipe.json").write_text('{"rows": 300, "seed": -1, "shift": 0}')
    with pytest.raises(ConfigError, match=r"seed: expected an integer >= 0, got -1"):
        adopt(tmp_path / "c.csv", tmp_path / "data", params)
    assert params.read_text() == PARAMS
    assert not (tmp_path / "data").exists()


def test_adding_a_batch_never_moves_earlier_rows(tmp_path: Path) -> None:
    params = yaml.safe_load(PARAMS)
    data = tmp_path / "data"
    write_csv(data / "batch-000.csv", 1000, 1, 0.0)
    prepare(params, data, tmp_path / "one")
    write_csv(data / "batch-001.csv", 600, 2, 1.0)
    prepare(params, data, tmp_path / "two")
    for name in ("train.csv", "test.csv"):
        before = (tmp_path / "one" / name).read_text()
        after = (tmp_path / "two" / name).read_text()
        assert after.startswith(before)  # the old split, then the new batch's share
    test_lines = (tmp_path / "two" / "test.csv").read_text().splitlines()
    assert len(test_lines) - 1 == 250 + 150


def _config(data: object) -> MonitorData | None:
    document: dict[str, Any] = {"models": {"m": {"artifact": "m.skops", "metrics": ["m.json"]}}}
    if data is not None:
        document["monitor"] = {"data": data}
    return config_from_document(document).monitor_data


def test_monitor_data_shapes_are_validated() -> None:
    assert _config("live.csv") == MonitorData("path", "live.csv")
    assert _config({"dvc": "live/b.csv"}) == MonitorData("dvc", "live/b.csv")
    assert _config({"command": "gen -o {output}", "format": "jsonl"}) == MonitorData(
        "command", "gen -o {output}", "jsonl"
    )
    assert _config(None) is None
    for bad in ({"command": "gen -o out.csv"}, {"path": "/abs.csv"}, {"url": "x"}, 3):
        with pytest.raises(ConfigError, match=r"monitor\.data"):
            _config(bad)


def test_monitor_data_command_writes_a_batch_and_save_keeps_its_recipe(tmp_path: Path) -> None:
    setting = MonitorData("command", "credit-example batch --rows 150 --seed 4 -o {output}")
    with open_batch(tmp_path, None, setting) as batch:
        assert batch.name == "batch.csv"
        written = save_batch(batch, tmp_path / "kept" / "live.csv")
        temp = batch.parent
    assert not temp.exists()  # the command's output is gone, the saved copy stays
    assert [p.name for p in written] == ["live.csv", "live.csv.recipe.json"]
    assert json.loads((tmp_path / "kept" / "live.csv.recipe.json").read_text())["seed"] == 4
    silent = MonitorData("command", "true {output}")
    with (
        pytest.raises(ConfigError, match=r"did not write \{output\}"),
        open_batch(tmp_path, None, silent),
    ):
        pass
    failing = MonitorData("command", "credit-example batch --rows 5 --seed 4 -o {output}")
    with (
        pytest.raises(HookFailed, match=r"exited 1: credit-example batch: error: --rows 5"),
        open_batch(tmp_path, None, failing),
    ):
        pass
    with (
        pytest.raises(ConfigError, match=r"no data: pass --data FILE or set monitor\.data"),
        open_batch(tmp_path, None, None),
    ):
        pass
    with open_batch(tmp_path, None, MonitorData("path", "kept/live.csv")) as batch:
        assert batch == tmp_path / "kept" / "live.csv"


@pytest.mark.slow
def test_monitor_data_dvc_tracked_file_is_restored_from_the_cache(repo: Path) -> None:
    write_csv(repo / "live.csv", 150, 9, 0.0)
    expected = (repo / "live.csv").read_bytes()
    dvc(repo, "add", "-q", "live.csv")
    (repo / "live.csv").unlink()
    with open_batch(repo, None, MonitorData("dvc", "live.csv")) as batch:
        assert batch.read_bytes() == expected


def _dvc_project(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    dvc(path, "init", "-q")
    return path


@pytest.mark.slow
def test_monitor_data_dvc_import_url_follows_its_source(tmp_path: Path) -> None:
    source = tmp_path / "exports" / "live.csv"
    source.parent.mkdir()
    write_csv(source, 120, 31, 0.0)
    repo = _dvc_project(tmp_path / "repo")
    dvc(repo, "import-url", "-q", str(source), "live.csv")
    first = (repo / "live.csv").read_bytes()
    setting = MonitorData("dvc", "live.csv")
    with open_batch(repo, None, setting) as batch:
        assert batch.read_bytes() == first
    # A new batch at the source: the check reads it, not the bytes pinned at import.
    write_csv(source, 150, 32, 1.0)
    with open_batch(repo, None, setting) as batch:
        assert batch.read_bytes() == source.read_bytes() != first
    assert yaml.safe_load((repo / "live.csv.dvc").read_text())["deps"][0]["size"] == len(
        source.read_bytes()
    )


@pytest.mark.slow
def test_monitor_data_dvc_import_follows_the_source_repository(tmp_path: Path) -> None:
    upstream = _dvc_project(tmp_path / "upstream")
    dvc(upstream, "remote", "add", "-q", "-d", "store", str(tmp_path / "upstream-remote"))
    write_csv(upstream / "live.csv", 120, 33, 0.0)
    dvc(upstream, "add", "-q", "live.csv")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "First batch")
    dvc(upstream, "push", "-q")
    repo = _dvc_project(tmp_path / "repo")
    dvc(repo, "import", "-q", str(upstream), "live.csv", "-o", "batch.csv")
    pinned = yaml.safe_load((repo / "batch.csv.dvc").read_text())["deps"][0]["repo"]["rev_lock"]
    setting = MonitorData("dvc", "batch.csv")
    # The next batch is committed upstream: the check updates the import first.
    write_csv(upstream / "live.csv", 150, 34, 1.0)
    dvc(upstream, "add", "-q", "live.csv")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "Next batch")
    dvc(upstream, "push", "-q")
    with open_batch(repo, None, setting) as batch:
        assert batch.read_bytes() == (upstream / "live.csv").read_bytes()
    lock = yaml.safe_load((repo / "batch.csv.dvc").read_text())["deps"][0]["repo"]["rev_lock"]
    assert lock == git(upstream, "rev-parse", "HEAD").stdout.strip() != pinned
