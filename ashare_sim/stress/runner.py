"""Where scenarios run: this process, a local process pool, or a Dask distributed cluster.

    with open_runner(workers=2, scheduler=None) as runner:
        for outcome in run_tasks(runner, shared_inputs, tasks):
            ...

All three run the same two functions (stress.scenarios.prepare, run_scenario) and hand back the
same outcomes. The local pool forks its workers from a parent that has read the market, so the
market's pages are shared, not copied (see stress.scenarios.market_for); `--workers 1` runs in this
process. `--scheduler tcp://host:8786` submits to a running Dask scheduler through the real
`distributed.Client`; its workers must see the project and the data directory under the same paths
(a shared file system), and read the market once each; those that see the output directory too
reuse its finished scenarios.

On a Dask cluster this process alone writes into the output directory: a scenario runs into a folder
of its worker's own scratch space and its files come back with its outcome, to be switched in here
(common.outdir). So a scenario that a cancelled grid could not stop in time, or a worker that was
cut off and runs on, has nothing in the output directory to finish or switch in after the command
has exited: whatever it computes goes back to nobody. Ctrl-C (or SIGTERM) cancels every submitted
future, and a Dask Event named after the run tells the scenarios already running to stop (see
`_stop_when_cancelled`); they report starting and stopping as Dask events, which is how the command
can say which scenarios had started.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from loguru import logger

from ashare_sim.common.errors import UserError
from ashare_sim.common.outdir import output_set
from ashare_sim.stress.scenarios import (
    Outcome,
    ScenarioTask,
    Shared,
    error_text,
    finished,
    prepare,
    run_scenario,
)

# Seconds interrupted workers get to clean up before they are ended.
GRACE_SECONDS = 2.0
# Seconds a Dask cluster may have no worker (at the start, or after losing them all) before the grid stops.
NO_WORKERS_SECONDS = 60.0
# Seconds a cancelled Dask grid waits for the scenarios that had started to say they stopped (only to
# report it: they cannot write into the output directory either way), and at most for a finished one's files.
STOP_SECONDS = 3.0
# Seconds the cancellation's calls to the scheduler may take in all (an unreachable scheduler must not
# hold up an interrupted command).
CANCEL_SECONDS = 10.0
# The Dask event topic scenarios report "started" / "stopped" / "finished" on (one topic for every run:
# the scheduler keeps a bounded log per topic, and a topic is never removed).
TOPIC = "ashare-sim-stress"
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """A pool worker ends when its parent does, kill -9 included (Linux): no orphan holds a market's memory."""
    import ctypes
    import signal

    # The parent may turn SIGTERM into KeyboardInterrupt (stress.run); a worker must still die of it, both
    # from the signal below and from the pool's terminate().
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
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

    def submit_scenario(self, task: ScenarioTask, shared: Any) -> Future:
        return self.submit(run_scenario, task, shared)

    def outcome(self, fut: Future, task: ScenarioTask) -> Outcome:
        return self.value(fut)

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

    def submit_scenario(self, task: ScenarioTask, shared: Any) -> Future:
        return self.submit(run_scenario, task, shared)

    def outcome(self, fut: Future, task: ScenarioTask) -> Outcome:
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


@dataclass
class Cancelled:
    """The scenarios of an interrupted Dask grid whose outcome had not come back, by what became of them.
    Only `kept` ones are in the output directory."""
    kept: list[str] = field(default_factory=list)        # had just finished on their workers: written too
    stopped: list[str] = field(default_factory=list)     # had started; stopped on their workers
    dropped: list[str] = field(default_factory=list)     # had finished on their workers; not written here yet
    running: list[str] = field(default_factory=list)     # had started; not yet stopped when the command exited
    queued: list[str] = field(default_factory=list)      # had not started (or no report of it came in time)

    def text(self) -> str:
        """The interrupt message's account of those not kept: "the other N were cancelled on the Dask
        cluster: ..." ("" when there were none)."""
        total = len(self.stopped) + len(self.dropped) + len(self.running) + len(self.queued)     # not kept
        if not total:
            return ""
        parts = []
        if self.stopped:
            parts.append(f"{len(self.stopped)} started, then stopped on the workers with nothing written "
                         f"({name_list(self.stopped)})")
        if self.dropped:
            parts.append(f"{len(self.dropped)} finished on the workers but not written here "
                         f"({name_list(self.dropped)})")
        if self.running:
            parts.append(f"{len(self.running)} started and still stopping on the workers, never to be written "
                         f"({name_list(self.running)})")
        if self.queued:
            parts.append(f"{len(self.queued)} not started")
        return f"the other {total} were cancelled on the Dask cluster: " + "; ".join(parts)


