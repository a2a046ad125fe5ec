"""Helpers for the Train/Evaluate/Export AppTests: trained runs, waiting for a run, downloads."""
from __future__ import annotations

import copy
import time
from pathlib import Path

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from tests.app.apptest import workspace_with_sample

RUN_TIMEOUT_S = 150  # a cold worker imports TensorFlow first; the shared 2-core machine is slow
POLL_S = 0.5


def workspace_with_trained_run(sample: str = "iris", epochs: int = 3, optimizer: dict | None = None):
    """A workspace whose design was trained once, in this process (no worker: fast).

    The run record is built from the run directory the trainer wrote, exactly as the
    Train page builds it from the worker's events; the run is evaluated into
    evaluation.json as the worker does.
    """
    from components.state.runs import SessionRun
    from core.training import train_in_process
    from core.training.events import read_all
    from core.training.rundir import RunDir, write_job

    ws = workspace_with_sample(sample)
    ws.spec.training.update(epochs=epochs, early_stopping_patience=0)
    if optimizer is not None:
        ws.spec.optimizer = optimizer
    run_id = "run1-test"
    run_dir = ws.run_dir(run_id)
    write_job(RunDir(run_dir), ws.spec, ws.dataset)  # what the helper process reads, as the server writes it
    result = train_in_process(ws.spec, ws.dataset, run_dir, evaluate=True)
    run = SessionRun(id=run_id, number=1, spec=ws.spec.to_dict(), run_dir=run_dir, project=copy.deepcopy(ws.spec), dataset=ws.dataset)
    run.absorb(read_all(RunDir(run_dir).events))
    run.update_from(result)
    ws.runs.append(run)
    return ws, result.model


def run_until_ended(at: AppTest, timeout: float = RUN_TIMEOUT_S, until=None) -> AppTest:
    """Rerun the page (AppTest does not fire run_every timers) until the active run ends,
    or until `until(workspace)` holds."""
    ws = at.session_state["workspace"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        at.run()
        assert not at.exception, at.exception
        if until is not None and until(ws):
            return at
        if until is None and ws.active_run is None:
            return at.run()  # the page as drawn after the run ended
    raise AssertionError(f"the training run did not end within {timeout} s: {ws.runs[-1].status if ws.runs else 'no run'}")


class RecordingMediaStorage(MemoryMediaFileStorage):
    """AppTest's in-memory media storage, remembered so a test can read a download's bytes
    (the `downloads` fixture in conftest.py puts it in place)."""

    latest: RecordingMediaStorage | None = None

    def __init__(self, media_endpoint: str) -> None:
        super().__init__(media_endpoint)
        RecordingMediaStorage.latest = self


def download_bytes(at: AppTest, key: str) -> bytes:
    url = at.download_button(key=key).proto.url
    assert url, f"download button {key} has no file"
    return RecordingMediaStorage.latest.get_file(url.rsplit("/", 1)[-1]).content


def load_keras_bytes(data: bytes, folder: Path):
    """Bytes of a .keras download -> a model, the way a user would load the file."""
    import keras

    path = folder / "model.keras"
    path.write_bytes(data)
    return keras.saving.load_model(path)
