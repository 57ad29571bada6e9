"""What the fast path covers, and the names of the reasons a model is scored without it.

The compiler reads fitted scikit-learn objects, some of them through private attributes
(``_predictors``, ``_bin_mapper``, ``_baseline_prediction``, ``_loss``,
``_preprocessor``). Those are not a public contract: a new scikit-learn release may
rename them or change what they hold. The probe check at load time catches a change that
alters a probability on the probe batch, but not one that only shows on records the
probe does not contain, so the fast path is also fenced by the scikit-learn releases it
was checked against.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "SUPPORTED_SCIKIT_LEARN",
    "Fallback",
    "NotCompilable",
    "scikit_learn_supported",
]

# The scikit-learn minor series whose internals the compiler was written and tested
# against, as (major, minor) bounds: at least the first, below the second. This is the
# series constraints.txt pins (1.9.1). To widen it, run tests/test_serve.py on the new
# release: the bit-identity tests there are what the range stands for.
SUPPORTED_SCIKIT_LEARN = ((1, 9), (1, 10))


class Fallback(StrEnum):
    """Why a model's requests are all scored with ``predict_proba`` on a DataFrame.

    The values are the ``reason`` label of ``gitml_serve_fast_path_active``.
    """

    DISABLED = "disabled"  # the operator turned it off (gitml serve --no-fast-path)
    SCIKIT_LEARN_VERSION = "scikit_learn_version"  # outside SUPPORTED_SCIKIT_LEARN
    MODEL_NOT_COVERED = "model_not_covered"  # a model shape the compiler does not know
    PROBE_MISMATCH = "probe_mismatch"  # compiled, but not bit-identical on the probe batch
    COMPILE_ERROR = "compile_error"  # scikit-learn's fitted objects were not as expected


class NotCompilable(Exception):
    """The model has a shape the fast path does not cover (the message says which part)."""


def scikit_learn_supported(version: str) -> bool:
    """Whether ``version`` (``sklearn.__version__``) lies in :data:`SUPPORTED_SCIKIT_LEARN`."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return False
    release = (int(match.group(1)), int(match.group(2)))
    low, below = SUPPORTED_SCIKIT_LEARN
    return low <= release < below