def name_list(names: list[str], shown: int = 8) -> str:
    """Names for a message: the first `shown`, then how many more."""
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _within(fn: Callable[[], None], deadline: float) -> bool:
    """Run `fn` in a thread until the monotonic `deadline`; False (with a warning) if it had not returned.
    For calls to a Dask scheduler while the command is being interrupted: one that does not answer must
    not keep the command from exiting."""
    thread = threading.Thread(target=fn, name="cancel-stress-grid", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        logger.warning("the Dask scheduler did not answer in time; scenarios running on its workers may run on, "
                       "but nothing of them will be written into the output directory")
    return not thread.is_alive()


class DaskRunner:
    """Tasks on a Dask distributed cluster: the real Client, its futures and as_completed.

    Scenarios run on the workers into the workers' own scratch space; their files come back with the
    outcome and this process switches them into the output directory (module docstring)."""

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
        self.run = uuid.uuid4().hex             # names this grid's cancel event and its scenarios' reports
        self.futures: dict[str, Any] = {}       # key -> every future not yet consumed
        self.tasks: dict[str, ScenarioTask] = {}    # scenario future key -> its task
        self.consumed: set[str] = set()         # scenarios whose outcome this process has (written if new)
        self.cancelled: Optional[Cancelled] = None

    def submit(self, fn: Callable, *args: Any) -> Any:
        fut = self.client.submit(_on_worker, self.run, fn, *args, pure=False)
        self.futures[fut.key] = fut
        return fut

    def submit_scenario(self, task: ScenarioTask, shared: Any) -> Any:
        fut = self.client.submit(_remote_scenario, self.run, task, shared, pure=False)
        self.futures[fut.key] = fut
        self.tasks[fut.key] = task
        return fut

    def value(self, fut: Any) -> Any:
        return fut                      # a future passed to submit: Dask hands its result to the task

    def outcome(self, fut: Any, task: ScenarioTask) -> Outcome:
        """The scenario's outcome, its files switched into task.out first (an error doing so fails the scenario)."""
        try:
            outcome, files = fut.result()
        except Exception:                 # the worker failed: run_tasks records it
            self.consumed.add(task.name)
            raise
        finally:
            # The files are megabytes: the worker keeps them only until they are here.
            self.futures.pop(fut.key, None)
            fut.release()
        if files is not None:
            try:
                write_folder(Path(task.out), files)
            except OSError as exc:
                outcome = Outcome(task.name, "failed", f"writing {task.out}: {error_text(exc)}",
                                  seconds=outcome.seconds)
        self.consumed.add(task.name)        # not before: Ctrl-C while writing leaves it among the cancelled
        return outcome

    def as_completed(self, futures: list) -> Iterator[Any]:
        """Futures as they finish; if the cluster has had no worker for NO_WORKERS_SECONDS, a UserError
        naming how many scenarios did not run (waiting for ever on a cluster with no workers helps nobody)."""
        from distributed import wait

        pending = set(futures)
        idle_since = None
        while pending:
            try:
                done, pending = wait(pending, timeout=min(5.0, NO_WORKERS_SECONDS), return_when="FIRST_COMPLETED")
            except TimeoutError:          # distributed's wait raises when nothing finished in time
                done = set()
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
        try:
            if cancel:
                self.cancelled = self._cancel()
        finally:
            with contextlib.suppress(Exception):
                self.client.close(timeout=CANCEL_SECONDS)

    def _cancel(self) -> Cancelled:
        """Stop the grid: the event tells running tasks to stop and every future is cancelled, but those of
        scenarios already finished on a worker, whose files are then written here (their work is done:
        keeping it spares the next run). The others are sorted by what their workers last reported. The
        calls to the scheduler run in threads given CANCEL_SECONDS in all: a scheduler that does not answer
        leaves the account incomplete, not the command hanging (the output directory is safe either way:
        this process is its only writer)."""
        deadline = time.monotonic() + CANCEL_SECONDS
        futures = list(self.futures.values())
        waiting = [t.name for t in self.tasks.values() if t.name not in self.consumed]
        ready: list = []
        states: dict[str, str] = {}

        def stop() -> None:
            from distributed import Event

            Event(_event_name(self.run), client=self.client).set()
            ready.extend(f for f in futures if f.key in self.tasks and f.status == "finished")
            # Cancelling a task cancels the tasks using its result: the shared inputs stay until the
            # finished scenarios' results are here.
            spared = {f.key for f in ready} | ({f.key for f in futures if f.key not in self.tasks} if ready else set())
            self.client.cancel([f for f in futures if f.key not in spared], force=True)

        def settle() -> None:
            self.client.cancel(futures, force=True)
            states.update(self._states())
            while any(states.get(n) == "started" for n in waiting) and time.monotonic() < settled_by - 0.5:
                time.sleep(0.1)
                states.update(self._states())

        report = Cancelled()
        if _within(stop, deadline):
            for fut in ready:         # here, not in a thread: a write is never left half done at exit
                task = self.tasks[fut.key]
                try:
                    _, files = fut.result(timeout=max(0.1, deadline - time.monotonic()))
                    if files is not None:
                        write_folder(Path(task.out), files)
                    report.kept.append(task.name)
                except Exception as exc:   # kept or not, the cancel goes on
                    logger.debug(f"scenario {task.name}: its finished result could not be kept: {error_text(exc)}")
            settled_by = min(deadline, time.monotonic() + STOP_SECONDS)
            _within(settle, settled_by)
        sorted_out = {"stopped": report.stopped, "finished": report.dropped, "started": report.running}
        for name in waiting:
            if name not in report.kept:
                sorted_out.get(states.get(name, ""), report.queued).append(name)
        return report

    def _states(self) -> dict[str, str]:
        """scenario name -> what its latest attempt last reported; an attempt still "started" on a worker that
        has died is over and left out (the cluster runs such a scenario again elsewhere)."""
        workers = set(self.client.scheduler_info().get("workers", {}))
        attempts: dict[str, dict] = {}
        for stamp, msg in self.client.get_events(TOPIC):
            if isinstance(msg, dict) and msg.get("run") == self.run and msg.get("attempt"):
                attempt = attempts.setdefault(msg["attempt"], {"since": stamp, **msg})
                attempt["state"] = msg.get("state")
        latest: dict[str, str] = {}
        for a in sorted(attempts.values(), key=lambda a: a["since"]):
            if not (a["state"] == "started" and a.get("worker") not in workers):
                latest[a["scenario"]] = a["state"]
        return latest


class ScenarioCancelled(BaseException):
    """Raised inside a task on a Dask worker whose grid was cancelled. A BaseException, so that the task's
    own `except Exception` (run_scenario, prepare) does not take it for a failed scenario."""


def _event_name(run: str) -> str:
    return f"{TOPIC}-cancel-{run}"


def _on_worker(run: str, fn: Callable, *args: Any) -> Any:
    """`fn(*args)` on a Dask worker, stopped when the grid is cancelled (shared inputs)."""
    with _stop_when_cancelled(run):
        return fn(*args)


def _remote_scenario(run: str, task: ScenarioTask, shared: Shared) -> tuple[Outcome, Optional[dict]]:
    """One scenario on a Dask worker: its outcome, and the files of its backtest folder (relative path ->
    bytes, None for a folder) for the client to switch into task.out; None when nothing new was written.
    The backtest is written into the worker's scratch space, never into the output directory."""
    from distributed import get_worker

    worker = get_worker()
    attempt = uuid.uuid4().hex

    def say(state: str) -> None:
        with contextlib.suppress(Exception):     # a report is for the interrupt message only
            worker.log_event(TOPIC, {"run": run, "scenario": task.name, "attempt": attempt, "state": state,
                                     "worker": worker.address})

    say("started")
    try:
        with _stop_when_cancelled(run):
            outcome, files = _scenario_files(task, shared, worker.local_directory)
    except ScenarioCancelled:
        say("stopped")
        raise
    say("finished")
    return outcome, files


def _scenario_files(task: ScenarioTask, shared: Shared, scratch: str) -> tuple[Outcome, Optional[dict]]:
    if finished(Path(task.out), task.inputs):    # a worker that sees the output directory reuses it
        return run_scenario(task, shared), None
    with tempfile.TemporaryDirectory(prefix="ashare-stress-", dir=scratch) as folder:
        mine = replace(task, out=str(Path(folder) / Path(task.out).name))
        outcome = run_scenario(mine, shared)
        written = outcome.status == "ok" and Path(mine.out).is_dir()
        return outcome, (read_folder(Path(mine.out)) if written else None)


@contextlib.contextmanager
def _stop_when_cancelled(run: str) -> Iterator[None]:
    """Raise ScenarioCancelled in this (task) thread when the run's cancel event is set.

    Dask's cancel cannot stop a task that has started: its thread runs on, and the worker takes no new
    task meanwhile. A watcher thread waits on the run's Dask Event and raises the exception in the task's
    thread, which stops at its next Python instruction like a pool worker on Ctrl-C. It can only do so
    while the body runs: leaving, the task takes the watcher's lock, and clears an exception raised a
    moment before that has not surfaced yet, so none escapes into the worker's next task."""
    try:
        from distributed import Event, get_client

        # Resolved here: only a task's thread knows its worker, the watcher's does not.
        event = Event(_event_name(run), client=get_client())
    except Exception:                     # not on a worker with a scheduler to ask: run to the end
        yield
        return
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"inside": True, "raised": False}
    leaving = threading.Event()

    def watch() -> None:
        while not leaving.is_set():
            try:
                fired = event.wait(timeout=2)
            except Exception:             # the scheduler busy or briefly away: ask again
                leaving.wait(1)
                continue
            if fired:
                with lock:
                    if state["inside"]:
                        state["raised"] = True
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target),
                                                                   ctypes.py_object(ScenarioCancelled))
                return

    threading.Thread(target=watch, name="stress-cancel-watch", daemon=True).start()
    try:
        yield
    finally:
        leaving.set()
        with lock:
            state["inside"] = False
            if state["raised"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)
        if state["raised"]:
            raise ScenarioCancelled()


