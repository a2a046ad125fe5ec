"""Faults seen from the pages: a stopped, killed or timed-out run leaves a usable session with
a plain status and the best model downloadable; a closed tab's workspace is cleaned up.

One TrainingService for the module (each worker imports TensorFlow: seconds here); the
pages get it in place of the server's shared one.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
import time
import types
import weakref

import numpy as np
import pytest

from components.state.session_cleanup import SessionReaper
from components.state.workspace import Workspace
from tests.app.apptest import exceptions, new_app, open_page, workspace_with_sample
from tests.app.run_helpers import load_keras_bytes, run_until_ended

TRAIN, EXPORT = "pages/train.py", "pages/export.py"
WORKER_START_S = 240  # a cold worker on a busy 2-core machine


@pytest.fixture(scope="module")
def service():
    from core.training import TrainingService

    svc = TrainingService(max_concurrent=2)
    yield svc
    svc.shutdown()


@pytest.fixture
def pages_use(service, monkeypatch):
    """The Train page (and the view it draws with) start runs on the test's service."""
    monkeypatch.setattr("components.state.training_service.get_training_service", lambda: service)
    monkeypatch.setattr("components.state.runs.get_training_service", lambda: service)
    return service


def long_run_workspace(**training) -> Workspace:
    ws = workspace_with_sample("iris")
    ws.spec.training.update(epochs=2000, batch_size=4, early_stopping_patience=0, **training)
    return ws


def start_on_train_page(ws: Workspace):
    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, TRAIN)
    at.button(key="start_training").click().run()
    assert not exceptions(at) and ws.active_run is not None
    return at


def has_saved_epochs(n: int):
    return lambda ws: len(ws.runs[0].history) >= n and ws.runs[0].has_model


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def assert_best_model_downloads(ws: Workspace, downloads, tmp_path) -> None:
    """Export offers the run's kept model, and its bytes load and predict in Keras."""
    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, EXPORT)
    assert not exceptions(at)
    model = load_keras_bytes(downloads(at, "download_keras"), tmp_path)
    probabilities = model.predict(ws.dataset.x_test[:5], verbose=0)
    assert probabilities.shape == (5, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)


def assert_ready_for_another_run(at) -> None:
    assert not at.button(key="start_training").disabled
    assert at.button(key="stop_training").disabled


def test_stop_keeps_the_best_model_and_the_session_can_train_again(pages_use, downloads, tmp_path):
    ws = long_run_workspace()
    at = start_on_train_page(ws)
    assert at.button(key="start_training").disabled  # one run at a time per session
    run_until_ended(at, until=has_saved_epochs(2))
    at.button(key="stop_training").click().run()
    run_until_ended(at, timeout=30)

    run = ws.runs[0]
    assert run.status == "stopped" and run.has_model
    assert at.info[0].value.startswith("Run 1: Training stopped at your request during epoch")
    assert "best model so far" in at.info[0].value
    assert_ready_for_another_run(at)
    assert_best_model_downloads(ws, downloads, tmp_path)


def test_a_killed_worker_is_reported_plainly_and_its_best_model_downloads(pages_use, downloads, tmp_path):
    ws = long_run_workspace()
    at = start_on_train_page(ws)
    run_until_ended(at, until=has_saved_epochs(2))
    os.kill(ws.active_run.start_event["pid"], signal.SIGKILL)  # what the out-of-memory killer does
    run_until_ended(at, timeout=30)

    run = ws.runs[0]
    assert run.status == "failed" and run.has_model
    message = at.error[0].value
    assert message.startswith("Run 1: The training process stopped unexpectedly (killed by signal 9")
    assert message.endswith("The best model so far is kept.")
    assert "Traceback" not in message
    assert ws.dataset is not None and ws.spec is not None  # the session keeps its data and design
    assert_ready_for_another_run(at)
    assert_best_model_downloads(ws, downloads, tmp_path)


def test_the_time_limit_ends_the_run_with_the_best_model(pages_use, downloads, tmp_path):
    wait_until(lambda: pages_use.warm, WORKER_START_S, "a warm worker")
    ws = long_run_workspace(time_limit_s=4.0)
    at = start_on_train_page(ws)
    run_until_ended(at)

    run = ws.runs[0]
    assert run.status == "timeout" and run.has_model
    assert at.warning[0].value.startswith("Run 1: Training reached its time limit of 4 seconds during epoch")
    assert_ready_for_another_run(at)
    assert_best_model_downloads(ws, downloads, tmp_path)


def test_the_servers_run_time_cap_ends_a_run_with_its_best_model(monkeypatch, tmp_path):
    from core.training import TrainingService

    service = TrainingService(max_concurrent=1, max_run_seconds=1e9)  # the admin's LAYERLAB_MAX_RUN_SECONDS
    monkeypatch.setattr("components.state.training_service.get_training_service", lambda: service)
    monkeypatch.setattr("components.state.runs.get_training_service", lambda: service)
    try:
        ws = long_run_workspace()
        at = start_on_train_page(ws)
        run_until_ended(at, until=has_saved_epochs(2))
        service.max_run_seconds = 0.5  # already running for longer: the next check ends it
        run_until_ended(at, timeout=30)
        run = ws.runs[0]
        assert run.status == "timeout" and run.has_model
        assert at.warning[0].value == (
            "Run 1: The training run took longer than the server allows (0.5 seconds) and was ended. "
            "The best model so far is kept."
        )
        assert_ready_for_another_run(at)
    finally:
        service.shutdown()


