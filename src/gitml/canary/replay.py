"""``gitml canary replay``: the canary analysis run offline on recorded traffic.

Both versions score every row of the data (a prediction log or a batch); the router
splits the rows as the server would (the policy's key when the rows carry it, else
seeded random draws), and each row goes to the analysis as one request answered by the
side it was routed to, its label (if any) arriving with it. Windows close by candidate
records, or by the rows' ``ts`` for windows in seconds. A replay times nothing, so
``p99_latency`` is not evaluated; a row a version fails to score counts as its error.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.canary.analysis import RUNNING, CanaryAnalysis, CanaryDecision
from gitml.canary.replay_data import read_replay_rows
from gitml.canary.router import Router, request_key
from gitml.canary.side import VersionSide
from gitml.canary.versions import CanaryPair, check_signatures, pair_baselines, resolve_pair
from gitml.errors import ConfigError, UsageError
from gitml.monitor.batchfile import batch_format
from gitml.registry.reader import RegistryReader

if TYPE_CHECKING:
    from gitml.canary.judge import WindowResult
    from gitml.canary.policy import CanaryPolicy
    from gitml.canary.replay_data import ReplayRows
    from gitml.registry.records import VersionInfo
    from gitml.serve.loaded import LoadedModel

CHUNK_ROWS = 2000  # rows a model scores at once


@dataclass(frozen=True)
class ReplayResult:
    """What a replay judged and how it ended (``decision`` None: the data ran out first)."""

    pair: CanaryPair
    policy: CanaryPolicy
    data: str
    data_sha256: str
    rows: int  # rows sent through the analysis (it stops reading at the decision)
    routed: dict[str, int]  # rows per side
    seed: int
    windows: tuple[WindowResult, ...]
    decision: CanaryDecision | None
    unknown_labels: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def state(self) -> str:
        """``passed``, ``stopped`` or ``running`` (undecided)."""
        return self.decision.verdict if self.decision else RUNNING

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        p = self.policy
        return {
            "model": self.pair.model,
            "candidate": self.pair.candidate.version,
            "stable": self.pair.stable.version,
            "stage": p.stage,
            "data": self.data,
            "data_sha256": self.data_sha256,
            "rows": self.rows,
            "routed": dict(self.routed),
            "seed": self.seed,
            "policy": {
                "percent": p.percent,
                "key": str(p.key) if p.key else None,
                "window": {k: v for k, v in p.window.__dict__.items() if v is not None},
                "windows": p.windows,
                "confidence": p.confidence,
                "rules": {n: getattr(p.rules, n) for n in p.rules.names},
                "min_labels": p.rules.min_labels,
            },
            "state": self.state,
            "windows": [w.to_dict() for w in self.windows],
            "decision": self.decision.to_dict() if self.decision else None,
            "unknown_labels": self.unknown_labels,
            "notes": list(self.notes),
        }


def replay(
    root: Path | str,
    candidate_ref: str,
    against_ref: str,
    data: Path | str,
    *,
    stage: str | None = None,
    percent: float | None = None,
    seed: int = 0,
    local: bool = False,
) -> ReplayResult:
    """Replay ``data`` through the canary of ``candidate_ref`` against ``against_ref``
    under the policy of ``stage`` (default: the stage ``against_ref`` names)."""
    with RegistryReader(root, local=local) as reader:
        pair = resolve_pair(reader, candidate_ref, against_ref)
        config = reader.config
        if config is None:
            raise ConfigError("gitml.yaml: not found (a canary replay needs its canary policy)")
        stage = stage or pair.stage
        if stage is None:
            raise UsageError(
                f"--stage: {against_ref} names a version, not a stage: say which stage's "
                "canary policy judges the candidate"
            )
        policy = config.canary(stage)
        if policy is None:
            raise ConfigError(
                f"gitml.yaml: canary.{stage}: no canary policy for stage {stage!r} "
                f"(policies: {', '.join(config.canaries) or 'none'})",
                [("gitml.yaml", f"canary.{stage}", "not set")],
            )
        baselines = pair_baselines(reader, pair, config.model(pair.model).baseline)
    if percent is not None:
        policy = policy.with_percent(percent)
    path = Path(data)
    batch_format(path, str(data))  # a missing or unknown file is refused before any load
    stable, candidate = (_load(root, pair.model, v, local) for v in (pair.stable, pair.candidate))
    check_signatures(pair, candidate.signature, stable.signature)
    sides = {
        "stable": VersionSide.from_baseline(
            pair.stable.version, baselines[0], stable.signature.threshold
        ),
        "candidate": VersionSide.from_baseline(
            pair.candidate.version, baselines[1], candidate.signature.threshold
        ),
    }
    rows = read_replay_rows(path, stable.signature)
    if policy.window.seconds is not None and rows.times is None:
        raise ConfigError(
            f"{data}: canary.{stage}.window is {policy.window.describe()}, but the rows carry "
            "no time (a `ts` per line or column)"
        )
    scored = {
        "stable": _score(stable, rows, str(data)),
        "candidate": _score(candidate, rows, str(data)),
    }
    return _run(pair, policy, sides, rows, scored, seed, str(data), _sha256(path))


def _run(
    pair: CanaryPair,
    policy: CanaryPolicy,
    sides: dict[str, VersionSide],
    rows: ReplayRows,
    scored: dict[str, tuple[np.ndarray, np.ndarray]],
    seed: int,
    data: str,
    digest: str,
) -> ReplayResult:
    router = Router(policy.percent, policy.key, seed)
    # The analysis opens its first window at the clock's first reading: the first row.
    now = [float(rows.times[0]) if rows.times is not None else 0.0]
    analysis = CanaryAnalysis(
        policy, sides["stable"], sides["candidate"], clock=lambda: now[0],
        on_decision=lambda _decision: router.stop(),
    )  # fmt: skip
    keys, notes = _keys(policy, rows)
    routed = {"stable": 0, "candidate": 0}
    versions = {name: side.version for name, side in sides.items()}
    sent = 0
    for i, prediction_id in enumerate(rows.ids):
        # A count window's clock counts rows: a window spans rows (started, ended].
        now[0] = float(rows.times[i]) if rows.times is not None else float(i + 1)
        side = router.route(keys[i])
        routed[side] += 1
        scores, failed = scored[side]
        analysis.observe(
            versions[side], scores[i : i + 1], None, failed[i : i + 1], [prediction_id]
        )
        if not math.isnan(rows.labels[i]):
            analysis.label(prediction_id, int(rows.labels[i]))
        sent += 1
        if analysis.state != RUNNING:
            break
    if rows.unknown_feedback:
        notes.append(f"{rows.unknown_feedback} feedback label(s) name ids the log does not hold")
    if analysis.state == RUNNING:
        notes.append(
            f"undecided: the data ended after {len(analysis.results)} judged window(s); "
            f"{policy.windows} healthy in a row are needed to pass"
        )
    return ReplayResult(
        pair, policy, data, digest, sent, routed, seed, analysis.results, analysis.decision,
        analysis.unknown_labels + rows.unknown_feedback, tuple(notes),
    )  # fmt: skip


def _keys(policy: CanaryPolicy, rows: ReplayRows) -> tuple[list[str | None], list[str]]:
    """Each row's stickiness key, and a note when the rows cannot carry the policy's key."""
    spec = policy.key
    notes = ["a replay times nothing: p99_latency is not evaluated"]
    if spec is None:
        return [None] * len(rows), notes
    if spec.source != "field" or spec.name not in rows.frame.columns:
        notes.append(f"the rows do not carry {spec}: they are split by seeded random draws")
        return [None] * len(rows), notes
    values = rows.frame[spec.name].tolist()
    return [
        None if isinstance(v, float) and math.isnan(v) else request_key(spec, None, {spec.name: v})
        for v in values
    ], notes


def _load(root: Path | str, model: str, info: VersionInfo, local: bool) -> LoadedModel:
    from gitml.serve.loaded import load_version

    return load_version(root, f"{model}@{info.version}", local=local)


def _score(loaded: LoadedModel, rows: ReplayRows, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Every row's score by ``loaded`` and whether scoring it failed (a model error or a
    score that is not a finite probability): a failing chunk is scored row by row."""
    from gitml.signature import feature_frame

    try:
        features = feature_frame(loaded.signature, rows.frame)
    except (ValueError, TypeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{name}: {detail}", [(name, "", detail)]) from None
    scores = np.full(len(rows), np.nan)
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = features.iloc[start : start + CHUNK_ROWS]
        try:
            scores[start : start + len(chunk)] = loaded.model.predict_proba(chunk)[:, 1]
        except Exception:  # a model that fails on some rows: find which, count them as errors
            for offset in range(len(chunk)):
                try:
                    row = chunk.iloc[offset : offset + 1]
                    scores[start + offset] = loaded.model.predict_proba(row)[0, 1]
                except Exception:  # the row stays NaN: an error of this version
                    continue
    failed = ~(np.isfinite(scores) & (scores >= 0) & (scores <= 1))
    return scores, failed


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