def read_folder(folder: Path) -> dict[str, Optional[bytes]]:
    """Every file of `folder` by its relative path (bytes), and every subfolder (None)."""
    files: dict[str, Optional[bytes]] = {}
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for d in dirs:
            files[(rel / d).as_posix()] = None
        for n in names:
            files[(rel / n).as_posix()] = (Path(root) / n).read_bytes()
    return files


def write_folder(out: Path, files: dict[str, Optional[bytes]]) -> None:
    """A backtest folder read on a worker (read_folder) made the set of `out`, whole or not at all; its run.json
    is written again by output_set from the same keys."""
    files = dict(files)
    manifest = json.loads(files.pop("run.json"))
    meta = {k: v for k, v in manifest.items() if k not in ("tool", "written", "files")}
    with output_set(out, "run.json", meta) as stage:
        for rel, data in sorted(files.items()):
            path = stage / rel
            if data is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)


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
    futures = [runner.submit_scenario(task, handed[task.shared]) for task in tasks]
    by_future = dict(zip(map(id, futures), tasks))
    for fut in runner.as_completed(futures):
        task = by_future[id(fut)]
        try:
            outcome = runner.outcome(fut, task)
        except Exception as exc:       # the worker itself died (killed, out of memory): the grid goes on
            logger.opt(exception=exc).debug(f"scenario {task.name}: worker failed")
            outcome = Outcome(task.name, "failed", f"worker failed: {error_text(exc)}")
        yield outcome

