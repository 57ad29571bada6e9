"""``gitml retrain``: a branch that adds a batch of new data to the DVC-tracked data.

The branch is built in a temporary worktree of the base, so the user's checkout (its
working tree, index and current branch, clean or not) is never touched. There the batch
joins the directory ``retrain.data`` of ``gitml.yaml`` — through the project's
``retrain.adopt`` command when one is set (the example records the batch's recipe in
``params.yaml``), else copied in as ``<name>-<md5[:8]><ext>`` — and ``dvc add`` gives
``<data>.dvc`` a new hash. The commit names the batch, its rows and md5, the old and new
data hashes, the batch's recipe and the drift that prompted it. The pipeline is not run:
the pull request's propose workflow reproduces it and the report compares the retrained
model with the base's (on the new evaluation rows, too).

Never half-done: the local branch is created only once the commit exists, and deleted
again (with the remote branch) when the push or the pull request fails. A batch whose
bytes are already in the data is refused; a branch that already exists for the same
batch is reported as such (``status: "exists"``), not rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.config import CONFIG_FILE, config_from_text
from gitml.documents import read_document
from gitml.errors import ConfigError, GitError
from gitml.gitio.repo import GitRepo
from gitml.gitio.worktree import (
    changed_paths,
    commit_all,
    create_branch,
    delete_branch,
    delete_remote_branch,
    has_remote,
    local_branch_exists,
    push_new_branch,
    temporary_worktree,
)
from gitml.hooks import HookFailed, run_command
from gitml.monitor.source import RECIPE_SUFFIX, recipe_of
from gitml.storage import file_md5

if TYPE_CHECKING:
    from gitml.config import Config, RetrainConfig
    from gitml.github.client import GitHubClient

DEFAULT_WORKFLOW = "propose.yml"


@dataclass(frozen=True)
class BatchInfo:
    """The batch as it lands in the data: its path in the repository, md5 and row count."""

    path: str
    md5: str
    rows: int


@dataclass(frozen=True)
class RetrainResult:
    """What ``gitml retrain`` did (JSON shape: :meth:`to_dict`)."""

    model: str
    branch: str
    base: str
    commit: str
    data: BatchInfo | None
    status: str  # created | exists | resumed (an interrupted run's branch, pushed now)
    pushed: bool = False
    pull_request: tuple[int, str] | None = None
    dispatched: bool = False
    data_dvc: tuple[str, str, str] | None = None  # (file, md5 before, md5 after)
    changed: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{model, branch, base, commit, status, data: {path, md5, rows} | null, pushed,
        pull_request: {number, url} | null, dispatched, data_dvc: {path, before, after} |
        null, changed: [paths], note}``."""
        return {
            "model": self.model,
            "branch": self.branch,
            "base": self.base,
            "commit": self.commit,
            "status": self.status,
            "data": (
                {"path": self.data.path, "md5": self.data.md5, "rows": self.data.rows}
                if self.data
                else None
            ),
            "pushed": self.pushed,
            "pull_request": (
                {"number": self.pull_request[0], "url": self.pull_request[1]}
                if self.pull_request
                else None
            ),
            "dispatched": self.dispatched,
            "data_dvc": (
                {"path": self.data_dvc[0], "before": self.data_dvc[1], "after": self.data_dvc[2]}
                if self.data_dvc
                else None
            ),
            "changed": list(self.changed),
            "note": self.note,
        }


def default_branch(model: str, md5: str) -> str:
    """``retrain/<model>-<md5[:8]>``: the same batch always maps to the same branch."""
    return f"retrain/{model}-{md5[:8]}"


def _base_config(repo: GitRepo, base_commit: str, base: str) -> Config:
    shown = repo.run("show", f"{base_commit}:{CONFIG_FILE}", check=False)
    if shown.returncode != 0:
        raise ConfigError(f"{CONFIG_FILE}: not found at {base}")
    return config_from_text(shown.stdout, f"{CONFIG_FILE} at {base}")


def _count_rows(batch: Path) -> tuple[int, list[str]]:
    from gitml.monitor.drift import read_batch

    frame = read_batch(batch)
    return len(frame), [str(c) for c in frame.columns]


