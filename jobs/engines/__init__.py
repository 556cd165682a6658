"""Engines: where the per-article work runs. `get_engine` is called once, by the CLI; stages only know the
interface (`jobs.engines.base.Engine`). The Spark engine and pyspark are imported only when it is asked for.

    engine = get_engine("spark", master="spark://head:7077")   # or get_engine("local")
    featurize(con, engine=engine)
"""

from __future__ import annotations

from jobs.engines.base import Engine

ENGINES = ("local", "spark")


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (for Spark: pyspark or a Java runtime is missing; docs/scale-out.md)."""


def engine_unavailable(name: str) -> str | None:
    """None when engine `name` can run here, else why not (for skips and usage errors); imports no engine."""
    if name not in ENGINES:
        return f"unknown engine {name!r} (engines: {', '.join(ENGINES)})"
    if name == "spark":
        from jobs.engines.spark.session import spark_available

        return spark_available()
    return None


def get_engine(name: str, *, master: str | None = None, workers: int | None = None) -> Engine:
    """The engine `name` ("local" or "spark"; `master`: the Spark master URL, default local[2] or spark-submit's;
    `workers`: the local engine's worker processes, default the cores available, ignored by Spark).

    Raises EngineUnavailable when it cannot run here. Creating the Spark engine starts no Spark session: the
    first operation that needs one does."""
    reason = engine_unavailable(name)
    if reason:
        raise EngineUnavailable(reason)
    if name == "spark":
        from jobs.engines.spark import SparkEngine

        return SparkEngine(master)
    from jobs.engines.local import LocalEngine

    return LocalEngine(workers)
