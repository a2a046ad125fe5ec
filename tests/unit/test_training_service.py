"""TrainingService: runs in warm worker processes, read by polling, stopped, queued, killed.

One service for the module (each worker imports TensorFlow: seconds on this machine). The
tests run in file order so each finds the warm worker the previous run left behind.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from core.spec import ProjectSpec
from core.training import TrainingService
from core.training.worker import TRAINING_NICENESS
from tests.unit.trained_models import sample

WORKER_START_S = 240  # a cold worker on a busy 2-core machine


@pytest.fixture(scope="module")
def service():
    svc = TrainingService(max_concurrent=1)
    yield svc
    svc.shutdown()


def long_spec(epochs: int = 2000) -> ProjectSpec:
    return ProjectSpec.from_dict(
        {
            "layers": [{"type": "Dense", "units": 16, "activation": "relu"}],
            "training": {"epochs": epochs, "batch_size": 4, "seed": 1, "early_stopping_patience": 0},
        }
    )


def wait_until(condition, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def polled(handle):
    handle.poll()  # reads the new events into handle.history / handle.result
    return handle


def load(path: Path):
    import keras

    return keras.saving.load_model(path)


def test_a_warm_worker_starts_at_once_and_stops_on_request(service: TrainingService, tmp_path: Path) -> None:
    iris = sample("iris")
    wait_until(lambda: service.warm, WORKER_START_S, "the warm worker")

    started = time.monotonic()
    handle = service.start(long_spec(), iris, tmp_path / "run")
    assert handle.state == "running" and handle.queue_position is None
    events: list[dict] = []
    wait_until(lambda: events.extend(handle.poll()) or events, 60, "the first event")
    first_event_s = time.monotonic() - started
    wait_until(lambda: events.extend(handle.poll()) or any(e["type"] == "batch" for e in events), 60, "a batch event")
    first_batch_s = time.monotonic() - started
    print(f"\nwarm worker: first event after {first_event_s:.2f} s, first batch event after {first_batch_s:.2f} s")
    assert events[0]["type"] == "start" and events[0]["pid"] != os.getpid()
    # training yields the CPU to the web server: a click is answered while models train
    assert os.getpriority(os.PRIO_PROCESS, events[0]["pid"]) >= os.getpriority(os.PRIO_PROCESS, 0) + TRAINING_NICENESS

    wait_until(lambda: len(polled(handle).history) >= 2, 120, "two epochs")
    handle.stop()
    stop_asked = time.monotonic()
    result = handle.wait(timeout=60)
    print(f"stop honoured after {time.monotonic() - stop_asked:.2f} s")

    assert handle.state == "done"
    assert result.status == "stopped" and "stopped at your request" in result.message
    assert result.best_epoch is not None and len(result.history) >= 2
    probabilities = load(handle.best_model_path).predict(iris.x_test, verbose=0)
    assert probabilities.shape == (len(iris.x_test), 3) and np.isfinite(probabilities).all()


def test_runs_beyond_the_cap_wait_in_line_and_can_be_cancelled(service: TrainingService, tmp_path: Path) -> None:
    iris = sample("iris")
    wait_until(lambda: service.warm, WORKER_START_S, "a new warm worker after the previous run")
    first = service.start(long_spec(), iris, tmp_path / "first")
    second = service.start(long_spec(), iris, tmp_path / "second")
    third = service.start(long_spec(), iris, tmp_path / "third")
    assert first.state == "running"
    assert (second.state, second.queue_position) == ("queued", 1)
    assert (third.state, third.queue_position) == ("queued", 2)

    second.cancel()
    assert second.state == "done" and second.result.status == "stopped"
    assert "cancelled before it started" in second.result.message
    assert third.queue_position == 1

    third.cancel()
    first.stop()
    assert first.wait(timeout=120).status == "stopped"


def test_a_killed_worker_is_reported_and_its_best_model_kept(service: TrainingService, tmp_path: Path) -> None:
    iris = sample("iris")
    wait_until(lambda: service.warm, WORKER_START_S, "a new warm worker after the previous run")
    handle = service.start(long_spec(), iris, tmp_path / "run")
    # wait until the worker has *reported* a saved model (its epoch event), not just until the file
    # appears: the file is written a moment before the event that names its epoch
    wait_until(lambda: len(polled(handle).history) >= 2 and handle.best_model_path and handle._saved_epoch,
               180, "a saved best model")

    os.kill(handle.start_event["pid"], signal.SIGKILL)  # what the kernel's out-of-memory killer does
    result = wait_until(lambda: polled(handle).result, 30, "the run to be reported")

    assert result.status == "failed"
    assert result.message.startswith("The training process stopped unexpectedly (killed by signal 9")
    assert result.message.endswith("The best model so far is kept.")
    assert result.best_epoch is not None and len(result.history) >= 2
    assert load(handle.best_model_path).predict(iris.x_test[:2], verbose=0).shape == (2, 3)


def test_a_run_past_the_servers_hard_limit_is_ended_with_its_model(service: TrainingService, tmp_path: Path, monkeypatch) -> None:
    iris = sample("iris")
    wait_until(lambda: service.warm, WORKER_START_S, "a new warm worker after the previous run")
    monkeypatch.setattr(service, "max_run_seconds", 6.0)
    handle = service.start(long_spec(), iris, tmp_path / "run")
    result = wait_until(lambda: polled(handle).result, 90, "the server to end the run")

    assert result.status == "timeout"
    assert result.message.startswith("The training run took longer than the server allows (6 seconds)")
    assert handle.start_event["pid"] not in service.worker_pids()
    if handle.best_model_path:  # a model is written once training has run long enough to afford it
        assert load(handle.best_model_path).predict(iris.x_test[:2], verbose=0).shape == (2, 3)


def test_a_worker_exits_when_the_server_process_dies(tmp_path: Path) -> None:
    import subprocess
    import sys

    server = (
        "import os, time\n"
        "from core.training import TrainingService\n"
        "svc = TrainingService()\n"
        "while not svc.warm: time.sleep(0.1)\n"
        "print(svc.worker_pids()[0], flush=True)\n"
        "os._exit(0)  # no cleanup at all, like a server that was killed\n"
    )
    done = subprocess.run([sys.executable, "-c", server], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=WORKER_START_S)
    worker_pid = int(done.stdout.split()[-1])

    def gone() -> bool:  # exited (a zombie waiting for its new parent to reap it counts)
        try:
            return Path(f"/proc/{worker_pid}/stat").read_text().split(") ")[1].startswith("Z")
        except (FileNotFoundError, ProcessLookupError):
            return True

    wait_until(gone, 15, "the orphaned worker to exit", interval=0.2)
    assert gone(), f"worker {worker_pid} outlived its server"


def test_a_server_caps_every_run_by_default_and_the_admin_can_change_it(monkeypatch) -> None:
    monkeypatch.delenv("LAYERLAB_MAX_RUN_SECONDS", raising=False)
    capped = TrainingService(keep_warm=False)
    monkeypatch.setenv("LAYERLAB_MAX_RUN_SECONDS", "0")
    uncapped = TrainingService(keep_warm=False)
    monkeypatch.setenv("LAYERLAB_MAX_RUN_SECONDS", "90")
    ninety = TrainingService(keep_warm=False)
    for svc in (capped, uncapped, ninety):
        svc.shutdown()
    assert capped.max_run_seconds == 3600 and uncapped.max_run_seconds is None and ninety.max_run_seconds == 90
