"""Flow 2: a real spreadsheet CSV through the file chooser → target → train → TFLite on LiteRT,
and the network trained is the one the Design page shows (the CSV has a column of categories)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests import datafiles
from tests.e2e.model_check import predict_many_in_new_process
from uidriver import flows
from uidriver.ui import assert_no_traceback, choose, download, go_to

TARGET = "species"
CLASSES = ["setosa", "versicolor", "virginica"]


def test_uploaded_csv_trains_and_its_tflite_runs_on_litert(page: Page, tmp_path: Path) -> None:
    csv = datafiles.spreadsheet_csv(tmp_path)
    flows.upload_data(page, csv)
    main = page.get_by_test_id("stMain")
    # The label column comes first: the user points the app at it.
    choose(page, "target_column", TARGET)
    for name in CLASSES:  # the class counts chart names the labels as written in the file
        expect(main.get_by_text(name).first).to_be_attached()
    assert_no_traceback(page)

    flows.pick_template(page, "Small network")
    parameters = page.get_by_test_id("stMetric").filter(has_text="Parameters").get_by_test_id("stMetricValue")
    designed = parameters.inner_text().strip()  # the design's total, one-hot width of 'bed' included
    assert designed.replace(",", "").isdigit(), designed
    ended = flows.train(page, epochs=15, batch_size=8)
    assert "Training finished" in ended, ended
    runs_table = page.get_by_test_id("stDataFrame").filter(has_text="Parameters")
    expect(runs_table).to_contain_text(designed)  # the run row: the network the worker built

    classes, matrix = flows.confusion_matrix_on_page(page)
    assert classes == CLASSES

    go_to(page, "Export")
    tflite = download(page, "download_tflite", tmp_path)
    keras_file = download(page, "download_keras", tmp_path)
    assert tflite.suffix == ".tflite"
    assert_no_traceback(page)

    # The same split the app made, read by the project's own loader from the same file.
    from core.data import prepare_table, read_csv

    dataset = prepare_table(read_csv(csv.read_bytes(), csv.name), target=TARGET)
    assert dataset.preprocessor.categorical_positions  # 'bed' reaches the model as categories
    outputs, (count,) = predict_many_in_new_process(
        [("tflite", tflite, dataset.x_test), ("keras_params", keras_file, dataset.x_test[:1])], tmp_path
    )
    assert f"{int(count):,}" == designed  # the downloaded .keras is the designed network
    assert outputs.shape == (len(dataset.x_test), len(CLASSES))
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=1e-4)  # class probabilities
    # The float32 TFLite file predicts what the app's model predicted on the Evaluate page.
    np.testing.assert_array_equal(flows.confusion_matrix(dataset.y_test, outputs, len(CLASSES)), matrix)
