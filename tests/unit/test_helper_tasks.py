"""The pages' model work in helper processes (core.training.tasks, core.training.task_service):
the evaluation the training worker writes, predictions and TFLite files from a helper, and
what a waiting page is told when a helper fails. One TaskService for the module (a helper
imports TensorFlow: seconds)."""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import UserError
from core.evaluate import EVALUATION_FORMAT, evaluate
from core.templates import default_template
from core.training import train_in_process
from core.training.rundir import RunDir, write_job
from core.training.task_service import TIME_LIMIT_S, Task, TaskService
from core.export import run_tflite
from core.training.tasks import float32_tflite, read_evaluation
from core.training.worker import HELPER_NICENESS
from tests.unit.trained_models import sample

HELPER_START_S = 240  # a cold helper on a busy 2-core machine


@pytest.fixture(scope="module")
def tasks():
    service = TaskService()
    yield service
    service.shutdown()


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    """A run folder as the app's worker leaves it: the job, best.keras and evaluation.json."""
    iris = sample("iris")
    spec = default_template(iris)
    spec.training.update(epochs=3, seed=1)
    run_dir = tmp_path_factory.mktemp("run")
    write_job(RunDir(run_dir), spec, iris)
    result = train_in_process(spec, iris, run_dir, evaluate=True)
    return run_dir, result.model, iris


def test_the_worker_writes_the_evaluation_the_page_reads(iris_run):
    run_dir, model, iris = iris_run
    shown = read_evaluation(run_dir)
    expected = evaluate(model, iris)
    assert shown.metrics() == expected.metrics()
    np.testing.assert_array_equal(shown.confusion, expected.confusion)
    assert [vars(m) for m in shown.worst] == [vars(m) for m in expected.worst]


def test_the_worker_leaves_a_float32_tflite_file_that_answers_like_keras(iris_run):
    run_dir, model, iris = iris_run
    path = float32_tflite(run_dir)
    assert path is not None  # the server answers "Try it" with it, in LiteRT
    np.testing.assert_allclose(run_tflite(path.read_bytes(), iris.x_test), model.predict(iris.x_test, verbose=0), atol=1e-5)


def test_a_regression_evaluation_keeps_its_plot_points(tmp_path):
    diabetes = sample("diabetes")
    spec = default_template(diabetes)
    spec.training.update(epochs=2, seed=1)
    result = train_in_process(spec, diabetes, tmp_path, evaluate=True)
    shown, expected = read_evaluation(tmp_path), evaluate(result.model, diabetes)
    assert shown.metrics() == expected.metrics()
    np.testing.assert_allclose(shown.predicted, expected.predicted)
    np.testing.assert_allclose(shown.residuals, expected.residuals)


def test_an_older_or_damaged_evaluation_file_is_evaluated_again(tmp_path):
    paths = RunDir(tmp_path)
    assert read_evaluation(tmp_path) is None  # none yet
    paths.evaluation.write_text(json.dumps({"format": EVALUATION_FORMAT - 1, "task": "classification"}))
    assert read_evaluation(tmp_path) is None
    paths.evaluation.write_text('{"format": 1, "tas')  # a killed writer's half file
    assert read_evaluation(tmp_path) is None
    paths.evaluation.write_text(json.dumps({"format": EVALUATION_FORMAT, "error": {
        "code": "evaluate.no_test_data", "template": "There is no test data.", "params": {}}}))
    with pytest.raises(UserError) as raised:
        read_evaluation(tmp_path)
    assert raised.value.code == "evaluate.no_test_data"


def test_a_helper_predicts_what_the_model_predicts_and_evaluates_an_old_run(tasks, iris_run):
    run_dir, model, iris = iris_run
    outputs = tasks.submit("predict", run_dir, x=iris.x_test[:7]).wait(HELPER_START_S)
    np.testing.assert_allclose(outputs, model.predict(iris.x_test[:7], verbose=0), atol=1e-6)
    pid = tasks.pids()[0]
    assert pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + HELPER_NICENESS

    RunDir(run_dir).evaluation.unlink()  # as if written by an older LayerLab
    tasks.run("evaluate", run_dir)
    assert read_evaluation(run_dir).metrics() == evaluate(model, iris).metrics()


