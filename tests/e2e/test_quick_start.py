"""Demo in a minute (issue 25): from the landing page to a trained model's .keras in a few clicks.

quick_start (the iris sample, its design, the run started, the Train page opened with the
live curves running) → the run ends → download_run_keras under it. The file loads in plain
Keras in a fresh process. bench/quick_start.py times the same walk.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests.e2e.model_check import predict_in_new_process
from uidriver import flows
from uidriver.ui import assert_no_traceback, download, press, widget


def test_quick_start_trains_at_once_and_the_keras_file_is_one_click_away(page: Page, tmp_path: Path) -> None:
    press(page, "quick_start")
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    expect(widget(page, "stop_training").get_by_role("button")).to_be_enabled()  # already training
    assert flows.wait_for_live_points(page, more_than=0).points > 0  # the live curves are drawn
    assert "Run 1: " in flows.wait_run_end(page)
    model_file = download(page, "download_run_keras", tmp_path)
    assert model_file.name == "model.keras"
    assert_no_traceback(page)

    from core.data import load_sample

    dataset = load_sample("iris")
    outputs = predict_in_new_process("keras", model_file, dataset.x_test, tmp_path)
    assert outputs.shape == (len(dataset.x_test), len(dataset.classes))
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-4)  # class probabilities
