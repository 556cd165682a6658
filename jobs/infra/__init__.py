"""Infrastructure every layer of `jobs` may use: paths of the shipped data, the clock, logging, exit codes, the
terminal (safe text, progress), the code version and failpoints. It imports nothing else of presstrust."""
