"""The political-lean check: do scores follow lean more than the labels do, and do they rank within lean groups?

In the AllSides corpus the low-reliability outlets mostly lean right, so a model can learn lean instead of
reliability. Lean is NEVER a model feature; it is used here only to audit the scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scorer.cv import spearman


def lean_report(
    scores: np.ndarray, labels: np.ndarray, right_share: np.ndarray, *, majority: float = 0.5
) -> dict[str, Any]:
    """Spearman of scores and of labels with right_share; Spearman(scores, labels) within each lean group.

    Groups: outlets whose right-leaning share is > `majority` (majority right) and the others.
    """
    s, y, r = (np.asarray(v, dtype=float) for v in (scores, labels, right_share))
    right = r > majority
    return {
        "rho_scores_right_share": spearman(s, r),
        "rho_labels_right_share": spearman(y, r),
        "n_right": int(right.sum()),
        "n_other": int((~right).sum()),
        "rho_within_right": spearman(s[right], y[right]),
        "rho_within_other": spearman(s[~right], y[~right]),
    }
