"""The approvals rule of a gate: enough of the right people approved. Pure: the reviews
and the team memberships are read elsewhere (:mod:`gitml.github.reviews`).

Who counts: with no ``from``, every approver (the author never approves their own pull
request); with ``from``, an approver named there by login (any case, as GitHub logins) or
an active member of a team named there as ``org/team``.

A request for changes blocks: when a reviewer who would count (named in ``from``, or
anyone when ``from`` is empty) has changes requested as their latest review, the rule
fails whatever the number of approvals. GitHub itself blocks merging on it under branch
protection, and a gate that passed while a counted reviewer objects would record an
approval nobody gave. Changes requested by someone outside ``from`` are named in the
result but do not block: the rule says whose judgement it takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.github.reviews import PullRequestReviews
    from gitml.policy.model import ApprovalRule


@dataclass(frozen=True)
class ApprovalResult:
    """The approvals rule applied to one pull request."""

    pull_request: int
    required: int
    eligible: tuple[str, ...]  # the rule's ``from`` (empty: anyone)
    counted: tuple[str, ...]  # approvers who count, sorted
    not_counted: tuple[str, ...]  # approvers outside ``from``, sorted
    blocking: tuple[str, ...]  # counted reviewers requesting changes, sorted
    other_requests: tuple[str, ...]  # reviewers outside ``from`` requesting changes

    @property
    def passed(self) -> bool:
        """Enough counted approvals and no counted reviewer requesting changes."""
        return len(self.counted) >= self.required and not self.blocking

    @property
    def limit(self) -> str:
        """What the rule asks: ``2 approvals from acme/ml-leads or alice``."""
        return rule_text(self.required, self.eligible)

    @property
    def observed(self) -> str:
        """What the pull request has: ``has 1 (bob); changes requested by carol``."""
        parts = [
            f"has {len(self.counted)}" + (f" ({', '.join(self.counted)})" if self.counted else "")
        ]
        if self.blocking:
            parts.append(f"changes requested by {', '.join(self.blocking)}")
        if self.not_counted:
            parts.append(f"not counted (not in from): {', '.join(self.not_counted)}")
        if self.other_requests:
            parts.append(f"changes requested outside from: {', '.join(self.other_requests)}")
        return "; ".join(parts)

    def explain(self) -> str:
        """One line: ``needs 2 approvals from ...; has 1 (bob); changes requested by carol``."""
        return f"needs {self.limit}; {self.observed}"


def rule_text(required: int, eligible: tuple[str, ...]) -> str:
    """``2 approvals from acme/ml-leads or alice`` (``from`` as written in gitml.yaml)."""
    noun = "approval" if required == 1 else "approvals"
    source = f" from {' or '.join(eligible)}" if eligible else ""
    return f"{required} {noun}{source}"


def teams_of(rule: ApprovalRule) -> tuple[str, ...]:
    """The ``org/team`` entries of the rule's ``from``."""
    return tuple(name for name in rule.reviewers if "/" in name)


def logins_of(rule: ApprovalRule) -> frozenset[str]:
    """The logins the rule's ``from`` names directly (casefolded)."""
    return frozenset(name.casefold() for name in rule.reviewers if "/" not in name)


def membership_questions(rule: ApprovalRule, reviews: PullRequestReviews) -> dict[str, set[str]]:
    """For each team of the rule, the reviewers whose membership decides something: those
    who approved or requested changes and are not named by login."""
    named = logins_of(rule)
    deciding = {
        login
        for login in (*reviews.approvers, *reviews.changes_requested)
        if login.casefold() not in named
    }
    return {team: set(deciding) for team in teams_of(rule)} if deciding else {}


def judge_approvals(
    rule: ApprovalRule,
    reviews: PullRequestReviews,
    members: Mapping[str, frozenset[str]],
) -> ApprovalResult:
    """``rule`` applied to ``reviews``; ``members``: team → its active members among the
    reviewers :func:`membership_questions` asks about."""
    named = logins_of(rule)
    teams = teams_of(rule)

    def counts(login: str) -> bool:
        if not rule.reviewers:
            return True
        return login.casefold() in named or any(login in members.get(t, ()) for t in teams)

    approvers = [a for a in reviews.approvers if a.casefold() != reviews.author.casefold()]
    requests = [r for r in reviews.changes_requested if r.casefold() != reviews.author.casefold()]
    return ApprovalResult(
        pull_request=reviews.number,
        required=rule.min,
        eligible=rule.reviewers,
        counted=tuple(a for a in approvers if counts(a)),
        not_counted=tuple(a for a in approvers if not counts(a)),
        blocking=tuple(r for r in requests if counts(r)),
        other_requests=tuple(r for r in requests if not counts(r)),
    )


@dataclass(frozen=True)
class NotEvaluated:
    """The approvals rule could not be judged here (no pull request given or found)."""

    reason: str  # e.g. "needs --pull-request"
