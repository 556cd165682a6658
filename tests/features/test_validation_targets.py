"""The detectors against the OLD hand-labelled validation set (tests/fixtures/validation/sentences.csv).

That set (335 sentences, 60 unnamed) was overfit by earlier tuning (issue 10: P 0.98 / R 0.87 after tuning,
P 0.79 / R 0.50 before) and its labels predate ../shared/specs/attribution-and-speculation.md. The detector
targets (unnamed P >= 0.90, R >= 0.85; speculative F1 >= 0.80) are now measured on the development set's
sealed part (`python -m tests.features.measure_detectors`, docs/features.md). Here they are reported, and the
test only guards against falling below the pre-tuning detector on this set (unnamed P 0.75, R 0.50) and
below speculative F1 0.70. Reproduce: `python -m tests.features.measure_detectors --tune --labels
tests/fixtures/validation/sentences.csv --errors`.
"""

from __future__ import annotations

import pytest

from tests.features.measure_detectors import LABELS, measure

pytestmark = pytest.mark.skipif(not LABELS.is_file(), reason="tests/fixtures/validation/sentences.csv not there yet")
GUARDS = {"unnamed_precision": 0.75, "unnamed_recall": 0.50, "speculative_f1": 0.70}


@pytest.fixture(scope="module")
def measured(lexicons):
    return measure(LABELS, lexicons)


def test_unnamed_source_not_below_the_pre_tuning_detector(measured):
    unnamed, _, _ = measured
    assert unnamed.precision >= GUARDS["unnamed_precision"], unnamed.line("unnamed source")
    assert unnamed.recall >= GUARDS["unnamed_recall"], unnamed.line("unnamed source")


def test_speculative_guard(measured):
    _, speculative, _ = measured
    assert speculative.f1 >= GUARDS["speculative_f1"], speculative.line("speculative")
