"""Shared fixtures for unit tests: real data files made from scikit-learn's bundled datasets."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.datafiles import csv_bytes, digits_zip_entries, sklearn_frame, write, zip_bytes


@pytest.fixture
def iris_csv(tmp_path: Path) -> Path:
    """iris.csv: four measurements and a 'species' column with the real names, last."""
    return write(tmp_path / "iris.csv", csv_bytes(sklearn_frame("iris", target="species")))


@pytest.fixture
def digits_zip(tmp_path: Path) -> Path:
    """digits.zip: 'my photos/zero|one|two/*.png', 8 grayscale 8×8 images per class."""
    return write(tmp_path / "digits.zip", zip_bytes(digits_zip_entries()))


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the default caps whatever the machine's environment says."""
    import os

    for key in [k for k in os.environ if k.startswith("LAYERLAB_MAX_")]:
        monkeypatch.delenv(key)


@pytest.fixture(autouse=True)
def _no_weight_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network here: a pretrained backbone's ImageNet weights are never downloaded in a test."""
    monkeypatch.setenv("LAYERLAB_DOWNLOAD_WEIGHTS", "0")
