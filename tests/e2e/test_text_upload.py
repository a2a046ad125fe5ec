"""Flow: a Chinese review export (BOM, CRLF, the text column first) → a text model → a typed review
in Try it → the downloaded model.keras takes the raw texts and the TFLite file the token ids, and
both give the confusion matrix the Evaluate page showed."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests import datafiles
from tests.e2e.model_check import predict_many_in_new_process
from uidriver import flows
from uidriver.ui import assert_no_traceback, download, go_to, press, widget

CLASSES = ["negative", "positive"]


def test_uploaded_reviews_train_a_text_model_that_answers_typed_text(page: Page, tmp_path: Path) -> None:
    frame = datafiles.text_sample_frame("zh_reviews", 600).rename(columns={"label": "sentiment", "text": "review"})
    csv = tmp_path / "reviews export.csv"
    csv.write_bytes(datafiles.text_csv_bytes(frame[["review", "sentiment"]], bom=True, newline="\r\n"))
    flows.upload_data(page, csv)
    main = page.get_by_test_id("stMain")
    # Chinese has no spaces: the app splits it into characters and their pairs, and says so
    expect(main.get_by_text(re.compile("pairs of neighbouring characters")).first).to_be_visible()
    expect(widget(page, "text_lengths")).to_be_visible()  # the length histogram
    assert_no_traceback(page)

    flows.pick_template(page, "Bag of embeddings")
    ended = flows.train(page, epochs=4)
    assert "Training finished" in ended, ended
    classes, matrix = flows.confusion_matrix_on_page(page)
    assert classes == CLASSES

    widget(page, "try_text").locator("textarea").fill("质量很好，服务也很热情，非常满意，下次还会再来。")
    press(page, "try_text_predict")
    answer = main.get_by_text(re.compile(r"Prediction:")).first
    expect(answer).to_be_visible(timeout=60_000)
    assert re.search(r"Prediction:\s*(negative|positive)\s*\(\d", answer.inner_text())

    go_to(page, "Export")
    keras_file = download(page, "download_keras", tmp_path)
    tflite = download(page, "download_tflite", tmp_path)
    assert_no_traceback(page)

    # The app's own split of the same file: its test texts, and the token ids the app made of them.
    from core.data import prepare_table, read_csv

    dataset = prepare_table(read_csv(csv.read_bytes(), csv.name))
    assert dataset.target == "sentiment" and dataset.text.column == "review"
    texts = np.array(dataset.text.test_texts)
    from_texts, from_ids = predict_many_in_new_process(
        [("keras", keras_file, texts), ("tflite", tflite, dataset.x_test.astype(np.float32))], tmp_path
    )
    np.testing.assert_allclose(from_texts, from_ids, atol=1e-5)  # raw strings in = token ids in
    np.testing.assert_array_equal(flows.confusion_matrix(dataset.y_test, from_texts, len(CLASSES)), matrix)
