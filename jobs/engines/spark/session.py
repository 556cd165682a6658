"""The Spark session presstrust runs on: local[2] by default, a cluster's master, or what spark-submit gives.

pyspark is imported only inside these functions, so `spark_available` answers without it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import time
from typing import Any

from jobs.infra.paths import package_data

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"
ARROW_BATCH_ROWS = 2_000
LOCAL_DRIVER_MEMORY = "3g"  # local mode: the JVM runs the tasks too (Spark's default, 1g, ran out at 200k articles)
PYTHON_ADDRESS_SPACE_MB = 6_144  # address space a Python worker may need (3.8 GB measured on the sample; 8 GB ran)


class SparkUnavailable(RuntimeError):
    """pyspark or a Java runtime is missing: install `presstrust[spark]` and a JRE (docs/scale-out.md)."""


def spark_available() -> str | None:
    """None when Spark can run here, else the reason it cannot (for skips and error messages)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'presstrust[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime (java not on PATH and JAVA_HOME unset)"
    return None


def session(master: str | None = None) -> Any:
    """The process's Spark session (created once; `master` None: local[2] unless spark-submit set one)."""
    reason = spark_available()
    if reason:
        raise SparkUnavailable(reason)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("presstrust")
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # under spark-submit, which sets the master and its settings
    master = master or (None if submitted else DEFAULT_MASTER)
    if master and master.startswith("sc://"):  # Spark Connect (needs pyspark's connect extra)
        builder = builder.remote(master)
    else:
        # executors run this interpreter unless PYSPARK_PYTHON names another (a shipped environment's): right in
        # local mode and where the environment has the same path on every node (Spark's default, python3, is not)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if master:
            builder = builder.master(master)
    if master and master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "8").config(  # a cluster keeps its own settings
            "spark.driver.memory", os.environ.get("PRESSTRUST_SPARK_DRIVER_MEMORY", LOCAL_DRIVER_MEMORY)
        )
        # splits of the text files Spark reads (corroborate) of ~16 MB, or one row group where that is larger
        builder = builder.config("spark.sql.files.maxPartitionBytes", str(16 * 2**20))
        # Spark's own log lines: errors only (jobs/data/spark-log4j2.properties), so a quiet cron run stays quiet
        log4j = package_data("jobs", "data", "spark-log4j2.properties")
        builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j.as_uri()}")
    started = time.perf_counter()
    spark = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # 2,000 articles per Python call: its result frames travel as one binary value each (10,000, Spark's
        # default, made values of tens of MB that ran the JVM out of memory writing them at 200k articles)
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
        .config("spark.ui.showConsoleProgress", "false")  # no progress bars in cron mail
        .config("spark.sql.debug.maxToStringFields", "1000")  # no warning about the width of the feature frames
        .getOrCreate()
    )
    log.debug("spark session %s ready in %.1fs", spark.conf.get("spark.master", "?"), time.perf_counter() - started)
    _check_python_memory(spark)
    return spark


def _check_python_memory(spark: Any) -> None:
    """Warn when spark.executor.pyspark.memory leaves a Python worker less address space than presstrust reserves.

    Spark turns it into an address-space limit (RLIMIT_AS) per Python worker of it over spark.executor.cores;
    polars and pyarrow reserve far more address space than they fill (3.8 GB per worker measured on the sample,
    0.44 GB resident): under the limit, workers fail with "failed to map segment from shared object".
    """
    limit = spark.conf.get("spark.executor.pyspark.memory", None)
    found = re.fullmatch(r"(\d+)([kmgtp]?)(b?)", (limit or "").strip().lower())  # Spark's units; none: MiB
    if not found:
        return
    unit = found[2] or found[3]
    cores = int(spark.conf.get("spark.executor.cores", "1"))
    per_worker = int(found[1]) * {"b": 2**-20, "k": 2**-10, "": 1, "m": 1, "g": 2**10, "t": 2**20, "p": 2**30}[unit]
    per_worker /= cores
    if per_worker < PYTHON_ADDRESS_SPACE_MB:
        log.warning(
            "spark.executor.pyspark.memory=%s over %d cores caps each Python worker's address space at %d MB; "
            "presstrust needs about %d MB: leave it unset or raise it (docs/scale-out.md)",
            limit,
            cores,
            per_worker,
            PYTHON_ADDRESS_SPACE_MB,
        )
