"""A binary HistGradientBoostingClassifier's trees as flat arrays, walked with numpy.

Every record and every tree are walked at once, following the rules of scikit-learn's
``_predict_from_raw_data`` (NaN and negative categories take the missing side, unseen
categories too), and the leaf values are added in tree order, starting from the
baseline, as ``_raw_predict`` adds them; the model's own loss turns that into
probabilities. Same float64 operations in the same order: the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.serve.fastpath.preprocessing import ordinal_codes
from gitml.serve.fastpath.support import NotCompilable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["Forest", "forest_of", "inner_encoding"]

# scikit-learn's raw categorical values are read as uint8 by the tree walk; an index
# past the last possible code stands for "missing" in the tables below.
_MISSING_SLOT = 256


@dataclass(frozen=True)
class Forest:
    """Every tree of a binary HistGradientBoostingClassifier as flat node arrays.

    Leaves point to themselves, so ``depth`` steps of the walk take every record in
    every tree to its leaf. ``go_left[table, slot]`` is a categorical node's decision
    for category code ``slot`` (``_MISSING_SLOT``: NaN or negative).
    """

    roots: np.ndarray  # (trees,)
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    is_categorical: np.ndarray
    table: np.ndarray  # categorical nodes: row of go_left; others 0
    go_left: np.ndarray  # (tables, 257) bool
    value: np.ndarray
    categorical_columns: np.ndarray  # input columns some categorical node splits on
    depth: int
    baseline: np.ndarray  # (1,) float64
    proba: Callable[[np.ndarray], np.ndarray]  # the model's own loss.predict_proba

    def raw(self, X: np.ndarray) -> np.ndarray:
        """``_raw_predict``: baseline + each tree's leaf value, added in tree order."""
        rows = X.shape[0]
        # Category codes as table slots (only categorical columns: numbers may be huge).
        slots = np.full(X.shape, _MISSING_SLOT, dtype=np.intp)
        codes = X[:, self.categorical_columns]
        present = ~np.isnan(codes) & (codes >= 0)
        # The tree walk reads a categorical value as uint8: truncate the same way.
        slots[:, self.categorical_columns] = np.where(
            present, np.where(present, codes, 0).astype(np.intp) & 0xFF, _MISSING_SLOT
        )
        row = np.arange(rows)[:, None]
        node = np.broadcast_to(self.roots, (rows, self.roots.size))
        for _ in range(self.depth):
            feature = self.feature[node]
            x = X[row, feature]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            categorical = self.is_categorical[node]
            if categorical.any():
                by_table = self.go_left[self.table[node], slots[row, feature]]
                go_left = np.where(categorical, by_table, go_left)
            node = np.where(go_left, self.left[node], self.right[node])
        leaves = self.value[node]
        # raw = zeros + baseline, then += each tree: add.accumulate adds left to right.
        start = np.zeros((rows, 1), dtype=np.float64) + self.baseline
        return np.add.accumulate(np.hstack([start, leaves]), axis=1)[:, -1:]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.proba(self.raw(X))


def _bits_of(bitset: np.ndarray) -> np.ndarray:
    """A scikit-learn bitset (8 x uint32) as 256 bools: value ``v`` is bit ``v % 32`` of
    word ``v // 32``, as its ``in_bitset`` reads it."""
    words = np.ascontiguousarray(bitset, dtype="<u4")
    return np.unpackbits(words.view(np.uint8), bitorder="little").astype(bool)


