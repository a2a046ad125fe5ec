"""Train: settings from the design, start in a worker, live progress, runs table, messages."""
from __future__ import annotations

import copy
import dataclasses
import json

from core.spec import ProjectSpec
from tests.app.apptest import exceptions, new_app, open_page, workspace_with_sample
from tests.app.run_helpers import run_until_ended, workspace_with_trained_run

PAGE = "pages/train.py"


def train_page(ws):
    at = new_app()
    at.session_state["workspace"] = ws
    return open_page(at, PAGE)


def curve_traces(at) -> list[str]:
    """Legend names of the training-curve traces ("Run 1 · training", ...)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [trace["name"] for trace in spec["data"]]


def test_without_data_start_is_disabled_and_the_data_page_is_linked(app):
    at = open_page(app, PAGE)
    assert not exceptions(at)
    assert at.button(key="start_training").disabled
    assert at.button(key="stop_training").disabled
    assert "no data yet" in at.info[0].value
    assert [link.proto.page for link in at.get("page_link")] == ["data"]


def test_a_design_error_disables_start_and_links_to_the_design_page():
    ws = workspace_with_sample("iris")
    ws.spec = ProjectSpec.from_dict({"layers": [{"type": "Conv2D", "filters": 8, "kernel_size": 3}]})
    at = train_page(ws)
    assert not exceptions(at)
    assert at.button(key="start_training").disabled
    message = at.info[0].value
    assert message.startswith("The design has an error:") and "1" in message  # names the layer
    assert [link.proto.page for link in at.get("page_link")] == ["design"]


def test_settings_start_from_the_design_and_are_written_back():
    ws = workspace_with_sample("iris")
    at = train_page(ws)
    assert not exceptions(at)
    assert at.number_input(key="epochs").value == ws.spec.training["epochs"]
    assert not at.button(key="start_training").disabled
    # the server's cap on every run (LAYERLAB_MAX_RUN_SECONDS, one hour by default) is stated
    assert any("ends any run after" in c.value for c in at.caption), [c.value for c in at.caption]
    at.number_input(key="epochs").set_value(7).run()
    at.selectbox(key="train_optimizer").set_value("SGD").run()
    assert ws.spec.training["epochs"] == 7
    assert ws.spec.optimizer["type"] == "SGD"
    # switching optimizer starts from that optimizer's own default learning rate
    assert at.number_input(key="train_learning_rate_SGD").value == ws.spec.optimizer["learning_rate"] == 0.01
    ProjectSpec.from_dict(ws.spec.to_dict())  # still a valid project


def test_every_catalog_setting_is_in_the_form_and_reaches_the_project_file(downloads):
    """SGD's momentum and Nesterov switch and the time limit are set in the app, not only in a file."""
    ws = workspace_with_sample("iris")
    at = train_page(ws)
    assert at.number_input(key="train_time_limit_s").value is None  # empty: no limit
    at.selectbox(key="train_optimizer").set_value("SGD").run()
    assert at.number_input(key="train_momentum_SGD").value == 0.9  # the catalog's default
    at.number_input(key="train_momentum_SGD").set_value(0.5).run()
    at.checkbox(key="train_nesterov_SGD").check().run()
    at.number_input(key="train_time_limit_s").set_value(90.0).run()
    assert not exceptions(at)
    assert ws.spec.optimizer == {"type": "SGD", "learning_rate": 0.01, "momentum": 0.5, "nesterov": True}
    assert ws.spec.training["time_limit_s"] == 90.0

    at.switch_page("pages/design.py").run()  # the project file the Design page saves
    saved = ProjectSpec.from_json(downloads(at, "save_project"))
    assert saved.optimizer == ws.spec.optimizer and saved.training["time_limit_s"] == 90.0

    at.switch_page(PAGE).run()  # back: the form shows what the design holds
    assert at.number_input(key="train_time_limit_s").value == 90.0
    assert at.number_input(key="train_momentum_SGD").value == 0.5 and at.checkbox(key="train_nesterov_SGD").value
    at.selectbox(key="train_optimizer").set_value("AdamW").run()  # AdamW's and RMSprop's own settings
    at.number_input(key="train_weight_decay_AdamW").set_value(0.01).run()
    assert ws.spec.optimizer == {"type": "AdamW", "learning_rate": 0.001, "weight_decay": 0.01}
    at.selectbox(key="train_optimizer").set_value("RMSprop").run()
    at.number_input(key="train_rho_RMSprop").set_value(0.8).run()
    assert ws.spec.optimizer == {"type": "RMSprop", "learning_rate": 0.001, "rho": 0.8}
    at.number_input(key="train_time_limit_s").set_value(None).run()  # emptied: no limit again
    assert ws.spec.training["time_limit_s"] is None
    assert not exceptions(at)
    assert ProjectSpec.from_dict(ws.spec.to_dict()) == ws.spec


