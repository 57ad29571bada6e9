"""Promotion checks bytes, not presence (issue 16, finding 6): an artefact changed in the
DVC remote is refused by ``promote --on-push`` and found by ``verify --deep``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gitml import api
from gitml.errors import EXIT_CODES
from tests.helpers import gitml
from tests.registry_flow import model_md5

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow


def _remote_object(tmp_path: Path, md5: str) -> Path:
    """The stored object in the fixtures' DVC remote (``tmp_path/dvc-remote``)."""
    return tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]


def test_a_tampered_artefact_in_the_remote_is_not_promoted(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    md5 = model_md5(repo)
    stored = _remote_object(tmp_path, md5)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle of the archive
    stored.chmod(0o644)
    stored.write_bytes(bytes(data))

    pushed = gitml(repo, "promote", "--on-push", "production", "--json", check=False)
    assert pushed.returncode == EXIT_CODES["verification_failed"]
    assert f"artefact {md5}: the remote's copy has md5" in pushed.stdout
    assert "changed or corrupt in the remote" in pushed.stdout
    (row,) = api.registry(root=repo)
    assert next(s.version for s in row.stages if s.stage == "production") is None

    shallow = gitml(repo, "verify", check=False)
    assert shallow.returncode == 0  # present, and says it only checked presence
    assert "--deep" in shallow.stdout
    deep = gitml(repo, "verify", "--deep", check=False)
    assert deep.returncode == EXIT_CODES["verification_failed"]
    assert f"credit@v0.1.0: artefact {md5}: the remote's copy has md5" in deep.stdout


def test_verify_deep_passes_on_a_sound_remote(origin_repo: Path) -> None:
    api.register(root=origin_repo, push=True)
    assert gitml(origin_repo, "verify", "--deep").returncode == 0
