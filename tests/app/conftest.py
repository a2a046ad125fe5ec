"""AppTest fixtures: a fresh app per test, and downloads read back from memory.

Helpers the tests call are in tests/app/apptest.py and run_helpers.py, data files in
tests/datafiles.py: test modules never import a conftest."""
from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import new_app
from tests.app.run_helpers import RecordingMediaStorage, download_bytes

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def _no_weight_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network here: a pretrained backbone's ImageNet weights are never downloaded in a test."""
    monkeypatch.setenv("LAYERLAB_DOWNLOAD_WEIGHTS", "0")


@pytest.fixture
def app() -> AppTest:
    """The app, not yet run."""
    return new_app()


@pytest.fixture
def downloads(monkeypatch):
    """Lets `download_bytes` read what a download button would send to the browser."""
    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", RecordingMediaStorage)
    return download_bytes
