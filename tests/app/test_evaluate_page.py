"""Evaluate: test metrics and charts of the trained model, its worst mistakes, and "try it"."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.app.apptest import exceptions, new_app, open_page, workspace_with_sample
from tests.app.run_helpers import RecordingMediaStorage, workspace_with_trained_run
from tests.datafiles import csv_bytes

PAGE = "pages/evaluate.py"


def evaluate_page(ws):
    at = new_app()
    at.session_state["workspace"] = ws
    return open_page(at, PAGE)


def chart_titles(at, axis: str = "yaxis") -> list[str]:
    """The axis titles of the Plotly charts on the page (which charts are shown)."""
    titles = []
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec)["layout"]
        titles.append(((layout.get(axis) or {}).get("title") or {}).get("text"))
    return titles


def test_without_data_it_links_to_data_and_without_a_run_to_train(app):
    at = open_page(app, PAGE)
    assert not exceptions(at)
    assert "no data yet" in at.info[0].value
    assert [link.proto.page for link in at.get("page_link")] == ["data"]

    at = evaluate_page(workspace_with_sample("iris"))
    assert "No model has been trained yet" in at.info[0].value
    assert [link.proto.page for link in at.get("page_link")] == ["train"]


@pytest.fixture(scope="module")
def iris_run():
    return workspace_with_trained_run("iris", epochs=5)


def test_classification_shows_accuracy_confusion_matrix_and_per_class_table(iris_run):
    ws, model = iris_run
    at = evaluate_page(ws)
    assert not exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    probabilities = model.predict(ws.dataset.x_test, verbose=0)
    expected = float(np.mean(probabilities.argmax(axis=1) == ws.dataset.y_test))
    assert metrics["Accuracy"] == f"{expected:.1%}"
    assert "True class" in chart_titles(at)  # the confusion-matrix heatmap
    per_class = at.table[0].value  # a plain table: every column shows at 1400 px (tests/e2e/test_screenshots.py)
    assert list(per_class.index) == ws.dataset.classes
    assert list(per_class.columns) == ["Precision", "Recall", "F1", "Test examples"]
    assert per_class["Test examples"].astype(int).sum() == len(ws.dataset.y_test)
    assert all(len(value) == 5 for value in per_class["Recall"])  # 3 decimals: "0.857"
    assert ws.runs[0].metrics["accuracy"] == pytest.approx(expected)  # shown in the runs table too
    # the sidebar ticks Evaluate in the same run that showed the metrics, not one page change later
    sidebar = [m.value for m in at.sidebar.markdown]
    assert any("**Evaluate** · done" in line for line in sidebar), sidebar
    assert "evaluate" in ws.done_steps


def test_try_it_with_a_filled_row_and_with_a_csv_of_rows(iris_run):
    ws, model = iris_run
    at = evaluate_page(ws)
    form_inputs = [n for n in at.number_input if n.key and n.key.startswith("try_")]
    assert sorted(n.label for n in form_inputs) == sorted(ws.dataset.preprocessor.columns)
    at.button(key="FormSubmitter:try_row_run1-test-Predict").click().run()
    assert not exceptions(at)
    assert any(m.value.startswith("Prediction: **") for m in at.markdown)
    assert "Probability" in chart_titles(at, "xaxis")  # the class-probability bars

    rows = ws.dataset.frame.drop(columns=[ws.dataset.target]).head(6)
    at.file_uploader(key="try_csv_run1-test").set_value(("new_rows.csv", csv_bytes(rows), "text/csv")).run()
    assert not exceptions(at)
    table = at.dataframe[-1].value
    assert len(table) == 6 and set(table["prediction"]) <= set(ws.dataset.classes)
    assert "download_csv_predictions_run1-test" in [b.key for b in at.download_button]


def test_a_csv_without_the_training_columns_is_an_error_not_a_crash(iris_run):
    ws, _ = iris_run
    at = evaluate_page(ws)
    at.file_uploader(key="try_csv_run1-test").set_value(("wrong.csv", b"colour,size\nred,3\n", "text/csv")).run()
    assert not exceptions(at)
    assert any("missing the column" in e.value for e in at.error)


def test_regression_shows_errors_and_predicted_vs_actual():
    ws, model = workspace_with_trained_run("diabetes", epochs=3)
    at = evaluate_page(ws)
    assert not exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    predicted = model.predict(ws.dataset.x_test, verbose=0).reshape(-1)
    assert metrics["Mean absolute error"] == f"{np.mean(np.abs(predicted - ws.dataset.y_test)):.4g}"
    assert chart_titles(at)[:2] == ["Predicted value", "Actual − predicted"]
    # the model picker names an error in the target's units, not the squared loss
    val_mae = ws.runs[0].best_logs()["val_mae"]
    assert at.selectbox(key="evaluate_run").format_func(1) == f"Run 1 (finished) validation mean absolute error {val_mae:.4g}"


def test_images_show_the_worst_mistakes_and_predict_an_uploaded_picture():
    ws, _ = workspace_with_trained_run("digits", epochs=1)
    at = evaluate_page(ws)
    assert not exceptions(at)
    evaluation = ws.cache[("evaluation", "run1-test")]
    assert evaluation.worst and len(at.get("image")) == len(evaluation.worst)  # the mistakes grid
    picture = Image.fromarray(np.kron(ws.dataset.x_test[0][..., 0], np.ones((8, 8), dtype=np.uint8))).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    at.file_uploader(key="try_images_run1-test").set_value([("digit.png", buffer.getvalue(), "image/png")]).run()
    assert not exceptions(at)
    assert any(m.value.startswith("Prediction: **") for m in at.markdown)


def test_a_phone_photo_is_shown_upright_as_the_model_sees_it(downloads):
    """A JPEG stored portrait with EXIF orientation 6 (rotate 90°) is a landscape photo."""
    ws, _ = workspace_with_trained_run("digits", epochs=1)
    at = evaluate_page(ws)
    photo = Image.new("RGB", (90, 120), (30, 30, 30))
    exif = photo.getexif()
    exif[0x0112] = 6  # Orientation: the camera was turned
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", exif=exif)
    at.file_uploader(key="try_images_run1-test").set_value([("phone.jpg", buffer.getvalue(), "image/jpeg")]).run()
    assert not exceptions(at)
    url = at.get("image")[-1].proto.imgs[0].url
    shown = Image.open(io.BytesIO(RecordingMediaStorage.latest.get_file(url.rsplit("/", 1)[-1]).content))
    assert shown.size == (120, 90)  # wide, as the photo was taken


def test_try_it_through_a_helper_that_stopped_says_so_once_and_predict_tries_again(iris_run, monkeypatch):
    """A model without a float32 file (its worker died before writing it) is answered by a helper process."""
    from core.errors import UserError

    ws, model = iris_run

    class FlakyHelper:  # stopped once (out of memory, over its time limit, server restarting), then answers
        calls = 0

        def run(self, op, run_dir, *, x):
            FlakyHelper.calls += 1
            if FlakyHelper.calls == 1:
                raise UserError("task.helper_stopped", "LayerLab's helper process stopped before it finished ({reason}). "
                                "Try again; if it stops again, this model may need more memory than the server has.",
                                reason="killed by signal 9")
            return model.predict(x, verbose=0)

    monkeypatch.setattr("core.training.tasks.float32_tflite", lambda run_dir: None)
    monkeypatch.setattr("components.evaluation_views.helper_tasks", FlakyHelper)
    ws.cache.pop(("try_row", "run1-test"), None)
    at = evaluate_page(ws)
    at.button(key="FormSubmitter:try_row_run1-test-Predict").click().run()
    assert not exceptions(at)
    assert len([e for e in at.error if "stopped before it finished" in e.value]) == 1
    assert not any(b.label == "Try again" for b in at.button)  # the form's own button asks again
    at.button(key="FormSubmitter:try_row_run1-test-Predict").click().run()
    assert not exceptions(at) and not at.error and FlakyHelper.calls == 2
    assert any(m.value.startswith("Prediction: **") for m in at.markdown)
    ws.cache.pop(("try_row", "run1-test"), None)
