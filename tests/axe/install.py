"""axe-core for the site's accessibility test, installed on first use.

The exact version is pinned in package.json / package-lock.json next to this file and
installed with ``npm ci`` into tests/axe/node_modules (git-ignored) the first time a test
asks for it; parallel pytest-xdist workers take a file lock so only one installs.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
LOCKFILE = PACKAGE_DIR / "package-lock.json"
AXE_JS = PACKAGE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# The sha256 of the package-lock.json `npm ci` installed; `npm ci` empties node_modules
# first, so a half-done install has no stamp.
STAMP = PACKAGE_DIR / "node_modules" / ".gitml-installed"
INSTALL_LOCK = PACKAGE_DIR / ".install.lock"
NPM_CI_TIMEOUT_S = 600


def _digest() -> str:
    return hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()


def _installed() -> bool:
    try:
        return STAMP.read_text(encoding="utf-8").strip() == _digest() and AXE_JS.is_file()
    except FileNotFoundError:
        return False


def axe_source() -> str:
    """The text of axe.min.js, installing the pinned axe-core first if needed."""
    if not _installed():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("the accessibility test needs npm on PATH to install axe-core")
        with INSTALL_LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not _installed():
                    env = {**os.environ, "npm_config_update_notifier": "false"}
                    subprocess.run(
                        [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                        cwd=PACKAGE_DIR,
                        env=env,
                        check=True,
                        capture_output=True,
                        timeout=NPM_CI_TIMEOUT_S,
                    )
                    STAMP.write_text(_digest() + "\n", encoding="utf-8")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    return AXE_JS.read_text(encoding="utf-8")
