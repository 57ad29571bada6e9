"""``gitml search`` against a brute-force oracle over a scripted registry.

The registry is written with ``git fast-import`` (commits, registration/promotion/
deregistration tags carrying gitml records) from a seeded plan; the oracle evaluates the
same predicates on the plan itself, never through gitml's query code.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitml.errors import UsageError
from gitml.registry.reader import RegistryReader
from gitml.registry.record import Kind, Record, record_message
from gitml.search.english import translate
from gitml.search.grammar import parse_query
from gitml.search.run import search
from tests.helpers import gitml

if TYPE_CHECKING:
    from pathlib import Path

EPOCH = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())
DAY = 86_400
MODELS = ("credit", "churn")
STAGES = ("staging", "production")
AUTHORS = ("ada", "bob", "cy")
DATASETS = ("data/customer.csv", "data/transactions.csv")
GITML_YAML = """\
models:
  credit: {artifact: models/credit.skops, metrics: [metrics/credit.json]}
  churn: {artifact: models/churn.skops, metrics: [metrics/churn.json]}
stages: [staging, production]
stage_branch: "{stage}/{model}"
"""
LOCK = """\
schema: '2.0'
stages:
  train:
    cmd: train
    outs:
    - path: models/{model}.skops
      hash: md5
      md5: {md5}
      size: 10
"""
DVC_YAML = """\
artifacts:
  {model}:
    path: models/{model}.skops
    type: model
    desc: {desc}
    labels: [{labels}]
