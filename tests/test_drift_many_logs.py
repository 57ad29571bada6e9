"""``gitml drift --data DIR`` (or a glob): the prediction logs of many server replicas,
written by the real :class:`~gitml.serve.prediction_log.PredictionLog` (and, end to end,
by real servers), read as one batch that gives what their concatenation in one file gives:
the same rows, the same report and the same batch sha256."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pytest

from credit_example.generate import FEATURES_CATEGORICAL, FEATURES_NUMERIC
from gitml import api
from gitml.errors import ConfigError
from gitml.monitor.baseline import baseline_text, compute_baseline, read_baseline
from gitml.monitor.drift import DriftThresholds, detect_drift_file
from gitml.monitor.source import MonitorData, is_log_name, open_batch
from gitml.serve.loaded import LoadedModel
from gitml.serve.prediction_log import PredictionLog, feedback_path
from gitml.serve.records import validate_records
from gitml.serve.run import ServerThread, make_server
from tests.helpers import dvc, git, gitml
from tests.test_drift import batch, credit_signature, oracle

if TYPE_CHECKING:
    import pandas as pd

    from gitml.monitor.drift_report import DriftReport
    from gitml.signature import Signature
    from tests.conftest import Clock

CHECKED = ("credit", "v0.1.0")
REQUEST = 40  # records per /predict request a replica logs at once
PODS = ("credit-7d9f8c6b5-k2x9q", "credit-7d9f8c6b5-m4r7t", "credit-7d9f8c6b5-z8w1c")


@pytest.fixture(scope="module")
def signature() -> Signature:
    return credit_signature()


@pytest.fixture(scope="module")
def baseline(signature: Signature) -> dict[str, Any]:
    reference = batch(5_000, seed=1)
    computed = compute_baseline(reference, signature, oracle(reference))
    return read_baseline(baseline_text(computed), "credit.baseline.json")


def served(signature: Signature, version: str | None = "v0.1.0") -> LoadedModel:
    """What a replica serves, as its prediction log sees it (name and version)."""
    return LoadedModel(
        name="credit",
        version=version,
        md5="0" * 32,
        commit="0" * 40,
        stage=None,
        model=None,
        signature=signature,
        metrics={},
        card=None,
    )


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Generated rows as a client sends them: JSON values, null for missing."""
    out = []
    for row in frame.to_dict(orient="records"):
        record: dict[str, Any] = {}
        for name in (*FEATURES_NUMERIC, *FEATURES_CATEGORICAL):
            value = row[name]
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            record[name] = None if missing else value
        out.append(record)
    return out


def write_pod_log(
    path: Path,
    signature: Signature,
    rows: int,
    seed: int,
    shift: float = 0.0,
    *,
    version: str = "v0.1.0",
    candidate: str | None = None,
) -> int:
    """One replica's log, request by request, as its server writes it (and a few
    labels in the feedback log beside it); with ``candidate``, every other request was
    answered by that canary version. Returns how many rows the stable version logged."""
    frame = batch(rows, seed, shift)
    sent = records(frame)
    scores = oracle(frame)
    log, labels = PredictionLog(path), PredictionLog(feedback_path(path))
    stable = 0
    try:
        for number, start in enumerate(range(0, rows, REQUEST)):
            part = validate_records(signature, sent[start : start + REQUEST])
            part_scores = [float(s) for s in scores[start : start + REQUEST]]
            ids = [f"{path.stem}-{start + i}" for i in range(part.count)]
            canary = candidate is not None and number % 2 == 1
            model = served(signature, candidate if canary else version)
            decisions = [int(s >= 0.25) for s in part_scores]
            log.write(model, part, part_scores, decisions, ids, "candidate" if canary else "stable")
            stable += 0 if canary else part.count
            labels.write_entries([{"ts": "2026-12-06T10:00:00.000Z", "id": ids[0], "label": 1}])
    finally:
        log.close()
        labels.close()
    return stable


