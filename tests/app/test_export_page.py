"""Export: every file downloads from the run's saved model; a TFLite problem never blocks the .keras file."""
from __future__ import annotations

import ast
import json

import numpy as np
import pytest

from core.errors import UserError
from core.spec import ProjectSpec
from tests.app.apptest import exceptions, new_app, open_page, workspace_with_sample
from tests.app.run_helpers import load_keras_bytes, workspace_with_trained_run

PAGE = "pages/export.py"


@pytest.fixture(scope="module")
def trained():
    """One iris model trained for 3 epochs, shared by the tests of this file."""
    return workspace_with_trained_run("iris", epochs=3)


def export_page(ws):
    at = new_app()
    at.session_state["workspace"] = ws
    return open_page(at, PAGE)


def test_without_a_dataset_it_links_to_the_data_page(app):
    at = open_page(app, PAGE)
    assert not exceptions(at)
    assert "no data yet" in at.info[0].value
    assert not at.download_button  # nothing to download yet
    assert [link.proto.page for link in at.get("page_link")] == ["data"]


def test_with_a_design_but_no_run_it_links_to_train_and_offers_the_project_file(downloads):
    at = export_page(workspace_with_sample("iris"))
    assert not exceptions(at)
    assert "No model has been trained yet" in at.info[0].value
    assert [b.key for b in at.download_button] == ["download_project"]
    spec = ProjectSpec.from_json(downloads(at, "download_project"))
    assert spec.layers == at.session_state["workspace"].spec.layers


def test_every_file_downloads_and_the_keras_file_predicts_like_the_trained_model(trained, downloads, tmp_path):
    ws, model = trained
    at = export_page(ws)
    assert not exceptions(at)
    keys = [b.key for b in at.download_button]
    for key in ("download_keras", "download_tflite", "download_script", "download_project", "download_labels", "download_preprocessing"):
        assert key in keys
    loaded = load_keras_bytes(downloads(at, "download_keras"), tmp_path)
    x = ws.dataset.x_test[:10]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    assert json.loads(downloads(at, "download_labels"))["classes"] == ws.dataset.classes
    assert ProjectSpec.from_json(downloads(at, "download_project")).layers == ws.spec.layers
    ast.parse(downloads(at, "download_script").decode("utf-8"))  # a Python script, not an error text
    assert downloads(at, "download_tflite")[4:8] == b"TFL3"  # the TFLite flatbuffer identifier
    # the variants are described, never promised a size: the measured size is shown instead
    variants = at.radio(key="tflite_variant")
    labels = list(variants.options)  # as shown
    assert not any("size" in label for label in labels), labels
    tflite_bytes = len(downloads(at, "download_tflite"))
    assert any(f"File size: {tflite_bytes / 1000:.1f} KB." in m.value for m in at.markdown)  # decimal units, as files are
    assert "export" in ws.done_steps


def test_the_web_service_shows_its_command_and_an_example_request_for_this_model(trained):
    ws, _ = trained
    at = export_page(ws)
    assert not exceptions(at)
    assert "download_serving" in [b.key for b in at.download_button]  # made by a helper only when pressed
    texts = "\n".join(m.value for m in at.markdown)
    assert "python serve.py --port 8000" in texts
    assert "curl -H 'Content-Type: application/json'" in texts and '"sepal length (cm)": ' in texts
    assert any("python -m core serve DIR" in c.value for c in at.caption)
    # what the button's helper task makes (run here, in this process: the test has Keras loaded already)
    import zipfile

    from core.training.tasks import run_task

    path = run_task("serving_zip", ws.runs[-1].run_dir, {"name": "iris"})
    assert run_task("serving_zip", ws.runs[-1].run_dir, {}) == path  # made once
    with zipfile.ZipFile(path) as archive:
        assert {"serve.py", "README.md", "model/1/saved_model.pb"} <= set(archive.namelist())


def test_tflite_variants_table_is_measured_on_request_and_kept(trained):
    ws, _ = trained
    at = export_page(ws)
    assert not at.dataframe  # nothing measured until asked
    at.button(key="measure_tflite").click().run()
    assert not exceptions(at)
    table = at.dataframe[0].value
    assert len(table) == 5  # model.keras + four TFLite variants
    float32 = table.iloc[1]
    assert float(float32["Largest difference from Keras"]) < 1e-4
    at.run()  # a rerun shows the kept table without converting again
    assert at.dataframe[0].value.equals(table)


def test_a_failed_tflite_conversion_is_a_message_and_the_keras_file_still_downloads(trained, monkeypatch):
    ws, _ = trained

    class RefusingHelper:  # the helper process's answer when the converter refuses the model
        def run(self, op, run_dir, **args):
            assert op == "tflite"
            raise UserError("export.tflite_failed", "The model could not be converted to TFLite ({variant}): test.", **args)

    monkeypatch.setattr("components.export_views.helper_tasks", RefusingHelper)
    ws.cache.pop(("tflite_file", ws.runs[0].id, "float16"), None)
    at = export_page(ws)  # float32 was made by the worker when the run ended; float16 is asked for now
    at.radio(key="tflite_variant").set_value("float16").run()
    assert not exceptions(at)
    assert any("could not be converted to TFLite" in e.value for e in at.error)
    keys = [b.key for b in at.download_button]
    assert "download_keras" in keys and "download_tflite" not in keys
    ws.cache.pop(("tflite_file", ws.runs[0].id, "float16"), None)  # later tests convert for real


def test_a_helper_that_stopped_is_a_message_with_a_way_to_try_again(trained, monkeypatch):
    ws, _ = trained
    run = ws.runs[0]

    class FlakyHelper:  # stopped once (out of memory, over its time limit, server restarting), then answers
        calls = 0

        def run(self, op, run_dir, **args):
            FlakyHelper.calls += 1
            if FlakyHelper.calls == 1:
                raise UserError("task.helper_stopped", "LayerLab's helper process stopped before it finished ({reason}). "
                                "Try again; if it stops again, this model may need more memory than the server has.",
                                reason="killed by signal 9")
            return str(run.run_dir / "exports" / "model_float32.tflite")  # a TFLite file, as a helper answers

    monkeypatch.setattr("components.export_views.helper_tasks", FlakyHelper)
    key = ("tflite_file", run.id, "float16")
    ws.cache.pop(key, None)
    at = export_page(ws)
    at.radio(key="tflite_variant").set_value("float16").run()
    assert any("stopped before it finished" in e.value for e in at.error)
    at.run()
    assert FlakyHelper.calls == 1  # a rerun of the page asks no helper again...
    next(b for b in at.button if b.label == "Try again").click().run()  # ...the user does
    assert not exceptions(at) and not at.error and FlakyHelper.calls == 2
    assert "download_tflite" in [b.key for b in at.download_button]
    ws.cache.pop(key, None)  # later tests convert for real
