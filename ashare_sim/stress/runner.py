"""Where scenarios run: this process, a local process pool, or a Dask distributed cluster.

    with open_runner(workers=2, scheduler=None) as runner:
        for outcome in run_tasks(runner, shared_inputs, tasks):
            ...

All three run the same two functions (stress.scenarios.prepare, run_scenario) and hand back the
same outcomes. The local pool forks its workers from a parent that has read the market, so the
market's pages are shared, not copied (see stress.scenarios.market_for); `--workers 1` runs in this
process. `--scheduler tcp://host:8786` submits to a running Dask scheduler through the real
`distributed.Client`; its workers must see the project, the data directory and the output
directory under the same paths (a shared file system), and read the market once each.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterator

from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.stress.scenarios import (
    Outcome,
    ScenarioTask,
    error_text,
    prepare,
    run_scenario,
)

# Seconds interrupted workers get to clean up before they are ended.
GRACE_SECONDS = 2.0
# Seconds a Dask cluster may have no worker (at the start, or after losing them all) before the grid stops.
NO_WORKERS_SECONDS = 60.0
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """A pool worker ends when its parent does, kill -9 included (Linux): no orphan holds a market's memory."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:          # the parent died before the line above: end now
        os._exit(1)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:               # not Linux
        return os.cpu_count() or 1


class InlineRunner:
    """Runs each task in this process when its result is asked for (--workers 1)."""
    label = "this process"

    def submit(self, fn: Callable, *args: Any) -> Future:
        fut: Future = Future()
        fut.run = lambda: fut.set_result(fn(*args))          # type: ignore[attr-defined]
        return fut

    def value(self, fut: Future) -> Any:
        if not fut.done():
            fut.run()                                          # type: ignore[attr-defined]
        return fut.result()

    def as_completed(self, futures: list[Future]) -> Iterator[Future]:
        for fut in futures:
            self.value(fut)
            yield fut

    def close(self, cancel: bool) -> None:
        pass


class PoolRunner:
    """A local process pool; workers are forked, so they share the parent's market pages."""

    def __init__(self, workers: int):
        self.label = f"{workers} local worker processes"
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                        initializer=_die_with_parent, initargs=(os.getpid(),))

    def submit(self, fn: Callable, *args: Any) -> Future:
        return self.pool.submit(fn, *args)

    def value(self, fut: Future) -> Any:
        return fut.result()

    def as_completed(self, futures: list[Future]) -> Iterator[Future]:
        return as_completed(futures)

    def close(self, cancel: bool) -> None:
        if not cancel:
            self.pool.shutdown(wait=True)
            return
        # Ctrl-C: the workers got the interrupt too and each stops its backtest, removing its staging folder
        # (common.outdir). Tasks already handed to a worker's queue would still start: after a short grace
        # the workers are ended; the caller removes any staging folder one of them had just begun.
        processes = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + GRACE_SECONDS
        for p in processes:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in processes:
            if p.is_alive():
                p.terminate()
                p.join(5)


class DaskRunner:
    """Tasks on a Dask distributed cluster: the real Client, its futures and as_completed."""

    def __init__(self, address: Any):
        from distributed import Client

        try:
            self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UserError(f"--scheduler {address}: cannot reach a Dask scheduler there ({exc.__class__.__name__}: "
                            f"{exc}); start one with `dask scheduler` and workers with `dask worker {address}`") from None
        try:
            self.client.wait_for_workers(1, timeout=NO_WORKERS_SECONDS)
        except (TimeoutError, OSError):
            self.client.close()
            raise UserError(f"--scheduler {address}: the scheduler has no workers (waited {NO_WORKERS_SECONDS:g} s); "
                            f"start some with `dask worker {address}`") from None
        workers = len(self.client.scheduler_info().get("workers", {}))
        self.label = f"Dask scheduler {self.client.scheduler.address} ({workers} workers)"
        self.futures: list = []

    def submit(self, fn: Callable, *args: Any) -> Any:
        fut = self.client.submit(fn, *args, pure=False)
        self.futures.append(fut)
        return fut

    def value(self, fut: Any) -> Any:
        return fut                      # a future passed to submit: Dask hands its result to the task

    def as_completed(self, futures: list) -> Iterator[Any]:
        """Futures as they finish; if the cluster has had no worker for NO_WORKERS_SECONDS, a UserError
        naming how many scenarios did not run (waiting for ever on a cluster with no workers helps nobody)."""
        from distributed import wait

        pending = set(futures)
        idle_since = None
        while pending:
            done, pending = wait(pending, timeout=min(5.0, NO_WORKERS_SECONDS), return_when="FIRST_COMPLETED")
            yield from done
            if done or not pending:
                idle_since = None
                continue
            if self.client.scheduler_info().get("workers"):
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= NO_WORKERS_SECONDS:
                raise UserError(f"the Dask cluster has had no worker for {NO_WORKERS_SECONDS:g} s; {len(pending)} "
                                "scenario(s) did not run: start workers and run the same command again (finished "
                                "scenarios are kept)")

    def close(self, cancel: bool) -> None:
        if cancel and self.futures:
            self.client.cancel(self.futures)
        self.client.close()


@contextlib.contextmanager
def open_runner(workers: int, scheduler: Any = None, tasks: int = 0) -> Iterator[Any]:
    """The runner for --workers / --scheduler; closed (and on an interrupt cancelled) on leaving."""
    if scheduler:
        runner: Any = DaskRunner(scheduler)
    elif min(workers, max(tasks, 1)) <= 1:
        runner = InlineRunner()
    else:
        runner = PoolRunner(min(workers, tasks))
    cancel = True
    try:
        yield runner
        cancel = False
    finally:
        runner.close(cancel)


def run_tasks(runner: Any, shared: dict[str, tuple], tasks: list[ScenarioTask]) -> Iterator[Outcome]:
    """Outcomes of `tasks` as they finish. `shared` maps a shared key to prepare()'s arguments after the key."""
    prepared = {key: runner.submit(prepare, args[0], key, *args[1:]) for key, args in shared.items()}
    handed = {key: runner.value(fut) for key, fut in prepared.items()}
    fatal = [h.fatal for h in handed.values() if getattr(h, "fatal", "")]
    if handed and len(fatal) == len(handed):   # every scenario would fail: one message, not N failures
        raise UserError(fatal[0])
    futures = [runner.submit(run_scenario, task, handed[task.shared]) for task in tasks]
    by_future = dict(zip(map(id, futures), tasks))
    for fut in runner.as_completed(futures):
        task = by_future[id(fut)]
        try:
            outcome = fut.result()
        except Exception as exc:       # the worker itself died (killed, out of memory): the grid goes on
            logger.opt(exception=exc).debug(f"scenario {task.name}: worker failed")
            outcome = Outcome(task.name, "failed", f"worker failed: {error_text(exc)}")
        yield outcome