def test_a_worker_started_during_a_script_run_does_not_run_the_app_script(tmp_path, monkeypatch):
    """Streamlit installs the running script as __main__ (with its __file__) and leaves it there;
    multiprocessing's "spawn" re-runs __main__'s file in every new process before the worker
    starts. Each worker would then run app.py in bare mode: seconds of CPU, a stray Workspace
    folder per worker and "Session state does not function..." in the server log."""
    from core.training import TrainingService

    marker = tmp_path / "app-ran"
    script = tmp_path / "app.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('the app script ran in a worker\\n')\n")
    streamlit_main = types.ModuleType("__main__")
    streamlit_main.__file__ = str(script)  # as streamlit.runtime.scriptrunner.script_runner does
    monkeypatch.setitem(sys.modules, "__main__", streamlit_main)
    service = TrainingService(max_concurrent=1)  # starts its warm worker now
    try:
        wait_until(lambda: service.warm, WORKER_START_S, "a warm worker")
    finally:
        service.shutdown()
    assert not marker.exists(), marker.read_text()


# --- a closed browser tab ---------------------------------------------------------------------


class FakeServer:
    """Which sessions Streamlit has connected, and a clock the test moves."""

    def __init__(self) -> None:
        self.active: set[str] = set()
        self.released: list[str] = []
        self.now = 1000.0

    def reaper(self, grace_s: float = 120.0) -> SessionReaper:
        return SessionReaper(
            is_active=lambda sid: sid in self.active,
            release_files=self.released.append,
            grace_s=grace_s,
            clock=lambda: self.now,
        )


def test_a_closed_tab_has_its_run_killed_and_its_files_removed_after_the_grace_time(service):
    server = FakeServer()
    reaper = server.reaper(grace_s=120)
    ws = long_run_workspace()
    handle = service.start(ws.spec, ws.dataset, ws.run_dir("run1"))
    wait_until(lambda: handle.poll() is not None and handle.start_event is not None, WORKER_START_S, "the run to start")
    ws.active_run = handle
    worker_pid = handle.start_event["pid"]
    dataset = weakref.ref(ws.dataset)
    server.active.add("tab-1")
    reaper.watch("tab-1", ws)

    server.active.discard("tab-1")  # the websocket closed
    assert reaper.sweep() == []
    server.now += 119  # Streamlit would still let the tab reconnect
    assert reaper.sweep() == [] and ws.temp_dir.exists() and handle.state == "running"

    server.now += 2
    assert reaper.sweep() == ["tab-1"]
    wait_until(lambda: not pid_alive(worker_pid), 10, "the worker to exit")
    assert handle.state == "done" and handle.result.status == "stopped"
    assert not ws.temp_dir.exists()
    assert ws.closed and ws.dataset is None and ws.runs == []
    gc.collect()
    assert dataset() is None  # freed although Streamlit may still hold the session (and this workspace)
    assert server.released == ["tab-1"]  # Streamlit's copies of its uploads and downloads too
    assert reaper.watched() == []


def test_a_tab_that_reconnects_in_time_keeps_its_workspace():
    server = FakeServer()
    reaper = server.reaper(grace_s=120)
    ws = workspace_with_sample("iris")
    server.active.add("tab-1")
    reaper.watch("tab-1", ws)
    server.active.discard("tab-1")
    reaper.sweep()
    server.now += 100
    server.active.add("tab-1")  # network blip over: the same session resumes
    reaper.sweep()
    server.now += 500
    assert reaper.sweep() == []
    assert ws.temp_dir.exists() and not ws.closed and ws.dataset is not None
    ws.cleanup()


def test_sessions_never_connected_are_not_watched():
    """AppTest has no websocket: its sessions must never be reaped mid-test."""
    server = FakeServer()
    reaper = server.reaper(grace_s=0)
    ws = workspace_with_sample("iris")
    reaper.watch("apptest", ws)
    assert reaper.sweep() == [] and not ws.closed
    ws.cleanup()


def test_the_reaper_holds_no_workspace_alive():
    server = FakeServer()
    reaper = server.reaper()
    server.active.add("tab-1")
    ws = Workspace()
    folder = ws.temp_dir
    reaper.watch("tab-1", ws)
    del ws
    gc.collect()
    assert reaper.watched() == []
    assert not folder.exists()  # Workspace.__del__ cleaned up when Streamlit let go of it


def test_a_cleaned_up_workspace_is_replaced_by_a_fresh_one_on_the_next_run():
    ws = workspace_with_sample("iris")
    at = new_app()
    at.session_state["workspace"] = ws
    at.run()
    ws.cleanup()
    at.run()
    fresh = at.session_state["workspace"]
    assert fresh is not ws and not fresh.closed and fresh.temp_dir.exists()
    assert not exceptions(at)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child stays a zombie until reaped; its state says it is dead.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:  # reaped in between
        return False
