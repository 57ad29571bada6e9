"""The wheel carries what `gitml init` and `gitml demo` need (templates, schemas, example)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from typing import TYPE_CHECKING

import pytest

from tests.helpers import PROJECT_ROOT

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.slow
def test_wheel_ships_templates_schemas_and_the_example(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(PROJECT_ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = tmp_path.glob("gitml-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "gitml/templates/example/dvc.yaml.in",
        "gitml/templates/example/gitml.yaml",
        "gitml/templates/example/params.yaml",
        "gitml/templates/example/data.schema.yaml",
        "gitml/templates/example/dvcignore",
        "gitml/templates/render.py",
        "gitml/templates/workflows/propose.yml",
        "gitml/templates/workflows/register.yml",
        "gitml/schemas/gitml.schema.json",
        "gitml/schemas/report.schema.json",
        "credit_example/params.schema.json",
        "credit_example/generate.py",
    }
    assert expected <= names, sorted(expected - names)
    assert not any(name.startswith("tests/") for name in names)
