"""Adopting gitml in a project installed from `src/requirements.txt` and `pyproject.toml`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.adoption.adopt import adopt, gitml_config, leaves

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def test_init_lists_the_nested_install_files(nested_repo: Path) -> None:
    answer = adopt(nested_repo)
    assert answer["models"] == ["forecaster"]
    config = gitml_config(nested_repo)
    # The install section issue F adds (`install:`, or `ci:`); its inner shape is F's.
    section = config.get("install", config.get("ci"))
    assert section, f"gitml.yaml lists no install files: {sorted(config)}"
    texts = leaves(section)
    assert "src/requirements.txt" in texts
    assert "requirements.txt" not in texts  # no root file that does not exist
    assert any(text == "pyproject.toml" or text.startswith(".") for text in texts), texts
    assert any("train" in text for text in texts), f"the `train` extra is missing: {texts}"
