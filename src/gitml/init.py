"""``gitml init``: adopt gitml in an existing DVC repository.

Reads the repository's ``dvc.yaml`` (its ``artifacts:`` of type model and each stage's
metrics and plots) to write a ``gitml.yaml``, and writes the workflows and the setup action
shipped with the package. Never overwrites a file without ``force``; returns the remaining
manual steps (secrets, branch protection, reviewers) for the caller to print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gitml.config import CONFIG_FILE, config_from_text
from gitml.documents import parse_text
from gitml.dvcio.project import DVC_YAML
from gitml.errors import ConfigError
from gitml.fsutil import atomic_write_text

WORKFLOWS = ("propose.yml", "comment.yml", "register.yml", "promote.yml", "monitor.yml")
HIGHER = ("auc", "accuracy", "f1", "precision", "recall", "r2", "average_precision", "map")
LOWER = ("loss", "error", "rmse", "mae", "mse", "brier", "latency", "seconds", "size")

NEXT_STEPS = (
    "Store DVC remote credentials as environment secrets (AWS_ACCESS_KEY_ID / "
    "AWS_SECRET_ACCESS_KEY) of the environments `dvc-remote` (builds, gates, register, "
    "monitor; no required reviewers) and `staging`/`production` (promote), never as "
    "repository secrets; or use OIDC: aws-actions/configure-aws-credentials with a role.",
    "Protect the workflows: add `.github/` to CODEOWNERS with 'Require review from Code "
    "Owners' (a pull request's workflows run from its own branch).",
    "Create the stage branches when you first promote: `gitml promote MODEL --to staging`.",
    "Protect the registry's tags with a tag ruleset (Settings → Rules → Rulesets → New tag "
    "ruleset): target `*@v*`, `*@deprecated*` and `*#*`, restrict creation, update and "
    "deletion, and let only the workflows' identity (GitHub Actions, or your App) bypass it. "
    "Then name that identity in gitml.yaml (`registry: {writers: [EMAIL]}`) so "
    "`gitml verify` reports any record someone else wrote.",
    "Protect main and each stage branch: require pull requests, require the `gitml/check` "
    "status (every kind of pull request gets it; the job checks 'reproduce, report and gate "
    "(trusted)', 'report (fork, untrusted, no secrets)' and 'verify and gate a promotion (no "
    "retraining)' each run for one kind only, so do not require them), and 'require "
    "branches to be up to date before merging'.",
    "Build a reviewed fork's pull request with secrets by running propose.yml by hand "
    "(workflow_dispatch) with its number and the reviewed head commit (sha).",
    "Put production behind a GitHub environment named `production` with required reviewers, "
    "and add a CODEOWNERS entry for gitml.yaml and the stage branches' owners.",
    "Allow GitHub Actions to create pull requests (Settings → Actions) if `gitml promote` "
    "should open them with GITHUB_TOKEN, or use a GitHub App token.",
)


@dataclass(frozen=True)
class InitResult:
    """What ``gitml init`` wrote, what it left alone, and what is left to do by hand."""

    written: tuple[str, ...]
    kept: tuple[str, ...]
    models: tuple[str, ...]
    next_steps: tuple[str, ...] = field(default=NEXT_STEPS)

    def to_dict(self) -> dict[str, object]:
        """JSON shape: ``{written, kept, models, next_steps}``."""
        return {
            "written": list(self.written),
            "kept": list(self.kept),
            "models": list(self.models),
            "next_steps": list(self.next_steps),
        }


def _direction(name: str) -> str | None:
    lowered = name.lower()
    if any(word in lowered for word in LOWER):
        return "lower"
    if any(word in lowered for word in HIGHER):
        return "higher"
    return None


def _out_paths(entries: Any) -> list[str]:
    paths = []
    for entry in entries or []:
        paths.append(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return paths


def draft_config(root: Path) -> dict[str, Any]:
    """A ``gitml.yaml`` document for the DVC project at ``root``."""
    path = root / DVC_YAML
    if not path.is_file():
        raise ConfigError(
            f"{DVC_YAML}: not found in {root.resolve()} (gitml init needs a DVC project)"
        )
    document = parse_text(path.read_text(encoding="utf-8"), DVC_YAML) or {}
    artifacts = {
        n: a
        for n, a in (document.get("artifacts") or {}).items()
        if isinstance(a, dict) and a.get("type", "model") == "model"
    }
    if not artifacts:
        raise ConfigError(
            f"{DVC_YAML}: no `artifacts:` entry of type model; declare the model first "
            "(artifacts: {NAME: {path: models/model.pkl, type: model}})"
        )
    stages = document.get("stages") or {}
    models: dict[str, Any] = {}
    directions: dict[str, str] = {}
    for name, artifact in artifacts.items():
        producer = next(
            (s for s in stages.values() if artifact["path"] in _out_paths(s.get("outs"))), None
        )
        metric_stages = (
            [producer] if producer and producer.get("metrics") else list(stages.values())
        )
        metrics = sorted({m for s in metric_stages for m in _out_paths(s.get("metrics"))})
        if not metrics:
            raise ConfigError(f"{DVC_YAML}: no `metrics:` output found for model {name!r}")
        entry: dict[str, Any] = {"artifact": artifact["path"], "metrics": metrics}
        if artifact.get("desc"):
            entry["description"] = artifact["desc"]
        models[name] = entry
        for metrics_file in metrics:
            target = root / metrics_file
            if target.is_file():
                values = parse_text(target.read_text(encoding="utf-8"), metrics_file) or {}
                for key in values if isinstance(values, dict) else ():
                    if (direction := _direction(str(key))) is not None:
                        directions[str(key)] = direction
    config: dict[str, Any] = {
        "version": 1,
        "models": models,
        "stages": ["staging", "production"],
        "stage_branch": "{stage}" if len(models) == 1 else "{stage}/{model}",
    }
    if directions:
        config["metrics"] = dict(sorted(directions.items()))
    return config


def _templates() -> dict[str, str]:
    base = resources.files("gitml.templates")
    files = {
        f".github/workflows/{name}": base.joinpath("workflows", name).read_text("utf-8")
        for name in WORKFLOWS
    }
    files[".github/actions/setup-gitml/action.yml"] = base.joinpath(
        "actions", "setup-gitml", "action.yml"
    ).read_text("utf-8")
    return files


def init(root: Path | str = ".", *, force: bool = False) -> InitResult:
    """Write ``gitml.yaml`` and the workflows into the DVC repository at ``root``."""
    root = Path(root)
    config = draft_config(root)
    text = (
        "# gitml registry configuration, drafted by `gitml init`: review the metric\n"
        "# directions and add gates (see the README).\n" + yaml.safe_dump(config, sort_keys=False)
    )
    config_from_text(text)  # what we write must validate
    files = {CONFIG_FILE: text, **_templates()}
    written, kept = [], []
    for relative, content in files.items():
        target = root / relative
        if target.exists() and not force:
            kept.append(relative)
            continue
        atomic_write_text(target, content)
        written.append(relative)
    return InitResult(tuple(written), tuple(kept), tuple(config["models"]))
