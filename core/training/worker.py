"""The worker processes (started with multiprocessing "spawn" by the server's services).

A training worker imports Keras/TensorFlow and warms them up *before* it reports ready, then
waits for one job, trains it and exits; a fresh worker serves the next run, so no state or
memory carries over between runs. A helper worker (`task_worker_main`) serves the pages'
small jobs (core.training.tasks) one after the other. Both run at a lower CPU priority than
the web server, so a click is answered while models train, and both exit on their own when
the process that started them is gone, so they never outlive the server.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from pathlib import Path
from typing import Any

PARENT_CHECK_S = 1.0
# os.nice increments: the server (0) first, then the helper that answers a waiting user, then fit
TRAINING_NICENESS = 10
HELPER_NICENESS = 5
TASKS_PER_HELPER = 200  # then the helper exits and a fresh one follows: converters leak a little


def worker_main(conn: Any, ready: Any, stop: Any, parent_pid: int, warm_up: bool = True) -> None:
    """Process entry. `conn` receives one job: a run directory (or None: exit); `ready` and
    `stop` are multiprocessing Events (ready: imports done; stop: the user asked to stop)."""
    _exit_with_parent(parent_pid)
    _lower_priority(TRAINING_NICENESS)
    from core.quiet import import_keras

    import_keras()  # the import is the point: pay it before any job arrives

    import core.build  # noqa: F401  (and LayerLab's own modules the job will need)
    from core.training.trainer import train_job

    if warm_up:
        _warm_up()
    ready.set()
    try:
        job = conn.recv()
    except (EOFError, OSError):  # the service went away before giving us work
        return
    if job is None:
        return
    run_dir = job
    from core.errors import UserError

    try:
        train_job(run_dir, should_stop=stop.is_set)
    except UserError:
        return  # already reported to the page as the run's "failed" end event
    except BaseException:
        _record_crash(Path(run_dir))
        raise


def task_worker_main(conn: Any, ready: Any, parent_pid: int, tasks_per_helper: int = TASKS_PER_HELPER) -> None:
    """Process entry of a helper: answer (task id, op, run dir, args) requests on the duplex
    `conn` with (task id, status, answer, retiring): status "ok" (the answer), "user_error"
    ((code, template, params)) or "bug" (the traceback text). After `tasks_per_helper` tasks the
    last answer says `retiring` and the helper exits; it also exits when the pipe closes."""
    _exit_with_parent(parent_pid)
    _lower_priority(HELPER_NICENESS)
    from core.quiet import import_keras

    import_keras()
    from core.errors import UserError
    from core.training.tasks import run_task

    _silence_native_output()
    ready.set()
    for done in range(1, tasks_per_helper + 1):
        try:
            task_id, op, run_dir, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            status, answer = "ok", run_task(op, run_dir, args)
        except UserError as err:
            status, answer = "user_error", (err.code, err.template, err.params)
        except Exception:
            status, answer = "bug", traceback.format_exc()
        try:
            conn.send((task_id, status, answer, done == tasks_per_helper))
        except (EOFError, OSError):
            return


def _silence_native_output() -> None:
    """The TFLite converter and LiteRT print progress from C++ straight to the process's stdout
    and stderr ("fully_quantize: 0, ...", "Created TensorFlow Lite XNNPACK delegate"): noise in
    the server's log. A helper's answers go through its pipe, a bug's traceback too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _lower_priority(increment: int) -> None:
    try:
        os.nice(increment)
    except (AttributeError, OSError):  # not on this platform, or not allowed: run as we are
        pass


def _exit_with_parent(parent_pid: int) -> None:
    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_S)
            if os.getppid() != parent_pid:
                os._exit(3)  # orphaned: the server is gone, nobody will read our results

    threading.Thread(target=watch, name="layerlab-parent-watch", daemon=True).start()


def _warm_up() -> None:
    """Fit and save a tiny model once so the first real run does not pay Keras's one-off
    setup (tf.function tracing machinery, tf.data, optimizer code, the .keras writer)."""
    import tempfile

    import keras
    import numpy as np

    x = np.zeros((8, 2), dtype="float32")
    y = np.zeros((8,), dtype="int64")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), verbose=0)
    model.predict(x, verbose=0)
    with tempfile.TemporaryDirectory(prefix="layerlab-warm-up-") as tmp:
        model.save(Path(tmp) / "warm-up.keras")


def _record_crash(run_dir: Path) -> None:
    """Keep the traceback of a bug next to the run; the "end" event already says it failed."""
    try:
        (run_dir / "worker_error.txt").write_text(traceback.format_exc(), encoding="utf-8")
    except OSError:
        pass
