"""Balanced classes (issue 25) in the app: a skewed CSV switches "Balance the classes" on and the Data
page says why; the Train page's checkbox (key `balance_classes`, classification only) trains a run
with class weights, the runs table says which runs used them, and project.json carries the setting."""
from __future__ import annotations

import pytest

from core.spec import ProjectSpec
from core.training.events import read_all
from core.training.rundir import RunDir
from tests.app.apptest import exceptions, new_app, open_page, workspace_with_sample
from tests.app.run_helpers import run_until_ended
from tests.datafiles import csv_bytes, machine_faults_frame

DATA, TRAIN, DESIGN = "pages/data.py", "pages/train.py", "pages/design.py"


def _flag(at) -> str:
    return " ".join(i.value for i in at.info if "the examples of the smallest" in i.value)


def test_a_skewed_csv_turns_balancing_on_and_a_run_with_it_shows_in_the_runs_table(app, downloads):
    at = open_page(app, DATA)
    at.file_uploader(key="data_upload").set_value(("machines.csv", csv_bytes(machine_faults_frame(180, 20)), "text/csv"))
    at.run()
    assert not exceptions(at)
    ws = at.session_state["workspace"]
    assert ws.dataset.classes == ["fault", "ok"] and ws.spec.training["balance_classes"] is True
    flag = _flag(at)
    assert "(ok) has 9.0× the examples of the smallest (fault)" in flag and "is on" in flag

    at.switch_page(TRAIN).run()
    assert at.checkbox(key="balance_classes").value is True
    at.number_input(key="epochs").set_value(2).run()
    at.number_input(key="train_patience").set_value(0).run()
    at.button(key="start_training").click().run()
    assert not exceptions(at)
    run_until_ended(at)
    run = ws.runs[0]
    assert run.status == "finished"
    start = next(e for e in read_all(RunDir(run.run_dir).events) if e["type"] == "start")
    # the worker trained with the training split's weights (14 faults, 126 ok): 140 / (2 × count)
    assert start["class_weights"] == pytest.approx([5.0, 140 / 252], abs=1e-6)
    table = at.dataframe[0].value
    assert table.iloc[0]["Balanced classes"] == "yes"

    at.switch_page(DESIGN).run()  # the project file carries the setting
    assert ProjectSpec.from_json(downloads(at, "save_project")).training["balance_classes"] is True

    at.switch_page(TRAIN).run()  # the user switches it off: the spec, the file and the Data page follow
    at.checkbox(key="balance_classes").uncheck().run()
    assert ws.spec.training["balance_classes"] is False
    assert at.dataframe[0].value.iloc[0]["Balanced classes"] == "yes"  # run 1 still says what it used
    at.switch_page(DATA).run()
    assert "is off" in _flag(at)
    assert not exceptions(at)


def test_balanced_data_starts_off_and_a_regression_has_no_checkbox():
    for sample, shown in (("iris", True), ("diabetes", False)):
        at = new_app()
        at.session_state["workspace"] = workspace_with_sample(sample)
        at = open_page(at, TRAIN)
        assert not exceptions(at)
        keys = [c.key for c in at.checkbox]
        assert ("balance_classes" in keys) is shown, (sample, keys)
        if shown:
            assert at.checkbox(key="balance_classes").value is False
        at.switch_page(DATA).run()
        assert not _flag(at)  # iris is balanced; a regression has no classes
