"""The local executor: trial workers on this machine, several trials at once.

Each worker is a spawned process (TensorFlow is not fork-safe) at the training niceness that
imports Keras and reads the search's dataset once, then trains trial after trial (clearing the
Keras session between them) with core.training.trainer.train_in_process: the same run folder,
events and kept-best-epoch rules as every LayerLab run. A worker that crashes fails only its
trial; the next trial gets a fresh worker. Workers ignore Ctrl-C (the driver stops their trial
through the stop flag and keeps what it trained) and exit when the driver is gone.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from pathlib import Path
from typing import Any

from core.training.worker import TRAINING_NICENESS

DONE, CRASHED = "done", "crashed"


def trial_worker_main(conn: Any, stop: Any, parent_pid: int, job_dir: str, threads: int | None = None) -> None:
    """Process entry: read (trial id, project JSON, run folder) jobs from `conn` until None.
    `threads`: TensorFlow's (and OpenMP's) threads, so that parallel trials share the cores
    instead of each taking all of them."""
    from core.training import worker

    if threads:
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(name, str(threads))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker._exit_with_parent(parent_pid)
    worker._lower_priority(TRAINING_NICENESS)
    from core.quiet import import_keras

    keras = import_keras()
    from core.errors import UserError
    from core.spec import ProjectSpec
    from core.training.rundir import RunDir, read_dataset, read_weights_file
    from core.training.trainer import train_in_process

    dataset = read_dataset(RunDir(job_dir))
    weights = read_weights_file(RunDir(job_dir))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        trial_id, spec_json, run_dir = job
        keras.backend.clear_session()
        try:
            train_in_process(ProjectSpec.from_json(spec_json), dataset, run_dir, should_stop=stop.is_set,
                             weights_file=weights)
        except UserError:
            pass  # the run's "failed" end event says why
        except Exception:
            try:
                (Path(run_dir) / "worker_error.txt").write_text(traceback.format_exc(), encoding="utf-8")
            except OSError:
                pass
        try:
            conn.send((DONE, trial_id))
        except (EOFError, OSError):
            return


class _TrialWorker:
    def __init__(self, ctx: Any, job_dir: str, threads: int | None) -> None:
        from core.training.service import main_script_hidden

        self.stop = ctx.Event()
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=trial_worker_main, args=(child, self.stop, os.getpid(), job_dir, threads),
                                   name="layerlab-trial-worker", daemon=True)
        with main_script_hidden():
            self.process.start()
        child.close()
        self.trial_id: int | None = None

    def kill(self) -> None:
        from core.training.service import kill_process

        kill_process(self.process)


class LocalExecutor:
    """`workers` trial workers sharing the job in `job_dir` (core.training.rundir)."""

    def __init__(self, job_dir: str | os.PathLike, workers: int) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._job_dir = str(job_dir)
        workers = max(1, workers)
        # one worker keeps TensorFlow's own choice; several share the cores
        self._threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
        self._workers = [_TrialWorker(self._ctx, self._job_dir, self._threads) for _ in range(workers)]

    def free(self) -> int:
        return sum(1 for w in self._workers if w.trial_id is None)

    def submit(self, trial_id: int, spec: Any, run_dir: str | os.PathLike) -> None:
        worker = next(w for w in self._workers if w.trial_id is None)
        worker.stop.clear()  # the worker is idle: no trial of it can be running
        worker.trial_id = trial_id
        try:
            worker.conn.send((trial_id, spec.to_json(), str(run_dir)))
        except OSError:  # it died while idle: a fresh one takes the trial
            self._replace(worker)
            self.submit(trial_id, spec, run_dir)

    def stop(self, trial_id: int) -> None:
        for w in self._workers:
            if w.trial_id == trial_id:
                w.stop.set()

    def stop_all(self) -> None:
        for w in self._workers:
            if w.trial_id is not None:
                w.stop.set()

    def poll(self) -> list[tuple[str, int, str]]:
        """(DONE | CRASHED, trial id, reason) for each trial whose worker has let go of it."""
        out = []
        for w in list(self._workers):
            if w.trial_id is None:
                if not w.process.is_alive():
                    self._replace(w)
                continue
            try:
                while w.conn.poll():
                    status, trial_id = w.conn.recv()
                    if trial_id == w.trial_id:
                        out.append((DONE, trial_id, ""))
                        w.trial_id = None
            except (EOFError, OSError):
                pass
            if w.trial_id is not None and not w.process.is_alive():
                from core.training.service import exit_reason

                w.process.join(timeout=1)
                out.append((CRASHED, w.trial_id, exit_reason(w.process.exitcode)))
                self._replace(w)
        return out

    def close(self) -> None:
        for w in self._workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in self._workers:  # an idle worker has nothing to save: TensorFlow's slow exit is not waited for
            w.process.join(timeout=1)
            w.kill()

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.is_alive()]

    def _replace(self, worker: _TrialWorker) -> None:
        worker.kill()
        self._workers[self._workers.index(worker)] = _TrialWorker(self._ctx, self._job_dir, self._threads)
