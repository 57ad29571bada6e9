"""The README's "Look and ask" examples are what ``docs/examples.py`` generates today.

The script builds its scripted registry with gitml's own API and runs the real commands;
``--check`` compares every generated block with the README's and names the stale one.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
from typing import TYPE_CHECKING

import pytest

from tests.helpers import PROJECT_ROOT, run

if TYPE_CHECKING:
    from types import ModuleType

SCRIPT = PROJECT_ROOT / "docs" / "examples.py"
README = PROJECT_ROOT / "README.md"
SCREENSHOT = PROJECT_ROOT / "docs" / "site-model.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_examples", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_examples_are_current() -> None:
    result = run(sys.executable, SCRIPT, "--check", cwd=PROJECT_ROOT, check=False)
    assert result.returncode == 0, result.stderr + result.stdout


def test_screenshot_is_a_png_of_a_page_and_the_readme_shows_it() -> None:
    data = SCREENSHOT.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 800 <= width <= 2000, width
    assert 600 <= height <= 6000, height
    assert 20_000 < len(data) < 2_000_000, len(data)
    site_block = README.read_text(encoding="utf-8").split("<!-- examples:site -->", 1)[1]
    site_block = site_block.split("<!-- /examples:site -->", 1)[0]
    assert "](docs/site-model.png)" in site_block


def test_check_names_the_stale_block_and_a_missing_one() -> None:
    examples = _examples()
    readme = "intro\n<!-- examples:a -->\nold\n<!-- /examples:a -->\n<!-- examples:b -->\n"
    readme += "same\n<!-- /examples:b -->\nend\n"
    text, changed = examples.rewrite(readme, {"a": "new\n", "b": "same\n"})
    assert changed == {"a": "old\n"}
    assert text == readme.replace("\nold\n", "\nnew\n")
    with pytest.raises(SystemExit, match="no block <!-- examples:c -->"):
        examples.rewrite(readme, {"c": "x\n"})


def test_every_block_the_script_writes_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Look and ask", 1)[1].split("\n## ", 1)[0]
    for name in _examples().EXAMPLES:
        assert f"<!-- examples:{name} -->\n```console\n$ gitml " in section, name
        assert f"<!-- /examples:{name} -->" in section, name
    assert not any(part in section for part in ("/tmp/", "/path/to/"))
