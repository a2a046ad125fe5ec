"""TrainingService and RunHandle: runs in worker processes, seen from the server.

This side never imports TensorFlow. Each run gets its own worker process (multiprocessing
"spawn": TensorFlow is not fork-safe), so a crash or an out-of-memory in training cannot
take the server down, and the page never blocks on `fit`. Starting a worker costs a new
interpreter and a TensorFlow import (seconds), so one worker is kept warm: imported,
warmed up and waiting. The spare is started while no run is going, because importing
TensorFlow next to a running fit would steal CPU from it.

Progress is read from the run's events.jsonl at the reader's pace; a stop request is a
multiprocessing Event the worker checks before every batch.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import threading
import time
import types
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.training import events as ev
from core.training.outcome import CANCELLED, LOST_WORKER_TEMPLATES, RunResult, render
from core.training.rundir import RunDir, write_job, write_json
from core.training.task_service import TaskService
from core.training.worker import worker_main

MAX_CONCURRENT_ENV = "LAYERLAB_MAX_CONCURRENT_RUNS"
MAX_RUN_SECONDS_ENV = "LAYERLAB_MAX_RUN_SECONDS"
# A 10,000-epoch run must not hold a shared server's training slot forever; 0 in the env = no cap.
DEFAULT_MAX_RUN_SECONDS = 3600
DEFAULT_MAX_CONCURRENT = 2
PUMP_INTERVAL_S = 0.25  # how often the service checks workers and the queue on its own
SPARE_RETRY_S = 30.0  # a spare that died on its own is not restarted more often than this

QUEUED, RUNNING, DONE = "queued", "running", "done"
_MAIN_SWAP_LOCK = threading.Lock()


def default_max_concurrent() -> int:
    """The server's cap on training at once (runs and the app's search trials together): env
    LAYERLAB_MAX_CONCURRENT_RUNS, else 2. The one place that reads it."""
    return max(1, int(os.environ.get(MAX_CONCURRENT_ENV) or DEFAULT_MAX_CONCURRENT))


@contextmanager
def main_script_hidden():
    """Start a spawn child without re-running the parent's __main__ file in it.

    "spawn" re-imports __main__ (by module name or file) in every new process. Under
    Streamlit, __main__ is the app script itself: each worker would run app.py in bare
    mode (seconds of CPU, a stray workspace). The workers need nothing from __main__, so
    it is swapped for an empty module while the child is prepared.
    """
    with _MAIN_SWAP_LOCK:
        real_main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if real_main is not None:
                sys.modules["__main__"] = real_main


class _Worker:
    """One worker process plus the two ends the server keeps: the job pipe and the stop flag."""

    def __init__(self, ctx: Any, warm_up: bool) -> None:
        self.ready = ctx.Event()
        self.stop = ctx.Event()
        receiver, self.conn = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=worker_main,
            args=(receiver, self.ready, self.stop, os.getpid(), warm_up),
            name="layerlab-training-worker",
            daemon=True,  # terminated by multiprocessing when the server exits normally
        )
        with main_script_hidden():
            self.process.start()
        receiver.close()  # the child has its own copy
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def give(self, run_dir: Path) -> None:
        self.conn.send(str(run_dir))

    def kill(self) -> None:
        kill_process(self.process)

    def exit_reason(self) -> str:
        return exit_reason(self.process.exitcode)


def kill_process(process: Any, timeout: float = 5) -> None:
    """End a child process now and reap it (a training worker, a search's trial worker)."""
    if process.is_alive():
        process.kill()
    process.join(timeout=timeout)


def exit_reason(code: int | None) -> str:
    """Why a worker process ended, in words (its exit code or the signal that killed it)."""
    if code is not None and code < 0:
        reason = f"killed by signal {-code}"
        return reason + (", often because the computer ran out of memory" if code == -9 else "")
    return f"exit code {code}"


class RunHandle:
    """One run as the page sees it. Thread-safe; every method except wait() returns at once.

    Lock order: the service's lock before a handle's, never the other way round."""

    slots = 1  # of the service's cap

    def __init__(self, service: TrainingService, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.id = self.run_dir.name
        self._paths = RunDir(run_dir)
        self._service = service
        self._lock = threading.RLock()
        self._reader = ev.EventReader(self._paths.events)
        self._pending: list[dict] = []  # read but not yet returned by poll()
        self._state = QUEUED
        self._worker: _Worker | None = None
        self._end_override: tuple[str, str, dict] | None = None  # (status, reason, params): kill() / server limit
        self.submitted_at = time.monotonic()
        self.started_at: float | None = None  # when a worker took the run
        self.start_event: dict | None = None
        self.last_progress: dict | None = None  # latest "batch" or "epoch" event
        self.history: list[dict[str, float | None]] = []  # per-epoch logs so far
        self.result: RunResult | None = None
        self._saved_epoch: int | None = None  # the epoch whose weights best.keras holds

    # ---- reading -------------------------------------------------------------------------
    def poll(self) -> list[dict]:
        """Events that arrived since the previous poll (never blocks)."""
        self._service.pump()
        with self._lock:
            if self._state == RUNNING:
                self._read()
            new, self._pending = self._pending, []
            return new

    @property
    def state(self) -> str:
        return self._state

    @property
    def queue_position(self) -> int | None:
        """1 for the next run to start; None once it has started."""
        return self._service.queue_position(self)

    @property
    def best_model_path(self) -> Path | None:
        path = self._paths.best_model
        return path if path.exists() else None

    def wait(self, timeout: float | None = None, interval: float = 0.1) -> RunResult | None:
        """Block until the run is done (CLI, tests); the result, or None on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.poll()
            if self._state == DONE:
                return self.result
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(interval)

    # ---- control -------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the run to stop after the current batch, keeping the best weights so far.
        A queued run is removed from the queue instead."""
        self._service.withdraw(self)  # no-op unless still queued
        with self._lock:
            if self._state == RUNNING and self._worker is not None:
                self._worker.stop.set()

    cancel = stop

    def kill(self) -> None:
        """End the run now (session cleanup); best.keras keeps the best model saved so far."""
        self._service.withdraw(self)
        with self._lock:
            if self._state == RUNNING and self._worker is not None:
                self._end_override = (ev.STOPPED, "killed", {})
                self._worker.kill()
                self._finish_if_exited()

    # ---- used by the service (under its lock) ------------------------------------------
    def _assign(self, worker: _Worker) -> None:
        worker.give(self.run_dir)
        with self._lock:
            self._worker = worker
            self._state = RUNNING
            self.started_at = time.monotonic()

    def _withdrawn(self) -> None:
        with self._lock:
            self._conclude(RunResult(status=ev.STOPPED, message=CANCELLED, template=CANCELLED))

    def _check(self, max_run_seconds: float | None) -> bool:
        """True once the worker has exited and the run is concluded."""
        with self._lock:
            if (
                max_run_seconds
                and self.started_at is not None
                and time.monotonic() - self.started_at > max_run_seconds
                and self._state != DONE
                and self._worker is not None
                and self._worker.alive
            ):
                limit = f"{max_run_seconds:g}"
                self._end_override = (ev.TIMEOUT, "server_limit", {"limit": limit})
                self._worker.kill()
            return self._finish_if_exited()

    def _finish_if_exited(self) -> bool:
        worker = self._worker
        if worker is not None and worker.alive:
            return False  # still training, or exiting just after its end event
        if self._state != DONE:
            self._read()  # whatever the worker wrote before it exited, the end event included
        if self._state != DONE and worker is not None:
            self._conclude(self._lost_worker_result(worker))
        self._worker = None  # reaped; drop its pipe and semaphores
        return True

    # ---- internals -----------------------------------------------------------------------
    def _read(self) -> None:
        for event in self._reader.read_new():
            self._pending.append(event)
            kind = event.get("type")
            if kind == "start":
                self.start_event = event
            elif kind == "batch":
                self.last_progress = event
            elif kind == "epoch":
                self.last_progress = event
                self.history.append(event["logs"])
                self._saved_epoch = event.get("saved_epoch")
            elif kind == "end":
                self.result = RunResult.from_json({**event, "history": list(self.history), "best_model_path": self.best_model_path})
                self._state = DONE

    def _lost_worker_result(self, worker: _Worker) -> RunResult:
        """The worker died without an end event: a crash, kill() or the server's time limit."""
        status, reason, params = self._end_override or (ev.FAILED, "crashed", {"reason": worker.exit_reason()})
        with_model, without_model = LOST_WORKER_TEMPLATES[reason]
        template = with_model if self.best_model_path else without_model
        return RunResult(
            status=status,
            message=render(template, params),
            best_epoch=self._saved_epoch if self.best_model_path else None,
            epochs_run=len(self.history),
            history=list(self.history),
            best_model_path=self.best_model_path,
            template=template,
            params=params,
        )

    def _conclude(self, result: RunResult) -> None:
        self.result = result
        self._state = DONE
        event = result.end_event()
        self._pending.append(event)
        try:
            write_json(self._paths.result, result.to_json())
        except OSError:  # the session's folder may already be gone (cleanup)
            pass


class SlotLease:
    """Slots of the service's cap held by work that starts its own processes: a design search's
    trial workers (core.search.handle). Queued first come, first served with the runs; granted
    `slots` = min(wanted, free, cap - 1), at least 1, so that with a cap above 1 a search never
    takes every slot. `start(slots)` (called under the service's lock) starts the work and
    returns its process; the slots come back when that process has exited (its trial workers
    end with it). `stop()` is called once the work has held its slots past the server's
    `max_run_seconds`."""

    def __init__(self, service: TrainingService, wanted: int, start: Any, stop: Any = None) -> None:
        self._service = service
        self.wanted = max(1, int(wanted))
        self._start, self._stop = start, stop
        self.slots = 0
        self.state = QUEUED
        self.process: Any = None
        self.error: BaseException | None = None  # why the work could not start
        self.started_at: float | None = None
        self._stop_sent = False

    @property
    def queue_position(self) -> int | None:
        return self._service.queue_position(self)

    def withdraw(self) -> None:
        """Leave the queue (the work never starts); no-op once granted."""
        self._service.withdraw(self)

    def kill(self) -> None:
        if self.process is not None:
            kill_process(self.process)

    def _grant(self, slots: int) -> None:
        self.slots, self.state, self.started_at = slots, RUNNING, time.monotonic()
        try:
            self.process = self._start(slots)
        except Exception as err:  # noqa: BLE001 - could not start: the slots come back at once
            self.error, self.state = err, DONE

    def _withdrawn(self) -> None:
        self.state = DONE

    def _check(self, max_run_seconds: float | None) -> bool:
        """True once the work's process has exited (its slots are free again)."""
        if self.state == DONE:
            return True
        over = max_run_seconds and self.started_at is not None and time.monotonic() - self.started_at > max_run_seconds
        if over and self._stop is not None and not self._stop_sent:
            self._stop_sent = True
            self._stop()
        if self.process is not None and self.process.is_alive():
            return False
        self.state = DONE
        return True


class TrainingService:
    """Server-wide: runs training jobs in worker processes, at most `max_concurrent` at
    once (then FIFO), keeping one warm worker. Holds no user data beyond the handles.
    Searches take their slots from the same cap (`lease`).

    `tasks` (a TaskService) does the pages' small jobs on finished runs in a helper started on
    demand."""

    def __init__(
        self,
        max_concurrent: int | None = None,
        *,
        keep_warm: bool = True,
        max_run_seconds: float | None = None,
        warm_up: bool = True,
    ) -> None:
        self.max_concurrent = max(1, int(max_concurrent)) if max_concurrent else default_max_concurrent()
        limit = max_run_seconds if max_run_seconds is not None else os.environ.get(MAX_RUN_SECONDS_ENV)
        limit = DEFAULT_MAX_RUN_SECONDS if limit in (None, "") else float(limit)
        self.max_run_seconds = float(limit) if limit > 0 else None
        self.keep_warm = keep_warm
        self._warm_up = warm_up
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._queue: deque[RunHandle | SlotLease] = deque()
        self._running: list[RunHandle | SlotLease] = []
        self._spare: _Worker | None = None
        self._spare_died_at = -SPARE_RETRY_S
        self._closed = threading.Event()
        self.tasks = TaskService()
        self.pump()  # starts the warm worker
        self._thread = threading.Thread(target=self._loop, name="layerlab-training-service", daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)

    def start(self, spec: Any, dataset: Any, run_dir: str | os.PathLike, *,
              weights_file: str | os.PathLike | None = None) -> RunHandle:
        """Queue a run of `spec` (a ProjectSpec) on `dataset` in `run_dir` (created; old results removed);
        `weights_file`: its pretrained backbone's weights when not Keras' cached file (a session's own)."""
        paths = RunDir(run_dir).create().clear_results()
        write_job(paths, spec, dataset, weights_file=weights_file)
        return self._enqueue(RunHandle(self, paths.path))

    def lease(self, wanted: int, start: Any, stop: Any = None) -> SlotLease:
        """Queue a request for up to `wanted` slots (see SlotLease); granted at once when one is free."""
        return self._enqueue(SlotLease(self, wanted, start, stop))

    def _enqueue(self, item: Any) -> Any:
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("the training service has been shut down")
            self._queue.append(item)
        self.pump()
        return item

    @property
    def slots_used(self) -> int:
        """Slots held now by running runs and granted leases."""
        with self._lock:
            return sum(h.slots for h in self._running)

    def queue_position(self, handle: RunHandle | SlotLease) -> int | None:
        with self._lock:
            return self._queue.index(handle) + 1 if handle in self._queue else None

    @property
    def warm(self) -> bool:
        """Whether a worker is imported and waiting, so the next run starts at once."""
        spare = self._spare
        return spare is not None and spare.alive and spare.ready.is_set()

    def worker_pids(self) -> list[int]:
        """Process ids of this service's live workers: the warm spare and the running ones."""
        with self._lock:
            workers = [getattr(h, "_worker", None) for h in self._running] + [self._spare]
            return [w.process.pid for w in workers if w is not None and w.alive]

    def withdraw(self, handle: RunHandle | SlotLease) -> None:
        with self._lock:
            if handle in self._queue:
                self._queue.remove(handle)
                handle._withdrawn()

    def pump(self) -> None:
        """Conclude finished runs, start queued ones, keep a warm worker. Cheap; idempotent."""
        with self._lock:
            if self._closed.is_set():
                return
            self._running = [h for h in self._running if not h._check(self.max_run_seconds)]
            while self._queue and (free := self.max_concurrent - self.slots_used) > 0:
                handle = self._queue.popleft()
                if isinstance(handle, SlotLease):
                    handle._grant(min(handle.wanted, free, max(1, self.max_concurrent - 1)))
                    if handle.state == RUNNING:
                        self._running.append(handle)
                    continue
                worker = self._take_worker()
                try:
                    handle._assign(worker)
                except OSError:  # the spare died after it was checked: its pipe is broken
                    worker.kill()
                    handle._assign(_Worker(self._ctx, self._warm_up))
                self._running.append(handle)
            self._keep_spare()

    def shutdown(self) -> None:
        """End every worker (server exit, tests)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            for handle in list(self._running):
                handle.kill()
            for handle in list(self._queue):
                self.withdraw(handle)
            if self._spare is not None:
                self._spare.kill()
                self._spare = None
        self.tasks.shutdown()

    # ---- internals -----------------------------------------------------------------------
    def _take_worker(self) -> _Worker:
        spare, self._spare = self._spare, None
        if spare is not None and spare.alive:
            return spare
        return _Worker(self._ctx, self._warm_up)

    def _keep_spare(self) -> None:
        if not self.keep_warm:
            return
        if self._spare is not None and not self._spare.alive:
            self._spare.kill()  # reap it
            self._spare = None
            self._spare_died_at = time.monotonic()
        idle = not self._running and not self._queue
        retry_ok = time.monotonic() - self._spare_died_at >= SPARE_RETRY_S
        if self._spare is None and idle and retry_ok:
            self._spare = _Worker(self._ctx, self._warm_up)

    def _loop(self) -> None:
        while not self._closed.wait(PUMP_INTERVAL_S):
            self.pump()
