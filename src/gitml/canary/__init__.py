"""Canary analysis: a candidate version judged against the stable one on live traffic.

The parts, lowest first: :mod:`~gitml.canary.policy` (a stage's canary policy from
``gitml.yaml``), :mod:`~gitml.canary.router` (the deterministic traffic split),
:mod:`~gitml.canary.window` (what each version answered in one window),
:mod:`~gitml.canary.evidence` (when a difference is more than chance),
:mod:`~gitml.canary.judge` (a closed window against the policy's rules) and
:mod:`~gitml.canary.analysis` (windows in a row to a decision). These are pure: no git,
no DVC, no HTTP. :mod:`~gitml.canary.versions`, :mod:`~gitml.canary.record` and
:mod:`~gitml.canary.replay` connect them to the registry and to recorded traffic.

Nothing heavy is imported here: ``gitml.config`` reads the policy through this package.
"""
