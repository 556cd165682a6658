from __future__ import annotations

import polars as pl
import pytest

import features.pipeline  # noqa: F401  (registers every feature function)
from features.registry import REGISTRY, FeatureSchemaError, FeatureSpec, feature, registry_fingerprint


def test_every_feature_is_registered_with_version_schema_and_one_line_doc():
    names = {spec.name.rsplit(".", 1)[1] for spec in REGISTRY.values()}
    assert {
        "repeated_lines",
        "mark_lines",
        "split_sentences",
        "sentence_attribution",
        "unnamed_source_spans",
        "speculation_cue_matches",
        "article_speculation",
        "article_attribution",
        "article_signals",
        "article_sizes",
        "sentence_signals",
        "evidence",
    } <= names
    for spec in REGISTRY.values():
        assert spec.version and spec.output_schema and "\n" not in spec.doc


def test_declared_schema_is_enforced():
    @feature(version="1", output_schema={"a": pl.Int64})
    def good(frame: pl.LazyFrame) -> pl.LazyFrame:
        """Keep a."""
        return frame.select("a")

    @feature(version="1", output_schema={"a": pl.Int64})
    def bad(frame: pl.LazyFrame) -> pl.LazyFrame:
        """Rename a."""
        return frame.select(pl.col("a").alias("b"))

    frame = pl.LazyFrame({"a": [1]})
    assert good(frame).collect()["a"].to_list() == [1]
    with pytest.raises(FeatureSchemaError):
        bad(frame)
    for f in (good, bad):
        REGISTRY.pop(f"{__name__}.{f.__name__}", None)


def test_adds_columns_checks_input_plus_declared():
    @feature(version="1", output_schema={"b": pl.Int64}, adds_columns=True)
    def add_b(frame: pl.LazyFrame) -> pl.LazyFrame:
        """Add b."""
        return frame.with_columns(pl.lit(1, dtype=pl.Int64).alias("b"))

    out = add_b(pl.LazyFrame({"a": ["x"]}))
    assert out.collect_schema() == pl.Schema({"a": pl.String, "b": pl.Int64})
    REGISTRY.pop(f"{__name__}.add_b", None)


def test_multi_line_docstring_is_refused():
    with pytest.raises(ValueError):

        @feature(version="1", output_schema={"a": pl.Int64})
        def f(frame: pl.LazyFrame) -> pl.LazyFrame:
            """Line one.

            Line two.
            """
            return frame


def test_fingerprint_changes_with_a_version():
    spec = next(iter(REGISTRY.values()))
    specs = dict(REGISTRY)
    before = registry_fingerprint(specs)
    specs[spec.name] = FeatureSpec(spec.name, spec.version + "x", spec.output_schema, spec.func, spec.doc)
    assert registry_fingerprint(specs) != before
    pipeline_specs = {n: s for n, s in REGISTRY.items() if n.split(".")[1] in features.pipeline.PIPELINE_MODULES}
    assert registry_fingerprint(pipeline_specs) == features.pipeline.FEATURE_VERSION
