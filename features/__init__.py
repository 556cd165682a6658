"""presstrust features: pure Polars functions from articles to per-article reliability signals with evidence.

Entry point: `features.pipeline.article_features`. See docs/features.md for every feature's definition.
"""
