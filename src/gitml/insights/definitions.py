"""The metrics ``gitml insights`` reports: key, name and one-line definition each.

``--help``, the README table and ``--explain`` all read this one list.
"""

from __future__ import annotations

from types import MappingProxyType

# Drift checks count only where they are recorded (observation tags); otherwise they
# live in CI logs, which nothing here can read.
NO_DRIFT_RECORD = "no data: no drift check is recorded (run gitml drift --record)"

METRICS = MappingProxyType(
    {
        "deployment-frequency": (
            "deployment frequency",
            "production promotions (a new version taking production; rollbacks not "
            "counted) per week of the window",
        ),
        "lead-time": (
            "lead time",
            "first commit of the proposing PR -> registration -> production, per version "
            "promoted in the window; median and p90 (nearest rank)",
        ),
        "change-failure-rate": (
            "change-failure rate",
            "share of the window's production promotions rolled back or unassigned within "
            "--failure-window days",
        ),
        "time-to-restore": (
            "time to restore",
            "for each failed promotion, its promotion -> the rollback or unassignment "
            "recorded; median and p90",
        ),
        "production-tenure": (
            "production tenure",
            "per version, the time it held production inside the window (to the window's "
            "end if it still holds)",
        ),
        "drift-alerts": (
            "drift alerts per production week",
            "drift checks with verdict drift, recorded (`gitml drift --record`) on a version "
            "while it held production, per week a version of a model with recorded checks "
            "held production in the window",
        ),
        "prs-per-author": (
            "PRs per author per month",
            "distinct pull requests whose merge registered a version, per recorded author "
            "and calendar month (UTC) of registration",
        ),
        "proposal-share": (
            "proposals reaching production",
            "share of the versions registered in the window that held production by its end",
        ),
        "retrain-latency": (
            "retraining latency",
            "`gitml retrain` commit -> its merge -> the version -> production, per "
            "retrained version promoted in the window, and from the latest recorded drift "
            "alert on the model before the retrain commit; median",
        ),
    }
)
