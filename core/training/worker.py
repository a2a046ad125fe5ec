"""The training worker process (started with multiprocessing "spawn" by TrainingService).

A worker imports Keras/TensorFlow and warms them up *before* it reports ready, then waits
for one job, trains it and exits; a fresh worker serves the next run, so no state or
memory carries over between runs. It exits on its own when the process that started it
is gone, so it never outlives the server.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from pathlib import Path
from typing import Any

PARENT_CHECK_S = 1.0


def worker_main(conn: Any, ready: Any, stop: Any, parent_pid: int, warm_up: bool = True) -> None:
    """Process entry. `conn` receives one job: a run directory (or None: exit); `ready` and
    `stop` are multiprocessing Events (ready: imports done; stop: the user asked to stop)."""
    _exit_with_parent(parent_pid)
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
