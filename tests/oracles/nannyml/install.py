"""NannyML in a virtualenv of its own, created on first use, and its CBPE run as a script.

NannyML is a development-only oracle with heavy pins of its own (Python < 3.13, FLAML,
LightGBM, plotly, statsmodels...) that would clash with this project's virtualenv, so it
lives in ``tests/oracles/nannyml/.venv`` (git-ignored), installed from
``requirements.txt`` (exact versions and hashes, ``--no-deps --require-hashes``) the first
time a test or a benchmark asks for it. Parallel pytest-xdist workers take a file lock so
only one installs; a stamp (the sha256 of the requirements and the Python version) marks
a finished install, so a changed requirements file or an interrupted install starts over.

:func:`run_cbpe` runs ``estimate.py`` in that virtualenv on CSV files and returns its
JSON answer. NannyML's usage analytics are turned off (``NML_DISABLE_USAGE_LOGGING``) and
it runs in a scratch directory (it loads a ``.env`` file from its working directory).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ORACLE_DIR = Path(__file__).resolve().parent
REQUIREMENTS = ORACLE_DIR / "requirements.txt"
SCRIPT = ORACLE_DIR / "estimate.py"
VENV = ORACLE_DIR / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".gitml-installed"
INSTALL_LOCK = ORACLE_DIR / ".install.lock"
# An install downloads 165 MB of wheels and unpacks 890 MB: about 35 s on this project's
# 2-core machines (another 10 s to compile what the first run imports).
INSTALL_TIMEOUT_S = 1200
RUN_TIMEOUT_S = 600
# NannyML 0.13.1 declares python < 3.13; the wheels pinned are the resolving Python's.
SUPPORTED = ((3, 11), (3, 12))


def _base_python() -> str:
    """An interpreter NannyML supports: this one if it is, else one on PATH."""
    if sys.version_info[:2] in SUPPORTED:
        return sys.executable
    for major, minor in SUPPORTED:
        found = shutil.which(f"python{major}.{minor}")
        if found:
            return found
    raise RuntimeError("the NannyML oracle needs Python 3.11 or 3.12 (NannyML 0.13.1: < 3.13)")


def _digest(python: str) -> str:
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], check=True, capture_output=True
    ).stdout
    return hashlib.sha256(REQUIREMENTS.read_bytes() + version).hexdigest()


def _installed(digest: str) -> bool:
    try:
        return STAMP.read_text(encoding="utf-8").strip() == digest and PYTHON.is_file()
    except FileNotFoundError:
        return False


def oracle_python() -> Path:
    """The oracle virtualenv's interpreter, installing it first if needed."""
    base = _base_python()
    digest = _digest(base)
    if _installed(digest):
        return PYTHON
    with INSTALL_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _installed(digest):
                install(base, digest)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return PYTHON


def install(base: str, digest: str) -> float:
    """Create the virtualenv afresh from ``base`` and install the pins; the seconds taken."""
    started = time.perf_counter()
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([base, "-m", "venv", str(VENV)], check=True, capture_output=True)
    command = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--require-hashes", "--only-binary=:all:", "-r", str(REQUIREMENTS)]
    # No byte-compiling at install: it took 100 of 135 s (plotly alone ships thousands of
    # modules); the oracle compiles the few hundred it imports on its first run instead.
    command += ["--no-compile"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"installing the NannyML oracle failed:\n{result.stderr[-4000:]}")
    STAMP.write_text(digest + "\n", encoding="utf-8")
    return time.perf_counter() - started


def run_cbpe(job: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run estimate.py on ``job`` (its shape: estimate.py's docstring) in ``workdir``."""
    python = oracle_python()
    workdir.mkdir(parents=True, exist_ok=True)
    job_file = workdir / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "NML_DISABLE_USAGE_LOGGING": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
    }
    result = subprocess.run(
        [str(python), str(SCRIPT), str(job_file)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the NannyML oracle failed:\n{result.stderr[-4000:]}")
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


if __name__ == "__main__":
    # `python tests/oracles/nannyml/install.py`: install (if needed) and say where.
    print(oracle_python())
