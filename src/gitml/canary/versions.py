"""The two versions a canary compares, resolved from the registry, and why some pairs cannot be.

A canary needs two different registered versions of one model that take the same
requests: the same features, by name and type, in the same order, and the same target.
A candidate that is the stable version (by version or by artefact bytes) would judge
nothing; one with another signature would be sent requests it cannot take, or take
them differently. Both are refused with one line before any traffic is split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.errors import RegistryError, UsageError
from gitml.registry.model_ref import parse_ref

if TYPE_CHECKING:
    from gitml.registry.reader import RegistryReader
    from gitml.registry.records import VersionInfo
    from gitml.signature import Signature


@dataclass(frozen=True)
class CanaryPair:
    """The candidate and the stable version of ``model``, as the references resolved;
    ``stage`` is the stage the stable reference named (``credit@production``), if any."""

    model: str
    candidate: VersionInfo
    stable: VersionInfo
    stage: str | None


def pair_baselines(
    reader: RegistryReader, pair: CanaryPair, path: str | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The (stable, candidate) baselines at ``path`` (gitml.yaml's ``baseline``), each as
    its own version committed it; None for a version without one."""
    from gitml.monitor.baseline_file import read_baseline

    def read(info: VersionInfo) -> dict[str, Any] | None:
        text = reader.read_blob(info.commit, path) if path else None
        return read_baseline(text.decode("utf-8"), f"{path} at {info.version}") if text else None

    return read(pair.stable), read(pair.candidate)


def resolve_pair(reader: RegistryReader, candidate_ref: str, stable_ref: str) -> CanaryPair:
    """Resolve ``credit@staging`` (or ``credit@v0.2.0``) against ``credit@production``.

    UsageError when they name different models or the same version (or the same bytes);
    RegistryError when either is unknown or has no artefact md5 in git.
    """
    candidate, stable = parse_ref(candidate_ref), parse_ref(stable_ref)
    if candidate.model != stable.model:
        raise UsageError(
            f"{candidate_ref} and {stable_ref} are different models: a canary compares two "
            "versions of one model"
        )
    c, s = reader.resolve(candidate), reader.resolve(stable)
    for ref, info in ((candidate_ref, c), (stable_ref, s)):
        if info.md5 is None:
            raise RegistryError(
                f"{ref}: git records no artefact md5 for {info.model}@{info.version} at "
                f"{info.commit[:12]}"
            )
    if c.version == s.version or c.md5 == s.md5:
        same = "the same version" if c.version == s.version else "the same artefact"
        raise UsageError(
            f"{candidate_ref} is {c.model}@{c.version}, {same} as {stable_ref} "
            f"({s.model}@{s.version}): a canary needs a different candidate"
        )
    return CanaryPair(candidate.model, c, s, stable.stage)


def signature_difference(candidate: Signature, stable: Signature) -> str | None:
    """How the candidate's inputs differ from the stable version's, or None when it takes
    the same requests (feature names, types and order, and the target)."""
    ours = [(f.name, f.type) for f in candidate.features]
    theirs = [(f.name, f.type) for f in stable.features]
    if candidate.target != stable.target:
        return f"target {candidate.target!r} instead of {stable.target!r}"
    added = [name for name, _ in ours if name not in dict(theirs)]
    missing = [name for name, _ in theirs if name not in dict(ours)]
    if added or missing:
        parts = []
        if added:
            parts.append(f"adds {', '.join(map(repr, added))}")
        if missing:
            parts.append(f"lacks {', '.join(map(repr, missing))}")
        return "features: " + "; ".join(parts)
    for (name, kind), (_, other) in zip(sorted(ours), sorted(theirs), strict=True):
        if kind != other:
            return f"feature {name!r} is {kind}, not {other}"
    if ours != theirs:
        return "the same features in another order"
    return None


def check_signatures(pair: CanaryPair, candidate: Signature, stable: Signature) -> None:
    """RegistryError when the candidate takes other requests than the stable version."""
    difference = signature_difference(candidate, stable)
    if difference is not None:
        raise RegistryError(
            f"{pair.model}@{pair.candidate.version} takes other requests than "
            f"{pair.model}@{pair.stable.version} ({difference}): a canary needs the same "
            "signature"
        )
