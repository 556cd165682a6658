"""What every benchmark measures with: the machine, a command's wall time and peak memory, a run's counts."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb


def machine() -> str:
    """This machine for BENCHMARKS.md: host, cores, CPU model, memory, Python."""
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB, Python {platform.python_version()}"


_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _tree_rss_mb(pid: int) -> float:
    """Summed RSS of a process and all its descendants (Spark: the driver, its JVM and the Python workers)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


def timed(cmd: list[str]) -> tuple[float, float]:
    """Run a command under its own parent process; return (seconds, peak MB): the peak of the summed RSS of its
    process tree, sampled every 0.2 s (a JVM and worker processes count), or the largest process's peak RSS if
    that is higher."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _MEASURE, *cmd], stdout=subprocess.PIPE, text=True)
    tree = 0.0
    while child.poll() is None:
        tree = max(tree, _tree_rss_mb(child.pid))
        time.sleep(0.2)
    out, _ = child.communicate()
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, cmd)
    return time.perf_counter() - start, max(tree, int(out.strip()) / 1024)


def last_counts(db: Path, job: str) -> dict[str, Any]:
    """runs.counts of the latest run of `job` in a database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT counts FROM runs WHERE job = ? ORDER BY run_id DESC LIMIT 1", [job]).fetchall()
    finally:
        con.close()
    return dict(json.loads(row[0][0]))


def fresh_db(db: Path) -> None:
    """Remove a benchmark database with its write-ahead log and text files."""
    for suffix in ("", ".wal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(db.with_name(f"{db.stem}.texts"), ignore_errors=True)
