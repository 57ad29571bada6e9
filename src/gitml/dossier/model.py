"""The dossier as typed, immutable facts: what each section states, and what proves it.

A :class:`Proof` always names a git object that holds the fact (a tag object, a commit,
the blob of a file at a commit), so ``git cat-file -p OBJECT`` shows it to anyone with a
clone; an md5 is proven by the ``dvc.lock`` or ``.dvc`` blob that records it (the bytes
are in the DVC remote under that md5), a pull request or CI run by the tag whose record
names it (with its URL when the record says where it lives).

Values are plain JSON types (str, int, float, bool, None), so :meth:`Dossier.to_dict` is
the JSON format as it stands.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

ProofKind = Literal["tag", "commit", "blob", "md5", "pull_request", "run"]
Value = str | int | float | bool | None

# The fields of a model card only a person can write (gitml never invents them).
HUMAN_FIELDS = ("intended_use", "limitations", "known_risks", "human_oversight")


@dataclass(frozen=True)
class Proof:
    """Where a fact can be checked: ``object`` is the git object that holds it."""

    kind: ProofKind
    value: str  # the tag name, the commit, the md5, "#12", the run URL
    object: str  # git object id: the tag, commit or blob that holds ``value``
    label: str  # for people: "credit@v0.2.0", "dvc.lock at 1a2b3c4d5e6f"
    url: str | None = None  # the pull request or run, when the record says where


@dataclass(frozen=True)
class Digest:
    """A path and its md5 (DVC's content hash), with the file that records it."""

    path: str
    md5: str | None
    proof: Proof | None


@dataclass(frozen=True)
class StageHold:
    """A stage this version holds now, since when, and the tag that assigned it."""

    stage: str
    since: str | None
    tag: Proof | None


@dataclass(frozen=True)
class General:
    """1. General description and intended purpose."""

    model: str
    version: str
    tag: Proof | None
    registered_at: str | None
    commit: Proof
    description: str | None
    intended_use: str | None
    family: str | None
    format: str | None
    artifact: Digest | None
    stages: tuple[StageHold, ...]
    card: Proof | None  # the model card at the registered commit


@dataclass(frozen=True)
class PipelineStage:
    """One stage of ``dvc.lock`` at the registered commit."""

    name: str
    command: str | None
    deps: tuple[Digest, ...]
    outs: tuple[Digest, ...]
    params: tuple[str, ...]  # the params the stage read (dotted names)
    recorded_hash: str | None  # sha256 of its lock entry, as the registration records it


@dataclass(frozen=True)
class Param:
    """One (flattened) parameter value at the registered commit, as JSON text."""

    name: str
    value: str


@dataclass(frozen=True)
class Development:
    """2. Development process and design choices."""

    code_commit: Proof
    lock: Proof | None
    stages: tuple[PipelineStage, ...]
    params_file: Proof | None
    params: tuple[Param, ...]
    params_digest: str | None
    params_digest_proof: Proof | None
    software: tuple[Param, ...]


@dataclass(frozen=True)
class DataSet:
    """Training or evaluation data as the model card describes it."""

    role: str
    path: str | None
    md5: str | None
    rows: int | None
    positive_rate: float | None
    proof: Proof | None


@dataclass(frozen=True)
class DataGovernance:
    """3. Data and data governance."""

    inputs: tuple[Digest, ...]
    inputs_from: str  # "record" (the registration tag) or "dvc.lock"
    datasets: tuple[DataSet, ...]
    schema_path: str | None
    schema: Proof | None
    data_gate_stages: tuple[str, ...]


@dataclass(frozen=True)
class Metric:
    """One metric value at the registered commit and which way is better."""

    name: str
    value: Value
    direction: str | None
    proof: Proof | None


@dataclass(frozen=True)
class Gate:
    """The gate of one stage: its rules, and what git records about this version."""

    stage: str
    required: bool
    rules: tuple[str, ...]
    outcome: str
    proof: Proof | None
    bounds: tuple[str, ...]  # each min/max rule checked against the recorded metrics


@dataclass(frozen=True)
class Metrics:
    """4. Metrics and their limits."""

    metrics: tuple[Metric, ...]
    gates: tuple[Gate, ...]
    limitations: tuple[str, ...]


@dataclass(frozen=True)
class Interval:
    """A value with its confidence interval (None where it could not be computed)."""

    name: str
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Group:
    """One group of a segment column."""

    name: str
    rows: int | None
    positives: int | None
    metrics: tuple[Interval, ...]


@dataclass(frozen=True)
class Segment:
    """One segment column: its groups and the gaps between them."""

    column: str
    groups: tuple[Group, ...]
    gaps: tuple[Interval, ...]


@dataclass(frozen=True)
class Feature:
    """One feature's permutation importance (mean decrease of the score, its std)."""

    name: str
    mean: float | None
    std: float | None


@dataclass(frozen=True)
class Fairness:
    """5. Fairness (per-segment report, gap gates) and explanations (importance)."""

    segments_declared: tuple[str, ...]
    report_path: str | None
    report: Proof | None
    confidence: float | None
    segments: tuple[Segment, ...]
    gap_gates: tuple[str, ...]
    importance_method: str | None
    importance: tuple[Feature, ...]
    importance_proof: Proof | None


@dataclass(frozen=True)
class Decision:
    """A registration or a stage assignment of this version, and who decided it."""

    event: str  # registration, promotion, rollback, unassignment, deregistration
    stage: str | None
    at: str
    tag: Proof
    pull_request: Proof | None
    author: str | None
    approvers: tuple[str, ...]
    merged_by: str | None
    run: Proof | None


@dataclass(frozen=True)
class Oversight:
    """6. Human oversight and approvals."""

    decisions: tuple[Decision, ...]
    human_oversight: str | None


@dataclass(frozen=True)
class Change:
    """One value that differs between the previous version and this one."""

    name: str
    before: Value
    after: Value


@dataclass(frozen=True)
class Changes:
    """7. Changes against the version this one replaced (or the previous registered one)."""

    against: str | None
    reason: str
    against_commit: Proof | None
    metrics: tuple[Change, ...]
    params: tuple[Change, ...]
    params_digest: Change | None
    inputs: tuple[Change, ...]
    stages: tuple[str, ...]  # pipeline stages whose dvc.lock entry changed


@dataclass(frozen=True)
class DriftEvidence:
    """A retraining commit whose message cites ``gitml drift`` for this model."""

    commit: Proof
    at: str
    line: str
    relation: str  # "led to this version" or "while this version held STAGE"


@dataclass(frozen=True)
class RecordedCheck:
    """A drift check of this version recorded in the registry (an observation tag)."""

    tag: Proof
    at: str
    stage: str | None
    verdict: str
    rows: int
    drifted: tuple[str, ...]


@dataclass(frozen=True)
class RecordedCanary:
    """A canary analysis of this version as the candidate (an observation tag)."""

    tag: Proof
    at: str
    stage: str | None
    verdict: str  # passed | stopped
    against: str | None
    windows: int | None
    rule: str | None


@dataclass(frozen=True)
class Monitoring:
    """8. Post-market monitoring."""

    baseline: Digest | None
    baseline_blob: Proof | None
    thresholds: tuple[Param, ...]
    source: str | None
    drift: tuple[DriftEvidence, ...]
    branch: str  # where retraining commits were looked for
    checks: tuple[RecordedCheck, ...] = ()  # recorded drift checks of this version
    canaries: tuple[RecordedCanary, ...] = ()  # canary analyses with it as the candidate


@dataclass(frozen=True)
class Missing:
    """A human-written fact the dossier cannot fill, and where it belongs."""

    field: str
    where: str

    def __str__(self) -> str:
        return f"not provided in {self.where}: {self.field}"


@dataclass(frozen=True)
class Dossier:
    """Everything the dossier states about one version, in Annex IV's order."""

    model: str
    version: str
    general: General
    development: Development
    data: DataGovernance
    metrics: Metrics
    fairness: Fairness
    oversight: Oversight
    changes: Changes
    monitoring: Monitoring
    missing: tuple[Missing, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON format: every field as named here (tuples as lists), ``format`` 1."""
        data = asdict(self)
        data["missing"] = [str(m) for m in self.missing]
        return {"format": 1, **data}

    def proofs(self) -> list[Proof]:
        """Every proof the dossier cites, each once, in order of first citation."""
        found: dict[Proof, None] = {}
        _collect(self, found)
        return list(found)


def _collect(value: object, found: dict[Proof, None]) -> None:
    if isinstance(value, Proof):
        found.setdefault(value, None)
    elif isinstance(value, tuple):
        for item in value:
            _collect(item, found)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            _collect(getattr(value, name), found)
