"""The fast scorer: compiled from a fitted Pipeline, then proven against ``predict_proba``.

:func:`compile_fast_path` builds a :class:`FastScorer` from a Pipeline of a
ColumnTransformer and an estimator, scores a probe batch (every category of every
feature, missing and unseen values, each feature's range ends, random records) both
ways, and keeps the scorer only if every probability is bitwise identical. Otherwise,
and outside the supported scikit-learn releases, it says why (:class:`FastPath`), and
the server scores with ``predict_proba`` on a DataFrame: slower, never different.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.serve.fastpath.preprocessing import (
    Categories,
    NumericInput,
    NumericSteps,
    Passthrough,
    category_tables,
    numeric_block,
)
from gitml.serve.fastpath.support import (
    SUPPORTED_SCIKIT_LEARN,
    Fallback,
    NotCompilable,
    scikit_learn_supported,
)
from gitml.serve.fastpath.trees import Forest, forest_of, inner_encoding
from gitml.serve.records import ValidBatch, build_frame

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gitml.signature import Signature

__all__ = ["FAST_MAX_RECORDS", "FastPath", "FastScorer", "compile_fast_path", "probe_batch"]

# Above this many records a HistGradientBoosting model scores faster on the plain path
# (its per-call overhead is spread over the batch, and its tree walk is compiled code).
FAST_MAX_RECORDS = 64
_PROBE_RANDOM_RECORDS = 200
_PROBE_SEED = 20261124

# One step of the ColumnTransformer, as the scorer applies it.
Block = Passthrough | NumericSteps | Categories


@dataclass(frozen=True)
class FastScorer:
    """Probabilities of the positive class straight from validated columns."""

    numeric: tuple[NumericInput, ...]
    blocks: tuple[tuple[Block, int], ...]  # (block, its first output column)
    width: int
    order: tuple[int, ...] | None  # the estimator's column order (HistGradientBoosting)
    forest: Forest | None
    estimator: Any
    positive: int  # the column of predict_proba that holds the positive class
    max_records: int  # larger batches are faster on the plain path

    def matrix(self, columns: Mapping[str, Sequence[Any]], count: int) -> np.ndarray:
        """The estimator's input: what the ColumnTransformer would return."""
        numbers = {f.name: f.column(columns[f.name]) for f in self.numeric}
        out = np.empty((count, self.width), dtype=np.float64)
        for block, start in self.blocks:
            if isinstance(block, Categories):
                block.write(columns, out, start)
            else:
                block.write(numbers, out, start)
        return out

    def predict_proba(self, columns: Mapping[str, Sequence[Any]], count: int) -> np.ndarray:
        """The full ``(count, 2)`` probability matrix, as ``predict_proba`` returns it."""
        matrix = self.matrix(columns, count)
        if self.forest is not None:
            assert self.order is not None
            return self.forest.predict_proba(matrix[:, list(self.order)])
        return np.asarray(self.estimator.predict_proba(matrix))

    def scores(self, batch: ValidBatch) -> list[float]:
        """Positive-class probabilities of a validated batch."""
        return self.predict_proba(batch.columns, batch.count)[:, self.positive].tolist()


