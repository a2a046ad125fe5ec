"""The web server draws pages only: a whole session imports no TensorFlow, Keras or JAX
(docs/ARCHITECTURE.md, "Processes"). Measured in a fresh interpreter, because this test
process itself has imported TensorFlow for other tests."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from core.evaluate import confusion_matrix
from tests.app.apptest import ROOT


def test_a_whole_session_never_imports_tensorflow_in_the_server_process(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tests.app.light_server_flow", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy_modules"] == [], seen
    # ...and everything a user does still works, answered by the worker processes
    assert seen["status"] in ("finished", "early_stopped") and not seen["exceptions"] and not seen["errors"], seen
    assert seen["accuracy"].endswith("%") and seen["prediction"].startswith("Prediction: **"), seen
    assert f"{seen['runs_table_accuracy']:.1%}" == seen["accuracy"]  # the runs table shows the test score too
    assert all(size > 0 for size in seen["sizes"].values()), seen["sizes"]  # every TFLite variant is a TFLite file
    assert seen["variants_table_rows"] == 5
    # the Train page offers the same file under the finished run as the Export page
    assert (tmp_path / "run_model.keras").read_bytes() == (tmp_path / "model.keras").read_bytes()
    # the downloaded model.keras predicts exactly what the Evaluate page showed (the worker measured it)
    import keras

    model = keras.saving.load_model(tmp_path / "model.keras")
    x_test, y_test = np.load(tmp_path / "x_test.npy"), np.load(tmp_path / "y_test.npy")
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    np.testing.assert_array_equal(confusion_matrix(y_test, predicted, 3), np.asarray(seen["confusion"]))
    assert f"{np.mean(predicted == y_test):.1%}" == seen["accuracy"]


def test_a_text_session_never_imports_tensorflow_in_the_server_process():
    """Texts are split into token ids in plain Python (core.data.tokens) and Try it runs the
    float32 TFLite file in LiteRT: no TensorFlow either (its run trained here, in this process)."""
    from tests.app.run_helpers import workspace_with_trained_run

    ws, _model = workspace_with_trained_run("sms_spam", epochs=1)
    done = subprocess.run([sys.executable, "-m", "tests.app.light_server_flow", "--text", str(ws.runs[0].run_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy_modules"] == [], seen
    assert not seen["exceptions"] and not seen["errors"], seen
    assert seen["sequence_length"] == 40 and seen["accuracy"].endswith("%"), seen
    assert seen["prediction"].startswith("Prediction: **"), seen


def test_a_forecasting_session_never_imports_tensorflow_in_the_server_process():
    """Series are read with pandas and windowed with numpy; the forecast beyond the data and Try it run
    the float32 TFLite file in LiteRT: no TensorFlow (its run trained here, in this process)."""
    from tests.app.run_helpers import workspace_with_trained_run

    ws, _model = workspace_with_trained_run("electrical_equipment", epochs=2)
    done = subprocess.run([sys.executable, "-m", "tests.app.light_server_flow", "--series", str(ws.runs[0].run_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy_modules"] == [], seen
    assert not seen["exceptions"] and not seen["errors"], seen
    assert seen["window"] == 36 and seen["uploaded_kind"] == "series", seen
    assert len(seen["verdict"]) == 1 and "naive forecast" in seen["verdict"][0], seen
    assert seen["forecast_rows"] == 12, seen
