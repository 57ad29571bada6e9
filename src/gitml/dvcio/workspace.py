"""DVC in a side worktree: same cache and remotes as the user's checkout, its own files.

``gitml retrain`` adds a batch to the DVC-tracked data in a temporary git worktree. That
worktree must see the user's DVC cache (so the base data is linked, not downloaded, and
the new objects land where ``dvc push`` and ``dvc checkout`` of the user will find them)
and the user's remotes with their local settings (a relative remote path means the same
directory as from the user's checkout). Both go into the worktree's ``config.local``,
which git ignores and which disappears with the worktree.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager, redirect_stdout
from typing import TYPE_CHECKING, Any

from gitml.errors import DvcError, GitmlError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def dvc_error(action: str, exc: Exception) -> DvcError:
    """DVC's exception as one line (``dvc ACTION: Name: first line``), with a hint when known."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    hint = ""
    if name == "NoRemoteError":
        hint = " (add one with `dvc remote add -d NAME URL`)"
    return DvcError(f"dvc {action}: {name}{': ' + detail if detail else ''}{hint}")


@contextmanager
def quiet_dvc() -> Iterator[None]:
    """Keep DVC's progress and hints (``To track the changes with git...``) off stdout,
    which belongs to gitml's own output (``--json``)."""
    logger = logging.getLogger("dvc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        logger.setLevel(level)


def share_cache_and_remotes(main_root: Path, tree_root: Path) -> None:
    """Point the DVC project at ``tree_root`` at ``main_root``'s cache and remotes."""
    try:
        from dvc.config_schema import RelPath
        from dvc.repo import Repo

        with Repo(str(main_root)) as main:
            cache_dir = main.cache.local_cache_dir
            merged = main.config
            remotes: dict[str, dict[str, Any]] = {}
            local: Any = main.config.load_one("local")
            for name, settings in (merged.get("remote") or {}).items():
                wanted = dict((local.get("remote") or {}).get(name) or {})
                url = settings.get("url")
                # Relative paths in a config file are relative to that file: make them
                # absolute so the side worktree reaches the same directory.
                if isinstance(url, RelPath):
                    wanted["url"] = str(url)
                if wanted:
                    remotes[name] = wanted
            default = (local.get("core") or {}).get("remote")
        with Repo(str(tree_root)) as tree, tree.config.edit("local") as conf:
            conf["cache"]["dir"] = cache_dir
            # Link rather than copy the base data into the throw-away worktree.
            conf["cache"]["type"] = "reflink,hardlink,copy"
            for name, settings in remotes.items():
                conf["remote"].setdefault(name, {}).update(settings)
            if default:
                conf["core"]["remote"] = default
    except GitmlError:
        raise
    except Exception as exc:  # DVC's errors share no useful base class
        raise dvc_error("config", exc) from None


def restore(tree_root: Path, target: str) -> None:
    """Check out ``target`` (a ``.dvc`` file) from the cache, fetching what is missing."""
    try:
        from dvc.exceptions import CheckoutError
        from dvc.repo import Repo

        with quiet_dvc(), Repo(str(tree_root)) as repo:
            # DVC resolves targets against the process's cwd, not the repository: absolute.
            path = str(tree_root / target)
            try:
                repo.checkout(targets=[path])
            except CheckoutError:
                repo.pull(targets=[path])
    except GitmlError:
        raise
    except Exception as exc:
        raise dvc_error(f"pull {target}", exc) from None


def refresh(tree_root: Path, target: str) -> bool:
    """Bring ``target`` (a tracked file or its ``.dvc`` file) up to date before it is read.

    An import (``dvc import``, ``dvc import-url``) is updated from its source, like
    ``dvc update``: its ``.dvc`` file records the bytes of the last update, so reading
    without updating would check the same batch again and again. Any other tracked file
    is checked out (pulled when the cache lacks it), as :func:`restore`. Returns whether
    ``target`` was an import. The updated ``.dvc`` file stays in the workspace, to be
    committed or discarded like any ``dvc update``.
    """
    try:
        from dvc.repo import Repo

        with quiet_dvc(), Repo(str(tree_root)) as repo:
            path = str(tree_root / target)
            stages = [info.stage for info in repo.index.collect_targets([path])]
            if stages and all(stage.is_import for stage in stages):
                repo.update(targets=[path])
                return True
    except GitmlError:
        raise
    except Exception as exc:
        raise dvc_error(f"update {target}", exc) from None
    restore(tree_root, target)
    return False


def add(tree_root: Path, target: str) -> None:
    """``dvc add TARGET`` in ``tree_root``: hash it, store it in the cache, rewrite its .dvc."""
    try:
        from dvc.repo import Repo

        with quiet_dvc(), Repo(str(tree_root)) as repo:
            repo.add(str(tree_root / target))
    except Exception as exc:
        raise dvc_error(f"add {target}", exc) from None


def push(tree_root: Path, target: str, remote: str | None = None) -> int:
    """``dvc push TARGET``; returns how many objects were uploaded."""
    try:
        from dvc.repo import Repo

        with quiet_dvc(), Repo(str(tree_root)) as repo:
            return int(repo.push(targets=[str(tree_root / target)], remote=remote))
    except Exception as exc:
        raise dvc_error(f"push {target}", exc) from None


def read_pointer(text: str, file: str) -> tuple[str, int | None]:
    """``(md5, nfiles)`` of the single output a ``.dvc`` file records."""
    from gitml.documents import parse_text

    document: Any = parse_text(text, file)
    outs = document.get("outs") if isinstance(document, dict) else None
    if not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict):
        raise DvcError(f"{file}: expected one entry under outs")
    md5 = outs[0].get("md5")
    if not isinstance(md5, str):
        raise DvcError(f"{file}: outs[0].md5: missing")
    nfiles = outs[0].get("nfiles")
    return md5, nfiles if isinstance(nfiles, int) else None
