"""Downloads work outside LayerLab: .keras reloads in a fresh process, every TFLite variant runs
in LiteRT close to the Keras model, the JSON files let a developer feed raw values."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from core import export
from core.errors import UserError
from tests.unit.trained_models import sample, trained


def test_keras_file_reloads_in_a_fresh_process_with_the_same_predictions(tmp_path):
    dataset, model = sample("iris"), trained("iris")
    (tmp_path / "model.keras").write_bytes(export.keras_bytes(model))
    np.save(tmp_path / "x.npy", dataset.x_test)
    script = textwrap.dedent(
        """
        import sys, numpy as np, keras
        model = keras.saving.load_model(sys.argv[1] + "/model.keras")  # safe_mode is on by default
        np.save(sys.argv[1] + "/out.npy", model.predict(np.load(sys.argv[1] + "/x.npy"), verbose=0))
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, capture_output=True, timeout=120)
    expected = model.predict(dataset.x_test, verbose=0)
    assert np.load(tmp_path / "out.npy") == pytest.approx(expected, abs=1e-6)


def _check_report(rows: list[dict], metric: str, tolerance: dict[str, float], worse_by: float) -> None:
    by_variant = {row["variant"]: row for row in rows}
    assert list(by_variant) == ["keras", *export.TFLITE_VARIANTS]
    reference = by_variant["keras"][metric]
    for variant in export.TFLITE_VARIANTS:
        row = by_variant[variant]
        assert row["error"] is None, row["error"]
        assert row["size_bytes"] > 0
        assert row["max_abs_diff"] <= tolerance[variant], (variant, row["max_abs_diff"])
        change = row[metric] - reference
        assert (change if metric == "mae" else -change) <= worse_by, (variant, row[metric], reference)


def test_every_tflite_variant_of_a_table_classifier_runs_in_litert():
    rows = export.tflite_report(trained("iris"), sample("iris"))
    _check_report(rows, "accuracy", {"float32": 1e-5, "float16": 1e-2, "dynamic_range": 0.05, "int8": 0.1}, 0.05)


def test_int8_keeps_accuracy_when_columns_have_very_different_ranges():
    # breast_cancer mixes columns around 0.05 with columns around 2500; quantizing the raw
    # input with one int8 scale would erase the small ones (it scored 63% instead of 98%)
    dataset, model = sample("breast_cancer"), trained("breast_cancer", epochs=10)
    rows = {row["variant"]: row for row in export.tflite_report(model, dataset, variants=("int8",))}
    assert rows["int8"]["error"] is None
    assert rows["int8"]["accuracy"] >= rows["keras"]["accuracy"] - 0.03


def test_every_tflite_variant_of_an_image_classifier_runs_in_litert():
    rows = export.tflite_report(trained("digits"), sample("digits"))
    _check_report(rows, "accuracy", {"float32": 1e-5, "float16": 1e-2, "dynamic_range": 0.05, "int8": 0.15}, 0.05)


def test_regression_tflite_reports_mae_in_target_units():
    dataset = sample("diabetes")
    rows = export.tflite_report(trained("diabetes"), dataset, variants=("float32", "int8"))
    by_variant = {row["variant"]: row for row in rows}
    assert 20 < by_variant["keras"]["mae"] < 80  # diabetes progression spans 25..346
    assert by_variant["float32"]["mae"] == pytest.approx(by_variant["keras"]["mae"], abs=1e-3)
    assert by_variant["int8"]["mae"] <= by_variant["keras"]["mae"] + 5


def test_tflite_bytes_matches_the_reported_size_and_runs():
    dataset, model = sample("iris"), trained("iris")
    content = export.tflite_bytes(model, "float16", dataset)
    outputs = export.run_tflite(content, dataset.x_test)
    assert outputs.shape == (len(dataset.x_test), 3)
    assert outputs.sum(axis=1) == pytest.approx(np.ones(len(dataset.x_test)), abs=1e-2)


