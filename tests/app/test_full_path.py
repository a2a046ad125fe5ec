"""A long run stopped from the page, through a real training worker. The whole first-time path
(sample, train, evaluate, try it, every export) is tests/app/test_light_server.py."""
from __future__ import annotations

from tests.app.apptest import exceptions, new_app, workspace_with_sample
from tests.app.run_helpers import load_keras_bytes, run_until_ended


def test_stop_ends_a_long_run_and_its_best_model_stays_downloadable(downloads, tmp_path):
    at = new_app()
    ws = at.session_state["workspace"] = workspace_with_sample("iris")  # no quick start: it would start a run
    at.run()
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