def forest_of(model: Any) -> Forest:
    """The trees of a fitted binary HistGradientBoostingClassifier, read once."""
    from sklearn.ensemble._hist_gradient_boosting.common import X_BITSET_INNER_DTYPE

    if model.n_trees_per_iteration_ != 1 or len(model.classes_) != 2:
        raise NotCompilable("HistGradientBoostingClassifier with more than two classes")
    if getattr(model, "_in_fit", False):
        raise NotCompilable("HistGradientBoostingClassifier in the middle of fit")
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    if np.dtype(known.dtype) != np.dtype(X_BITSET_INNER_DTYPE):
        raise NotCompilable("unexpected bitset dtype")

    parts: dict[str, list[np.ndarray]] = {
        k: []
        for k in (
            "feature",
            "threshold",
            "missing_left",
            "left",
            "right",
            "is_categorical",
            "table",
            "value",
        )
    }
    tables: list[np.ndarray] = [np.zeros(_MISSING_SLOT + 1, dtype=bool)]  # row 0: unused
    roots = []
    offset = 0
    depth = 0
    for iteration in model._predictors:
        (predictor,) = iteration
        nodes = predictor.nodes
        count = len(nodes)
        own = np.arange(offset, offset + count)
        leaf = nodes["is_leaf"].astype(bool)
        parts["feature"].append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        missing_left = nodes["missing_go_to_left"].astype(bool)
        parts["missing_left"].append(missing_left)
        parts["left"].append(np.where(leaf, own, nodes["left"].astype(np.intp) + offset))
        parts["right"].append(np.where(leaf, own, nodes["right"].astype(np.intp) + offset))
        categorical = nodes["is_categorical"].astype(bool) & ~leaf
        parts["is_categorical"].append(categorical)
        table = np.zeros(count, dtype=np.intp)
        for index in np.flatnonzero(categorical):
            node = nodes[index]
            raw_left = _bits_of(predictor.raw_left_cat_bitsets[node["bitset_idx"]])
            known_bits = _bits_of(known[f_idx_map[node["feature_idx"]]])
            missing_side = bool(node["missing_go_to_left"])
            row = np.full(_MISSING_SLOT + 1, missing_side)  # unknown categories: missing
            row[:_MISSING_SLOT] = raw_left | (~known_bits & missing_side)
            table[index] = len(tables)
            tables.append(row)
        parts["table"].append(table)
        parts["value"].append(nodes["value"].astype(np.float64))
        roots.append(offset)
        offset += count
        depth = max(depth, int(predictor.get_max_depth()))
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    baseline = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(1)
    loss = model._loss
    split_on = arrays["feature"][arrays["is_categorical"]]
    return Forest(
        roots=np.asarray(roots, dtype=np.intp),
        categorical_columns=np.unique(split_on).astype(np.intp),
        go_left=np.vstack(tables),
        depth=depth,
        baseline=baseline,
        proba=loss.predict_proba,
        **arrays,
    )


def inner_encoding(model: Any, outer_names: Sequence[str]) -> tuple[list[int], dict[str, Any]]:
    """HistGradientBoosting's own input layout: column order and category re-encoding.

    With categorical features it keeps a ColumnTransformer (its OrdinalEncoder first,
    then the numeric columns as they are). Returns, for each of its output columns,
    the input column it comes from, and the second encoding per categorical feature.
    """
    width = len(outer_names)
    preprocessor = getattr(model, "_preprocessor", None)
    if preprocessor is None:
        return list(range(width)), {}
    order = [0] * width
    inner: dict[str, Any] = {}
    for name, transformer, mask in preprocessor.transformers_:
        selected = np.asarray(mask)
        sources = np.flatnonzero(selected) if selected.dtype == bool else selected
        if name == "remainder":
            if transformer == "drop" and not len(sources):
                continue
            raise NotCompilable("HistGradientBoosting's preprocessor has a remainder")
        target = preprocessor.output_indices_[name]
        if target.stop - target.start != len(sources):
            raise NotCompilable("HistGradientBoosting's preprocessor changes the width")
        for position, source in enumerate(sources):
            order[target.start + position] = int(source)
        if name == "encoder":
            for position, source in enumerate(sources):
                inner[outer_names[int(source)]] = ordinal_codes(transformer, position)
        elif name != "numerical":
            raise NotCompilable(f"HistGradientBoosting's preprocessor step {name!r}")
    return order, inner
