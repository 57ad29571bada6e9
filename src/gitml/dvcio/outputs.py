"""What CI needs around ``dvc repro``: the run-cache before it, the git-tracked results after.

The files ``dvc repro`` writes that git tracks are what CI commits back to a pull request.

A pipeline's git-tracked results are each ``dvc.lock`` beside a ``dvc.yaml``, every output
declared ``cache: false`` (metrics, plots, model cards...), and the ``.gitignore`` files DVC
maintains next to its cached outputs. Asking DVC's own index (rather than parsing
``dvc.yaml``) resolves ``foreach``/``matrix`` stages, ``vars`` and nested projects exactly
as ``dvc repro`` does; cached outputs (the model itself) go to the DVC remote, not git.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitml.dvcio.workspace import dvc_error, quiet_dvc
from gitml.errors import GitmlError

LOCK_NAME = "dvc.lock"


def git_tracked_outputs(root: Path | str = ".") -> list[str]:
    """Sorted paths (relative to ``root``, POSIX) of the pipeline's git-tracked results
    that exist in the working tree: locks, ``cache: false`` outputs and DVC's .gitignores."""
    root = Path(root).resolve()
    candidates: set[Path] = set()
    try:
        from dvc.repo import Repo

        with quiet_dvc(), Repo(str(root)) as repo:
            for stage in repo.index.stages:
                if stage.dvcfile.path.endswith((".yaml", ".yml")):
                    candidates.add(Path(stage.dvcfile.path).with_name(LOCK_NAME))
                for out in stage.outs:
                    if not out.is_in_repo:
                        continue
                    path = Path(out.fs_path)
                    candidates.add(path if not out.use_cache else path.parent / ".gitignore")
    except GitmlError:
        raise
    except Exception as exc:  # DVC's own errors: one line, not a traceback
        raise dvc_error("index", exc) from None
    found = []
    for path in candidates:
        if path.exists():
            found.append(Path(os.path.relpath(path, root)).as_posix())
    return sorted(found)


def fetch_run_cache(root: Path | str = ".", remote: str | None = None) -> int:
    """Download the remote's run-cache entries (not the outputs they name); return how many.

    ``dvc repro`` restores a stage whose inputs match an entry instead of running it, but
    reads entries only from the local cache, and ``dvc repro --pull`` fetches none (DVC
    3.x). ``dvc fetch --run-cache`` would also download every output of the current
    ``dvc.lock``; the entries alone are small, and ``--pull`` then fetches the outputs of
    exactly the entries that get used.
    """
    try:
        from dvc.repo import Repo

        with quiet_dvc(), Repo(str(Path(root).resolve())) as repo:
            return len(repo.stage_cache.pull(remote))
    except GitmlError:
        raise
    except Exception as exc:  # no remote, unreachable remote...: one line, not a traceback
        raise dvc_error("fetch --run-cache", exc) from None


def push_run_cache(root: Path | str = ".", remote: str | None = None) -> tuple[int, int]:
    """Upload the local run-cache entries and the ``cache: false`` outputs they name.

    ``dvc push --run-cache`` uploads the entries only (DVC 3.x); an entry whose metrics or
    plots (``cache: false``, kept in the local cache by the run-cache alone) are not in the
    remote cannot be restored elsewhere, so ``dvc repro`` on another machine runs the stage
    again. Returns ``(entries, objects)`` uploaded; objects absent locally are skipped.
    """
    try:
        from dvc.repo import Repo

        with quiet_dvc(), Repo(str(Path(root).resolve())) as repo:
            entries = repo.stage_cache.push(remote)
            objects = 0
            for wanted in repo.stage_cache.get_used_objs(entries).values():
                present = {o for o in wanted if o.value and repo.cache.local.exists(o.value)}
                objects += len(repo.cloud.push(present, remote=remote).transferred)
            return len(entries), objects
    except GitmlError:
        raise
    except Exception as exc:  # no remote, unreachable remote...: one line, not a traceback
        raise dvc_error("push --run-cache", exc) from None