def test_a_run_trains_in_the_background_and_survives_leaving_the_page():
    ws = workspace_with_sample("iris")
    ws.spec.training.update(epochs=2, early_stopping_patience=0)
    at = train_page(ws)
    at.button(key="start_training").click().run()
    assert not exceptions(at)
    assert ws.active_run is not None and len(ws.runs) == 1
    assert at.button(key="stop_training").disabled is False
    assert at.number_input(key="epochs").disabled  # the settings of a running job are fixed
    assert at.get("progress") or at.info  # progress bar (or the queue notice) right away

    at.switch_page("pages/evaluate.py").run()  # leave the page while it trains...
    assert not exceptions(at)
    assert "still training" in at.info[0].value
    at.switch_page(PAGE).run()  # ...and come back: the same run, still there
    assert len(ws.runs) == 1

    run_until_ended(at)
    run = ws.runs[0]
    assert run.status == "finished" and len(run.history) == 2
    assert at.success[0].value.startswith("Run 1: Training finished after 2 epochs")
    assert {"Run 1 · training", "Run 1 · validation"} <= set(curve_traces(at))
    table = at.dataframe[0].value
    assert table.iloc[0]["Run"] == 1 and table.iloc[0]["Status"] == "finished"
    assert "Validation accuracy" in table.columns
    assert not at.button(key="start_training").disabled  # ready for the next run


def test_earlier_runs_are_overlaid_and_listed():
    ws, _ = workspace_with_trained_run("iris", epochs=2)
    ws.runs.append(dataclasses.replace(ws.runs[0], id="run2-test", number=2))  # a second run to compare
    at = train_page(ws)
    assert not exceptions(at)
    traces = curve_traces(at)
    assert "Run 1 · training" in traces and "Run 2 · training" in traces
    assert list(at.dataframe[0].value["Run"]) == [2, 1]  # newest first


def test_a_diverged_run_says_to_lower_the_learning_rate():
    sgd_far_too_fast = {"type": "SGD", "learning_rate": 10.0, "momentum": 0.9, "nesterov": False}
    ws, _ = workspace_with_trained_run("diabetes", epochs=2, optimizer=sgd_far_too_fast)
    assert ws.runs[0].status == "diverged"
    at = train_page(ws)
    assert not exceptions(at)
    assert at.error[0].value.startswith("Run 1: Training diverged — try a lower learning rate.")


def test_a_second_run_waits_in_the_queue_when_the_server_is_busy(monkeypatch):
    from core.training import TrainingService

    service = TrainingService(max_concurrent=1, keep_warm=False)
    monkeypatch.setattr("components.state.runs.get_training_service", lambda: service)
    try:
        first, second = workspace_with_sample("iris"), workspace_with_sample("iris")
        first.spec.training.update(epochs=2000, early_stopping_patience=0)
        busy = train_page(first)
        busy.button(key="start_training").click().run()
        waiting = train_page(second)  # another user, while the only slot is taken
        waiting.button(key="start_training").click().run()
        assert not exceptions(waiting)
        assert second.runs[0].status == "queued"
        assert "Position in the queue: 1" in waiting.info[0].value

        waiting.button(key="stop_training").click().run()  # leaving the queue cancels the run
        run_until_ended(waiting, timeout=10)
        assert second.runs[0].status == "stopped" and not second.runs[0].has_model
    finally:
        service.shutdown()


def test_a_run_in_progress_shows_its_live_epoch_and_no_stale_table_row():
    ws, _ = workspace_with_trained_run("iris", epochs=3)
    spec = copy.deepcopy(ws.runs[0].spec)
    spec["training"]["epochs"] = 60
    live = dataclasses.replace(ws.runs[0], id="run2-test", number=2, status="running", best_epoch=None,
                               history=ws.runs[0].history[:2], elapsed=0.0, spec=spec,
                               # the worker's latest (throttled) batch event: epoch 3 has begun
                               last_batch_event={"type": "batch", "epoch": 3, "batch": 0, "batches": 4})
    ws.runs.append(live)
    at = train_page(ws)
    assert not exceptions(at)
    assert at.get("progress")[0].proto.text.startswith("Epoch 3 of 60 · batch 1 of 4")  # the live epoch
    assert list(at.dataframe[0].value["Run"]) == [1]  # no "0/60, 0 s" row for the running one


def test_a_finished_run_offers_its_keras_file_right_under_it(downloads, tmp_path):
    from core.training.tasks import downloadable_keras
    from tests.app.run_helpers import load_keras_bytes

    ws, _ = workspace_with_trained_run("iris", epochs=2)
    at = train_page(ws)
    assert not exceptions(at)
    data = downloads(at, "download_run_keras")
    assert data == downloadable_keras(ws.runs[0].run_dir).read_bytes()  # the Export page's file
    assert at.download_button(key="download_run_keras").proto.label == "Download model.keras"
    model = load_keras_bytes(data, tmp_path)
    assert model.predict(ws.dataset.x_test, verbose=0).shape == (len(ws.dataset.x_test), 3)
