"""A small pool of worker processes for the local engine's per-article work (featurize; later claims extraction).

`ordered_map(fn, tasks, workers=N, shared=S)` calls the pure, module-level `fn(S, task)` for every task in N worker
processes and yields the results in task order. Workers are *spawned* (a fresh interpreter each, never a fork of
this process: a forked child would inherit the open DuckDB connection and Polars' thread pool mid-use); each gets
`shared` once, and `POLARS_MAX_THREADS=1` so that N workers use N cores, not N times the machine's. A worker never
touches the parent's database connection: a task carries what it needs (e.g. the path of an immutable text file).

At most `2 * workers` tasks are in flight, so the parent holds a bounded number of results whatever the corpus.
A task that raises, or a worker that dies (killed, out of memory), ends the map with one `WorkerError` naming the
task; the other workers are stopped. With `workers == 1` the tasks run here, one after another, on the same
function: the results are the same.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

WORKER_ENV = {"POLARS_MAX_THREADS": "1", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
"""Set in each worker's environment before it starts (Polars reads its thread count when it is imported)."""
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


class WorkerError(RuntimeError):
    """A task failed in a worker process, or a worker died: the message is one line naming the task."""


def cgroup_cpu_limit(path: Path = CGROUP_CPU_MAX) -> float | None:
    """CPUs the cgroup's quota allows (cgroup v2 `cpu.max`: "<quota> <period>" or "max <period>"), None if unlimited
    or unknown."""
    try:
        fields = path.read_text(encoding="ascii").split()
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def available_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """Cores this process may use: its CPU affinity, capped by the cgroup's CPU quota (rounded up); at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(cpu_max)
    if limit is not None:
        cores = min(cores, math.ceil(limit))
    return max(1, cores)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ while the block runs (the workers it spawns inherit them); the old values after."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_SHARED: list[object] = []  # in a worker: the `shared` value its initializer received


def _init_worker(shared: object) -> None:
    _SHARED.append(shared)


def _call(fn: Callable[[Any, T], R], task: T) -> R:
    return fn(_SHARED[0], task)


def _failure(exc: BaseException, k: int, what: str) -> WorkerError:
    if isinstance(exc, BrokenProcessPool):
        return WorkerError(
            f"a worker process ended abruptly (killed, or out of memory?) while task {k + 1} ({what}) ran"
        )
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return WorkerError(f"task {k + 1} ({what}) failed in a worker: {type(exc).__name__}: {detail}".rstrip(": "))


def ordered_map(
    fn: Callable[[S, T], R],
    tasks: Iterable[T],
    *,
    workers: int,
    shared: S,
    describe: Callable[[T], str] = str,
) -> Iterator[R]:
    """`fn(shared, task)` for each task, in task order, computed by `workers` spawned processes (1: here).

    `fn` must be a module-level function and `shared` and the tasks picklable; `describe(task)` names a task in a
    `WorkerError`. Tasks are taken from `tasks` only as workers free up (at most 2 * workers ahead of the result
    yielded last). Closing the iterator early stops the workers."""
    if workers <= 1:
        for task in tasks:
            yield fn(shared, task)
        return
    todo = iter(tasks)
    with _environment(WORKER_ENV):
        executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(shared,),
        )
        finished = False
        try:
            pending: deque[tuple[T, Future[R]]] = deque()
            k = 0
            while True:
                while len(pending) < 2 * workers and (task := next(todo, _DONE)) is not _DONE:
                    try:
                        pending.append((task, executor.submit(_call, fn, task)))
                    except BrokenProcessPool as exc:  # a worker died before this task was sent: name the oldest
                        raise _failure(exc, k, describe(pending[0][0] if pending else task)) from exc
                if not pending:
                    break
                task, future = pending.popleft()
                try:
                    result = future.result()
                except Exception as exc:
                    raise _failure(exc, k, describe(task)) from exc
                del task, future
                yield result
                k += 1
            finished = True
        finally:
            _stop(executor, finished)


_DONE: Any = object()


def _stop(executor: ProcessPoolExecutor, finished: bool) -> None:
    """Shut the pool down; after a failure or an early close, end its workers now rather than after their tasks."""
    if finished:
        executor.shutdown(wait=True)
        return
    # ProcessPoolExecutor has no public way to stop running workers before Python 3.14 (terminate_workers); its
    # shutdown forgets them, so take them first
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)
