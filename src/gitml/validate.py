"""``gitml validate``: every configuration and metadata file, checked in one pass.

Checks ``gitml.yaml`` against its schema, the params file against the schema it names,
each model's card and signature against the shipped schemas, that each model is
declared under ``artifacts:`` in ``dvc.yaml`` with the same path, and that the files
each model names exist. Every problem is collected, none stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitml.config import CONFIG_FILE, Config, config_from_document
from gitml.documents import Problem, packaged_schema, read_document, schema_problems
from gitml.dvcio.project import ARTIFACTS_YAML, DVC_YAML, read_artifacts, read_project
from gitml.errors import ConfigError
from gitml.zero_config import infer_document, merge_documents


@dataclass(frozen=True)
class ValidationReport:
    """What ``gitml validate`` checked and every problem found."""

    checked: tuple[str, ...]
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` shape: ``{ok, checked: [file], problems: [{file, key, message}]}``."""
        return {
            "ok": self.ok,
            "checked": list(self.checked),
            "problems": [
                {"file": p.file, "key": p.key, "message": p.message} for p in self.problems
            ],
        }


def _problems_of(error: ConfigError) -> list[Problem]:
    if error.problems:
        return [Problem(*p) for p in error.problems]
    return [Problem("", "", str(error))]


def _dvc_tracked(root: Path, path: str) -> bool:
    """Whether ``dvc.lock`` records ``path`` (a cached output, or a file inside a cached
    directory such as DVCLive's ``eval/``): DVC has its bytes though the checkout may not."""
    from gitml.dvcio.lock import DVC_LOCK, lock_outputs
    from gitml.dvcio.tracked import locate

    try:
        text = (root / DVC_LOCK).read_text(encoding="utf-8")
        return locate(lock_outputs(text), path) is not None
    except (OSError, ConfigError):
        return False


def validate_repository(root: Path | str = ".") -> ValidationReport:
    """Validate the repository at ``root``; never raises for a problem it can report."""
    root = Path(root)
    checked: list[str] = []
    problems: list[Problem] = []

    def check(file: str, schema: dict[str, object]) -> object | None:
        checked.append(file)
        try:
            document = read_document(root / file, file)
        except ConfigError as error:
            problems.extend(_problems_of(error))
            return None
        problems.extend(schema_problems(document, schema, file))
        return document

    if not (root / CONFIG_FILE).exists():
        checked.append(CONFIG_FILE)
        problems.append(
            Problem(
                CONFIG_FILE,
                "",
                "file not found (run `gitml init` to draft it from dvc.yaml; until then gitml "
                "reads the models, metrics and plots dvc.yaml declares)",
            )
        )
        return ValidationReport(tuple(checked), tuple(problems))
    config_doc = check(CONFIG_FILE, packaged_schema("gitml.schema.json"))
    if config_doc is None:
        return ValidationReport(tuple(checked), tuple(problems))
    try:
        project = read_project(root)
        inferred = infer_document(project)
        merged = merge_documents(inferred, config_doc if isinstance(config_doc, dict) else {})
        config: Config | None = config_from_document(merged, validate=False)
    except ConfigError as error:
        if not problems:  # schema problems were already collected above
            problems.extend(_problems_of(error))
        config = None
    if config is None:
        return ValidationReport(tuple(checked), tuple(problems))

    if config.params_file and config.params_schema:
        checked.append(config.params_schema)
        try:
            params_schema = read_document(root / config.params_schema, config.params_schema)
        except ConfigError as error:
            problems.extend(_problems_of(error))
        else:
            check(config.params_file, params_schema)

    checked.append(DVC_YAML)
    try:
        # GTO's artifacts.yaml declares artifacts as dvc.yaml's `artifacts:` does.
        artifacts = project.artifacts if (root / DVC_YAML).is_file() else read_artifacts(root)
    except ConfigError as error:
        problems.extend(_problems_of(error))
        artifacts = {}
    else:
        for name, model in config.models.items():
            declared = artifacts.get(name)
            if declared is None:
                known = ", ".join(sorted(artifacts)) or "none"
                problems.append(
                    Problem(
                        CONFIG_FILE,
                        f"models.{name}",
                        f"model {name!r} is not declared under `artifacts:` in {DVC_YAML} "
                        f"or in {ARTIFACTS_YAML} (declared: {known})",
                    )
                )
            elif declared.path != model.artifact:
                problems.append(
                    Problem(
                        CONFIG_FILE,
                        f"models.{name}.artifact",
                        f"{model.artifact!r} differs from {DVC_YAML} artifacts.{name}.path "
                        f"{declared.path!r}",
                    )
                )

    for name, model in config.models.items():
        if model.card:
            check(model.card, packaged_schema("model_card.schema.json"))
        if model.signature:
            check(model.signature, packaged_schema("signature.schema.json"))
        if model.data_schema:
            check(model.data_schema, packaged_schema("data_schema.schema.json"))
        for index, metrics_file in enumerate(model.metrics):
            if not (root / metrics_file).is_file() and not _dvc_tracked(root, metrics_file):
                problems.append(
                    Problem(
                        CONFIG_FILE,
                        f"models.{name}.metrics[{index}]",
                        f"{metrics_file!r} does not exist (run `dvc repro`?)",
                    )
                )
    return ValidationReport(tuple(checked), tuple(problems))
