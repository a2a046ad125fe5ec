"""Train page, Search tab (issue 24): the form pre-filled from the design, what stops Start, the live
views of a search (trials table, curves, parallel coordinates), Stop, "Use this design", and a real
tiny search on iris through core.search's own process."""
from __future__ import annotations

import copy
import time
import json
import subprocess
import sys

from components.state.search import SessionSearch
from core.search.space import default_space
from core.search.trials import TRIAL_PRUNED, TrialRow
from tests.app.apptest import ROOT, exceptions, new_app, open_page, workspace_with_sample
from tests.app.i18n_texts import assert_all_chinese

PAGE = "pages/train.py"
SEARCH_TAB = "Search for a better design"
TRAIN_TAB = "Train a model"


def search_tab(ws):
    at = new_app()
    at.session_state["workspace"] = ws
    at = open_page(at, PAGE)
    at.session_state["train_tab"] = SEARCH_TAB
    return at.run()


class FakeSearch:
    """A SearchHandle's surface with rows set by the test (no process)."""

    def __init__(self, spec, rows, state="running", metric="val_accuracy", direction="maximize"):
        self.spec, self.rows, self.state = spec, rows, state
        self.metric, self.direction, self.error, self.message = metric, direction, None, ""
        self.stopped = False

    def poll(self):
        return list(self.rows)

    def stop(self):
        self.stopped = True

    def kill(self):
        self.stopped = True

    def trial_dir(self, trial_id):
        return ROOT / "no-such-folder"  # no trained model to keep

    def trial_spec(self, trial_id):
        row = next(r for r in self.rows if r.id == trial_id)
        spec = copy.deepcopy(self.spec)
        spec.optimizer = {**spec.optimizer, "learning_rate": row.settings["optimizer.learning_rate"]}
        spec.layers[0]["units"] = row.settings["layers.0.units"]
        return spec.validated()


SPACE = {"optimizer.learning_rate": {"log_uniform": [0.001, 0.1]}, "layers.0.units": {"choice": [16, 32, 64]}}


def rows():
    return [
        TrialRow(1, {"optimizer.learning_rate": 0.003, "layers.0.units": 32}, "finished", 4, 0.95, [0.6, 0.8, 0.95, 0.9], seconds=2.5),
        TrialRow(2, {"optimizer.learning_rate": 0.05, "layers.0.units": 64}, "pruned", 2, 0.5, [0.4, 0.5],
                 template=TRIAL_PRUNED, params={"epoch": 2}),
        TrialRow(3, {"optimizer.learning_rate": 0.09, "layers.0.units": 16}, "failed", 1, None, [None],
                 message="Training diverged — try a lower learning rate."),
        TrialRow(4, {"optimizer.learning_rate": 0.001, "layers.0.units": 16}, "running", 2, 0.7, [0.6, 0.7]),
    ]


def with_fake_search(ws, **kwargs) -> FakeSearch:
    from components.state.search import search_draft

    draft = search_draft(ws)
    handle = FakeSearch(ws.spec, rows(), **kwargs)
    ws.search = SessionSearch(id="search-test", folder=None, space=SPACE, settings={**draft.settings(), "trials": 6},
                              spec=ws.spec, handle=handle, candidates={c.path: c for c in draft.candidates if c.path in SPACE})
    return handle


def test_without_data_the_search_tab_says_what_comes_first(app):
    at = open_page(app, PAGE)
    at.session_state["train_tab"] = SEARCH_TAB
    at.run()
    assert not exceptions(at)
    assert any("Choose data and a design first" in i.value for i in at.info)


def test_the_form_starts_from_the_designs_default_space_and_checks_it():
    ws = workspace_with_sample("iris")
    at = search_tab(ws)
    assert not exceptions(at)
    expected = default_space(ws.spec, ws.dataset)
    assert ws.search_draft.space() == expected  # core's pre-filled space, switched on
    assert at.toggle(key="search_vary_optimizer.learning_rate").value
    assert at.number_input(key="search_low_optimizer.learning_rate").value == expected["optimizer.learning_rate"]["log_uniform"][0]
    assert not at.toggle(key="search_vary_optimizer.type").value  # offered, off: the design's optimizer stays
    assert not at.toggle(key="search_vary_layers.0.repeat").value
    assert at.text_input(key="search_values_layers.0.units").value == "16, 32, 64"
    assert not at.button(key="start_search").disabled

    at.toggle(key="search_vary_optimizer.type").set_value(True).run()  # vary the optimizer too
    at.text_input(key="search_values_layers.0.units").input("8, 128").run()
    at.number_input(key="search_trials").set_value(3).run()
    at.radio(key="search_strategy").set_value("grid").run()
    assert ws.search_draft.space()["optimizer.type"] == {"choice": ["Adam", "RMSprop", "SGD"]}
    assert ws.search_draft.space()["layers.0.units"] == {"choice": [8, 128]}
    assert ws.search_draft.settings()["trials"] == 3 and ws.search_draft.settings()["strategy"] == "grid"

    at.text_input(key="search_values_layers.0.units").input("8, lots").run()  # not numbers: said where
    assert at.button(key="start_search").disabled
    assert any("numbers separated by commas" in c.value for c in at.caption)
    at.text_input(key="search_values_layers.0.units").input("8, 16").run()
    for toggle in at.toggle:  # nothing varies: core's plain refusal, before anything starts
        toggle.set_value(False)
    at.run()
    assert at.button(key="start_search").disabled
    assert any("search space is empty" in w.value for w in at.warning)

    at.switch_page("pages/design.py").run()  # the choices survive leaving the page
    at.switch_page(PAGE).run()
    at.session_state["train_tab"] = SEARCH_TAB
    at.run()
    assert not at.toggle(key="search_vary_optimizer.learning_rate").value
    assert at.number_input(key="search_trials").value == 3


