"""``gitml init``: adopt gitml in an existing DVC repository.

Drafts ``gitml.yaml`` (the models ``dvc.yaml`` declares, the stages the repository's
GTO tags already use, the project's install files) and writes the workflows, rendered
with the setup action reference that pins gitml by commit (:mod:`gitml.setup_action`).

Every file it writes starts with :data:`MARK`. A second run changes nothing that is
already as it would write it; ``force`` replaces only files that still carry the mark,
never a file someone else wrote. What it could not decide comes back as notes, and the
manual steps (secrets, branch protection, reviewers) as next steps, for the caller to
print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gitml.config import config_from_text
from gitml.documents import packaged_schema, parse_text
from gitml.dvcio.project import ARTIFACTS_YAML, DVC_YAML, read_project
from gitml.errors import ConfigError, GitError
from gitml.files import CONFIG_FILE
from gitml.fsutil import atomic_write_text
from gitml.gitio import GitRepo
from gitml.gitio.snapshot import read_refs
from gitml.install_files import SECTION, detect
from gitml.metric_directions import guess_direction
from gitml.registry.events import event_from_tag
from gitml.registry.names import Action, TagName
from gitml.report.values import flatten
from gitml.setup_action import installed_reference
from gitml.templates.render import WORKFLOWS, render_workflows
from gitml.zero_config import infer_document

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitml.gitio.snapshot import RefSnapshot, TagRecord
    from gitml.setup_action import ActionReference

__all__ = ["MARK", "WORKFLOWS", "InitResult", "Kept", "draft_config", "init", "next_steps"]

MARK = (
    "# Written by `gitml init`: `gitml init --force` replaces this file; "
    "delete this line to keep your edits."
)
CONFIG_HEADER = (
    "# gitml registry configuration, drafted by `gitml init`: review the stages and the\n"
    "# install files, add gates, and declare under `metrics:` which way a metric is better\n"
    "# where its name does not say (roc_auc, loss... do; see the README).\n"
)
DEFAULT_STAGES = ("staging", "production")
OLD_SETUP_ACTION = ".github/actions/setup-gitml/action.yml"  # what gitml init once wrote


@dataclass(frozen=True)
class Kept:
    """A file init would have written and left as it is, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Draft:
    """The drafted ``gitml.yaml`` document and what init could not decide about it."""

    document: dict[str, Any]
    notes: tuple[str, ...]
    stages_from_tags: bool


@dataclass(frozen=True)
class InitResult:
    """What ``gitml init`` wrote, found as it would write it, or left alone; what it
    could not decide; and what is left to do by hand."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    kept: tuple[Kept, ...]
    models: tuple[str, ...]
    stages: tuple[str, ...]
    stages_from_tags: bool
    action: str | None  # the setup action's `uses:` line; None: workflows not written
    notes: tuple[str, ...]
    next_steps: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON shape: ``{written, unchanged, kept: [{path, reason}], models, stages,
        stages_from_tags, action, notes, next_steps}``."""
        return {
            "written": list(self.written),
            "unchanged": list(self.unchanged),
            "kept": [{"path": k.path, "reason": k.reason} for k in self.kept],
            "models": list(self.models),
            "stages": list(self.stages),
            "stages_from_tags": self.stages_from_tags,
            "action": self.action,
            "notes": list(self.notes),
            "next_steps": list(self.next_steps),
        }


def next_steps(stages: Sequence[str], action: ActionReference | None) -> tuple[str, ...]:
    """The manual steps after ``gitml init``, for these stages and this setup action."""
    first, top = stages[0], stages[-1]
    environments = ", ".join(f"`{stage}`" for stage in stages)
    steps = [
        "Store DVC remote credentials as environment secrets (AWS_ACCESS_KEY_ID / "
        "AWS_SECRET_ACCESS_KEY) of the environments `dvc-remote` (builds, gates, register, "
        f"monitor; no required reviewers) and {environments} (promote), never as "
        "repository secrets; or use OIDC: aws-actions/configure-aws-credentials with a role.",
        "Protect the workflows: add `.github/` to CODEOWNERS with 'Require review from Code "
        "Owners' (a pull request's workflows run from its own branch).",
        f"Create the stage branches when you first promote: `gitml promote MODEL --to {first}`.",
        "Protect the registry's tags with a tag ruleset (Settings → Rules → Rulesets → New tag "
        "ruleset): target `*@v*`, `*@deprecated*` and `*#*`, restrict creation, update and "
        "deletion, and let only the workflows' identity (GitHub Actions, or your App) bypass "
        "it. Then name that identity in gitml.yaml (`registry: {writers: [EMAIL]}`) so "
        "`gitml verify` reports any record someone else wrote.",
        "Protect main and each stage branch: require pull requests, require the `gitml/check` "
        "status (every kind of pull request gets it; the job checks 'reproduce, report and "
        "gate (trusted)', 'report (fork, untrusted, no secrets)' and 'verify and gate a "
        "promotion (no retraining)' each run for one kind only, so do not require them), and "
        "'require branches to be up to date before merging'.",
        "Build a reviewed fork's pull request with secrets by running propose.yml by hand "
        "(workflow_dispatch) with its number and the reviewed head commit (sha).",
        f"Put `{top}` behind a GitHub environment named `{top}` with required reviewers, "
        "and add a CODEOWNERS entry for gitml.yaml and the stage branches' owners.",
        "Allow GitHub Actions to create pull requests (Settings → Actions) if `gitml promote` "
        "should open them with GITHUB_TOKEN, or use a GitHub App token.",
    ]
    if action is not None:
        steps.append(
            f"The workflows install gitml with its setup action pinned by commit "
            f"(`{action.uses}`): if your organisation allows only listed actions, allow "
            f"`{action.repository}` (Settings → Actions → General). To move to another gitml "
            f"commit, run `gitml init --force --gitml-action {action.repository}@NEW_SHA`."
        )
    return tuple(steps)