def _build(model: Any, signature: Signature) -> FastScorer:
    """A scorer for ``model``; NotCompilable when its shape is one the fast path lacks."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        raise NotCompilable(f"{type(model).__name__} is not a two-step Pipeline")
    (_, transformer), (_, estimator) = model.steps
    if not isinstance(transformer, ColumnTransformer):
        raise NotCompilable(f"first step {type(transformer).__name__}")
    if transformer.sparse_output_:
        raise NotCompilable("the ColumnTransformer's output is sparse")
    output = getattr(transformer, "_sklearn_output_config", {}).get("transform", "default")
    if output != "default":
        raise NotCompilable(f"the ColumnTransformer's output is set to {output!r}")
    if list(getattr(model, "classes_", [])) != [0, 1]:
        raise NotCompilable("the classes are not [0, 1]")
    kinds = {f.name: f.type for f in signature.features}

    is_forest = isinstance(estimator, HistGradientBoostingClassifier)
    outer_names: list[str] = []  # the input feature of each ColumnTransformer output column
    pending = []
    for name, step, columns in transformer.transformers_:
        if step == "drop":
            continue
        names = tuple(columns) if not isinstance(columns, str) else (columns,)
        if not all(isinstance(n, str) and n in kinds for n in names):
            raise NotCompilable(f"ColumnTransformer step {name!r} selects non-feature columns")
        pending.append((name, step, names))
        # For the trees, every step must make one column per feature (passthrough,
        # ordinal codes); the width check below refuses anything else.
        outer_names.extend(names)
    order, inner = inner_encoding(estimator, outer_names) if is_forest else ([], {})

    blocks: list[tuple[Block, int]] = []
    numeric: dict[str, NumericInput] = {}
    for name, step, names in pending:
        target = transformer.output_indices_[name]
        block: Block
        if all(kinds[n] == "category" for n in names):
            block = category_tables(names, step, inner)
            width = sum(table.missing.size for table in block.tables)
        elif all(kinds[n] in ("number", "integer") for n in names):
            block = numeric_block(names, step)
            numeric.update({n: NumericInput(n) for n in names})
            width = len(names) + (len(block.indicator) if isinstance(block, NumericSteps) else 0)
        else:
            raise NotCompilable(f"ColumnTransformer step {name!r} mixes numbers and categories")
        if target.stop - target.start != width:
            raise NotCompilable(f"ColumnTransformer step {name!r} has an unexpected width")
        blocks.append((block, target.start))
    width = sum(s.stop - s.start for s in transformer.output_indices_.values())
    if is_forest and len(order) != width:
        raise NotCompilable("HistGradientBoosting's input width differs")
    return FastScorer(
        numeric=tuple(numeric.values()),
        blocks=tuple(blocks),
        width=width,
        order=tuple(order) if is_forest else None,
        forest=forest_of(estimator) if is_forest else None,
        estimator=estimator,
        positive=1,
        # The tree walk handles records x trees at once: past a few dozen records
        # scikit-learn's compiled walk wins. Other estimators score the matrix with
        # their own code, faster than the DataFrame path at any size.
        max_records=FAST_MAX_RECORDS if is_forest else sys.maxsize,
    )


def probe_batch(signature: Signature, random_records: int = _PROBE_RANDOM_RECORDS) -> ValidBatch:
    """Records that touch every category, missing and unseen values and range ends.

    Column by column, valid for the signature: record ``i`` takes the ``i``-th special
    value of each feature (cycling), then random values in the training range.
    """
    rng = np.random.default_rng(_PROBE_SEED)
    specials: dict[str, list[Any]] = {}
    for feature in signature.features:
        values: list[Any]
        if feature.type == "category":
            values = [*(feature.categories or ()), "never-seen-in-training"]
        else:
            low = feature.min if feature.min is not None else 0.0
            high = feature.max if feature.max is not None else low + 100.0
            values = [low, high, (low + high) / 2, low - 1, high + 1]
            if feature.type == "integer":
                values = [math.floor(v) for v in values]
        if feature.nullable:
            values.append(None)
        specials[feature.name] = values
    count = max(len(v) for v in specials.values()) + random_records
    columns: dict[str, list[Any]] = {}
    for feature in signature.features:
        values = list(specials[feature.name])
        for _ in range(count - len(values)):
            if feature.type == "category":
                options = [*(feature.categories or ("a",)), None if feature.nullable else "a"]
                values.append(options[int(rng.integers(len(options)))])
            else:
                low = feature.min if feature.min is not None else 0.0
                high = feature.max if feature.max is not None else low + 100.0
                if feature.nullable and rng.random() < 0.1:
                    values.append(None)
                elif feature.type == "integer":
                    values.append(int(rng.integers(int(low), int(high) + 1)))
                else:
                    values.append(float(rng.uniform(low, high)))
        columns[feature.name] = values[:count]
    return ValidBatch(count=count, columns=columns)


def _bits(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


@dataclass(frozen=True)
class FastPath:
    """How a model's small requests are scored.

    ``scorer`` when the fast path is active. Otherwise it is None, every request is
    scored with ``predict_proba``, ``fallback`` names why and ``detail`` says it in words.
    """

    scorer: FastScorer | None
    fallback: Fallback | None = None
    detail: str = ""


def compile_fast_path(model: Any, signature: Signature, *, enabled: bool = True) -> FastPath:
    """The fast path of ``model``: its scorer once proven bit-identical, or why not.

    Never raises: whatever goes wrong here leaves the model on the plain path, which
    is slower but computes the same probabilities.
    """
    if not enabled:
        return FastPath(None, Fallback.DISABLED, "turned off (--no-fast-path)")
    import sklearn

    if not scikit_learn_supported(sklearn.__version__):
        (low_major, low_minor), (high_major, high_minor) = SUPPORTED_SCIKIT_LEARN
        return FastPath(
            None,
            Fallback.SCIKIT_LEARN_VERSION,
            f"scikit-learn {sklearn.__version__} is outside the releases it was checked "
            f"against (>={low_major}.{low_minor},<{high_major}.{high_minor})",
        )
    try:
        scorer = _build(model, signature)
        probe = probe_batch(signature)
        fast = scorer.predict_proba(probe.columns, probe.count)
        plain = np.asarray(model.predict_proba(build_frame(signature, probe)))
    except NotCompilable as exc:
        return FastPath(None, Fallback.MODEL_NOT_COVERED, str(exc))
    except Exception as exc:  # scikit-learn's fitted objects are not what was read
        return FastPath(None, Fallback.COMPILE_ERROR, f"{type(exc).__name__}: {exc}")
    if fast.shape != plain.shape or not np.array_equal(_bits(fast), _bits(plain)):
        return FastPath(
            None,
            Fallback.PROBE_MISMATCH,
            "its probabilities differ from predict_proba's on the probe batch",
        )
    return FastPath(scorer)
