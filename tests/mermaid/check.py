"""Parse Mermaid diagrams with Mermaid's own parser, from the tests.

The parser is the `mermaid` npm package run under plain Node, with jsdom standing in for the
browser (see validate.mjs). Its exact version is pinned in package.json / package-lock.json
next to this file and installed on first use with `npm ci` into tests/mermaid/node_modules
(git-ignored). Needs `node` (>= 20.19, what jsdom 29 requires) and `npm` on PATH; no browser.

    from tests.mermaid.check import parse_mermaid

    [result] = parse_mermaid(["xychart-beta\\n  line [0.1, 0.2]"])
    assert result["ok"], result.get("error")
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NotRequired, TypedDict

PACKAGE_DIR = Path(__file__).resolve().parent
NODE_MODULES = PACKAGE_DIR / "node_modules"
LOCKFILE = PACKAGE_DIR / "package-lock.json"
VALIDATOR = PACKAGE_DIR / "validate.mjs"
# Held (fcntl.flock) while installing, so parallel pytest-xdist workers install once.
INSTALL_LOCK = PACKAGE_DIR / ".install.lock"
# Written into node_modules after a successful `npm ci`: the sha256 of the package-lock.json it
# installed. `npm ci` deletes node_modules first, so a half-done install has no stamp.
INSTALL_STAMP = NODE_MODULES / ".gitml-install-stamp"

# The environment this module was imported in (at test collection, before per-test fixtures
# such as tests/conftest.py's `_isolate` point HOME at a temporary directory). npm runs with
# it so it finds the user's npm config (registry, CA file) and download cache.
_LAUNCH_ENV = {**os.environ, "npm_config_update_notifier": "false"}

MIN_NODE_VERSION = (20, 19)
NPM_CI_TIMEOUT_S = 900
VALIDATE_TIMEOUT_S = 300


class MermaidResult(TypedDict):
    """What Mermaid said about one diagram source."""

    ok: bool
    # The diagram type Mermaid detected ("xychart", "pie", "flowchart-v2", ...), when ok.
    type: NotRequired[str]
    # Mermaid's error message, when not ok.
    error: NotRequired[str]


def _lock_digest() -> str:
    return hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()


def _is_installed() -> bool:
    try:
        return INSTALL_STAMP.read_text(encoding="utf-8").strip() == _lock_digest()
    except FileNotFoundError:
        return False


def _require_tool(name: str) -> str:
    path = shutil.which(name, path=_LAUNCH_ENV.get("PATH"))
    if path is None:
        raise RuntimeError(
            f"`{name}` is not on PATH: the Mermaid diagram tests need Node.js "
            f">= {MIN_NODE_VERSION[0]}.{MIN_NODE_VERSION[1]} and npm "
            "(they parse charts with the `mermaid` npm package under Node)."
        )
    return path


def _check_node_version(node: str) -> None:
    proc = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    match = re.match(r"v(\d+)\.(\d+)", proc.stdout.strip())
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"could not read the Node.js version from {node!r}: {proc.stderr}")
    found = (int(match.group(1)), int(match.group(2)))
    if found < MIN_NODE_VERSION:
        raise RuntimeError(
            f"Node.js {proc.stdout.strip()} is too old for the Mermaid diagram tests: "
            f"jsdom needs >= {MIN_NODE_VERSION[0]}.{MIN_NODE_VERSION[1]}."
        )


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_installed() -> Path:
    """Install the pinned mermaid + jsdom into tests/mermaid/node_modules if needed.

    Runs `npm ci` when node_modules is missing or was installed from a different
    package-lock.json. Safe to call from several processes at once. Returns the package
    directory (tests/mermaid), which holds validate.mjs and node_modules.
    """
    node = _require_tool("node")
    npm = _require_tool("npm")
    if _is_installed():
        return PACKAGE_DIR
    _check_node_version(node)
    with INSTALL_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            # Another worker may have finished the install while this one waited.
            if not _is_installed():
                _npm_ci(npm)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return PACKAGE_DIR


def _npm_ci(npm: str) -> None:
    digest = _lock_digest()
    try:
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
            cwd=PACKAGE_DIR,
            env=_LAUNCH_ENV,
            capture_output=True,
            text=True,
            check=False,
            timeout=NPM_CI_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"`npm ci` in {PACKAGE_DIR} took longer than {NPM_CI_TIMEOUT_S} s"
        ) from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"`npm ci` in {PACKAGE_DIR} failed (exit {proc.returncode}); is the npm registry "
            f"reachable?\n{_tail(proc.stdout)}\n{_tail(proc.stderr)}"
        )
    INSTALL_STAMP.write_text(digest + "\n", encoding="utf-8")


def mermaid_version() -> str:
    """The version of the installed `mermaid` package that parse_mermaid uses."""
    ensure_installed()
    package = json.loads((NODE_MODULES / "mermaid" / "package.json").read_text(encoding="utf-8"))
    return str(package["version"])


def parse_mermaid(sources: list[str]) -> list[MermaidResult]:
    """Parse each diagram source with `mermaid.parse`, all in one Node process.

    Returns one result per source, in order. A source must be the diagram text alone, as
    inside a ```mermaid fence, not the fence itself. Raises RuntimeError if the validator
    itself fails (not for invalid diagrams: those come back with ok=False).
    """
    if not all(isinstance(source, str) for source in sources):
        raise TypeError("parse_mermaid takes a list of diagram source strings")
    if not sources:
        return []
    ensure_installed()
    node = _require_tool("node")
    try:
        proc = subprocess.run(
            [node, str(VALIDATOR)],
            cwd=PACKAGE_DIR,
            env=_LAUNCH_ENV,
            input=json.dumps(sources),
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
            timeout=VALIDATE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"validate.mjs took longer than {VALIDATE_TIMEOUT_S} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"validate.mjs crashed (exit {proc.returncode}):\n{_tail(proc.stderr)}")
    try:
        answer = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"validate.mjs printed no JSON:\n{_tail(proc.stdout)}") from exc
    results: list[MermaidResult] = answer["results"]
    if len(results) != len(sources):
        raise RuntimeError(
            f"validate.mjs returned {len(results)} results for {len(sources)} diagrams"
        )
    return results
