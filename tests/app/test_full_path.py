"""The whole path a first-time user takes, through the real pages and a real training worker."""
from __future__ import annotations

import numpy as np

from tests.app.apptest import exceptions, new_app
from tests.app.run_helpers import load_keras_bytes, run_until_ended


def test_sample_template_train_evaluate_export(downloads, tmp_path):
    at = new_app().run()
    at.button(key="quick_start").click().run()  # Home: iris + its default template, opens Design
    assert not exceptions(at)
    ws = at.session_state["workspace"]
    assert ws.dataset.name == "sample:iris" and ws.spec.layers

    at.switch_page("pages/train.py").run()
    at.number_input(key="epochs").set_value(2).run()
    at.button(key="start_training").click().run()
    run_until_ended(at)
    assert not exceptions(at)
    assert ws.runs[0].status == "finished" and len(ws.runs[0].history) == 2

    at.switch_page("pages/evaluate.py").run()
    assert not exceptions(at)
    accuracy = next(m.value for m in at.metric if m.label == "Accuracy")
    assert accuracy.endswith("%")
    assert at.get("plotly_chart")  # the confusion matrix
    evaluation = ws.cache[("evaluation", ws.runs[0].id)]
    assert evaluation.confusion.shape == (3, 3)

    at.switch_page("pages/export.py").run()
    assert not exceptions(at)
    model = load_keras_bytes(downloads(at, "download_keras"), tmp_path)
    probabilities = model.predict(ws.dataset.x_test, verbose=0)
    # the downloaded file predicts exactly what the Evaluate page measured
    np.testing.assert_allclose(probabilities, evaluation.probabilities, atol=1e-5)
    assert f"{np.mean(probabilities.argmax(axis=1) == ws.dataset.y_test):.1%}" == accuracy


def test_stop_ends_a_long_run_and_its_best_model_stays_downloadable(downloads, tmp_path):
    at = new_app().run()
    at.button(key="quick_start").click().run()
    ws = at.session_state["workspace"]
    at.switch_page("pages/train.py").run()
    at.number_input(key="epochs").set_value(2000).run()
    at.number_input(key="train_batch_size").set_value(4).run()
    at.number_input(key="train_patience").set_value(0).run()
    at.button(key="start_training").click().run()
    run_until_ended(at, until=lambda ws: len(ws.runs[0].history) >= 1)  # training is under way

    at.button(key="stop_training").click().run()
    run_until_ended(at, timeout=30)  # stops within a batch, not after 2000 epochs
    run = ws.runs[0]
    assert run.status == "stopped" and len(run.history) < 2000
    assert at.info[0].value.startswith("Run 1: Training stopped at your request")
    assert run.has_model

    at.switch_page("pages/export.py").run()
    assert not exceptions(at)
    model = load_keras_bytes(downloads(at, "download_keras"), tmp_path)
    assert model.predict(ws.dataset.x_test, verbose=0).shape == (len(ws.dataset.x_test), 3)