def test_tflite_files_are_converted_once_into_the_run_folder(tasks, iris_run):
    run_dir, model, iris = iris_run
    path = Path(tasks.run("tflite", run_dir, variant="float16"))
    assert path.parent == RunDir(run_dir).exports and path.read_bytes()[4:8] == b"TFL3"
    made = path.stat().st_mtime_ns
    assert Path(tasks.run("tflite", run_dir, variant="float16")).stat().st_mtime_ns == made  # kept, not redone


def test_serving_zip_is_made_once_by_a_helper_for_the_export_page(tasks, iris_run):
    import zipfile

    from core.training.task_service import PRIORITY
    from core.training.tasks import TASKS

    assert set(TASKS) == set(PRIORITY) == set(TIME_LIMIT_S)  # every task the pages ask for is known to the service
    run_dir, _, _ = iris_run
    path = Path(tasks.run("serving_zip", run_dir, name="iris"))
    assert path == RunDir(run_dir).exports / "serving.zip"
    with zipfile.ZipFile(path) as archive:
        assert {"serve.py", "serving.json", "model/1/saved_model.pb"} <= set(archive.namelist())


def test_a_helper_that_dies_mid_task_is_a_message_and_the_next_task_gets_a_fresh_one(tasks, iris_run):
    run_dir, _, iris = iris_run
    tasks.submit("predict", run_dir, x=iris.x_test[:1]).wait(HELPER_START_S)  # a warm helper
    pid = tasks.pids()[0]
    report = tasks.submit("tflite_report", run_dir)
    time.sleep(0.5)
    os.kill(pid, 9)  # as the kernel does when memory runs out
    with pytest.raises(UserError) as raised:
        report.wait(60)
    assert raised.value.code == "task.helper_stopped" and "out of memory" in str(raised.value)
    outputs = tasks.submit("predict", run_dir, x=iris.x_test[:2]).wait(HELPER_START_S)
    assert outputs.shape == (2, 3) and tasks.pids()[0] != pid


def test_a_run_without_its_model_and_an_unknown_variant_are_answered_plainly(tasks, iris_run, tmp_path):
    _, _, iris = iris_run
    with pytest.raises(UserError) as raised:
        tasks.submit("predict", tmp_path, x=iris.x_test[:1]).wait(HELPER_START_S)
    assert raised.value.code == "task.no_model"
    run_dir = iris_run[0]
    with pytest.raises(UserError) as raised:  # a bug inside a task: its traceback is kept with the run
        tasks.submit("tflite", run_dir, variant="float8").wait(HELPER_START_S)
    assert raised.value.code == "task.bug" and "float8" in str(raised.value)
    assert "Traceback" in (run_dir / "helper_error.txt").read_text()


def test_a_waiting_prediction_goes_before_queued_conversions():
    queued = [Task(0, "tflite_report", Path("."), {}), Task(1, "tflite", Path("."), {}), Task(2, "predict", Path("."), {}),
              Task(3, "evaluate", Path("."), {}), Task(4, "predict", Path("."), {})]
    assert [t.number for t in sorted(queued)] == [2, 4, 3, 1, 0]


def test_a_helper_retires_after_its_quota_or_when_unused_and_no_answer_is_lost(iris_run, monkeypatch):
    run_dir, model, iris = iris_run
    service = TaskService(tasks_per_helper=2)
    try:
        pids = []
        for k in range(5):
            outputs = service.submit("predict", run_dir, x=iris.x_test[k : k + 1]).wait(HELPER_START_S)
            np.testing.assert_allclose(outputs, model.predict(iris.x_test[k : k + 1], verbose=0), atol=1e-6)
            pids.append(service.pids())
        assert len({tuple(p) for p in pids}) >= 2  # a fresh helper took over
        monkeypatch.setattr("core.training.task_service.IDLE_EXIT_S", 0.5)
        deadline = time.monotonic() + 30
        while service.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert service.pids() == []  # an unused helper gives its memory back
    finally:
        service.shutdown()


