"""Flow 1: sample → template → train (watched live) → evaluate → export, in a real browser.

The same walk through the app takes the README's screenshots, one per page. A plain test
run keeps them under test-artifacts/screenshots/; `make screenshots` sets
LAYERLAB_SCREENSHOTS=docs/screenshots to refresh the committed ones.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests.e2e.model_check import predict_in_new_process
from uidriver import flows
from uidriver.ui import REPO_ROOT, assert_no_traceback, download, go_to, set_number

SAMPLE = "iris"
SAMPLE_CLASSES = 3
TEMPLATE = "Small network"
# One example per step makes each epoch ~100 steps: the run lasts 10-20 s, long enough to
# see the chart grow twice before the end at the page's 2 s refresh, short enough for the
# time budget.
EPOCHS = 40
BATCH_SIZE = 1


def screenshot_folder() -> Path:
    folder = Path(os.environ.get("LAYERLAB_SCREENSHOTS") or REPO_ROOT / "test-artifacts" / "screenshots")
    if not folder.is_absolute():
        folder = REPO_ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page: Page, name: str) -> None:
    """Screenshot of the whole page once it has settled (fonts, tables and charts drawn).

    Streamlit scrolls inside its main area, so the window is made as tall as the content
    for the picture, then put back.
    """
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)  # lazily loaded widgets are in
    page.evaluate("document.fonts.ready")
    page.mouse.move(0, 0)  # no hover tooltip in the picture
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    content = page.evaluate("document.querySelector(\"[data-testid='stMainBlockContainer']\").scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(height, content + 120), 4000)})
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.wait_for_timeout(300)  # canvas tables repaint after the resize
    page.screenshot(path=screenshot_folder() / f"{name}.png", full_page=True)
    page.set_viewport_size({"width": width, "height": height})


def test_sample_template_train_evaluate_export(page: Page, tmp_path: Path) -> None:
    shoot(page, "1-home")

    flows.pick_sample(page, SAMPLE)
    shoot(page, "2-data")

    flows.pick_template(page, TEMPLATE)
    shoot(page, "3-design")

    flows.set_training(page, epochs=EPOCHS, batch_size=BATCH_SIZE)
    set_number(page, "train_patience", 0)  # no early stop: the run lasts long enough to watch
    flows.start_training(page)
    # The live chart, read at two moments while the run is still going, gains points.
    first = flows.wait_for_live_points(page, more_than=0)
    assert first.running, f"the run ended before the live chart showed its first epoch ({first.points} points)"
    second = flows.wait_for_live_points(page, more_than=first.points)
    assert second.running, "the run ended before the live chart grew a second time"
    assert first.points < second.points < EPOCHS
    ended = flows.wait_run_end(page)
    assert "Training finished" in ended, ended
    assert flows.live_state(page).points == EPOCHS
    shoot(page, "4-train")
    assert_no_traceback(page)

    classes, matrix = flows.confusion_matrix_on_page(page)
    assert matrix.shape == (SAMPLE_CLASSES, SAMPLE_CLASSES)
    # at 1400 px every per-class number shows, Recall and F1 too (they used to sit out of view)
    shown = flows.columns_in_view(page, "per_class_table", ("Precision", "Recall", "F1", "Test examples"))
    assert all(len(shown[h]) == SAMPLE_CLASSES and all(0 <= float(v) <= 1 for v in shown[h]) for h in ("Recall", "F1"))
    shoot(page, "5-evaluate")
    assert_no_traceback(page)

    go_to(page, "Export")
    model_file = download(page, "download_keras", tmp_path)
    assert model_file.name.endswith(".keras")
    shoot(page, "6-export")
    assert_no_traceback(page)

    # The downloaded file, loaded by plain Keras in a fresh process, makes the very
    # predictions the Evaluate page counted in its confusion matrix.
    from core.data import load_sample

    dataset = load_sample(SAMPLE)
    assert classes == list(dataset.classes)
    outputs = predict_in_new_process("keras", model_file, dataset.x_test, tmp_path)
    np.testing.assert_array_equal(flows.confusion_matrix(dataset.y_test, outputs, SAMPLE_CLASSES), matrix)
    assert np.trace(matrix) / matrix.sum() > 0.8  # it learned: iris is easy
