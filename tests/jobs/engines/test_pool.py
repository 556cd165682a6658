"""jobs/engines/pool.py: the worker pool the local engine maps per-article work over."""

from __future__ import annotations

import os
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.engines.pool import WorkerError, available_cores, cgroup_cpu_limit, ordered_map


def _slow_square(delay: float, k: int) -> int:
    time.sleep(delay * ((7 * k) % 5))  # later tasks often finish first
    return k * k


def _polars_threads(shared: None, k: int) -> tuple[int, int]:
    return pl.thread_pool_size(), os.getpid()


def _fails_on_three(shared: None, k: int) -> int:
    if k == 3:
        raise ValueError("bad input\nsecond line")
    return k


def _exits(shared: None, k: int) -> int:
    if k == 2:
        os._exit(9)  # a worker dying without a Python exception (as when killed)
    time.sleep(0.2)
    return k


def test_results_come_in_task_order_from_several_processes() -> None:
    assert list(ordered_map(_slow_square, list(range(12)), workers=2, shared=0.05)) == [k * k for k in range(12)]


def test_workers_are_separate_processes_with_one_polars_thread() -> None:
    results = list(ordered_map(_polars_threads, list(range(6)), workers=2, shared=None))
    assert {threads for threads, _ in results} == {1}
    assert os.getpid() not in {pid for _, pid in results}
    assert "POLARS_MAX_THREADS" not in os.environ or os.environ["POLARS_MAX_THREADS"] != "1"  # restored here


def test_one_worker_runs_here() -> None:
    results = list(ordered_map(_polars_threads, list(range(3)), workers=1, shared=None))
    assert {pid for _, pid in results} == {os.getpid()}


def test_a_failed_task_is_one_line_naming_it() -> None:
    with pytest.raises(WorkerError) as caught:
        list(ordered_map(_fails_on_three, list(range(8)), workers=2, shared=None, describe=lambda k: f"item {k}"))
    assert str(caught.value) == "task 4 (item 3) failed in a worker: ValueError: bad input"
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_dead_worker_ends_the_map() -> None:
    seen = []
    with pytest.raises(WorkerError, match="ended abruptly"):
        for k in ordered_map(_exits, list(range(20)), workers=2, shared=None):
            seen.append(k)
    assert seen == list(range(len(seen))) and len(seen) < 20


def test_tasks_are_taken_as_workers_free_up() -> None:
    taken = []

    def tasks() -> object:
        for k in range(30):
            taken.append(k)
            yield k

    results = ordered_map(_slow_square, tasks(), workers=2, shared=0.01)
    assert next(results) == 0
    assert len(taken) <= 5  # 2 * workers in flight, plus the one being yielded
    assert list(results) == [k * k for k in range(1, 30)]


def test_closing_early_stops_the_workers() -> None:
    import multiprocessing

    before = {p.pid for p in multiprocessing.active_children()}  # other tests' children in this process
    results = ordered_map(_slow_square, list(range(40)), workers=2, shared=0.1)
    assert next(results) == 0
    started = time.monotonic()
    results.close()
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 10  # a worker the pool was starting as it closed ends on its own, within seconds
    while (left := [p for p in multiprocessing.active_children() if p.pid not in before]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert not left


@pytest.mark.parametrize(
    ("text", "limit"),
    [("max 100000\n", None), ("150000 100000\n", 1.5), ("50000 100000", 0.5), ("garbage", None), ("0 100000", None)],
)
def test_cgroup_cpu_limit(tmp_path: Path, text: str, limit: float | None) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(text)
    assert cgroup_cpu_limit(path) == limit


@settings(max_examples=30, deadline=None)
@given(quota=st.integers(min_value=1, max_value=10**7), period=st.integers(min_value=1, max_value=10**6))
def test_available_cores_is_at_least_one_and_within_quota_and_affinity(quota: int, period: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cpu.max"
        path.write_text(f"{quota} {period}\n")
        cores = available_cores(path)
    assert 1 <= cores <= len(os.sched_getaffinity(0))
    assert cores <= max(1, -(-quota // period))


def test_available_cores_without_a_quota_is_the_affinity(tmp_path: Path) -> None:
    assert available_cores(tmp_path / "absent") == len(os.sched_getaffinity(0))
