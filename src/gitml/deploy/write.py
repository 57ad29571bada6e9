"""Writing a rendered stage into its directory: each file atomically, replacing only
regular files, and never through a symbolic link or into anything that is not a folder."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from gitml.errors import UsageError
from gitml.fsutil import check_output_path, write_output

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.deploy.render import Rendered


def _real_folder(folder: Path) -> None:
    """Create ``folder`` if missing; refuse it if it is a link or not a directory (a
    link would let the rendered files land outside the directory a reviewer sees)."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        folder.mkdir(parents=True)
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UsageError(
            f"{folder}: not a folder (a link or a file); rendered files go only into folders"
        )


def write_rendered(rendered: Rendered, directory: Path) -> list[Path]:
    """Write every file of ``rendered`` under ``directory``; return the paths written.

    Every path is checked before the first byte is written, so a refusal leaves the
    directory as it was.
    """
    targets = [(directory / name, text) for name, text in rendered.files.items()]
    for folder in sorted({path.parent for path, _ in targets}):
        for part in (
            *reversed(folder.relative_to(directory).parents),
            folder.relative_to(directory),
        ):
            _real_folder(directory / part)
    for path, _ in targets:
        check_output_path(path, force=True)
    for path, text in targets:
        write_output(path, text, force=True)
    return [path for path, _ in targets]
