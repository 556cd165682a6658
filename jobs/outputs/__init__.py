"""Outputs for people and other tools, read from the published snapshot (or a database given with --db):
`explain` and `explain-article`, tables of rows (scores, runs, any SQL), `export`, the HTML `report`, the schema
as Markdown, and the embedded sample copied out. Never writes the database (docs/architecture.md)."""
