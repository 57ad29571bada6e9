"""Running a project's own commands from ``gitml.yaml`` (``monitor.data``, ``retrain.adopt``).

A command is a template such as ``credit-example batch --rows 4000 -o {output}``. It is
split like a shell would (``shlex``) but never run by one: each placeholder is replaced
inside the already-split arguments, so a path with spaces or quotes stays one argument
and nothing is interpreted.
"""

from __future__ import annotations

import shlex
import subprocess  # noqa: TID251 - runs the commands a project configures, argv only, no shell
from typing import TYPE_CHECKING

from gitml.errors import ConfigError, GitmlError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


class HookFailed(GitmlError):
    """A configured command exited non-zero (its last stderr line is in the message)."""


def command_argv(template: str, values: Mapping[str, str], key: str) -> list[str]:
    """The argv of ``template`` with ``{name}`` placeholders filled from ``values``."""
    try:
        parts = shlex.split(template)
    except ValueError as exc:
        raise ConfigError(f"gitml.yaml: {key}: cannot split {template!r}: {exc}") from None
    if not parts:
        raise ConfigError(f"gitml.yaml: {key}: empty command")
    argv = []
    for part in parts:
        for name, value in values.items():
            part = part.replace("{" + name + "}", value)
        argv.append(part)
    return argv


def run_command(template: str, values: Mapping[str, str], cwd: Path, key: str) -> str:
    """Run the configured command ``key`` in ``cwd``; return its stdout, or raise HookFailed."""
    argv = command_argv(template, values, key)
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise HookFailed(f"gitml.yaml: {key}: cannot run {argv[0]!r}: {exc.strerror}") from None
    if result.returncode != 0:
        lines = (result.stderr.strip() or result.stdout.strip()).splitlines()
        detail = lines[-1] if lines else "no output"
        raise HookFailed(f"gitml.yaml: {key}: `{argv[0]}` exited {result.returncode}: {detail}")
    return result.stdout