def test_an_op_tflite_lacks_is_a_clear_error_and_the_keras_file_still_exports():
    import keras

    @keras.saving.register_keras_serializable(package="test_export")
    class InverseErf(keras.layers.Layer):
        def call(self, x):
            return keras.ops.erfinv(keras.ops.tanh(x))

    dataset = sample("iris")
    inputs = keras.Input(dataset.input_shape)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(InverseErf(name="inverse_erf")(inputs)))
    with pytest.raises(UserError) as caught:
        export.tflite_bytes(model, "float32", dataset)
    assert caught.value.code == "export.tflite_failed"
    message = caught.value.render()
    assert "Erfinv" in message and "inverse_erf" in message and ".keras" in message
    assert export.keras_bytes(model)[:2] == b"PK"  # the .keras zip is unaffected
    rows = export.tflite_report(model, dataset, variants=("float32",))
    assert rows[1]["error"] == message and rows[1]["size_bytes"] is None


def test_labels_json_lists_classes_in_output_order():
    dataset = sample("wine")
    labels = json.loads(export.labels_json(dataset))
    assert labels["task"] == "classification"
    assert labels["classes"] == dataset.classes == ["class_0", "class_1", "class_2"]
    regression = json.loads(export.labels_json(sample("diabetes")))
    assert regression["task"] == "regression" and regression["classes"] == []


def test_preprocessing_json_is_enough_to_feed_raw_rows():
    from core.data.tables import TablePreprocessor

    dataset = sample("iris")
    info = json.loads(export.preprocessing_json(dataset))
    assert info["kind"] == "table" and [c["name"] for c in info["columns"]] == dataset.preprocessor.columns
    assert info["input_names"] == dataset.preprocessor.input_names and info["target"] == "target"
    rebuilt = TablePreprocessor.from_json(json.loads(json.dumps(info)))
    raw = dataset.frame.drop(columns=[dataset.target]).head(5)
    assert rebuilt.transform(raw) == pytest.approx(dataset.preprocessor.transform(raw))
    assert "Do not standardise or one-hot encode" in info["model_input"]["feed"]
    assert info["format"] == "layerlab-preprocessing/2"
    with pytest.raises(UserError) as old:  # a file from before categories became positions
        TablePreprocessor.from_json({**info, "format": "layerlab-preprocessing/1"})
    assert "older version of LayerLab" in old.value.render()


def test_preprocessing_json_for_images_gives_size_and_colour_mode():
    info = json.loads(export.preprocessing_json(sample("digits")))
    assert info["image_size"] == [8, 8] and info["channels"] == 1 and info["color_mode"] == "grayscale"
    assert info["model_input"]["shape"] == [None, 8, 8, 1]
    assert set(info["tflite"]) == set(export.TFLITE_VARIANTS)


def test_safe_csv_neutralises_formulas_but_keeps_numbers():
    frame = pd.DataFrame(
        {"input": ["=1+2", "+cmd", "-x", "@SUM(A1)", "plain"], "value": [-1.5, 2.0, 3.0, 4.0, 5.0]}
    )
    back = pd.read_csv(io.BytesIO(export.safe_csv_bytes(frame)))
    assert back["input"].tolist() == ["'=1+2", "'+cmd", "'-x", "'@SUM(A1)", "plain"]
    assert back["value"].tolist() == [-1.5, 2.0, 3.0, 4.0, 5.0]
    assert list(pd.read_csv(io.BytesIO(export.safe_csv_bytes(pd.DataFrame({"=evil": ["a"]})))).columns) == ["'=evil"]


def test_recurrent_models_export_for_one_example_at_a_time_and_int8_is_refused_plainly():
    from core.build import build_model
    from core.spec import ProjectSpec

    dataset = sample("wine")
    spec = ProjectSpec.from_dict({"layers": [{"type": "Reshape", "target_shape": [-1, 1]}, {"type": "LSTM", "units": 4}]})
    model = build_model(spec, dataset)
    rows = {row["variant"]: row for row in export.tflite_report(model, dataset, variants=("float32", "int8"))}
    assert rows["float32"]["error"] is None and rows["float32"]["max_abs_diff"] < 1e-5
    assert rows["float32"]["accuracy"] == rows["keras"]["accuracy"]
    assert "LSTM" in rows["int8"]["error"] and "dynamic_range" in rows["int8"]["error"]
