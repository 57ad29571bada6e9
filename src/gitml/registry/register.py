"""``gitml register``: tag every model artefact on ``main`` that has no version yet.

Works from state, not from the last diff: CI may skip pushes, so every artefact hash that
reached the first-parent line of the branch since the model's newest registration gets
a version, oldest first. A hash that is already registered (a revert) is the same
version. When two runs race, the tag that reached the remote first wins; the loser
re-reads it: same hash means done, a different hash takes the next number.

Each registration records its lineage (:mod:`gitml.registry.lineage`: data inputs, params
digest and stage digests, from ``dvc.lock`` at the registered commit) and its oversight
(:func:`read_oversight`: the pull request's author and approvers, the CI run). A part the
record cannot hold, or GitHub cannot answer, is left out with a warning: the version is
registered all the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gitml import __version__
from gitml.documents import parse_text
from gitml.dvcio.lock import DVC_LOCK
from gitml.errors import ConfigError, GitmlError, RegistryError, VerificationError
from gitml.gitio.repo import GitRepo, TagPushRejected, TagWriter
from gitml.registry.names import FIRST_VERSION, SemVer, version_tag
from gitml.registry.publish import sync_registry_tags
from gitml.registry.reader import RegistryReader
from gitml.registry.record import (
    MAX_LINEAGE,
    MAX_TEXT,
    Kind,
    Record,
    RecordError,
    one_line,
    record_message,
)
from gitml.report.values import flatten
from gitml.zero_config import load_config

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.config import ModelConfig
    from gitml.gitio.repo import CommitInfo
    from gitml.registry.lineage import Lineage

MAX_RACE_RETRIES = 5
HEADLINE_METRICS = 6
_PR_MERGE = re.compile(r"^Merge pull request #(\d+)\b")
_PR_SQUASH = re.compile(r"\(#(\d+)\)\s*$")


@dataclass(frozen=True)
class Registration:
    """A version that ``register`` created (or found already created by a racing run)."""

    model: str
    version: str
    md5: str
    commit: str
    tag: str
    pushed: bool
    created: bool  # False when a racing run had registered the same artefact first
    warnings: tuple[str, ...] = ()  # what the record leaves out, and why


@dataclass(frozen=True)
class Candidate:
    """An artefact hash on the branch that has no version yet, and where it first appears."""

    model: str
    md5: str
    commit: CommitInfo


def pull_request_number(subject: str) -> int | None:
    """The PR number of a merge commit or a squash-merge subject (``... (#12)``)."""
    match = _PR_MERGE.match(subject) or _PR_SQUASH.search(subject)
    return int(match.group(1)) if match else None


def find_candidates(reader: RegistryReader, ref: str) -> list[Candidate]:
    """Unregistered artefact hashes on ``ref``'s first-parent line, oldest first, per model.

    A model with versions is walked back to its newest registered commit; a model with
    none yet registers only what the tip holds (adopting gitml does not register history).
    """
    assert reader.config is not None
    repo = GitRepo(reader.root)
    history = repo.first_parent_log(ref, DVC_LOCK)
    candidates: list[Candidate] = []
    for name, model in reader.config.models.items():
        state = reader.model_state(name)
        registered_commits = {v.commit for v in state.versions.values() if v.registered}
        known = {reader.version_md5(v) for v in state.versions.values() if v.registered}
        found: dict[str, CommitInfo] = {}
        for commit in history:
            if commit.sha in registered_commits:
                break
            md5 = reader.lock_md5s(commit.sha).get(model.artifact)
            if md5 and md5 not in known:
                found[md5] = commit  # overwritten by older commits: the introducing one wins
            if not registered_commits:
                break  # first registration: the tip only
        ordered = sorted(found.items(), key=lambda item: history.index(item[1]), reverse=True)
        candidates += [Candidate(name, md5, commit) for md5, commit in ordered]
    return candidates


def headline_metrics(reader: RegistryReader, model: ModelConfig, commit: str) -> dict[str, float]:
    """The first numeric metrics (by declared direction, else by name) at ``commit``.

    Only finite numbers are kept: a metrics file is the candidate's data, and a string
    value has no place in a record.
    """
    values: dict[str, float] = {}
    for file in model.metrics:
        data = reader.read_blob(commit, file)
        if data is not None:
            document = parse_text(data.decode("utf-8", "replace"), f"{file} at {commit[:12]}")
            if isinstance(document, dict):
                for key, value in flatten(document).items():
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        continue
                    if math.isfinite(value):
                        values[one_line(key)] = value
    ordered = [k for k in model.directions if k in values] or sorted(values)
    return {key: values[key] for key in ordered[:HEADLINE_METRICS] if key}


def next_version(reader: RegistryReader, model: str, bump: str) -> SemVer:
    """One ``bump`` past the greatest version ever registered (deregistered ones too)."""
    versions = [v.semver for v in reader.model_state(model).versions.values() if v.registered]
    numbered = [v for v in versions if v is not None]
    return max(numbered).bump(bump) if numbered else FIRST_VERSION


def register(
    root: Path | str = ".",
    ref: str = "main",
    bump: str = "minor",
    push: bool = False,
    remote: str = "origin",
    verify_remote: bool = True,
) -> list[Registration]:
    """Register every unversioned artefact on ``ref``; see the module docstring."""
    if bump not in ("major", "minor", "patch"):
        raise RegistryError(f"--bump {bump!r}: expected major, minor or patch")
    repo = GitRepo(root)
    repo.complete_history(remote, "registering")
    writer = TagWriter(repo)
    config = load_config(root)  # a write command validates the config fully
    if push:
        if not writer.has_remote(remote):
            raise RegistryError(f"--push: no git remote named {remote!r}")
        # Fetch tags, and push any a previous run created but failed to push.
        sync_registry_tags(writer, remote, set(config.models))
    with RegistryReader(root, remote=remote) as reader:
        candidates = find_candidates(reader, ref)
    if verify_remote and candidates:
        from gitml.dvcio.remote import missing_from_remote

        missing = missing_from_remote(root, sorted({c.md5 for c in candidates}))
        if missing:
            names = ", ".join(f"{c.model} {c.md5}" for c in candidates if c.md5 in missing)
            raise VerificationError(
                f"not in the DVC remote: {names}; run `dvc push` first (the version would "
                "be unfetchable), or pass --no-verify-remote"
            )
    return [_register_one(root, writer, c, bump, push, remote) for c in candidates]


@dataclass(frozen=True)
class Oversight:
    """Who proposed and approved the merge, and the CI run: what GitHub and the runner's
    environment say, or nothing (then ``warnings`` may say why)."""

    author: str | None = None
    approvers: tuple[str, ...] = ()
    run_url: str | None = None
    warnings: tuple[str, ...] = ()


def read_oversight(pull_request: int | None, commit: str) -> Oversight:
    """The pull request's author and approvers (GitHub's reviews at merge time, when
    ``GITHUB_TOKEN`` and ``GITHUB_REPOSITORY`` are set) and the CI run's URL.

    Only a pull request that merged ``commit`` (its merge or squash commit, or its head
    when fast-forwarded) lends its reviews: a pushed commit whose subject merely names an
    approved pull request borrows nothing.

    A registry record is a fact: when GitHub cannot be read, the record names no author
    and no approvers rather than a guess, and the warning says so. So a record with an
    ``author`` lists every approver (none approved when it lists none); a record without
    one says nothing about approvals.
    """
    from gitml.github.reviews import reviews_from_environment
    from gitml.github.run_url import run_url_from_environment

    warnings: list[str] = []
    author = None
    approvers: tuple[str, ...] = ()
    try:
        reviews = reviews_from_environment(pull_request)
    except GitmlError as error:
        warnings.append(
            f"pull request #{pull_request}: reviews not read ({error}); the record names no "
            "author or approvers"
        )
    else:
        if reviews is not None and commit not in (reviews.head_sha, reviews.merge_commit_sha):
            warnings.append(
                f"pull request #{pull_request} did not merge {commit[:12]}: its author and "
                "approvers are not this version's, and are not recorded"
            )
        elif reviews is not None:
            author, approvers = reviews.author, reviews.approvers
    try:
        run_url = run_url_from_environment()
    except GitmlError as error:
        run_url = None
        warnings.append(f"the CI run's URL not recorded: {error}")
    return Oversight(author, approvers, run_url, tuple(warnings))


def lineage_fields(lineage: Lineage) -> tuple[dict[str, Any], list[str]]:
    """The record fields of ``lineage``, leaving out (with a warning) any that a record
    cannot hold: more than MAX_LINEAGE entries, or a path no record line may carry."""
    fields: dict[str, Any] = {"params_digest": lineage.params_digest}
    warnings = []
    for key, values in (("inputs", lineage.inputs), ("stages", lineage.stages)):
        bad = [name for name in values if one_line(name) != name or len(name) > MAX_TEXT]
        if len(values) > MAX_LINEAGE:
            warnings.append(
                f"{len(values)} {key} is more than a record holds ({MAX_LINEAGE}): not recorded"
            )
        elif bad:
            warnings.append(f"{key}: {bad[0]!r} cannot be written in a record: not recorded")
        else:
            fields[key] = MappingProxyType(dict(values))
    return fields, warnings


def _message(
    subject: str, record: Record, oversight: Oversight, lineage: dict[str, Any]
) -> tuple[str, list[str]]:
    """The tag message with the lineage and oversight the record can hold: a value gitml
    cannot write (a run URL of an odd shape) costs that part of the record, never the
    registration."""
    full = replace(
        record,
        author=oversight.author,
        approvers=oversight.approvers,
        run_url=oversight.run_url,
        **lineage,
    )
    try:
        return record_message(subject, full), []
    except RecordError:
        pass
    warning = "the pull request's author, approvers and the run URL"
    try:
        return record_message(subject, replace(record, **lineage)), [
            f"{warning} do not fit a record: not recorded"
        ]
    except RecordError:
        return record_message(subject, record), [
            f"{warning}, and the lineage, do not fit a record: not recorded"
        ]


def _lineage(
    reader: RegistryReader, commit: str, artifact: str, warnings: list[str]
) -> dict[str, Any]:
    """The record fields of the artefact's lineage at ``commit``; what cannot be recorded
    is added to ``warnings``."""
    from gitml.registry.lineage_read import derive_lineage

    try:
        derived = derive_lineage(reader, commit, artifact).lineage
    except ConfigError as error:  # a lock or .dvc file gitml cannot read as lineage
        warnings.append(f"lineage not recorded: {error}")
        return {}
    fields, dropped = lineage_fields(derived)
    warnings += dropped
    return fields


def _register_one(
    root: Path | str, writer: TagWriter, candidate: Candidate, bump: str, push: bool, remote: str
) -> Registration:
    commit = candidate.commit
    pull_request = pull_request_number(commit.subject)
    # Read once per artefact, not per tag race: GitHub's answer and the lock do not change.
    oversight = read_oversight(pull_request, commit.sha)
    lineage: dict[str, Any] | None = None  # derived with the first reader, kept on races
    warnings = list(oversight.warnings)
    for _ in range(MAX_RACE_RETRIES):
        with RegistryReader(root, remote=remote) as reader:
            assert reader.config is not None
            model = reader.config.models[candidate.model]
            if lineage is None:
                lineage = _lineage(reader, commit.sha, model.artifact, warnings)
            existing = reader.version_for_md5(reader.model_state(candidate.model), candidate.md5)
            if existing is not None:  # a racing run registered this artefact first
                return Registration(
                    candidate.model,
                    existing.version,
                    candidate.md5,
                    existing.commit,
                    version_tag(candidate.model, existing.version),
                    push,
                    created=False,
                )
            version = next_version(reader, candidate.model, bump)
            merger = commit.committer if len(commit.parents) > 1 else commit.author
            message, dropped = _message(
                f"Register {candidate.model} {version}",
                Record(
                    kind=Kind.REGISTRATION,
                    model=candidate.model,
                    version=str(version),
                    md5=candidate.md5,
                    artifact=model.artifact,
                    commit=commit.sha,
                    pull_request=pull_request,
                    merged_by=one_line(merger) or None,
                    metrics=headline_metrics(reader, model, commit.sha),
                    writer=f"gitml {__version__}",
                ),
                oversight,
                lineage,
            )
        done = tuple(f"{candidate.model} {version}: {w}" for w in (*warnings, *dropped))
        tag = version_tag(candidate.model, version)
        writer.create(tag, commit.sha, message)
        if not push:
            return Registration(
                candidate.model, str(version), candidate.md5, commit.sha, tag, False, True, done
            )
        try:
            writer.push(remote, tag)
        except TagPushRejected:
            writer.delete_local(tag)
            writer.fetch_tag(remote, tag)  # re-read the winner's tag, then decide again
            continue
        return Registration(
            candidate.model, str(version), candidate.md5, commit.sha, tag, True, True, done
        )
    raise RegistryError(
        f"{candidate.model}: gave up after {MAX_RACE_RETRIES} tag races; run `gitml register` again"
    )