# -- drafting gitml.yaml --------------------------------------------------------------


def _draft_models(root: Path) -> tuple[dict[str, Any], list[str]]:
    """The ``models:`` for the DVC project at ``root`` and what init could not decide.

    The models are :func:`gitml.zero_config.infer_document`'s (what ``dvc.yaml`` and
    GTO's ``artifacts.yaml`` declare). Directions are not written: gitml reads them from
    well-known names (:mod:`gitml.metric_directions`) every time; the metrics in the
    working tree's files whose names say nothing are listed, to be declared by hand.
    """
    if not (root / DVC_YAML).is_file() and not (root / ARTIFACTS_YAML).is_file():
        raise ConfigError(
            f"{DVC_YAML}: not found in {root.resolve()} (gitml init needs a DVC project)"
        )
    project = read_project(root)
    inferred = infer_document(project)
    models = {name: dict(entry) for name, entry in (inferred.get("models") or {}).items()}
    if not models:
        raise ConfigError(
            f"{DVC_YAML}: no `artifacts:` entry of type model; declare the model first "
            "(artifacts: {NAME: {path: models/model.pkl, type: model}})"
        )
    notes = list(project.notes)
    unknown: set[str] = set()
    for name, entry in models.items():
        if not entry.get("metrics"):
            entry.pop("metrics", None)
            notes.append(f"no metrics found for model {name}: add `metrics:` to its entry")
            continue
        for metrics_file in entry["metrics"]:
            target = root / metrics_file
            if not target.is_file():
                continue  # a cached file not checked out: gitml reads it from DVC later
            values = parse_text(target.read_text(encoding="utf-8"), metrics_file)
            if isinstance(values, dict):
                unknown |= {m for m in flatten(values) if guess_direction(m) is None}
    if unknown:
        notes.append(
            f"no direction known for metrics {', '.join(sorted(unknown))}: say under "
            "`metrics:` whether each is better higher or lower (others follow their names)"
        )
    return models, notes


def _stage_name_pattern() -> str:
    pattern: str = packaged_schema("gitml.schema.json")["$defs"]["stage_name"]["pattern"]
    return pattern


def stages_from_tags(tags: Sequence[TagRecord]) -> tuple[list[str], list[str]]:
    """The stages the repository's assignment tags (``MODEL#STAGE#N``, ``MODEL#STAGE``)
    name, in order of first use; and the names gitml cannot take as stage names."""
    uses = []
    for tag in tags:
        parsed = TagName.parse(tag.name)
        if parsed is not None and parsed.action is Action.ASSIGN and parsed.stage:
            uses.append((tag.timestamp, parsed.counter or 0, tag.name, parsed.stage))
    ordered = list(dict.fromkeys(stage for *_, stage in sorted(uses)))
    pattern = re.compile(_stage_name_pattern())
    return [s for s in ordered if pattern.fullmatch(s)], [
        s for s in ordered if not pattern.fullmatch(s)
    ]


def gto_written(tags: Sequence[TagRecord]) -> bool:
    """Whether any registry tag carries no gitml record (GTO, or a person, wrote it)."""
    return any((event := event_from_tag(tag)) is not None and event.record is None for tag in tags)


def _stages(snapshot: RefSnapshot | None, notes: list[str]) -> tuple[list[str], bool]:
    """The stages to draft: the GTO tags' when they name any, else the default ones."""
    if snapshot is None:
        return list(DEFAULT_STAGES), False
    stages, refused = stages_from_tags(snapshot.tags)
    if refused:
        notes.append(
            f"stage tags name {', '.join(refused)}, which gitml cannot take as stage names "
            "(lower-case letters, digits and dashes): left out of `stages:`"
        )
    if not stages:
        return list(DEFAULT_STAGES), False
    notes.append(
        f"stages {', '.join(stages)} are in the order the tags first used them; gitml "
        "promotes lowest first: reorder `stages:` if that is not your promotion order"
    )
    return stages, True


