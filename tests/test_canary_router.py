"""The traffic split: its share is what the policy says, and a key always lands on the same side."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading

import pytest

from gitml.canary.policy import KeySpec
from gitml.canary.router import BUCKETS, Router, bucket_of, request_key

KEYS = 100_000


def _chi_squared_p(candidate: int, total: int, percent: float) -> float:
    """p-value of a candidate count against its expected share (1 degree of freedom)."""
    expected = total * percent / 100
    statistic = (candidate - expected) ** 2 / expected + (candidate - expected) ** 2 / (
        total - expected
    )
    return math.erfc(math.sqrt(statistic / 2))


@pytest.mark.parametrize("percent", [1, 10, 33.33, 50])
def test_the_keyed_share_is_the_policy_s(percent: float) -> None:
    router = Router(percent, KeySpec("header", "X-Request-Key"))
    candidate = sum(router.route(f"customer-{i}") == "candidate" for i in range(KEYS))
    p = _chi_squared_p(candidate, KEYS, percent)
    print(f"{percent}%: {candidate} of {KEYS} keys to the candidate, chi-squared p = {p:.3f}")
    assert p > 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_unkeyed_share_is_the_policy_s(seed: int) -> None:
    router = Router(10, None, seed)
    candidate = sum(router.route(None) == "candidate" for _ in range(KEYS))
    assert _chi_squared_p(candidate, KEYS, 10) > 0.01


def test_a_seed_fixes_the_unkeyed_draws() -> None:
    first, second, other = Router(10, None, 7), Router(10, None, 7), Router(10, None, 8)
    draws = [first.route(None) for _ in range(1000)]
    assert draws == [second.route(None) for _ in range(1000)]
    assert draws != [other.route(None) for _ in range(1000)]


def test_a_key_lands_on_the_same_side_in_every_router_and_seed() -> None:
    keys = [f"k{i}" for i in range(5000)]
    routes = [Router(10, None, seed=0).route(k) for k in keys]
    assert routes == [Router(10, None, seed=99).route(k) for k in keys]
    # Raising the percent only adds keys: the candidate's keys at 10% stay its at 20%.
    wider = [Router(20).route(k) for k in keys]
    assert all(w == "candidate" for r, w in zip(routes, wider, strict=True) if r == "candidate")


def test_a_key_lands_on_the_same_side_in_another_process() -> None:
    """The bucket is BLAKE2b of the key's bytes, not Python's salted hash."""
    keys = [f"user-{i}" for i in range(2000)] + ["ünïcode", "x" * 300]
    code = (
        "import json, sys\nfrom gitml.canary.router import bucket_of\n"
        "print(json.dumps([bucket_of(k) for k in json.load(sys.stdin)]))"
    )
    buckets = []
    for salt in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(keys),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": salt},
        )
        buckets.append(json.loads(out.stdout))
    assert buckets[0] == buckets[1] == [bucket_of(k) for k in keys]
    assert all(0 <= b < BUCKETS for b in buckets[0])
    # Pinned: another hash would move users between versions on upgrade.
    assert [bucket_of(k) for k in ("a", "b", "user-1")] == [3343, 9333, 3768]


def test_stop_sends_everything_to_the_stable_version_at_once() -> None:
    router = Router(50, None, 3)
    seen: list[str] = []
    barrier = threading.Barrier(4)

    def traffic() -> None:
        barrier.wait()
        for i in range(20_000):
            seen.append(router.route(f"t{i}" if i % 2 else None))

    threads = [threading.Thread(target=traffic) for _ in range(3)]
    for thread in threads:
        thread.start()
    barrier.wait()
    router.stop()
    for thread in threads:
        thread.join()
    assert router.stopped
    assert [router.route(f"k{i}") for i in range(1000)] == ["stable"] * 1000
    assert [router.route(None) for _ in range(1000)] == ["stable"] * 1000


def test_request_key_reads_a_header_in_any_case_or_a_field() -> None:
    header, field = KeySpec("header", "X-Request-Key"), KeySpec("field", "applicant_id")
    assert request_key(header, {"x-request-key": "abc"}) == "abc"
    assert request_key(header, {"Other": "abc"}) is None
    assert request_key(header, {"X-Request-Key": ""}) is None
    assert request_key(field, None, {"applicant_id": "A-1"}) == "A-1"
    assert request_key(field, None, {"applicant_id": 42}) == "42"
    assert request_key(field, None, {"applicant_id": None}) is None
    assert request_key(field, {"applicant_id": "header, not field"}, {}) is None
    assert request_key(None, {"X-Request-Key": "abc"}) is None
    router = Router(10, field)
    assert router.key_of(record={"applicant_id": "A-1"}) == "A-1"


def test_a_percent_outside_0_100_is_refused() -> None:
    with pytest.raises(ValueError, match="percent must be in"):
        Router(101)