def test_a_ray_cluster_needs_an_address_and_says_how_to_install_ray(monkeypatch):
    ws = workspace_with_sample("iris")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr("components.search_form.ray_installed", lambda: False)
    at = search_tab(ws)
    at.radio(key="search_where").set_value("ray").run()
    assert not exceptions(at)
    assert any("make ray" in w.value and "requirements-ray.txt" in w.value for w in at.warning)
    assert at.button(key="start_search").disabled

    monkeypatch.setattr("components.search_form.ray_installed", lambda: True)
    at.run()
    assert at.button(key="start_search").disabled  # no address yet
    at.text_input(key="search_ray_address").input("127.0.0.1:6379").run()
    assert not at.button(key="start_search").disabled
    assert ws.search_draft.settings()["ray_address"] == "127.0.0.1:6379"

    at.text_input(key="search_ray_address").input(f"127.0.0.1:{closed_port()}").run()
    at.button(key="start_search").click().run()  # nothing answers there: said plainly, nothing started
    assert not exceptions(at)
    assert any("cannot reach a Ray cluster" in e.value for e in at.error), [e.value for e in at.error]
    assert ws.search is None and not at.button(key="start_search").disabled
    assert at.radio(key="search_where").value == "ray"  # the form is as it was: fix the address and go


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_running_search_shows_its_trials_curves_and_settings_against_the_score():
    ws = workspace_with_sample("iris")
    handle = with_fake_search(ws)
    at = search_tab(ws)
    assert not exceptions(at)
    assert at.button(key="start_search").disabled and not at.button(key="stop_search").disabled
    assert at.toggle(key="search_vary_optimizer.learning_rate").disabled  # the form is locked while it runs
    assert at.get("progress")[0].proto.text.startswith("3 of at most 6 trials done, 1 running")
    table = at.dataframe[0].value
    assert list(table["Trial"]) == [1, 2, 3, 4]
    assert list(table["State"]) == ["finished", "pruned", "failed", "running"]
    assert list(table["Learning rate (log scale)"]) == ["0.003", "0.05", "0.09", "0.001"]
    assert list(table["Layer 1 (Dense): units"]) == ["32", "64", "16", "16"]
    assert table["Best validation score"][0] == 0.95 and list(table["Best"]) == ["★", "", "", ""]
    assert table["Note"][1].startswith("Stopped early after epoch 2") and "diverged" in table["Note"][2]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    curves = [trace["name"] for trace in charts[0]["data"]]
    assert curves == ["Trial 1", "Trial 2", "Trial 3", "Trial 4"]
    assert charts[0]["data"][1]["line"]["dash"] == "dot"  # pruned: dotted
    parallel = charts[1]["data"][0]
    assert parallel["type"] == "parcoords"
    labels = [d["label"] for d in parallel["dimensions"]]
    assert labels == ["Learning rate (log scale)", "Layer 1 (Dense): units", "Validation accuracy"]
    assert len(parallel["dimensions"][-1]["values"]) == 3  # the failed trial has no score

    assert "**Train** · searching for a better design" in [m.value.split(" ", 1)[1] for m in at.sidebar.markdown]

    at.button(key="stop_search").click().run()
    assert handle.stopped and not exceptions(at)


def test_a_search_that_stops_or_fails_says_so_and_keeps_its_trials():
    from core.errors import UserError

    ws = workspace_with_sample("iris")
    handle = with_fake_search(ws, state="stopped")
    at = search_tab(ws)
    assert not exceptions(at)
    assert at.info[0].value.startswith("The search's time budget ran out: the 3 trials that ended are kept.")
    assert len(at.dataframe[0].value) == 4

    handle.state = "failed"
    handle.error = UserError("search.ray_unreachable", "LayerLab cannot reach a Ray cluster at {address}.", address="10.0.0.9:6379")
    ws.search.state = "running"  # polled again
    at.run()
    assert not exceptions(at)
    assert at.error[0].value == "The search stopped because of a problem: LayerLab cannot reach a Ray cluster at 10.0.0.9:6379."
    assert not at.button(key="start_search").disabled


