"""presstrust jobs: everything with I/O, by role (docs/architecture.md): `cli` (the command line), `stages` (the
pipeline's jobs), `engines` (where per-article work runs), `readers` (input files), `store` (DuckDB, text files,
runs, lock, snapshot), `outputs` (explanations, exports, the report) and `infra` (paths, clock, logs, exit codes)."""