"""


@dataclass
class Planned:
    """One version as the plan wrote it: what the oracle reads."""

    model: str
    version: str
    index: int
    registered: int
    md5: str
    author: str
    approvers: tuple[str, ...]
    pr: int | None
    metrics: dict[str, float]  # the record's headline metrics
    loss: float  # only in the metrics file at the commit
    params: dict[str, Any]
    inputs: dict[str, str]
    labels: tuple[str, ...]
    description: str
    assigned: list[tuple[int, str]] = field(default_factory=list)  # (time, stage)
    deregistered: int | None = None


def _plan(seed: int = 7, count: int = 36) -> tuple[list[Planned], list[tuple[int, str, Planned]]]:
    rng = random.Random(seed)
    versions: list[Planned] = []
    events: list[tuple[int, str, Planned]] = []  # (time, action "assign:STAGE"/"deregister")
    for i in range(count):
        model = MODELS[i % 2]
        when = EPOCH + i * 5 * DAY
        data = DATASETS[rng.randrange(2)]
        v = Planned(
            model=model,
            version=f"v0.{i // 2 + 1}.0",
            index=i,
            registered=when,
            md5=hashlib.md5(f"{model}{i}".encode()).hexdigest(),
            author=rng.choice(AUTHORS),
            approvers=tuple(sorted(rng.sample(AUTHORS, rng.randrange(3)))),
            pr=i + 10 if rng.random() < 0.8 else None,
            metrics={"auc": round(rng.uniform(0.7, 0.95), 3), "accuracy": rng.choice([0.8, 0.9])},
            loss=round(rng.uniform(0.1, 0.5), 2),
            params={"max_depth": rng.randrange(3, 9), "solver": rng.choice(["lbfgs", "saga"])},
            inputs={data: hashlib.md5(data.encode() + bytes([i % 3])).hexdigest()},
            labels=("tabular", "fast") if i % 3 == 0 else ("tabular",),
            description=f"{model} scorer {'gbm' if i % 4 else 'linear'}",
        )
        versions.append(v)
        for stage in STAGES:
            if rng.random() < 0.45:
                events.append((when + rng.randrange(1, 20) * DAY + 3600, f"assign:{stage}", v))
        if rng.random() < 0.12:
            events.append((when + rng.randrange(2, 30) * DAY + 7200, "deregister", v))
    events.sort(key=lambda e: (e[0], e[2].index))
    # one second apart at most once: tags carry whole seconds and order within them
    for n, (when, action, v) in enumerate(events):
        events[n] = (when + n, action, v)
        if action.startswith("assign:"):
            v.assigned.append((when + n, action[7:]))
        else:
            v.deregistered = when + n
    return versions, events


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def _build(repo: Path, versions: list[Planned], events: list[tuple[int, str, Planned]]) -> None:
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    who = "Ada Tester <ada@example.com>"
    stream = []
    for v in versions:
        files = {
            "gitml.yaml": GITML_YAML,
            "dvc.lock": LOCK.format(model=v.model, md5=v.md5),
            "dvc.yaml": DVC_YAML.format(
                model=v.model, desc=json.dumps(v.description), labels=", ".join(v.labels)
            ),
            f"metrics/{v.model}.json": json.dumps({**v.metrics, "loss": v.loss}),
            "params.yaml": json.dumps({"train": v.params}),
        }
        stream.append(
            f"commit refs/heads/main\nmark :{v.index + 1}\nauthor {who} {v.registered} +0000\n"
            f"committer {who} {v.registered} +0000\n{_data('train')}"
            + "".join(f"M 100644 inline {p}\n{_data(t)}" for p, t in files.items())
        )
    marks = repo / ".git" / "marks"
    run = ["git", "fast-import", "--quiet"]
    subprocess.run([*run, f"--export-marks={marks}"], cwd=repo, input="".join(stream).encode())
    commit = dict(line.split() for line in marks.read_text().splitlines())
    tags = []
    for v in versions:
        record = Record(
            Kind.REGISTRATION, v.model, v.version, md5=v.md5, artifact=f"models/{v.model}.skops",
            commit=commit[f":{v.index + 1}"], author=v.author, approvers=v.approvers,
            pull_request=v.pr, metrics=v.metrics, inputs=v.inputs,
        )  # fmt: skip
        tags.append((f"{v.model}@{v.version}", v, v.registered, record))
    for n, (when, action, v) in enumerate(events, start=1):
        if action == "deregister":
            record = Record(Kind.DEREGISTRATION, v.model, v.version)
            tags.append((f"{v.model}@{v.version}!#{n}", v, when, record))
        else:
            stage = action[7:]
            record = Record(Kind.PROMOTION, v.model, v.version, stage=stage, md5=v.md5)
            tags.append((f"{v.model}#{stage}#{n}", v, when, record))
    stream = [
        f"tag {name}\nfrom :{v.index + 1}\ntagger {who} {when} +0000\n"
        + _data(record_message(name, record))
        for name, v, when, record in tags
    ]
    subprocess.run([*run, f"--import-marks={marks}"], cwd=repo, input="".join(stream).encode())
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=repo, check=True)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Planned]]:
    repo = tmp_path_factory.mktemp("search") / "repo"
    versions, events = _plan()
    _build(repo, versions, events)
    return repo, versions


# -- the oracle ---------------------------------------------------------------------------


def _active(v: Planned, t: float) -> bool:
    return v.registered <= t and not (v.deregistered is not None and v.deregistered <= t)


def _held(versions: list[Planned], v: Planned, t: float) -> set[str]:
    held = set()
    for stage in STAGES:
        candidates = [
            (when, o.index)
            for o in versions
            if o.model == v.model and _active(o, t)
            for when, s in o.assigned
            if s == stage and when <= t
        ]
        if candidates and max(candidates)[1] == v.index:
            held.add(stage)
    return held


def _bounds(text: str) -> tuple[int, int]:
    """[start, end] seconds of a period the strategies use."""
    if ".." in text:
        a, b = text.split("..")
        return _bounds(a)[0], _bounds(b)[1]
    if "-Q" in text:
        year, q = int(text[:4]), int(text[-1])
        start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
        end = datetime(year + (q == 4), (3 * q) % 12 + 1, 1, tzinfo=UTC)
    else:
        start = datetime.fromisoformat(text).replace(tzinfo=UTC)
        end = start + timedelta(days=1)
    return int(start.timestamp()), int(end.timestamp()) - 1


def _cmp(op: str, a: Any, b: Any) -> bool:
    return {
        "=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
    }[op]  # fmt: skip


def _oracle(node: tuple[Any, ...], v: Planned, versions: list[Planned], t: float) -> bool:
    kind = node[0]
    if kind == "and":
        return all(_oracle(n, v, versions, t) for n in node[1:])
    if kind == "or":
        return any(_oracle(n, v, versions, t) for n in node[1:])
    if kind == "not":
        return not _oracle(node[1], v, versions, t)
    _, name, op, value = node
    if op == "!=":
        return not _oracle(("cmp", name, "=", value), v, versions, t)
    sets = {
        "stage": _held(versions, v, t),
        "ever": {s for when, s in v.assigned if when <= t},
        "approver": set(v.approvers),
        "label": set(v.labels),
        "data": {*v.inputs, *v.inputs.values()},
    }
    if name in sets:
        if op == "~":
            return any(value.lower() in m.lower() for m in sets[name])
        return value in sets[name]
    texts = {"model": v.model, "author": v.author, "description": v.description}
    if name in texts:
        return value.lower() in texts[name].lower() if op == "~" else texts[name] == value
    if name == "version":
        key = int(v.version.split(".")[1])
        return v.version == value if op == "=" else _cmp(op, key, int(value.split(".")[1]))
    if name == "registered":
        start, end = _bounds(value)
        at = v.registered
        return {"=": start <= at <= end, "<": at < start, "<=": at <= end}.get(
            op, at > end if op == ">" else at >= start
        )
    numbers = {"pr": v.pr, "metric.auc": v.metrics["auc"], "metric.loss": v.loss}
    numbers |= {"metric.accuracy": v.metrics["accuracy"], "param.train.max_depth": None}
    numbers["param.train.max_depth"] = v.params["max_depth"]
    if name == "param.train.solver":
        return v.params["solver"] == value if op == "=" else value in v.params["solver"]
    actual = numbers.get(name)
    return actual is not None and _cmp(op, actual, value)


def _text(node: tuple[Any, ...]) -> str:
    kind = node[0]
    if kind in ("and", "or"):
        return "(" + f" {kind.upper()} ".join(_text(n) for n in node[1:]) + ")"
    if kind == "not":
        return f"NOT {_text(node[1])}"
    _, name, op, value = node
    if name == "ever":
        return f"stage {op} ever:{value}"
    if isinstance(value, float) and name.startswith("metric") and value * 100 == int(value * 100):
        return f"{name} {op} {round(value * 100)}%"
    shown = json.dumps(value) if isinstance(value, str) and " " in value else str(value)
    return f"{name} {op} {shown}"


EQ = st.sampled_from(["=", "!=", "~"])
ORD = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
PERIODS = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-03-01", "2026-02-10..2026-04-20"]


def _leaf(names: list[str], ops: st.SearchStrategy[str], values: list[Any]) -> Any:
    return st.tuples(st.just("cmp"), st.sampled_from(names), ops, st.sampled_from(values))


LEAVES = st.one_of(
    _leaf(["model"], EQ, [*MODELS, "cr"]),
    _leaf(["version"], ORD, ["v0.3.0", "v0.10.0"]),
    _leaf(["stage", "ever"], EQ, list(STAGES)),
    _leaf(["approver", "author"], EQ, list(AUTHORS)),
    _leaf(["label"], EQ, ["tabular", "fast"]),
    _leaf(["data"], EQ, ["customer", *DATASETS]),
    _leaf(["description"], EQ, ["gbm", "churn scorer linear"]),
    _leaf(["registered"], ORD, PERIODS),
    _leaf(["metric.auc", "metric.loss", "metric.accuracy"], ORD, [0.25, 0.8, 0.9, 0.85]),
    _leaf(["pr"], ORD, [12, 30]),
    _leaf(["param.train.max_depth"], ORD, [5, 6]),
    _leaf(["param.train.solver"], st.sampled_from(["=", "~"]), ["saga"]),
)
QUERIES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.just("and"), inner, inner),
        st.tuples(st.just("or"), inner, inner),
    ),
    max_leaves=4,
)
INSTANTS = [None, EPOCH + 40 * DAY, EPOCH + 100 * DAY]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(QUERIES, st.sampled_from(INSTANTS))
def test_random_queries_match_the_oracle(
    registry: tuple[Path, list[Planned]], node: tuple[Any, ...], at: int | None
) -> None:
    repo, versions = registry
    text = _text(node)
    t = float("inf") if at is None else at
    expected = {
        (v.model, v.version) for v in versions if _active(v, t) and _oracle(node, v, versions, t)
    }
    instant = None if at is None else datetime.fromtimestamp(at, UTC)
    with RegistryReader(repo) as reader:
        found = search(reader, text, at=instant)
    assert {(v.model, v.version) for v in found.versions} == expected, text
    assert found.left_out == ()  # every record agrees with git
    # the understood query parses back to itself
    assert parse_query(found.query).text() == found.query


@pytest.mark.parametrize("direction", ["", ":asc", ":desc"])
def test_sort_by_a_metric_of_the_files_matches_the_oracle(
    registry: tuple[Path, list[Planned]], direction: str
) -> None:
    repo, versions = registry
    with RegistryReader(repo) as reader:
        found = search(reader, "model = credit", sort=f"metric.loss{direction}")
    live = [v for v in versions if v.model == "credit" and _active(v, float("inf"))]
    newest_first = sorted(live, key=lambda v: v.index, reverse=True)
    # Stable: versions of equal loss keep the default order, whichever the direction.
    expected = sorted(newest_first, key=lambda v: v.loss, reverse=direction == ":desc")
    assert [v.version for v in found.versions] == [v.version for v in expected]


NOW = datetime(2026, 8, 1, tzinfo=UTC)
# Every sentence the README documents, with the query it means.
GOLDEN = [
    (
        "all production models trained on customer data in Q3 with accuracy above 85%",
        "stage = production AND data ~ customer AND registered = 2026-Q3 "
        "AND metric.accuracy > 0.85",
    ),
    ("staging versions by ada", "stage = staging AND author = ada"),
    ("models in 2026-Q1 with auc below 0.9", "registered = 2026-Q1 AND metric.auc < 0.9"),
    ("production models in Q2 2026", "stage = production AND registered = 2026-Q2"),
    ("trained on transactions data", "data ~ transactions"),
]  # fmt: skip
REFUSED = [
    ("production models promoted last summer", "promoted last summer"),
    ("models by ada or bob", "or bob"),
    ("with accuracy at least 85%", "with accuracy at least 85%"),
    ("the best churn model", "best churn"),
    ("production models trained recently", "trained recently"),
]


@pytest.mark.parametrize(("sentence", "query"), GOLDEN)
def test_documented_sentences_translate(sentence: str, query: str) -> None:
    assert parse_query(translate(sentence, STAGES, NOW)).text() == query


@pytest.mark.parametrize(("sentence", "words"), REFUSED)
def test_paraphrases_are_refused_naming_the_words(sentence: str, words: str) -> None:
    with pytest.raises(UsageError, match="could not place") as raised:
        translate(sentence, STAGES, NOW)
    assert repr(words) in str(raised.value)


BAD = [
    ('metric.auc > "x"', 14, "metric.auc expects a number"),
    ("owner = ada", 1, "unknown field 'owner'"),
    ("(model = credit", 16, "expected ')' (unbalanced parentheses)"),
    ("model = credit)", 15, "unbalanced parentheses"),
    ("model = credit AND", 19, "expected '(' or NOT or a field"),
    ("metric.auc ~ 1", 12, "metric takes = != < <= > >=, not ~"),
    ("registered < soon", 14, "registered expects a date"),
    ("stage > production", 7, "stage takes = != ~"),
]


@pytest.mark.parametrize(("query", "column", "message"), BAD)
def test_bad_queries_point_at_the_column(query: str, column: int, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_query(query)
    first, shown, caret = str(raised.value).split("\n")
    assert first.startswith(f"query: column {column}: ")
    assert message in first
    assert shown == f"  {query}"
    assert caret == "  " + " " * (column - 1) + "^"


def test_cli_json_english_and_errors(registry: tuple[Path, list[Planned]]) -> None:
    repo, versions = registry
    out = gitml(repo, "search", "stage = production AND metric.auc > 0.5", "--json")
    data = json.loads(out.stdout)
    held = {(v.model, v.version) for v in versions if "production" in _held(versions, v, 1e12)}
    assert {(v["model"], v["version"]) for v in data["versions"]} == held
    assert data["query"] == "stage = production AND metric.auc > 0.5"
    done = gitml(repo, "search", "production", "models", "by", "ada", "--sort=-metric.auc")
    assert "query: stage = production AND author = ada" in done.stderr
    bad = gitml(repo, "search", "metric.auc > 'x'", check=False)
    assert bad.returncode == 2
    assert "column 14" in bad.stderr
    assert bad.stderr.rstrip().endswith("^")
    newest = sorted(
        (v for v in versions if v.model == "credit" and v.deregistered is None),
        key=lambda v: v.registered,
        reverse=True,
    )
    limited = gitml(repo, "search", "model = credit", "--sort=-registered", "--limit=2", "--json")
    shown = [v["version"] for v in json.loads(limited.stdout)["versions"]]
    assert shown == [v.version for v in newest[:2]]
