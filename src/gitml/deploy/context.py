"""The container build context of a stage: ``Dockerfile``, ``.dockerignore``, the hashed
``requirements.txt`` and ``model.md5``.

The image holds only what ``gitml serve`` needs: the locked runtime wheels (installed with
``--require-hashes``, so a changed byte on the index fails the build), the gitml wheel, and
the model directory ``gitml export`` writes, whose artefact is md5-checked during the build
against the registered md5 rendered here. Nothing is fetched from the DVC remote at build
time, so a build needs no credentials; ``gitml export`` did the verified fetch.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from gitml import __version__

if TYPE_CHECKING:
    from gitml.deploy.release import Release
    from gitml.deploy.settings import StageDeploy

# The unprivileged user the image runs as (a high id, clear of any the base image has).
SERVICE_UID = 10001
WORKDIR = "/srv/gitml"
MODEL_DIR = "model"
LOCK_RESOURCE = "serve-requirements.txt"
# How `gitml serve` is pointed at the exported model directory inside the image.
SERVE_FROM_EXPORT = "--from-export"


def wheel_name(version: str = __version__) -> str:
    """The file name of the gitml wheel the build context expects under ``dist/``."""
    return f"gitml-{version}-py3-none-any.whl"


def requirements_text() -> str:
    """The hashed runtime lock shipped with gitml (what ``gitml serve`` imports, pinned to
    the project's constraints, one ``--hash`` per wheel)."""
    return resources.files("gitml.deploy").joinpath(LOCK_RESOURCE).read_text(encoding="utf-8")


def serve_command(release: Release, settings: StageDeploy) -> list[str]:
    """The container's command: ``gitml serve`` on the exported model, on every interface."""
    return [
        "gitml", "serve", f"{release.model}@{release.version}",
        SERVE_FROM_EXPORT, f"{WORKDIR}/{MODEL_DIR}",
        "--host", "0.0.0.0", "--port", str(settings.port),
    ]  # fmt: skip


def md5_text(release: Release) -> str:
    """``model.md5``: the registered md5 of the artefact, in ``md5sum --check`` form."""
    return f"{release.md5}  {MODEL_DIR}/{release.artifact.rsplit('/', 1)[-1]}\n"


def _exec_form(words: list[str]) -> str:
    """A JSON array: exec form, so signals reach the server and no shell parses anything."""
    return json.dumps(words)


def dockerfile(release: Release, settings: StageDeploy) -> str:
    """The Dockerfile of ``release`` for ``settings``' stage."""
    wheel = wheel_name()
    health = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{settings.port}/health', timeout=2)"
    )
    return "\n".join(
        [
            f"# Rendered by `gitml deploy render {release.model}@{release.stage}`: "
            f"{release.tag}, artefact md5 {release.md5}.",
            "# Before `docker build`, put beside this file (see .dockerignore):",
            f"#   dist/{wheel}  the gitml wheel (python -m build --wheel)",
            f"#   {MODEL_DIR}/  gitml export {release.model}@{release.version} --format dir "
            f"-o {MODEL_DIR}",
            f"FROM {settings.base_image}",
            "",
            f'LABEL org.opencontainers.image.title="{release.name}" \\',
            f'      org.opencontainers.image.version="{release.version}" \\',
            f'      org.opencontainers.image.revision="{release.commit}" \\',
            f'      dev.gitml.model="{release.model}" \\',
            f'      dev.gitml.md5="{release.md5}" \\',
            f'      dev.gitml.registry-tag="{release.tag}"',
            "",
            "ENV PYTHONDONTWRITEBYTECODE=1 \\",
            "    PYTHONUNBUFFERED=1 \\",
            "    PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
            "    HOME=/tmp",
            "",
            f"RUN groupadd --system --gid {SERVICE_UID} gitml \\",
            f"    && useradd --system --no-log-init --uid {SERVICE_UID} --gid gitml "
            f"--home-dir {WORKDIR} --shell /usr/sbin/nologin gitml",
            f"WORKDIR {WORKDIR}",
            "",
            "# Exactly the locked wheels: every file must match its --hash, and nothing else",
            "# (no dependency resolution, no source builds) can enter the image.",
            "COPY requirements.txt ./",
            "RUN python -m pip install --no-cache-dir --require-hashes --no-deps "
            "--only-binary=:all: -r requirements.txt",
            f"COPY dist/{wheel} /tmp/wheels/",
            f"RUN python -m pip install --no-cache-dir --no-deps --no-index /tmp/wheels/{wheel} \\",
            "    && rm -r /tmp/wheels",
            "",
            "# The build fails unless the exported artefact is the registered one.",
            "COPY model.md5 ./",
            f"COPY {MODEL_DIR}/ {MODEL_DIR}/",
            "RUN md5sum --check --strict model.md5",
            "",
            f"USER {SERVICE_UID}:{SERVICE_UID}",
            f"EXPOSE {settings.port}",
            "HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \\",
            f"    CMD {_exec_form(['python', '-c', health])}",
            f"ENTRYPOINT {_exec_form(serve_command(release, settings))}",
            "",
        ]
    )


def dockerignore() -> str:
    """``.dockerignore``: everything out, then only the files the Dockerfile copies back in,
    so a stray secret or dataset beside the manifests never reaches the build."""
    return "\n".join(
        [
            "# Rendered by gitml deploy render: the build sees only what the Dockerfile copies.",
            "*",
            "!requirements.txt",
            "!model.md5",
            f"!{MODEL_DIR}/",
            f"!dist/{wheel_name()}",
            "",
        ]
    )


def build_context(release: Release, settings: StageDeploy) -> dict[str, str]:
    """Every file of the build context by name."""
    return {
        ".dockerignore": dockerignore(),
        "Dockerfile": dockerfile(release, settings),
        "model.md5": md5_text(release),
        "requirements.txt": requirements_text(),
    }
