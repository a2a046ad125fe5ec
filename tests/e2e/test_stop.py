"""Flow 4: Stop ends a long run within seconds; the best weights so far are kept and downloadable."""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests.e2e.model_check import predict_in_new_process
from uidriver import flows
from uidriver.ui import assert_no_traceback, download, go_to, plotly_figures, press, widget

SAMPLE = "iris"
STOP_WITHIN_S = 15.0  # "within seconds", not at the end of 1000 epochs (minutes); the click's rerun is included, and
# under `make test` another test runs on the second of CI's 2 cores (pytest-xdist)


def validation_losses_on_chart(page: Page) -> list[float]:
    figure = plotly_figures(page, "training_curves")[-1]
    curves = [t for t in figure["traces"] if re.search("validation", t["name"], re.I) and t["y"]]
    # Loss comes first in the chart (then the metrics); its validation curve is the first one.
    return [float(v) for v in curves[0]["y"]]


def test_stop_keeps_the_best_weights(page: Page, tmp_path: Path) -> None:
    flows.pick_sample(page, SAMPLE)
    flows.set_training(page, epochs=1000, batch_size=1)  # minutes if nobody stops it
    flows.start_training(page)
    watched = flows.wait_for_live_points(page, more_than=2)
    assert watched.running
    expect(widget(page, "stop_training").get_by_role("button")).to_be_enabled(timeout=5_000)

    pressed = time.monotonic()
    press(page, "stop_training")
    click_handled = time.monotonic() - pressed
    # Timed until the user reads that the run has ended (the page then settles on its own).
    end_message = page.get_by_test_id("stMain").get_by_text(flows.RUN_ENDED).first
    expect(end_message).to_be_visible(timeout=int(STOP_WITHIN_S * 1000) + 10_000)
    took = time.monotonic() - pressed
    assert took < STOP_WITHIN_S, (
        f"the run took {took:.1f}s to stop ({click_handled:.1f}s until the page had handled the click)"
    )
    ended = flows.wait_run_end(page)
    match = re.search(r"stopped at your request during epoch (\d+)\. The best model so far \(epoch (\d+)\) is kept", ended)
    assert match, ended
    # Keras ends the interrupted epoch early and still validates it, so it is on the chart.
    last_epoch, best_epoch = int(match[1]), int(match[2])
    assert 3 <= last_epoch < 1000 and 1 <= best_epoch <= last_epoch
    val_losses = validation_losses_on_chart(page)
    assert len(val_losses) == last_epoch
    assert_no_traceback(page)

    go_to(page, "Export")
    model_file = download(page, "download_keras", tmp_path)
    assert_no_traceback(page)

    # The file holds the best epoch's weights: its loss on the validation split is the
    # lowest validation loss the chart showed (and the one at the reported best epoch).
    from core.data import load_sample

    dataset = load_sample(SAMPLE)
    probabilities = predict_in_new_process("keras", model_file, dataset.x_val, tmp_path)
    picked = np.clip(probabilities[np.arange(len(dataset.y_val)), dataset.y_val], 1e-7, 1.0)
    val_loss = float(-np.log(picked).mean())
    assert abs(val_loss - min(val_losses)) < 1e-3 * max(1.0, val_loss), (val_loss, min(val_losses))
    assert abs(val_losses[best_epoch - 1] - min(val_losses)) < 1e-6
