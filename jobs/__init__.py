"""presstrust jobs: the Click CLI, orchestration and all I/O (DuckDB, files)."""
