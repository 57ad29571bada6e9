"""Users' projects as they arrive at gitml, built with real git, DVC, DVCLive and GTO.

Each builder makes one repository at ``path`` (its DVC remote, when it has one, beside
it at ``path.parent / "dvc-remote"``, named relatively so a copy of both keeps working)
and returns ``path``. None of them runs ``gitml``: adopting gitml is what the tests do.

The caller provides the isolated environment (``tests.conftest.isolated_environment``):
a git identity, ``main`` as the default branch and DVC kept away from the user's config.
Commit and tag dates come from a :class:`Clock`, so every build has the same history.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Literal

from tests.adoption.gto_project import GTO_MODELS, gto_registry
from tests.adoption.nested_project import nested_install
from tests.adoption.repos import (
    BASE,
    REMOTE,
    Clock,
    assert_remote_complete,
    commit,
    copy_built,
    init_repo,
)
from tests.helpers import dvc, run

HEAD = "pr"
MODEL = "ticket-classifier"
Variant = Literal["git", "cached"]
VARIANTS: tuple[Variant, ...] = ("git", "cached")
SCRIPTS = Path(__file__).resolve().parent / "get_started" / "src"

# The parameter the pull request changes: a richer vocabulary should separate the topics
# better, so every quality metric moves the right way (the test checks the fixture does).
PR_PARAM = ("featurize", "max_features", 12, 120)

PARAMS_YAML = """\
prepare:
  split: 0.25
  seed: 20260101

featurize:
  max_features: {max_features}
  ngrams: 1

train:
  seed: 20260101
  n_est: {n_est}
  min_split: 4
"""

# DVC 3's get-started layout: artifacts, four stages, and TOP-LEVEL metrics and plots
# whose files live inside the evaluate stage's output directory `eval/`.
DVC_YAML = """\
artifacts:
  support-tickets:
    path: data/tickets.tsv
    type: dataset
    desc: Generated support tickets, labelled billing or not
  {model}:
    path: model.pkl
    type: model
    desc: Routes a support ticket to the billing team
    labels:
    - nlp
    - classification
stages:
  prepare:
    cmd: python src/prepare.py data/tickets.tsv data/prepared
    deps:
    - data/tickets.tsv
    - src/prepare.py
    params:
    - prepare.seed
    - prepare.split
    outs:
    - data/prepared
  featurize:
    cmd: python src/featurize.py data/prepared data/features
    deps:
    - data/prepared
    - src/featurize.py
    params:
    - featurize.max_features
    - featurize.ngrams
    outs:
    - data/features
  train:
    cmd: python src/train.py data/features model.pkl
    deps:
    - data/features
    - src/train.py
    params:
    - train.min_split
    - train.n_est
    - train.seed
    outs:
    - model.pkl
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps:
    - data/features
    - model.pkl
    - src/evaluate.py
    outs:
{eval_out}
metrics:
- eval/metrics.json
plots:
- ROC:
    template: simple
    title: ROC, train and test
    x: fpr
    x_label: False positive rate
    y:
      eval/plots/sklearn/roc/train.json: tpr
      eval/plots/sklearn/roc/test.json: tpr
    y_label: True positive rate
- Precision-Recall:
    template: simple
    x: recall
    y:
      eval/plots/sklearn/prc/train.json: precision
      eval/plots/sklearn/prc/test.json: precision
- Confusion-Matrix:
    template: confusion
    x: actual
    y:
      eval/plots/sklearn/cm/train.json: predicted
      eval/plots/sklearn/cm/test.json: predicted