def report_of(path: Path, baseline: dict[str, Any], signature: Signature) -> DriftReport:
    return detect_drift_file(path, baseline, signature, DriftThresholds(), checked=CHECKED)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def one_line(error: pytest.ExceptionInfo[ConfigError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_pod_logs_are_one_batch_like_their_concatenation(
    tmp_path: Path, baseline: dict[str, Any], signature: Signature
) -> None:
    logs = tmp_path / "logs"
    sizes = {PODS[0]: (400, 31, 0.0), PODS[1]: (250, 32, 0.8), PODS[2]: (350, 33, 0.0)}
    for pod, (rows, seed, shift) in sizes.items():
        assert write_pod_log(logs / f"predictions-{pod}.jsonl", signature, rows, seed, shift)
    # A log pipeline's compressed copy is read like the log itself.
    shipped = logs / f"predictions-{PODS[2]}.jsonl"
    (logs / f"{shipped.name}.gz").write_bytes(gzip.compress(shipped.read_bytes()))
    shipped.unlink()
    PredictionLog(logs / "predictions-credit-7d9f8c6b5-idle1.jsonl").close()  # served nothing
    (logs / "README.txt").write_text("prediction logs of credit, one per pod\n")
    assert len(list(logs.glob("*.feedback.jsonl"))) == 3  # beside each log; not predictions

    # The same lines in one file, in name order: what `cat` of the logs would give.
    names = sorted(p.name for p in logs.iterdir() if is_log_name(p.name))
    assert len(names) == 4
    joined = b"".join(
        gzip.decompress(data) if name.endswith(".gz") else data
        for name, data in ((name, (logs / name).read_bytes()) for name in names)
    )
    one = tmp_path / "all.jsonl"
    one.write_bytes(joined)
    expected = report_of(one, baseline, signature).to_dict()
    assert expected["rows"] == 1_000
    assert expected["verdict"] == "drift"  # one pod's traffic moved: the batch shows it

    for data, setting in (
        (str(logs), None),
        (f"{logs}/", None),
        (str(logs / "predictions-*.jsonl*"), None),  # a glob: feedback logs left out too
        (None, MonitorData("path", "logs")),  # gitml.yaml monitor.data, relative to the root
    ):
        with open_batch(tmp_path, data, setting) as path:
            assert path.read_bytes() == joined, data
            assert report_of(path, baseline, signature).to_dict() == expected, data
            temporary = path
        assert not temporary.exists()  # the joined file goes with the check
    assert sha256(joined) == hashlib.sha256(one.read_bytes()).hexdigest()


def test_a_torn_last_line_and_a_canary_replica_are_read_as_alone(
    tmp_path: Path,
    baseline: dict[str, Any],
    signature: Signature,
    caplog: pytest.LogCaptureFixture,
) -> None:
    logs = tmp_path / "logs"
    first = logs / f"predictions-{PODS[0]}.jsonl"
    stable = write_pod_log(first, signature, 120, seed=41)
    # A pod killed mid-write: its last line is cut, and must not run into the next log.
    with first.open("ab") as log:
        log.write(b'{"ts":"2026-12-06T10:00:00.000Z","id":"x","model":"credit","vers')
    # A canary pod: the candidate's lines are another version on purpose, not a mix.
    stable += write_pod_log(
        logs / f"predictions-{PODS[1]}.jsonl", signature, 200, seed=42, candidate="v0.2.0"
    )
    assert stable == 120 + 120
    with caplog.at_level(logging.WARNING), open_batch(tmp_path, str(logs), None) as path:
        assert report_of(path, baseline, signature).rows == stable
    assert f"{first}: skipped an incomplete last line" in caplog.text


def test_directory_and_glob_errors_name_the_log_and_line(
    tmp_path: Path, baseline: dict[str, Any], signature: Signature
) -> None:
    def read(data: str) -> None:
        with open_batch(tmp_path, data, None) as path:
            report_of(path, baseline, signature)

    logs = tmp_path / "logs"
    logs.mkdir()
    with pytest.raises(ConfigError) as error:
        read(str(logs))
    assert one_line(error) == f"{logs}: empty directory"
    (logs / "predictions.feedback.jsonl").write_text('{"ts":"t","id":"a","label":1}\n')
    (logs / "notes.csv").write_text("age\n30\n")
    expected = "expected prediction logs: *.jsonl, *.jsonl.gz, *.ndjson or *.ndjson.gz, not "
    with pytest.raises(ConfigError) as error:
        read(str(logs))
    assert one_line(error) == (
        f"{logs}: no prediction log in the directory ({expected}NAME.feedback.jsonl)"
    )
    pattern = str(logs / "predictions-*.jsonl")
    with pytest.raises(ConfigError) as error:
        read(pattern)
    assert one_line(error) == (
        f"{pattern}: no prediction log matches the glob ({expected}NAME.feedback.jsonl)"
    )
    empty = logs / "predictions-idle.jsonl"
    empty.touch()
    with pytest.raises(ConfigError) as error:
        read(str(logs))
    assert one_line(error) == f"{logs}: no rows (every prediction log is empty)"

    # A file named like a log that is not one: its name and line.
    good = logs / f"predictions-{PODS[0]}.jsonl"
    write_pod_log(good, signature, 80, seed=51)
    bad = logs / f"predictions-{PODS[1]}.jsonl"
    first, second = good.read_text().splitlines()[:2]
    for text, line in (
        (f'{first}\n\n{{"id":"a","label":1}}\n', 3),  # found joining the logs
        (f'{first}\n{{"id":"a","label":1}}\n{second}\n', 2),  # found reading the batch
    ):
        bad.write_text(text)
        with pytest.raises(ConfigError) as error:
            read(str(logs))
        message = "expected an object with a 'features' object"
        assert one_line(error) == f"{bad}: line {line}: {message}"
        assert error.value.problems == [(str(bad), f"line {line}", message)]

    # Replicas of two versions on one volume (an earlier rollout's pods): both named.
    bad.unlink()
    write_pod_log(bad, signature, 80, seed=52, version="v0.2.0")
    with pytest.raises(ConfigError) as error:
        read(str(logs))
    assert one_line(error) == (
        f"{logs}: {good} logs predictions of credit@v0.1.0 but {bad} of credit@v0.2.0: one "
        "drift check reads one version's logs (move the other version's logs aside, or pass "
        "a glob naming only its replicas' files)"
    )
    # ... which a glob naming one version's files leaves out.
    with open_batch(tmp_path, str(logs / f"predictions-{PODS[0]}*"), None) as path:
        assert report_of(path, baseline, signature).rows == 80

    # An error found reading the joined file is told in the logs' terms: the lines of
    # the second log name no role (written by hand), so they count as another version's.
    unnamed = [
        json.dumps({"features": json.loads(line)["features"], "score": 0.1})
        for line in good.read_text().splitlines()
    ]
    good.write_text("\n".join(unnamed) + "\n")
    lines = [json.loads(line) for line in bad.read_text().splitlines()]
    bad.write_text("".join(json.dumps({**e, "role": None}) + "\n" for e in lines))
    with pytest.raises(ConfigError) as error:
        read(str(logs))
    assert one_line(error) == (
        f"{bad}: line 1 (and 79 more of 160 records) logs a prediction of credit@v0.2.0, not "
        "of credit@v0.1.0, the version checked: check credit@v0.2.0 instead, or keep only "
        "credit@v0.1.0's lines"
    )
    assert error.value.problems[0][:2] == (str(bad), "line 1")


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("predictions-credit-7d9f8c6b5-k2x9q.jsonl", True),
        ("predictions-a.jsonl.gz", True),
        ("predictions-a.NDJSON", True),
        ("predictions-a.ndjson.gz", True),
        (feedback_path(Path("predictions-a.jsonl")).name, False),
        ("predictions-a.feedback.jsonl.gz", False),
        (".predictions-a.jsonl", False),
        ("predictions-a.csv", False),
        ("predictions-a.jsonl.1", False),
        (".jsonl", False),
    ],
)
def test_which_files_of_a_directory_are_prediction_logs(name: str, read: bool) -> None:
    assert is_log_name(name) is read


