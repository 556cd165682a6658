"""`--engine spark` on a real Spark standalone cluster (a master and a worker JVM on this machine) vs the local engine.

The cluster commands run as subprocesses, as an operator runs them: a Spark session is one per process, so a
cluster session in this process would be the local[2] session of tests/jobs/engines/test_spark.py, or replace it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from jobs.cli import cli
from jobs.engines.spark import session as spark_session
from jobs.infra import paths

from .conftest import spark_defaults
from .test_spark import INGESTED, PUBLISHED, table

_REASON = spark_session.spark_available()
needs_spark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

START_TIMEOUT = 600  # s for the master and the worker to come up (a JVM: 5-50 s on a busy machine, more at load 7)
COMMAND_TIMEOUT = 900  # s for one presstrust command on the cluster (about 40 s idle)
WRITTEN = {"article_features", "article_evidence", "boilerplate_removed", "story_articles", "stories"}
WRITTEN |= {"outlet_features", "outlet_windows"}
# what ingest, featurize, corroborate and aggregate write
STAGE_TABLES = INGESTED + [q for q in PUBLISHED if q.rsplit(" FROM ", 1)[1] in WRITTEN]
WINDOW = ("--as-of", "2020-12-31", "--window-days", "3650")
COMMANDS = [("ingest", str(paths.SAMPLE_DIR)), ("featurize",), ("corroborate",), ("aggregate", *WINDOW)]


def _wait_for(log: Path, pattern: str, process: subprocess.Popen[bytes], deadline: float) -> re.Match[str]:
    while True:  # looks at least once: a daemon that logged it long ago (the local engine ran meanwhile) is up
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"Spark daemon did not log {pattern!r} (exit code {process.poll()}); {log}:\n{tail}")


@dataclass(frozen=True)
class Cluster:
    url: str
    conf_dir: Path
    work_dir: Path
    worker: subprocess.Popen[bytes]
    worker_log: Path
    deadline: float

    def wait(self) -> None:
        """Until the worker has registered with the master (it starts while the local engine works)."""
        _wait_for(self.worker_log, r"Successfully registered with master", self.worker, self.deadline)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the daemon's process group (a worker's executors are in it), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone master and one worker (2 cores, 2 GB for executors) on 127.0.0.1, on ports they pick."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    if not spark_class.exists():
        pytest.skip(f"pyspark ships no {spark_class}")
    root = tmp_path_factory.mktemp("cluster")
    # spark-defaults.conf, read by the daemons and by the presstrust driver: loopback, patient time-outs (conftest.py)
    conf_dir = spark_defaults(
        root,
        **{
            "spark.master.rest.enabled": "false",  # no fixed REST port 6066
            "spark.executor.memory": "1g",
            "spark.sql.shuffle.partitions": "4",
        },
    )
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_class.parent.parent),
        "SPARK_CONF_DIR": str(conf_dir),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "512m",
    }
    work_dir = root / "work"
    daemons: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = root / f"{name}.log"
        with log.open("wb") as out:
            daemons.append(
                subprocess.Popen(  # noqa: S603 - fixed arguments
                    [str(spark_class), *args], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            )
        return daemons[-1], log

    try:
        deadline = time.monotonic() + START_TIMEOUT
        master, log = start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", "0",
                            "--webui-port", "0")  # fmt: skip
        url = _wait_for(log, r"Starting Spark master at (spark://127\.0\.0\.1:\d+)", master, deadline)[1]
        _wait_for(log, r"I have been elected leader", master, deadline)
        worker, log = start("worker", "org.apache.spark.deploy.worker.Worker", url, "--cores", "2", "--memory", "2g",
                            "--webui-port", "0", "--work-dir", str(work_dir))  # fmt: skip
        yield Cluster(url, conf_dir, work_dir, worker, log, deadline)
    finally:
        for process in reversed(daemons):
            _stop(process)


def _on_cluster(cluster: Cluster, *args: str) -> str:
    """Run one presstrust command with `--engine spark` on the cluster in its own process; its log (stderr)."""
    cluster.wait()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env.update(SPARK_CONF_DIR=str(cluster.conf_dir), SPARK_LOCAL_IP="127.0.0.1")
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "jobs", *args, "--engine", "spark", "--spark-master", cluster.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return done.stderr


@dataclass(frozen=True)
class Engines:
    local: duckdb.DuckDBPyConnection
    cluster: duckdb.DuckDBPyConnection
    logs: list[str]  # the cluster commands' stderr


@pytest.fixture(scope="module")
def engines(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    """The embedded sample ingested, featurized, corroborated and aggregated by the local engine, and by the cluster."""
    root = tmp_path_factory.mktemp("engines")
    local, on_cluster = root / "local.duckdb", root / "cluster.duckdb"

    def here(*args: str) -> None:
        result = CliRunner().invoke(cli, [*args, "-q"], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    for command in COMMANDS:
        here(*command, "--db", str(local))
    logs = [_on_cluster(cluster, *command, "--db", str(on_cluster)) for command in COMMANDS]
    with duckdb.connect(str(local), read_only=True) as a, duckdb.connect(str(on_cluster), read_only=True) as b:
        yield Engines(a, b, logs)


@pytest.mark.spark
@needs_spark
def test_the_stages_ran_on_the_cluster(cluster: Cluster, engines: Engines) -> None:
    """Each command was one application with an executor on the worker, and the Spark paths did the work."""
    ingest_log, featurize_log, corroborate_log, aggregate_log = engines.logs
    assert "spark ingest: 3 files read and normalised (2462 records)" in ingest_log
    assert "spark featurize: 2462 articles" in featurize_log
    assert re.search(r"spark corroborate: \d+ buckets clustered", corroborate_log)
    assert "spark aggregate: 96 outlets" in aggregate_log
    apps = sorted(cluster.work_dir.glob("app-*"))
    assert len(apps) == len(COMMANDS), apps
    assert all((app / "0" / "stderr").exists() for app in apps)  # executor 0 of each application ran here


@pytest.mark.spark
@needs_spark
@pytest.mark.parametrize("query", STAGE_TABLES)
def test_the_cluster_writes_the_local_tables(engines: Engines, query: str) -> None:
    """Bit for bit, as in local mode (tests/jobs/engines/test_spark.py)."""
    local, on_cluster = table(engines.local, query), table(engines.cluster, query)
    assert local.height >= (0 if "ingest_rejects" in query else 3)  # the sample: 3 files, no rejects
    assert_frame_equal(on_cluster, local, check_exact=True)


MEMORY, CORES = "spark.executor.pyspark.memory", "spark.executor.cores"


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({}, False),
        ({MEMORY: "1500m", CORES: "2"}, True),  # failed on the cluster: pyarrow could not be mapped
        ({MEMORY: "16g", CORES: "2"}, False),  # ran (8 GB a worker)
        ({MEMORY: "4g"}, True),  # one core unless set
        ({MEMORY: "8192"}, False),  # MiB without a unit
        ({MEMORY: "8gb", CORES: "1"}, False),
        ({MEMORY: "8589934592b"}, False),  # bytes
        ({MEMORY: "600000kb"}, True),
    ],
)
def test_a_python_memory_cap_below_the_need_is_warned(
    settings: dict[str, str], warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    class Conf:
        def get(self, key: str, default: str | None = None) -> str | None:
            return settings.get(key, default)

    class Spark:
        conf = Conf()

    with caplog.at_level("WARNING", logger="jobs.engines.spark"):
        spark_session._check_python_memory(Spark())
    assert bool(caplog.records) == warned