"""

# Variant "git": DVCLive's directory is committed to git (DVC only records its hash);
# variant "cached": it is an ordinary cached output, gitignored, its files in the cache.
EVAL_OUTS: dict[Variant, str] = {
    "git": "    - eval:\n        cache: false",
    "cached": "    - eval",
}

# Words of a generated support ticket. Billing tickets lean on BILLING, others on OTHER;
# both share FILLER, and some labels are flipped, so no vocabulary separates them fully.
BILLING = (
    "invoice refund charge charged card payment subscription receipt billing price "
    "plan vat discount renewal overcharged"
)
OTHER = (
    "password login crash screen upload export slow error install update sync photo "
    "notification dark mode"
)
FILLER = (
    "please help my the account today again cannot why is not working since yesterday "
    "team hello thanks urgent app"
)


def ticket_corpus(rows: int, seed: int) -> str:
    """A TSV of ``rows`` generated support tickets: ``id``, ``billing`` (0/1), ``text``."""
    rng = random.Random(seed)
    lines = ["id\tbilling\ttext"]
    for number in range(rows):
        billing = rng.random() < 0.4
        topical, other = (BILLING, OTHER) if billing else (OTHER, BILLING)
        topical_words, other_words, filler_words = topical.split(), other.split(), FILLER.split()
        words = []
        for _ in range(rng.randint(5, 12)):
            draw = rng.random()
            pool = topical_words if draw < 0.3 else other_words if draw < 0.42 else filler_words
            words.append(rng.choice(pool))
        label = billing if rng.random() > 0.08 else not billing  # mislabelled tickets
        lines.append(f"{number}\t{int(label)}\t{' '.join(words)}")
    return "\n".join(lines) + "\n"


def _write_params(repo: Path, *, max_features: int, n_est: int) -> None:
    (repo / "params.yaml").write_text(PARAMS_YAML.format(max_features=max_features, n_est=n_est))


def get_started(path: Path, variant: Variant) -> Path:
    """A DVC get-started-like text classifier whose evaluation is logged with DVCLive.

    History (commit dates from :class:`Clock`), none of it knowing gitml:

    1. ``main``: the ticket data, added with ``dvc add``;
    2. ``main``: the pipeline (prepare → featurize → train → evaluate) and its first run;
    3. ``main``: more trees, re-run;
    4. ``pr`` (a branch off 3): ``featurize.max_features`` raised, re-run.

    Every DVC output of every commit is pushed to the local remote. ``main`` is checked
    out at the end, its outputs in the workspace.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    clock = Clock()
    repo = init_repo(path)
    (repo / "data").mkdir()
    (repo / "data" / "tickets.tsv").write_text(ticket_corpus(1200, seed=7))
    dvc(repo, "add", "-q", "data/tickets.tsv")
    commit(repo, clock, "Add the labelled support tickets")
    dvc(repo, "push", "-q")

    shutil.copytree(SCRIPTS, repo / "src")
    section, key, before, after = PR_PARAM
    _write_params(repo, max_features=before, n_est=30)
    (repo / "dvc.yaml").write_text(DVC_YAML.format(model=MODEL, eval_out=EVAL_OUTS[variant]))
    dvc(repo, "repro", "-q")
    commit(repo, clock, "Classify tickets: prepare, featurize, train, evaluate")
    dvc(repo, "push", "-q")  # each revision's outputs, as a team pushes after every run

    _write_params(repo, max_features=before, n_est=40)
    dvc(repo, "repro", "-q")
    commit(repo, clock, "Forty trees")
    dvc(repo, "push", "-q")

    run("git", "switch", "-q", "-c", HEAD, cwd=repo)
    _write_params(repo, max_features=after, n_est=40)
    dvc(repo, "repro", "-q")
    commit(repo, clock, f"Raise {section}.{key} to {after}")
    dvc(repo, "push", "-q")
    assert_remote_complete(repo)

    run("git", "switch", "-q", BASE, cwd=repo)
    dvc(repo, "checkout", "-q")
    return repo


__all__ = [
    "BASE",
    "GTO_MODELS",
    "HEAD",
    "MODEL",
    "REMOTE",
    "VARIANTS",
    "Variant",
    "copy_built",
    "get_started",
    "gto_registry",
    "nested_install",
]