def _check_schema(
    repo: GitRepo, base_commit: str, base: str, schema_path: str | None, batch: Path
) -> tuple[int, list[str]]:
    """Row count and columns of ``batch``; a ConfigError when it breaks the data schema."""
    rows, columns = _count_rows(batch)
    if not schema_path:
        return rows, columns
    shown = repo.run("show", f"{base_commit}:{schema_path}", check=False)
    if shown.returncode != 0:
        raise ConfigError(f"{schema_path}: not found at {base} (models.*.data_schema)")
    from gitml.policy.data_check import check_csv, load_data_schema

    schema = load_data_schema(shown.stdout, f"{schema_path} at {base}")
    # min_rows is about the whole training data, not one batch of it.
    schema = {key: value for key, value in schema.items() if key != "min_rows"}
    if batch.name.lower().endswith(".csv"):
        problems = check_csv(batch.read_bytes(), schema, batch.name)
    else:
        declared = list(schema["columns"])
        problems = [
            f"column {c!r}: missing from {batch.name}" for c in declared if c not in columns
        ]
        if not schema.get("allow_extra_columns", False):
            problems += [f"column {c!r}: not declared" for c in columns if c not in declared]
    if problems:
        shown_problems = "; ".join(problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ConfigError(
            f"{batch}: does not match the data schema {schema_path}: {shown_problems}{more}"
        )
    return rows, columns


def _split_name(name: str) -> tuple[str, str]:
    stem = name.split(".", 1)[0] or "batch"
    return stem, name[len(name.split(".", 1)[0]) :]


def _files(directory: Path) -> dict[str, Path]:
    return {
        p.relative_to(directory).as_posix(): p for p in sorted(directory.rglob("*")) if p.is_file()
    }


def _drift_summary(report_path: Path | None) -> tuple[str, list[str]]:
    """A one-line drift context for the commit, and the drifted features, from a report."""
    if report_path is None:
        return "", []
    try:
        report = read_document(report_path, f"{report_path} (--drift-report)")
        verdict, rows = report["verdict"], report["rows"]
        drifted = [str(name) for name in report.get("drifted") or []]
        warned = [str(name) for name in report.get("warned") or []]
        model = report.get("model", "?")
    except (KeyError, TypeError) as exc:
        raise ConfigError(
            f"{report_path}: not a `gitml drift --json` report ({type(exc).__name__}: {exc})"
        ) from None
    line = f"gitml drift: verdict {verdict} for {model} on {rows} rows"
    if drifted:
        line += f"; drifted: {', '.join(drifted)}"
    if warned:
        line += f"; warned: {', '.join(warned)}"
    return line, drifted


def _github(open_pr: bool, repository: str | None) -> tuple[GitHubClient | None, str | None]:
    if not open_pr:
        return None, None
    from gitml.github.client import GitHubClient

    return GitHubClient.for_repository(repository, "--open-pr")


def retrain(
    root: Path | str,
    model: str,
    data: Path | str,
    *,
    base: str = "main",
    branch: str | None = None,
    push: bool = False,
    open_pr: bool = False,
    remote: str = "origin",
    repository: str | None = None,
    drift_report: Path | str | None = None,
    workflow: str = DEFAULT_WORKFLOW,
) -> RetrainResult:
    """Prepare the branch that adds the batch ``data`` to ``model``'s training data.

    ``push`` pushes the new data to the DVC remote and the branch to ``remote``;
    ``open_pr`` (implies ``push``) opens a pull request into ``base`` and dispatches
    ``workflow`` for it (``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``, ``GITHUB_API_URL``).
    ``drift_report`` is a ``gitml drift --json`` report to cite in the commit.
    """
    root = Path(root)
    push = push or open_pr
    batch = Path(data)
    if not batch.is_file():
        raise ConfigError(f"{data}: file not found (--data)")
    repo = GitRepo(root)
    base_commit = repo.resolve(base)
    config = _base_config(repo, base_commit, base)
    model_config = config.model(model)
    if config.retrain is None:
        raise ConfigError(
            f"{CONFIG_FILE} at {base}: retrain.data is not set (the DVC-tracked directory new "
            "batches join, e.g. `retrain: {data: data}`)"
        )
    settings = config.retrain
    pointer = f"{settings.data}.dvc"
    pointer_text = repo.run("show", f"{base_commit}:{pointer}", check=False)
    if pointer_text.returncode != 0:
        raise ConfigError(
            f"{CONFIG_FILE}: retrain.data: {settings.data!r} is not DVC-tracked at {base} "
            f"(no {pointer}; track it with `dvc add {settings.data}`)"
        )
    from gitml.dvcio.workspace import read_pointer

    before, _ = read_pointer(pointer_text.stdout, f"{pointer} at {base}")
    drift_line, _drifted = _drift_summary(Path(drift_report) if drift_report else None)
    md5 = file_md5(batch)
    rows, _columns = _check_schema(repo, base_commit, base, model_config.data_schema, batch)
    name = branch or default_branch(model, md5)
    repo.run("check-ref-format", "--branch", name)
    pr_base = base.removeprefix(f"{remote}/")
    if push and not has_remote(repo, remote):
        raise GitError(f"no git remote {remote!r} to push to (add one, or drop --push)")
    existing = _existing(repo, name, remote if push else None)
    if existing is not None and push and not _on_remote(repo, remote, name):
        # A run killed after committing but before its push left the branch here only:
        # finish that push (the data, then the branch) rather than call it done.
        _push_existing(root, repo, existing, f"{settings.data}.dvc", remote, name)
        return RetrainResult(
            model,
            name,
            pr_base,
            existing,
            None,
            "resumed",
            pushed=True,
            note=f"branch {name} existed here only (an interrupted run): pushed it now",
        )
    if existing is not None:
        return RetrainResult(
            model,
            name,
            pr_base,
            existing,
            None,
            "exists",
            note=f"branch {name} already exists (same batch, md5 {md5}): nothing done",
        )
    client, repository = _github(open_pr, repository)
    commit, info, after, changed = _build_commit(
        root,
        repo,
        base_commit,
        pr_base,
        model,
        batch,
        md5,
        rows,
        settings,
        before,
        drift_line,
        push,
    )
    create_branch(repo, name, commit)
    try:
        if push:
            push_new_branch(repo, remote, name, commit)
    except BaseException:
        delete_branch(repo, name)
        raise
    result = RetrainResult(
        model,
        name,
        pr_base,
        commit,
        info,
        "created",
        pushed=push,
        data_dvc=(pointer, before, after),
        changed=tuple(changed),
    )
    if client is None or repository is None:
        return result
    title = repo.run("log", "-1", "--format=%s", commit).stdout.strip()
    body = _pull_request_body(result, batch, drift_line)
    try:
        pull = client.create_pull_request(repository, name, pr_base, title, body)
    except BaseException:
        delete_remote_branch(repo, remote, name)
        delete_branch(repo, name)
        raise
    client.start_checks(repository, workflow, pr_base, pull)
    return RetrainResult(
        **{**result.__dict__, "pull_request": (pull.number, pull.url), "dispatched": True}
    )


def _on_remote(repo: GitRepo, remote: str, name: str) -> bool:
    return bool(repo.run("ls-remote", "--heads", remote, f"refs/heads/{name}").stdout.strip())


def _push_existing(
    root: Path, repo: GitRepo, commit: str, pointer: str, remote: str, name: str
) -> None:
    """Push the data of ``commit`` to the DVC remote, then ``commit`` as branch ``name``."""
    from gitml.dvcio import workspace

    with temporary_worktree(repo, commit) as tree:
        workspace.share_cache_and_remotes(root.resolve(), tree.root)
        workspace.push(tree.root, pointer)
    push_new_branch(repo, remote, name, commit)


def _existing(repo: GitRepo, name: str, remote: str | None) -> str | None:
    """The commit of branch ``name`` locally or on ``remote``, or None."""
    if local_branch_exists(repo, name):
        return repo.resolve(f"refs/heads/{name}")
    if remote is not None:
        out = repo.run("ls-remote", "--heads", remote, f"refs/heads/{name}").stdout.split()
        if out:
            return out[0]
    return None


def _build_commit(
    root: Path,
    repo: GitRepo,
    base_commit: str,
    base: str,
    model: str,
    batch: Path,
    md5: str,
    rows: int,
    settings: RetrainConfig,
    before: str,
    drift_line: str,
    push: bool,
) -> tuple[str, BatchInfo, str, list[str]]:
    """In a worktree of the base: add the batch, ``dvc add``, commit (and ``dvc push``)."""
    from gitml.dvcio import workspace

    pointer = f"{settings.data}.dvc"
    with temporary_worktree(repo, base_commit) as tree:
        workspace.share_cache_and_remotes(root.resolve(), tree.root)
        workspace.restore(tree.root, pointer)
        data_dir = tree.root / settings.data
        if not data_dir.is_dir():
            raise ConfigError(f"retrain.data: {settings.data!r} is not a directory at {base}")
        existing = _files(data_dir)
        size = batch.stat().st_size
        for rel, path in existing.items():
            if path.stat().st_size == size and file_md5(path) == md5:
                raise ConfigError(
                    f"{batch}: its bytes are already in the data as {settings.data}/{rel} "
                    f"(md5 {md5}): nothing new to retrain on"
                )
        if settings.adopt:
            run_command(
                settings.adopt,
                {"file": str(batch.resolve()), "dir": settings.data},
                tree.root,
                "retrain.adopt",
            )
        else:
            stem, ext = _split_name(batch.name)
            target = data_dir / f"{stem}-{md5[:8]}{ext}"
            if target.exists():
                raise ConfigError(f"{settings.data}/{target.name}: already exists")
            from gitml.fsutil import atomic_write_bytes

            atomic_write_bytes(target, batch.read_bytes())
        added = [rel for rel in _files(data_dir) if rel not in existing]
        landed = [rel for rel in added if file_md5(data_dir / rel) == md5]
        if len(added) != 1 or len(landed) != 1:
            raise HookFailed(
                f"gitml.yaml: retrain.adopt: expected it to add exactly one file with the "
                f"batch's bytes (md5 {md5}) to {settings.data}/, it added "
                f"{', '.join(added) or 'none'}"
            )
        info = BatchInfo(f"{settings.data}/{landed[0]}", md5, rows)
        workspace.add(tree.root, settings.data)
        after, _ = workspace.read_pointer((tree.root / pointer).read_text(), pointer)
        message = _commit_message(model, batch, info, pointer, before, after, drift_line)
        commit = commit_all(tree, message)
        changed = changed_paths(tree, commit)
        if push:
            workspace.push(tree.root, pointer)
    return commit, info, after, changed


def _commit_message(
    model: str,
    batch: Path,
    info: BatchInfo,
    pointer: str,
    before: str,
    after: str,
    drift_line: str,
) -> str:
    lines = [
        f"Retrain {model} on new data: {batch.name} ({info.rows:,} rows)",
        "",
        f"Adds {batch.name} ({info.rows} rows, md5 {info.md5}) to the training data as "
        f"{info.path}.",
        f"{pointer}: {before} -> {after}",
    ]
    recipe = recipe_of(batch)
    if recipe.is_file():
        try:
            described = json.dumps(json.loads(recipe.read_text(encoding="utf-8")), sort_keys=True)
        except (OSError, ValueError):
            described = "(unreadable)"
        lines.append(f"Recipe ({batch.name}{RECIPE_SUFFIX}): {described}")
    if drift_line:
        lines.append(f"Why: {drift_line}")
    lines += [
        "",
        "Prepared by `gitml retrain`. The pipeline is not run here: the pull request's "
        "propose run reproduces it, and its report compares the retrained model with the "
        "base's, on the new evaluation rows too.",
    ]
    return "\n".join(lines) + "\n"


def _pull_request_body(result: RetrainResult, batch: Path, drift_line: str) -> str:
    from gitml.report.escape import code, text

    assert result.data is not None
    assert result.data_dvc is not None
    parts = [
        f"Adds {code(batch.name)} ({result.data.rows:,} rows, md5 {code(result.data.md5)}) "
        f"to the training data of **{text(result.model)}** as {code(result.data.path)}; "
        f"{code(result.data_dvc[0])}: {code(result.data_dvc[1])} → {code(result.data_dvc[2])}.",
    ]
    if drift_line:
        parts.append(f"Why: {text(drift_line)}")
    parts.append(
        "Prepared by `gitml retrain`. The propose workflow reproduces the pipeline on this "
        "branch and its report compares the retrained model with the current one, on the new "
        "evaluation rows too."
    )
    return "\n\n".join(parts)
