"""Flow 3: a zip of images in nested class folders with one broken file → CNN → try a new image."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests import datafiles
from uidriver import flows
from uidriver.ui import assert_no_traceback, go_to, plotly_figures, upload, widget

CLASSES = sorted(datafiles.SCAN_CLASSES.values())  # class folders, in the app's (sorted) order


def test_image_zip_trains_a_cnn_and_predicts_a_new_image(page: Page, tmp_path: Path) -> None:
    archive, broken = datafiles.scanned_digits_zip(tmp_path)
    flows.upload_data(page, archive)
    main = page.get_by_test_id("stMain")
    # The class folders two levels down were found, the macOS clutter ignored, the broken image reported.
    for name in CLASSES:
        expect(main.get_by_text(re.compile(rf"^{name}\b")).first).to_be_visible()
    expect(main.get_by_text(re.compile(r"1 files? (was|were) skipped"))).to_be_visible()
    expect(main.get_by_test_id("stDataFrame").filter(has_text=Path(broken).name)).to_have_count(1)
    expect(main).not_to_contain_text("__MACOSX")
    assert_no_traceback(page)

    flows.pick_template(page, re.compile("CNN|convolution", re.I))
    ended = flows.train(page, epochs=4, batch_size=16)
    assert "Training finished" in ended, ended

    go_to(page, "Evaluate")
    new_image = datafiles.new_digit_image(tmp_path, label=1)
    upload(page, new_image)
    prediction = main.get_by_text(re.compile(r"Prediction:")).first
    expect(prediction).to_be_visible(timeout=60_000)
    assert re.search(rf"Prediction:\s*({'|'.join(CLASSES)})\s*\(\d", prediction.inner_text())
    bars = [t for fig in plotly_figures(page) for t in fig["traces"] if t["type"] == "bar" and t.get("x")]
    probabilities = next(b for b in bars if sorted(map(str, b["y"])) == CLASSES)
    assert np.isclose(sum(probabilities["x"]), 1.0, atol=1e-3)
    expect(widget(page, "confusion_matrix")).to_be_visible()
    assert_no_traceback(page)
