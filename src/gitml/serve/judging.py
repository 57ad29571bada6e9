"""The live canary: the stage's canary policy judging what the server answers.

``gitml serve credit@production --canary credit@staging`` judges the candidate by the
policy of the stage the stable reference names (``canary.production`` in gitml.yaml):
every answered request is observed by a :class:`~gitml.canary.analysis.CanaryAnalysis`
(in the server's delivery thread, never on a request's path), every label posted to
``/feedback`` reaches it, and a timer closes time windows when traffic is quiet. A failed
window stops the candidate at once (the server routes everything to the stable version);
enough healthy windows pass it. Either way the decision is written as a
``gitml.canary/MODEL/N`` tag on the candidate's commit when asked (``--record``), pushed
(``--push``), and with a token the promotion or rollback pull request is opened
(``--open-pr``), through the same code as ``gitml canary replay --record``.

In shadow mode the candidate's latency is its scoring time only, not a request's, so the
p99 latency rule is not judged there (no latency is observed for either side).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.canary.analysis import CanaryAnalysis
from gitml.canary.side import VersionSide
from gitml.canary.versions import pair_baselines, resolve_pair
from gitml.errors import GitmlError
from gitml.registry.reader import RegistryReader
from gitml.serve.deployment import Mode

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gitml.canary.analysis import CanaryDecision
    from gitml.canary.policy import CanaryPolicy
    from gitml.canary.versions import CanaryPair
    from gitml.serve.deployment import Role, Rollout
    from gitml.serve.loaded import LoadedModel

logger = logging.getLogger("gitml.serve")

POLL_SECONDS = 1.0  # how often a quiet server closes a time window that has run out


@dataclass(frozen=True)
class DecisionOptions:
    """What the server does with a decision besides stopping or keeping the candidate."""

    record: bool = False
    push: bool = False
    open_pr: bool = False
    remote: str = "origin"
    repository: str | None = None


def stage_policy(
    root: Path | str, stable_ref: str, candidate_ref: str, *, local: bool = False
) -> tuple[CanaryPair, CanaryPolicy | None, tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """The pair of versions, the canary policy of the stable reference's stage (None when
    it names a version or the stage has none) and both versions' baselines."""
    with RegistryReader(root, local=local) as reader:
        pair = resolve_pair(reader, candidate_ref, stable_ref)
        config = reader.config
        policy = config.canary(pair.stage) if config is not None and pair.stage else None
        path = config.model(pair.model).baseline if config is not None else None
        baselines = pair_baselines(reader, pair, path)
    return pair, policy, baselines


class LiveCanary:
    """A canary analysis fed by the server: observer, label sink and status for
    :func:`~gitml.serve.app.create_app`, and the decision's follow-up."""

    def __init__(
        self,
        root: Path | str,
        pair: CanaryPair,
        policy: CanaryPolicy,
        baselines: Sequence[Mapping[str, Any] | None],
        stable: LoadedModel,
        candidate: LoadedModel,
        rollout: Rollout,
        options: DecisionOptions,
    ) -> None:
        self.root, self.pair, self.policy, self.options = Path(root), pair, policy, options
        self._timed = rollout.mode is not Mode.SHADOW
        self.recorded: str | None = None  # the decision's tag, once written
        self.follow_up_error: str | None = None
        self.analysis = CanaryAnalysis(
            policy,
            VersionSide.from_baseline(
                pair.stable.version, baselines[0], stable.signature.threshold
            ),
            VersionSide.from_baseline(
                pair.candidate.version, baselines[1], candidate.signature.threshold
            ),
            on_decision=self._decided,
        )
        self._quiet = threading.Event()
        self._timer = threading.Thread(target=self._poll, name="gitml-canary-timer", daemon=True)
        if policy.window.seconds is not None:
            self._timer.start()

    def observe(
        self,
        role: Role,
        version: str | None,
        scores: Sequence[float],
        latency_s: float,
        error: str | None,
        ids: Sequence[str],
    ) -> str | None:
        """Take one answered (or shadow-scored) request; the stop reason once the
        candidate is stopped (the server then routes everything to the stable version)."""
        if version is None:
            return None
        self.analysis.observe(
            version,
            scores,
            latency_s if self._timed else None,
            error is not None,
            ids or None,
            records=max(len(scores), len(ids), 1),
        )
        decision = self.analysis.decision
        if decision is not None and decision.verdict == "stopped":
            return f"canary stopped: {decision.rule}"
        return None

    def label(self, prediction_id: str, label: int) -> None:
        """A label posted to ``/feedback`` for an earlier prediction."""
        self.analysis.label(prediction_id, label)

    def status(self) -> dict[str, Any]:
        """What ``/health`` shows under ``routing.analysis``."""
        decision = self.analysis.decision
        found: dict[str, Any] = {
            "stage": self.policy.stage,
            "state": self.analysis.state,
            "windows": len(self.analysis.results),
            "unknown_labels": self.analysis.unknown_labels,
        }
        results = self.analysis.results
        if results:
            # The latest judged window: each rule's figures for both versions, CBPE included.
            found["last_window"] = results[-1].to_dict()
        if decision is not None:
            found["decision"] = decision.to_dict()
            found["ready_to_promote"] = decision.verdict == "passed"
        if self.recorded:
            found["recorded"] = self.recorded
        if self.follow_up_error:
            found["follow_up_error"] = self.follow_up_error
        return found

    def close(self) -> None:
        """Stop the window timer."""
        self._quiet.set()

    def _poll(self) -> None:
        while not self._quiet.wait(POLL_SECONDS):
            self.analysis.poll()

    def _decided(self, decision: CanaryDecision) -> None:
        """Write the decision where it was asked to go; a failure is logged and shown in
        /health, never a reason to stop serving."""
        logger.info(
            "canary of %s %s against %s: %s (%s)",
            self.pair.model,
            self.pair.candidate.version,
            self.pair.stable.version,
            decision.verdict,
            decision.rule,
        )
        if not (self.options.record or self.options.open_pr):
            return
        from gitml.canary.record import record_decision

        try:
            recorded = record_decision(
                self.root,
                decision,
                self.pair,
                push=self.options.push or self.options.open_pr,
                remote=self.options.remote,
                open_pr=self.options.open_pr,
                repository=self.options.repository,
            )
        except GitmlError as exc:
            self.follow_up_error = str(exc)
            logger.error("recording the canary decision failed: %s", exc)
            return
        self.recorded = recorded.tag
