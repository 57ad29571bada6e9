"""A fast scorer for small requests that returns exactly what ``predict_proba`` returns.

Scoring one record through the fitted Pipeline costs about 6 ms on our machines, and
almost none of it is arithmetic: pandas column selection, scikit-learn's input
validation in every step, two ColumnTransformers (the Pipeline's and the one
HistGradientBoosting keeps for its categorical features), and one Python call per tree
(250 of them). :func:`compile_fast_path` reads the fitted objects once and builds a
scorer that goes from validated columns (:class:`gitml.serve.records.ValidBatch`)
straight to the numbers:

* the ColumnTransformer's steps become lookup tables and the same float64 arithmetic
  (:mod:`gitml.serve.fastpath.preprocessing`);
* a HistGradientBoostingClassifier's trees are walked for every record and tree at once
  with numpy (:mod:`gitml.serve.fastpath.trees`);
* any other final estimator gets its own ``predict_proba`` on the matrix the
  ColumnTransformer would have built.

Same inputs, same float64 operations in the same order: the probabilities are equal bit
for bit, not approximately. :func:`compile_fast_path` proves it on every load
(:mod:`gitml.serve.fastpath.scorer`) and refuses the fast path unless every probability
of its probe batch is bitwise identical. Models of any other shape (not a Pipeline of a
ColumnTransformer and an estimator, other transformers, multi-class, sparse output...)
get no fast path, and neither does any model under a scikit-learn release outside
:data:`SUPPORTED_SCIKIT_LEARN` (:mod:`gitml.serve.fastpath.support` says why): the
server scores those with the plain ``predict_proba`` on a DataFrame, says so in its log
and in ``gitml_serve_fast_path_active`` on ``/metrics``.
"""

from __future__ import annotations

from gitml.serve.fastpath.scorer import (
    FAST_MAX_RECORDS,
    FastPath,
    FastScorer,
    compile_fast_path,
    probe_batch,
)
from gitml.serve.fastpath.support import (
    SUPPORTED_SCIKIT_LEARN,
    Fallback,
    NotCompilable,
    scikit_learn_supported,
)

__all__ = [
    "FAST_MAX_RECORDS",
    "SUPPORTED_SCIKIT_LEARN",
    "Fallback",
    "FastPath",
    "FastScorer",
    "NotCompilable",
    "compile_fast_path",
    "probe_batch",
    "scikit_learn_supported",
]
