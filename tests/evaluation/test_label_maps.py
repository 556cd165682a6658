"""Extra training outlets from ordinal label sets (evaluation.label_maps, evaluation.training_sets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.data import EvalSet, subset_eval_set
from evaluation.label_maps import (
    ORDINAL_SOURCES,
    apply_level_map,
    extra_outlets,
    fit_level_map,
    fitted_maps,
    fold_extras,
    load_levels,
    mapped_labels,
)
from evaluation.report import corpus_groups
from evaluation.training_sets import extras_fold_train
from jobs.readers.outlets import OutletResolver
from scorer.cv import Split

REPORTING = ORDINAL_SOURCES[0]  # MBFC factual reporting, six levels
BALY = ORDINAL_SOURCES[2]  # Baly et al. 2018, low / mixed / high


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(0, 1, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_a_level_map_is_monotone_and_inside_the_labels(pairs: list[tuple[int, float]]) -> None:
    ranks = np.array([p[0] for p in pairs], dtype=float)
    y = np.array([p[1] for p in pairs])
    level_map = fit_level_map(ranks, y, 6)
    assert np.all(np.diff(level_map) >= -1e-12)
    assert y.min() - 1e-12 <= level_map.min() and level_map.max() <= y.max() + 1e-12


def test_a_level_map_is_the_mean_label_of_each_level_when_in_order() -> None:
    ranks = np.array([0, 0, 1, 1, 2, 2])
    y = np.array([0.1, 0.3, 0.4, 0.6, 0.8, 1.0])
    assert fit_level_map(ranks, y, 3) == pytest.approx([0.2, 0.5, 0.9])


def test_levels_missing_in_training_are_interpolated_or_take_the_nearest_end() -> None:
    # only levels 1 and 3 of 0..5 are seen: 2 lies between them, 0 and 4-5 take the nearest seen level
    level_map = fit_level_map(np.array([1, 1, 3, 3]), np.array([0.2, 0.4, 0.7, 0.9]), 6)
    assert level_map == pytest.approx([0.3, 0.3, 0.55, 0.8, 0.8, 0.8])
    assert np.all(np.isnan(fit_level_map(np.array([]), np.array([]), 3)))


def test_out_of_order_levels_are_pooled() -> None:
    level_map = fit_level_map(np.array([0, 1, 2]), np.array([0.2, 0.8, 0.5]), 3)
    assert level_map == pytest.approx([0.2, 0.65, 0.65])


def test_a_fractional_rank_is_interpolated() -> None:
    assert apply_level_map(np.array([0.1, 0.5, 0.9]), np.array([0.5, 2.0])) == pytest.approx([0.3, 0.9])


def _sources() -> dict[str, pl.DataFrame]:
    outlets = [f"o{i}" for i in range(12)] + ["x1", "x2", "x3"]
    ranks = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 1, 4, 5]
    baly = pl.DataFrame({"outlet": ["o0", "o5", "o11", "x1", "x2", "o3", "o8"], "rank": [0.0, 1, 2, 0, 2, 1, 2]})
    return {REPORTING.name: pl.DataFrame({"outlet": outlets, "rank": [float(r) for r in ranks]}), BALY.name: baly}


def _labels() -> dict[str, float]:
    return {f"o{i}": 0.05 + 0.08 * i for i in range(12)}


def test_an_extra_outlet_gets_the_mean_over_the_sources_that_rate_it() -> None:
    sources = _sources()
    maps = fitted_maps(sources, _labels())
    out = mapped_labels(sources, maps, ["x1", "x3", "nobody"])
    reporting = maps[REPORTING.name]
    assert out[0] == pytest.approx((reporting[1] + maps[BALY.name][0]) / 2)
    assert out[1] == pytest.approx(reporting[5])
    assert np.isnan(out[2])


def test_a_source_with_too_few_labelled_outlets_gets_no_map() -> None:
    maps = fitted_maps(_sources(), {"o0": 0.1, "o5": 0.5, "o11": 0.9}, min_overlap=5)
    assert maps == {}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=3, max_size=3))
def test_the_fold_maps_never_see_a_test_outlets_label(test_labels: list[float]) -> None:
    sources, labels = _sources(), _labels()
    test = ["o2", "o7", "o10"]
    reference = fold_extras(sources, labels, ["x1", "x2", "x3"], exclude=test)
    changed = labels | dict(zip(test, test_labels, strict=True))
    assert fold_extras(sources, changed, ["x1", "x2", "x3"], exclude=test) == pytest.approx(reference)


def test_without_the_exclusion_the_test_labels_would_move_the_map() -> None:
    # the check above can fail: the test outlets' labels do reach the map when they are not excluded
    sources, labels = _sources(), _labels()
    moved = labels | {"o10": 0.0, "o11": 0.0}
    assert not np.allclose(fold_extras(sources, labels, ["x3"]), fold_extras(sources, moved, ["x3"]))


def _ev(y: np.ndarray, outlets: list[str]) -> EvalSet:
    n = len(outlets)
    return EvalSet(
        outlets=outlets,
        y=y,
        right_share=np.full(n, np.nan),
        n_articles=np.full(n, 30),
        mbfc_grade=[None] * n,
        main_corpus=["allsides"] * n,
    )


def test_a_fold_trains_on_its_outlets_and_the_extras_labelled_without_its_test_labels() -> None:
    outlets = [f"o{i}" for i in range(12)] + ["x1", "x2", "x3"]
    y = np.r_[np.array(list(_labels().values())), np.full(3, np.nan)]
    ev = _ev(y, outlets)
    extra_idx = np.array([12, 13, 14])
    split = Split(0, 0, np.arange(0, 9), np.array([9, 10, 11]))
    fold_train = extras_fold_train(ev, extra_idx, _sources(), lambda s: dict(zip(ev.outlets, ev.y, strict=True)))
    train, fold_y = fold_train(split)
    assert train.tolist() == [*range(9), 12, 13, 14]
    assert np.all(np.isfinite(fold_y[extra_idx])) and np.isnan(ev.y[12])  # the evaluation set is left alone
    assert fold_y[:12] == pytest.approx(ev.y[:12])
    y2 = y.copy()
    y2[[9, 10, 11]] = 0.0  # other test labels: the extras' labels stay the same
    ev2 = _ev(y2, outlets)
    fold_train2 = extras_fold_train(ev2, extra_idx, _sources(), lambda s: dict(zip(ev2.outlets, ev2.y, strict=True)))
    assert fold_train2(split)[1][extra_idx] == pytest.approx(fold_y[extra_idx])


def test_load_levels_reads_levels_skips_paths_and_unknown_values(tmp_path: Path) -> None:
    path = tmp_path / "mbfc.csv"
    path.write_text(
        "domain,reporting\n"
        "www.example.com,High\n"
        "example.com,mixed\n"  # one outlet, two rows: the median rank
        "example.com/opinion,very-low\n"  # a section, not the outlet
        "other.org,n/a\n"
        "third.net,very-low\n",
        encoding="utf-8",
    )
    out = load_levels(path, REPORTING, OutletResolver.default())
    assert dict(out.iter_rows()) == {"example.com": 3.0, "third.net": 0.0}


def test_extra_outlets_are_unlabelled_rated_and_big_enough() -> None:
    per_outlet = pl.DataFrame(
        {
            "outlet": ["o0", "x1", "x2", "zz"],
            "n": [50, 40, 10, 90],
            "main_corpus": ["allsides", "fakes", "fakes", "pac"],
        }
    )
    out = extra_outlets(_sources(), per_outlet, ["o0"], min_articles=20)
    assert out["outlet"].to_list() == ["x1"]
    assert out.row(0, named=True)[BALY.name] is True


def test_subset_eval_set_keeps_every_field_aligned() -> None:
    ev = _ev(np.array([0.1, 0.2, 0.3]), ["a", "b", "c"])
    ev.corpora = [("allsides",), ("allsides", "pac"), ("fakes",)]
    sub = subset_eval_set(ev, np.array([2, 0]))
    assert sub.outlets == ["c", "a"]
    assert sub.y == pytest.approx([0.3, 0.1])
    assert sub.corpora == [("fakes",), ("allsides",)]


def test_corpus_groups_pool_the_extra_corpora_and_the_pac_outlets() -> None:
    ev = _ev(np.linspace(0.1, 0.9, 5), list("abcde"))
    ev.main_corpus = ["allsides", "allsides", "recovery", "fakes", "fakes"]
    ev.corpora = [("allsides", "pac"), ("allsides",), ("recovery",), ("fakes",), ("fakes",)]
    groups = {name: mask.tolist() for name, mask in corpus_groups(ev)}
    assert groups["extra, all"] == [False, False, True, True, True]
    assert groups["with PAC articles"] == [True, False, False, False, False]
    assert groups["all"] == [True] * 5
    assert sum(1 for name in groups if name.startswith("extra:")) == 2


def test_restrict_outlets_keeps_their_articles_and_renumbers_them() -> None:
    import scipy.sparse as sp

    from evaluation.inputs import Data, restrict_outlets

    ev = _ev(np.array([0.1, np.nan, 0.3]), ["a", "x", "c"])
    counts = sp.csr_matrix(np.arange(10, dtype=float).reshape(5, 2))
    data = Data(
        ev=ev,
        rows=pl.DataFrame({"outlet": ["a", "x", "c"], "n_articles": [2, 1, 2]}),
        cue_features=[],
        cues=pl.DataFrame({"article_id": list("pqrst"), "outlet": ["a", "x", "c", "a", "c"]}),
        counts={"word_body": counts},
        doc_group=np.array([0, 1, 2, 0, 2]),
        article_ids=list("pqrst"),
    )
    sub = restrict_outlets(data, np.array([0, 2]))
    assert sub.ev.outlets == ["a", "c"] and sub.rows["outlet"].to_list() == ["a", "c"]
    assert sub.doc_group.tolist() == [0, 1, 0, 1]
    assert sub.article_ids == list("prst")
    assert sub.counts["word_body"].toarray()[:, 0].tolist() == [0, 4, 6, 8]
    assert set(sub.cues["outlet"]) == {"a", "c"}