def _draft(root: Path, snapshot: RefSnapshot | None, tracked: list[str] | None) -> Draft:
    models, notes = _draft_models(root)
    stages, from_tags = _stages(snapshot, notes)
    document: dict[str, Any] = {
        "version": 1,
        "models": models,
        "stages": stages,
        "stage_branch": "{stage}" if len(models) == 1 else "{stage}/{model}",
    }
    if snapshot is not None and gto_written(snapshot.tags):
        # Without it, adopting gitml would hide the history GTO wrote: in a gitml.yaml
        # repository only gitml's records count unless the configuration accepts others.
        document["registry"] = {"accept_gto_tags": True}
        notes.append(
            "the registry has tags GTO (or a person) wrote, without gitml's record: "
            "`registry: {accept_gto_tags: true}` keeps their history; then anyone who may "
            "push tags writes the registry, so protect them (a tag ruleset, next steps)"
        )
    if tracked is None:
        notes.append(
            "not a git repository: install files not looked for (add `install:` to gitml.yaml)"
        )
    else:

        def read(path: str) -> str | None:
            try:
                return (root / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None

        detection = detect(tracked, read)
        notes += detection.notes
        if not detection.plan.empty:
            document[SECTION] = detection.plan.to_document()
    return Draft(document, tuple(notes), from_tags)


def _repository(root: Path) -> tuple[RefSnapshot | None, list[str] | None]:
    """The tags and branches, and the tracked files, of the git repository at ``root``
    (None, None: not a git repository)."""
    try:
        listing = GitRepo(root).run("ls-files", "-z").stdout
        return read_refs(root), [path for path in listing.split("\0") if path]
    except GitError:
        return None, None


def draft_config(root: Path | str = ".") -> dict[str, Any]:
    """A ``gitml.yaml`` document for the DVC project at ``root``."""
    root = Path(root)
    return _draft(root, *_repository(root)).document


def config_text(document: dict[str, Any]) -> str:
    """``gitml.yaml`` as init writes it: the mark, the header, then the document."""
    return f"{MARK}\n{CONFIG_HEADER}" + yaml.safe_dump(document, sort_keys=False)


# -- writing --------------------------------------------------------------------------


WRITTEN, UNCHANGED = "written", "unchanged"


def _place(root: Path, relative: str, content: str, *, force: bool) -> str | Kept:
    """Write ``content`` at ``relative`` unless a file is there that init must not replace:
    :data:`WRITTEN`, :data:`UNCHANGED` (already so, not touched), or why it was kept."""
    target = root / relative
    if not target.exists() and not target.is_symlink():
        atomic_write_text(target, content)
        return WRITTEN
    if target.is_symlink() or not target.is_file():
        return Kept(relative, "not a regular file: left alone")
    current = target.read_bytes()
    if current == content.encode("utf-8"):
        return UNCHANGED
    if not current.startswith(f"{MARK}\n".encode()):
        return Kept(relative, "not written by gitml init: left alone, also with --force")
    if not force:
        return Kept(relative, "exists; --force overwrites")
    atomic_write_text(target, content)
    return WRITTEN


def init(
    root: Path | str = ".",
    *,
    force: bool = False,
    action: ActionReference | None = None,
    config_only: bool = False,
) -> InitResult:
    """Write ``gitml.yaml`` and (unless ``config_only``) the workflows, pinned to ``action``
    or to the running gitml's own commit; refuse before writing anything when neither
    names a commit on GitHub."""
    root = Path(root)
    snapshot, tracked = _repository(root)
    draft = _draft(root, snapshot, tracked)
    notes = list(draft.notes)
    if not config_only and action is None:
        action = installed_reference()
    text = config_text(draft.document)
    config_from_text(text)  # what we write must validate
    stages = list(draft.document["stages"])
    files = {CONFIG_FILE: text}
    if action is not None and not config_only:
        rendered = render_workflows(action.line(), stages)
        files.update({path: f"{MARK}\n{content}" for path, content in rendered.items()})
        if (root / OLD_SETUP_ACTION).is_file():
            notes.append(
                f"{OLD_SETUP_ACTION}: no longer used (the workflows pin gitml's own setup "
                "action): delete it"
            )
    else:
        action = None
    if (
        snapshot is not None
        and snapshot.branches
        and not {"main", "origin/main"} & set(snapshot.branches)
    ):
        notes.append(
            "the workflows run for pull requests into and pushes to `main`, a branch this "
            "repository does not have: rename your default branch, or edit their `branches:`"
        )
    written: list[str] = []
    unchanged: list[str] = []
    kept: list[Kept] = []
    for relative, content in files.items():
        outcome = _place(root, relative, content, force=force)
        if isinstance(outcome, Kept):
            kept.append(outcome)
        else:
            (written if outcome == WRITTEN else unchanged).append(relative)
    return InitResult(
        written=tuple(written),
        unchanged=tuple(unchanged),
        kept=tuple(kept),
        models=tuple(draft.document["models"]),
        stages=tuple(stages),
        stages_from_tags=draft.stages_from_tags,
        action=action.line() if action is not None else None,
        notes=tuple(notes),
        next_steps=next_steps(stages, action),
    )
