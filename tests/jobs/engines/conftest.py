"""The Spark session the engine tests share, set up to survive a loaded machine.

One session per test process, started once and stopped at the end: `make test` hands each test module whole to one
pytest-xdist worker (--dist loadscope), so one worker runs test_spark.py on one JVM, and the standalone cluster of
test_spark_cluster.py (daemons and commands in processes of their own) may run beside it on another.

Its settings come from a spark-defaults.conf in the process's own temporary folder (SPARK_CONF_DIR, read by every
spark-submit this process and its children start), so the presstrust code under test builds its session exactly
as it does for an operator, plus:

- the driver on the loopback interface (no host name to resolve; ports Spark picks are the loopback's), no web UI;
- its scratch files (shuffle, spills) in the process's temporary folder, apart from other workers';
- time-outs for a JVM that gets little CPU for minutes (load 7 on 2 cores): a heartbeat, an RPC or a Python
  worker's connection that is late is not taken for a lost executor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs.engines.spark import session as spark_session

LOCAL_MASTER = "local[2]"

# Spark's defaults are 120 s (network), 10 s (heartbeat) and 15 s (a Python worker's handshake)
PATIENT = {
    "spark.network.timeout": "900s",
    "spark.executor.heartbeatInterval": "60s",
    "spark.python.authenticate.socketTimeout": "300s",
}


def spark_defaults(folder: Path, **settings: str) -> Path:
    """A Spark conf folder in `folder` whose spark-defaults.conf has the loopback, patient settings (+ `settings`)."""
    conf_dir = folder / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    lines = {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        **PATIENT,
        **settings,
    }
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in lines.items()), encoding="utf-8")
    return conf_dir


@pytest.fixture(scope="session")
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """SPARK_CONF_DIR and friends for this process and the commands it starts; the conf folder."""
    root = tmp_path_factory.mktemp("spark")
    local_dir = root / "local"
    local_dir.mkdir()
    conf_dir = spark_defaults(root, **{"spark.local.dir": str(local_dir)})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPARK_CONF_DIR", str(conf_dir))
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        env.setenv("SPARK_LOCAL_DIRS", str(local_dir))
        yield conf_dir


@pytest.fixture(scope="session")
def spark(spark_env: Path) -> Iterator[Any]:
    """The process's Spark session (local[2]), as jobs.engines.spark.session builds it; every Spark test of this
    process runs on it (the stages call session(), which returns it)."""
    reason = spark_session.spark_available()
    if reason:
        pytest.skip(reason)
    started = spark_session.session(LOCAL_MASTER)
    conf = started.sparkContext.getConf()
    for key in ("spark.driver.host", *PATIENT):  # the defaults file was read
        assert conf.get(key) == ({**PATIENT}.get(key) or "127.0.0.1"), key
    yield started
    started.stop()