def test_use_this_design_makes_a_trial_the_current_design_for_train_and_design():
    ws = workspace_with_sample("iris")
    handle = with_fake_search(ws)
    handle.state = "done"
    handle.rows = [r for r in handle.rows if r.state != "running"]
    at = search_tab(ws)
    assert not exceptions(at)
    assert at.success[0].value.startswith("The search is done: 3 trials. Best: trial 1, validation accuracy 0.95")
    assert not at.button(key="start_search").disabled  # ended: a new search may start
    assert at.selectbox(key="search_use_trial").value == 1  # the best first; the failed trial is not offered
    assert at.selectbox(key="search_use_trial").options == ["Trial 1 · score 0.95 · best", "Trial 2 · score 0.5 · pruned"]
    at.button(key="use_trial_design").click().run()
    assert not exceptions(at)
    assert ws.spec.optimizer["learning_rate"] == 0.003 and ws.spec.layers[0]["units"] == 32 and ws.template_id is None
    assert any(s.value.startswith("Trial 1's design is now the current design") for s in at.success)
    assert len(ws.runs) == 0  # this stand-in trial kept no model: nothing to evaluate

    at.session_state["train_tab"] = TRAIN_TAB
    at.run()
    assert at.number_input(key=f"train_learning_rate_{ws.spec.optimizer['type']}").value == 0.003  # not the old value
    assert ws.spec.optimizer["learning_rate"] == 0.003


def test_the_search_tab_is_all_chinese():
    ws = workspace_with_sample("iris")
    with_fake_search(ws).state = "done"
    from components.i18n import LANG_KEY

    at = new_app()
    at.session_state[LANG_KEY] = "zh"
    at.session_state["workspace"] = ws
    at.session_state["train.chosen_tab"] = "search"
    at.run().switch_page(PAGE).run()
    assert not exceptions(at), exceptions(at)
    assert at.dataframe and at.get("plotly_chart")  # the live views are drawn (and checked)
    assert_all_chinese(at, ws)


def test_the_search_tab_and_its_handle_import_no_tensorflow_ray_or_optuna():
    """The Streamlit server draws the Search tab, starts the search and polls its handle; the search
    itself runs in its own process (checked in a fresh interpreter: this one has imported TensorFlow)."""
    code = (
        "import sys, json\n"
        "import components.search_view\n"
        "from tests.app.apptest import workspace_with_sample\n"
        "from components.state.search import search_draft, start_search\n"
        "ws = workspace_with_sample('iris')\n"
        "draft = search_draft(ws)\n"
        "draft.trials, draft.epochs = 1, 1\n"
        "search = start_search(ws, draft)\n"
        "search.handle.poll(); search.handle.stop(); search.handle._process.kill()\n"
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras', 'jax', 'ray', 'optuna') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_real_tiny_search_runs_in_its_own_process_and_its_best_design_and_model_are_kept(monkeypatch):
    """Iris, 2 trials of 1 epoch, one trial worker (one TensorFlow import): started from the tab,
    polled until done, then the best trial's design becomes the current one and its model a run."""
    monkeypatch.setenv("LAYERLAB_MAX_CONCURRENT_RUNS", "1")  # the driver's trial workers: one
    ws = workspace_with_sample("iris")
    at = search_tab(ws)
    for place in ws.search_draft.space():
        if place not in ("optimizer.learning_rate", "layers.0.units"):
            at.toggle(key=f"search_vary_{place}").set_value(False)
    at.number_input(key="search_trials").set_value(2)
    at.number_input(key="search_epochs").set_value(1)
    at.radio(key="search_strategy").set_value("random")
    at.button(key="start_search").click().run()
    assert not exceptions(at) and ws.search is not None, [e.value for e in at.error]
    assert at.button(key="start_search").disabled and not at.button(key="stop_search").disabled
    deadline = time.monotonic() + 150
    while not ws.search.ended and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()  # AppTest does not fire the fragment's timer
        assert not exceptions(at), exceptions(at)
    at.run()
    assert ws.search.state == "done", (ws.search.state, ws.search.message)
    table = at.dataframe[0].value
    assert list(table["Trial"]) == [1, 2] and set(table["State"]) == {"finished"} and list(table["Epochs"]) == [1, 1]
    best = ws.search.best()
    assert at.selectbox(key="search_use_trial").value == best.id

    at.button(key="use_trial_design").click().run()
    assert not exceptions(at)
    tried = best.settings
    assert ws.spec.layers[0]["units"] == tried["layers.0.units"]
    assert ws.spec.optimizer["learning_rate"] == tried["optimizer.learning_rate"]
    run = ws.runs[-1]
    assert run.search_trial == best.id and run.has_model and run.status == "finished"
    assert ws.selected_run == len(ws.runs) - 1  # Evaluate and Export open on it
    at.session_state["train_tab"] = TRAIN_TAB
    at.run()
    assert list(at.dataframe[0].value["Run"]) == [run.number]  # the Train tab lists it with the others
