"""Readers: input files into canonical records (JSONL, JSON, CSV/TSV, Parquet, WARC), their normalisation, outlet
canonicalisation and label files. No database: imports only `jobs.infra` and `scorer.grades` (docs/architecture.md)."""
