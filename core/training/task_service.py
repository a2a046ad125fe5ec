"""TaskService: the pages' small model jobs (core.training.tasks), done by helper processes.

This side never imports TensorFlow. A helper is a spawned worker (core.training.worker.
task_worker_main) that imports Keras once and then answers one request after another, so a
"Try it" costs a pipe round trip and a predict, not an import. Requests wait in one priority
queue: a prediction someone is waiting for goes before a file conversion, which goes before
the variants report; equal priorities keep their order. Each helper slot has a thread that
hands it the next request and watches it: a helper that dies (out of memory) or runs past
the task's time limit (counted from the hand-over, start-up included, time in the queue not)
is replaced, and the waiting page gets a plain message.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.training.rundir import RunDir
from core.training.worker import TASKS_PER_HELPER, task_worker_main

HELPERS_ENV = "LAYERLAB_HELPERS"
DEFAULT_HELPERS = 1  # each holds TensorFlow (~0.5 GB); answers take milliseconds to seconds
PRIORITY = {"predict": 0, "backbone_info": 0, "evaluate": 1, "tflite": 2, "serving_zip": 2, "tflite_report": 3}
# from the hand-over to the answer, a fresh helper's start-up included (not the time spent queued)
TIME_LIMIT_S = {"predict": 120, "backbone_info": 120, "evaluate": 300, "tflite": 300, "serving_zip": 300,
                "tflite_report": 600}
POLL_S = 0.1
# A helper holds TensorFlow (~700 MB) and most sessions never need one (the worker evaluates,
# Try it runs in LiteRT): it starts on the first request and is stopped after this long unused.
IDLE_EXIT_S = 300.0
SHUTTING_DOWN = "the server is shutting down"
# a helper's failure, not the model's: asking again may well work (the page offers "Try again")
RETRYABLE = frozenset({"task.helper_stopped", "task.too_slow"})


class Task:
    """One request: `wait()` gives its answer or raises its UserError."""

    def __init__(self, number: int, op: str, run_dir: Path, args: dict[str, Any]) -> None:
        self.number, self.op, self.run_dir, self.args = number, op, run_dir, args
        self.submitted_at = time.monotonic()
        self._done = threading.Event()
        self._answer: Any = None
        self._error: UserError | None = None

    def __lt__(self, other: Task) -> bool:  # queue order: priority, then first come
        return (PRIORITY[self.op], self.number) < (PRIORITY[other.op], other.number)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> Any:
        if not self._done.wait(timeout):
            raise TimeoutError(f"task {self.op} not answered within {timeout} s")
        if self._error is not None:
            raise self._error
        return self._answer

    def _answer_with(self, answer: Any = None, error: UserError | None = None) -> None:
        self._answer, self._error = answer, error
        self._done.set()


class _Helper:
    """One helper process and the server's end of its pipe."""

    def __init__(self, ctx: Any, tasks_per_helper: int) -> None:
        from core.training.service import main_script_hidden

        self.ready = ctx.Event()
        self.conn, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=task_worker_main, args=(child_end, self.ready, os.getpid(), tasks_per_helper),
                                   name="layerlab-helper", daemon=True)
        with main_script_hidden():
            self.process.start()
        child_end.close()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class TaskService:
    """Server-wide; holds no user data beyond the requests in flight."""

    def __init__(self, helpers: int | None = None, *, tasks_per_helper: int = TASKS_PER_HELPER) -> None:
        self.tasks_per_helper = tasks_per_helper
        self.n_helpers = max(1, int(helpers or os.environ.get(HELPERS_ENV) or DEFAULT_HELPERS))
        self._ctx = multiprocessing.get_context("spawn")
        self._requests: queue.PriorityQueue[Task] = queue.PriorityQueue()
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._helpers: list[_Helper | None] = [None] * self.n_helpers
        self._closed = threading.Event()
        self._last_used = [0.0] * self.n_helpers
        self._threads = [threading.Thread(target=self._serve, args=(slot,), name=f"layerlab-helper-{slot}", daemon=True)
                         for slot in range(self.n_helpers)]
        for thread in self._threads:
            thread.start()

    def submit(self, op: str, run_dir: str | os.PathLike, **args: Any) -> Task:
        if op not in PRIORITY:
            raise ValueError(f"unknown task {op!r}")
        if self._closed.is_set():
            raise RuntimeError("the task service has been shut down")
        task = Task(next(self._numbers), op, Path(run_dir), args)
        self._requests.put(task)
        if self._closed.is_set():  # shut down meanwhile, maybe after shutdown() emptied the queue
            self._answer_queued()
        return task

    def run(self, op: str, run_dir: str | os.PathLike, **args: Any) -> Any:
        """Submit and wait for the answer (the page shows a spinner meanwhile)."""
        return self.submit(op, run_dir, **args).wait()

    def pids(self) -> list[int]:
        with self._lock:
            return [h.process.pid for h in self._helpers if h is not None and h.alive]

    def shutdown(self) -> None:
        self._closed.set()
        with self._lock:
            for slot, helper in enumerate(self._helpers):
                if helper is not None:
                    helper.kill()
                self._helpers[slot] = None
        self._answer_queued()

    def _answer_queued(self) -> None:
        while True:  # whoever still waits gets an answer
            try:
                self._requests.get_nowait()._answer_with(error=_stopped(SHUTTING_DOWN))
            except queue.Empty:
                break

    # ---- one thread per helper slot ----------------------------------------------------------
    def _serve(self, slot: int) -> None:
        while not self._closed.is_set():
            try:
                task = self._requests.get(timeout=0.5)
            except queue.Empty:
                self._stop_if_idle(slot)
                continue
            try:
                self._do(slot, task)
            except Exception as err:  # never leave a page waiting, whatever happened here
                if not task.done:
                    reason = SHUTTING_DOWN if self._closed.is_set() else f"{type(err).__name__}: {err}"
                    task._answer_with(error=_stopped(reason))
            finally:
                self._last_used[slot] = time.monotonic()  # idle from the end of a task, however long it took

    def _do(self, slot: int, task: Task) -> None:
        helper = self._helper(slot)
        deadline = time.monotonic() + TIME_LIMIT_S[task.op]  # time spent in the queue is not the helper's
        try:
            in_time = helper is not None and self._send(helper, task, deadline)
        except OSError:  # it died since it was checked: a fresh one takes this one
            with self._lock:
                helper = self._replace(slot)
            in_time = helper is not None and self._send(helper, task, deadline)
        if helper is None:  # shut down: no helper is started any more
            task._answer_with(error=_stopped(SHUTTING_DOWN))
            return
        while in_time and not helper.conn.poll(POLL_S):
            if self._closed.is_set():
                task._answer_with(error=_stopped(SHUTTING_DOWN))
                return
            if not helper.alive and not helper.conn.poll(0):
                task._answer_with(error=self._lost(helper))
                return
            in_time = time.monotonic() <= deadline
        if not in_time:  # past its time limit, before or after taking the request
            with self._lock:
                helper.kill()
            task._answer_with(error=UserError(
                "task.too_slow",
                "This took longer than {limit} seconds, so it was stopped. The server may be busy: try again in a moment.",
                limit=TIME_LIMIT_S[task.op]))
            return
        try:
            number, status, answer, retiring = helper.conn.recv()
        except (EOFError, OSError):
            task._answer_with(error=self._lost(helper))
            return
        if retiring:  # it exits now: its successor starts importing while this answer is read
            with self._lock:
                self._replace(slot)
        if status == "ok":
            task._answer_with(answer)
        elif status == "user_error":
            code, template, params = answer
            task._answer_with(error=UserError(code, template, **params))
        else:  # a bug: keep the traceback next to the run, say it plainly on the page
            _keep_traceback(task.run_dir, answer)
            task._answer_with(error=UserError(
                "task.bug",
                "Something went wrong inside LayerLab while working on this model: {error}. The details were saved "
                "as helper_error.txt in the run's folder. The model itself is not affected.",
                error=answer.strip().splitlines()[-1]))

    @staticmethod
    def _send(helper: _Helper, task: Task, deadline: float) -> bool:
        """Hand `task` to `helper`; False when it had not taken it by `deadline` (it is then killed).
        A request larger than the pipe's buffer (a big CSV's rows) waits until the helper reads it,
        so the send runs in its own thread and a helper that reads nothing cannot hold the slot."""
        failed: list[BaseException] = []

        def send() -> None:
            try:
                helper.conn.send((task.number, task.op, str(task.run_dir), task.args))
            except BaseException as err:  # noqa: BLE001 - raised again below, in the slot's thread
                failed.append(err)

        sender = threading.Thread(target=send, name="layerlab-helper-send", daemon=True)
        sender.start()
        sender.join(max(0.0, deadline - time.monotonic()))
        if sender.is_alive():
            helper.process.kill()  # its end of the pipe closes, so the send ends with a broken pipe
            sender.join()
            return False
        if failed:
            raise failed[0]
        return True

    def _lost(self, helper: _Helper) -> UserError:
        """What a page hears when its helper went away mid-task."""
        return _stopped(SHUTTING_DOWN if self._closed.is_set() else _exit_reason(helper.process))

    def _stop_if_idle(self, slot: int) -> None:
        """Only the slot's own thread talks to its helper, so stopping it here races no request."""
        with self._lock:
            helper = self._helpers[slot]
            if helper is not None and time.monotonic() - self._last_used[slot] > IDLE_EXIT_S:
                helper.kill()
                self._helpers[slot] = None

    def _helper(self, slot: int) -> _Helper | None:
        with self._lock:
            helper = self._helpers[slot]
            return helper if helper is not None and helper.alive else self._replace(slot)

    def _replace(self, slot: int) -> _Helper | None:
        """A fresh helper in `slot` (the caller holds the lock, or is the slot's own thread); None
        once the service is shut down, so no helper outlives shutdown()."""
        old = self._helpers[slot]
        if old is not None:
            old.kill()
        self._helpers[slot] = None if self._closed.is_set() else _Helper(self._ctx, self.tasks_per_helper)
        return self._helpers[slot]


def _stopped(reason: str) -> UserError:
    return UserError(
        "task.helper_stopped",
        "LayerLab's helper process stopped before it finished ({reason}). Try again; if it stops again, "
        "this model may need more memory than the server has.",
        reason=reason)


def _exit_reason(process: Any) -> str:
    from core.training.service import exit_reason

    process.join(timeout=2)  # its pipe closes a moment before the exit code is known
    return exit_reason(process.exitcode)


def _keep_traceback(run_dir: Path, text: str) -> None:
    try:
        RunDir(run_dir).helper_error.write_text(text, encoding="utf-8")
    except OSError:
        pass
