"""Storage: the DuckDB connection and its numbered migrations, the immutable text files, the `runs` table, the
per-database run lock and the published snapshot. Imports only `jobs.infra` (docs/architecture.md)."""