@pytest.mark.slow
def test_gitml_drift_reads_three_servers_logs_as_their_concatenation(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    logs = tmp_path / "logs"
    signature = credit_signature()
    for number, pod in enumerate(PODS):
        frame = batch(150 + 50 * number, seed=61 + number, shift=0.4 * number)
        app = make_server(
            repo,
            "credit@v0.1.0",
            log_path=logs / f"predictions-{pod}.jsonl",
            log_level="warning",
            access_log=False,
        ).config.app
        with ServerThread(app) as running, httpx.Client(base_url=running.url) as client:
            sent = records(frame)
            validate_records(signature, sent)  # what the server will accept
            for start in range(0, len(sent), REQUEST):
                response = client.post("/predict", json={"records": sent[start : start + REQUEST]})
                assert response.status_code == 200, response.text
    names = sorted(p.name for p in logs.iterdir())
    assert len(names) == 6  # three logs, three (empty) feedback logs
    one = tmp_path / "all.jsonl"
    one.write_bytes(b"".join((logs / n).read_bytes() for n in names if is_log_name(n)))

    def drift(data: Path, *extra: str) -> dict[str, Any]:
        result = gitml(repo, "drift", "credit@v0.1.0", "--data", str(data), "--json", *extra)
        report: dict[str, Any] = json.loads(result.stdout)
        return report

    from_logs = drift(logs, "--record")
    assert from_logs == drift(one)
    assert from_logs["rows"] == 150 + 200 + 250
    assert from_logs["score"]["mean_batch"] == pytest.approx(
        float(np.mean([json.loads(x)["score"] for x in one.read_text().splitlines()])), rel=1e-5
    )
    # The recorded batch is the concatenation's sha256.
    (tag,) = git(repo, "tag", "--list", "gitml.drift/*").stdout.split()
    message = git(repo, "cat-file", "-p", tag).stdout
    assert hashlib.sha256(one.read_bytes()).hexdigest() in message
    # --save-batch keeps exactly those lines, as one file.
    assert drift(logs, "--save-batch", str(tmp_path / "saved.jsonl")) == from_logs
    assert (tmp_path / "saved.jsonl").read_bytes() == one.read_bytes()


@pytest.mark.slow
def test_a_dvc_import_of_a_log_prefix_is_updated_and_read_as_one_batch(
    tmp_path: Path, baseline: dict[str, Any], signature: Signature
) -> None:
    # A log pipeline's prefix in object storage, here a local directory DVC imports from.
    shipped = tmp_path / "bucket" / "credit" / "2026-12-06"
    write_pod_log(shipped / f"predictions-{PODS[0]}.jsonl", signature, 120, seed=71)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    dvc(repo, "init", "-q")
    dvc(repo, "import-url", "-q", str(shipped), "logs")
    setting = MonitorData("dvc", "logs")  # gitml.yaml monitor.data: {dvc: logs}
    with open_batch(repo, None, setting) as path:
        assert report_of(path, baseline, signature).rows == 120
    # Another pod's log reaches the prefix: the next check updates the import first.
    write_pod_log(shipped / f"predictions-{PODS[1]}.jsonl", signature, 80, seed=72)
    with open_batch(repo, None, setting) as path:
        assert report_of(path, baseline, signature).rows == 200
    assert sorted(p.name for p in (repo / "logs").iterdir() if is_log_name(p.name)) == [
        f"predictions-{PODS[0]}.jsonl",
        f"predictions-{PODS[1]}.jsonl",
    ]