def test_time_spent_waiting_in_the_queue_neither_fails_a_task_nor_kills_its_helper(tasks, iris_run, tmp_path):
    run_dir, model, iris = iris_run
    tasks.submit("predict", run_dir, x=iris.x_test[:1]).wait(HELPER_START_S)  # a warm helper
    pid = tasks.pids()[0]
    other = Path(shutil.copytree(run_dir, tmp_path / "other"))  # a model it has not loaded: an answer takes a while
    RunDir(other).evaluation.unlink()
    waited = Task(10_000, "evaluate", other, {})
    waited.submitted_at -= TIME_LIMIT_S["evaluate"] + 1  # as if it had queued behind longer tasks
    tasks._requests.put(waited)
    waited.wait(HELPER_START_S)  # answered, not "took longer than 300 seconds"
    assert read_evaluation(other).metrics() == evaluate(model, iris).metrics()
    assert tasks.pids() == [pid]


def test_a_helper_that_reads_no_request_is_stopped_at_the_time_limit(tasks, iris_run, monkeypatch):
    run_dir, _, iris = iris_run
    tasks.submit("predict", run_dir, x=iris.x_test[:1]).wait(HELPER_START_S)  # a warm helper
    monkeypatch.setitem(TIME_LIMIT_S, "predict", 5)
    pid = tasks.pids()[0]
    os.kill(pid, signal.SIGSTOP)  # alive but reading nothing, as on a machine swapping hard
    rows = np.zeros((1_000_000, 4), dtype=np.float32)  # a 16 MB CSV's rows: more than the pipe holds
    with pytest.raises(UserError) as raised:
        tasks.submit("predict", run_dir, x=rows).wait(30)
    assert raised.value.code == "task.too_slow"
    monkeypatch.undo()
    outputs = tasks.submit("predict", run_dir, x=iris.x_test[:2]).wait(HELPER_START_S)
    assert outputs.shape == (2, 3) and tasks.pids()[0] != pid


def test_a_shutdown_answers_the_task_in_flight_and_leaves_no_helper(iris_run):
    run_dir, _, iris = iris_run
    others = helper_processes()  # the module's service keeps its own
    service = TaskService()
    in_flight = service.submit("predict", run_dir, x=iris.x_test[:1])  # its helper is still importing TensorFlow
    deadline = time.monotonic() + 30
    while not service.pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    service.shutdown()
    with pytest.raises(UserError) as raised:
        in_flight.wait(30)
    assert raised.value.code == "task.helper_stopped" and "shutting down" in str(raised.value)
    # a task a slot's thread took from the queue just as the service shut down: no helper is started for it
    late = Task(10_000, "predict", run_dir, {"x": iris.x_test[:1]})
    service._do(0, late)
    with pytest.raises(UserError) as raised:
        late.wait(0)
    assert "shutting down" in str(raised.value)
    assert helper_processes() <= others


def helper_processes() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.name == "layerlab-helper"}


def test_a_run_started_in_a_used_folder_never_shows_the_earlier_models_results(tmp_path):
    """TrainingService.start removes old results: a stale evaluation.json or float32 file would be the
    Evaluate page's metrics and Try it's answers for the new model."""
    from core.training import TrainingService

    paths = RunDir(tmp_path / "run").create()
    for stale in (paths.events, paths.result, paths.best_model, paths.evaluation, paths.path / "evaluation_error.txt",
                  paths.path / "helper_error.txt"):
        stale.write_text("from an earlier run")
    paths.exports.mkdir()
    (paths.exports / "model_float32.tflite").write_bytes(b"earlier model")
    service = TrainingService(keep_warm=False)
    service.max_concurrent = 0  # the run stays queued: no worker is started
    try:
        service.start(default_template(sample("iris")), sample("iris"), paths.path)
        assert sorted(p.name for p in paths.path.iterdir() if not p.name.endswith(".npy")) == ["dataset.json", "spec.json"]
    finally:
        service.shutdown()
