"""Removing a model from a stage and deprecating versions or models, GTO-compatibly.

``gitml unassign credit --stage production`` writes ``credit#production!#N`` (the stage
falls back to the version assigned before, as in ``gto show``); ``gitml deprecate
credit@v0.2.0`` writes ``credit@v0.2.0!#N`` (deregistration); ``gitml deprecate credit``
writes ``credit@deprecated#N``. Each is an immutable tag, shown in ``gitml history``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml import __version__
from gitml.errors import RegistryError
from gitml.gitio.repo import GitRepo, TagWriter
from gitml.registry.model_ref import parse_ref
from gitml.registry.names import deprecate_tag, deregister_tag, unassign_tag
from gitml.registry.publish import sync_registry_tags
from gitml.registry.reader import RegistryReader
from gitml.registry.record import Kind, Record, one_line, record_message
from gitml.zero_config import load_config

if TYPE_CHECKING:
    from pathlib import Path


def _write(root: Path | str, tag: str, commit: str, message: str, push: bool, remote: str) -> str:
    writer = TagWriter(GitRepo(root))
    writer.create(tag, commit, message)
    if push:
        writer.push(remote, tag)
    return tag


def _sync(root: Path | str, push: bool, remote: str) -> None:
    config = load_config(root)
    if push:
        sync_registry_tags(TagWriter(GitRepo(root)), remote, set(config.models))


def unassign(
    root: Path | str,
    model: str,
    stage: str,
    *,
    reason: str = "",
    push: bool = False,
    remote: str = "origin",
) -> str:
    """Remove ``model``'s recorded version from ``stage``; returns the tag written."""
    _sync(root, push, remote)
    with RegistryReader(root, remote=remote) as reader:
        state = reader.model_state(model)
        if reader.config and stage not in reader.config.stages:
            raise RegistryError(
                f"unknown stage {stage!r} (stages: {', '.join(reader.config.stages)})"
            )
        holder = reader.stage_holder(state, stage)
        if holder is None:
            raise RegistryError(f"{model}@{stage}: no version is recorded in {stage}")
        tag = unassign_tag(model, stage, state.max_counter() + 1)
        md5 = reader.version_md5(holder)
    message = record_message(
        f"Remove {model} {holder.version} from {stage}",
        Record(
            kind=Kind.UNASSIGNMENT,
            model=model,
            version=holder.version,
            stage=stage,
            md5=md5,
            reason=one_line(reason) or None,
            writer=f"gitml {__version__}",
        ),
    )
    return _write(root, tag, holder.commit, message, push, remote)


def deprecate(
    root: Path | str, ref: str, *, reason: str = "", push: bool = False, remote: str = "origin"
) -> str:
    """Deregister ``MODEL@vX.Y.Z``, or deprecate the whole ``MODEL``; returns the tag."""
    parsed = parse_ref(ref)
    if parsed.stage:
        raise RegistryError(f"{ref}: deprecate takes MODEL or MODEL@vX.Y.Z, not a stage")
    _sync(root, push, remote)
    with RegistryReader(root, remote=remote) as reader:
        state = reader.model_state(parsed.model)
        counter = state.max_counter() + 1
        if parsed.version:
            version = state.versions.get(parsed.version)
            if version is None or not version.registered:
                raise RegistryError(f"{ref}: version not found")
            if not version.active:
                raise RegistryError(f"{ref}: already deregistered")
            tag = deregister_tag(parsed.model, parsed.version, counter)
            commit, subject = version.commit, f"Deregister {parsed.model} {parsed.version}"
            record = Record(
                kind=Kind.DEREGISTRATION,
                model=parsed.model,
                version=parsed.version,
                md5=reader.version_md5(version),
                reason=one_line(reason) or None,
                writer=f"gitml {__version__}",
            )
        else:
            if state.deprecated:
                raise RegistryError(f"{parsed.model}: already deprecated")
            latest = reader.latest(state)
            commit = latest.commit if latest else GitRepo(root).resolve("HEAD")
            tag = deprecate_tag(parsed.model, counter)
            subject = f"Deprecate {parsed.model}"
            record = Record(
                kind=Kind.DEPRECATION,
                model=parsed.model,
                reason=one_line(reason) or None,
                writer=f"gitml {__version__}",
            )
    message = record_message(subject, record)
    return _write(root, tag, commit, message, push, remote)
