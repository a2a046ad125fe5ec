"""Design search runs: the CLI on this machine's trial workers (a diverging trial among them), the app's handle
(stopped midway), pruning from each epoch's score, and the bad inputs of issue 24 (no training for those)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.cli import main
from core.data import load_sample
from core.search.handle import SearchFolder, start_search
from core.search.space import apply
from core.search.strategies import SearchSettings
from core.search.trials import STOPPED_BY_USER, TRIAL_PRUNED
from core.spec import ProjectSpec
from core.templates import default_template
from core.training.service import TrainingService

TRAIN_FILES = {"model.keras", "model.tflite", "metrics.json", "history.json", "project.json", "labels.json",
               "preprocessing.json", "train_model.py", "serving.zip"}
GRID = {"layers.0.units": {"choice": [8, 16]}, "optimizer.learning_rate": {"choice": [10.0, 1e-5]}}


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def diabetes_sgd() -> dict:
    """The diabetes design with SGD (momentum 0.9): learning rate 10 makes its loss NaN within an epoch or two."""
    base = default_template(load_sample("diabetes")).to_dict()
    base["optimizer"] = {"type": "SGD", "learning_rate": 1e-5, "momentum": 0.9}
    return base


@pytest.fixture(scope="module")
def cli_search(tmp_path_factory: pytest.TempPathFactory):
    """One grid search of 3 trials × 2 epochs on diabetes, 2 at a time, through `python -m core search` (in
    process); trials with learning rate 10 diverge."""
    tmp = tmp_path_factory.mktemp("search")
    space = write_json(tmp / "space.json", GRID)
    design = write_json(tmp / "design.json", diabetes_sgd())
    out = tmp / "out"
    started = time.monotonic()
    code = main(["search", "sample:diabetes", "--spec", str(design), "--space", str(space), "--trials", "3",
                 "--strategy", "grid", "--epochs", "2", "--parallel", "2", "--pruner", "none", "--out", str(out)])
    return code, out, time.monotonic() - started


def test_the_cli_writes_every_trial_the_best_design_and_its_model_folder(cli_search) -> None:
    code, out, seconds = cli_search
    assert code == 0
    trials = json.loads((out / "trials.json").read_text())
    assert trials["format"] == "layerlab-search/1" and trials["state"] == "done"
    assert trials["metric"] == "val_loss" and trials["direction"] == "minimize"
    rows = trials["trials"]
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert len({json.dumps(r["settings"], sort_keys=True) for r in rows}) == 3  # a grid tries each point once
    for row in rows:
        assert set(row["settings"]) == set(GRID)
        if row["settings"]["optimizer.learning_rate"] == 10.0:  # diverged: marked, and the search went on
            assert row["state"] == "failed" and "diverged" in row["message"] and row["score"] is None
        else:
            assert row["state"] == "finished" and row["epochs"] == 2 and len(row["curve"]) == 2 and row["score"] > 0
            assert 0 < row["seconds"] < seconds / 2  # its own training, not its worker's TensorFlow import
    finished = [r for r in rows if r["state"] == "finished"]
    assert finished, "the grid's 3 of 4 points include a learning rate of 1e-5"
    best = min(finished, key=lambda r: (r["score"], r["id"]))
    assert trials["best"] == best["id"]
    project = ProjectSpec.from_json((out / "project.json").read_bytes())
    expected = apply(ProjectSpec.from_dict(diabetes_sgd()), best["settings"]).to_dict()
    expected["training"]["epochs"] = 2
    assert project.to_dict() == expected
    assert {p.name for p in (out / "model").iterdir()} == TRAIN_FILES
    metrics = json.loads((out / "model" / "metrics.json").read_text())
    assert metrics["training"]["epochs_run"] == 2 and metrics["mae"] > 0
    assert seconds < 150


def test_a_search_stopped_midway_keeps_what_ran_and_gives_its_training_slot_to_a_queued_run(tmp_path: Path) -> None:
    """The app's way: the search takes the server's one training slot (cap 1), a run started meanwhile
    waits in the same queue and starts once the stopped search has let go of its slot."""
    iris = load_sample("iris")
    base = default_template(iris).to_dict()
    base["training"].update(epochs=1000, early_stopping_patience=0)
    service = TrainingService(max_concurrent=1, keep_warm=False)
    handle = start_search(ProjectSpec.from_dict(base), iris, {"layers.0.units": {"choice": [8, 16]}},
                          SearchSettings(strategy="grid", trials=2, parallel=2, pruner="none"), tmp_path / "search",
                          service=service)
    run = None
    try:
        assert handle.slots == 1 and service.slots_used == 1  # it wanted 2; the cap is 1
        run = service.start(ProjectSpec.from_dict(base), iris, tmp_path / "run")
        assert (run.state, run.queue_position) == ("queued", 1)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not any(r.epochs >= 2 for r in handle.poll()):
            time.sleep(0.2)
        assert handle.state == "running" and run.state == "queued"
        handle.stop()
        assert handle.wait(timeout=60) == "stopped"
        service.pump()
        assert run.state == "running"  # the search's slot, given back when its driver exited
    finally:
        handle.kill()
        if run is not None:
            run.kill()
        service.shutdown()
    rows = handle.poll()
    assert len(rows) == 1  # the second trial never started
    first = rows[0]
    assert first.state == "finished" and 2 <= first.epochs < 1000 and first.score is not None
    assert "stopped at your request" in first.message
    assert handle.message == STOPPED_BY_USER and handle.metric == "val_accuracy" and handle.direction == "maximize"
    assert handle.best().id == first.id
    assert handle.trial_spec(first.id).layers[0]["units"] == first.settings["layers.0.units"]
    assert (handle.trial_dir(first.id) / "best.keras").exists()


def test_the_pruner_stops_a_trial_behind_the_median_from_its_epoch_reports(tmp_path: Path) -> None:
    from core.search import driver
    from core.search.space import parse_space

    iris = load_sample("iris")
    space = parse_space({"layers.0.units": {"int": [4, 64]}}, default_template(iris))
    settings = SearchSettings(strategy="random", pruner="median")
    folder = SearchFolder(tmp_path)
    log = driver.SearchLog(folder, "val_accuracy", "maximize")
    study = driver.new_study(space, settings, "maximize")

    def trial_with(curve: list[float]) -> driver._Running:
        trial = study.ask()
        row = log.add(driver.TrialRow(trial.number + 1, space.suggest(trial)))
        run_dir = folder.trial(row.id)
        run_dir.mkdir(parents=True)
        item = driver._Running(trial, row, run_dir)
        with open(run_dir / "events.jsonl", "w") as events:
            for epoch, score in enumerate(curve, start=1):
                events.write(json.dumps({"type": "epoch", "epoch": epoch, "logs": {
                    "loss": 1.0, "val_loss": 1 - score, "val_accuracy": score}}) + "\n")
                events.flush()
                driver._read_events(item, log)
                if item.pruned:
                    break
        return item

    for _ in range(3):  # three good trials end normally
        item = trial_with([0.5, 0.7, 0.8, 0.9])
        assert not item.pruned
        item.status = "finished"
        driver._conclude(item, study, log)
    hopeless = trial_with([0.1, 0.1, 0.1, 0.1])
    assert hopeless.pruned and hopeless.row.epochs == 2  # not before the warm-up epochs (2)
    driver._conclude(hopeless, study, log)
    assert hopeless.row.state == "pruned" and hopeless.row.template == TRIAL_PRUNED
    assert [r.state for r in log.rows.values()] == ["finished"] * 3 + ["pruned"]
    assert json.loads(folder.trials.read_text())["best"] == 1


def test_the_time_budget_and_the_stop_file_end_a_search(tmp_path: Path) -> None:
    from core.search.driver import stop_reason
    from core.search.trials import TIME_BUDGET_SPENT

    folder = SearchFolder(tmp_path)
    now = time.monotonic()
    assert stop_reason(folder, SearchSettings(time_budget_s=60), now) is None
    assert stop_reason(folder, SearchSettings(time_budget_s=60), now - 61) == (TIME_BUDGET_SPENT, {"seconds": "60"})
    folder.stop.touch()
    assert stop_reason(folder, SearchSettings(), now) == (STOPPED_BY_USER, {})


def _cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def test_bad_searches_are_plain_messages_with_exit_2_and_nothing_trained(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    common = ("sample:iris", "--trials", "2", "--out", str(out))

    code, err = _cli(capsys, "search", *common, "--space", str(write_json(tmp_path / "empty.json", {})))
    assert code == 2 and "search space is empty" in err and "Traceback" not in err

    design = write_json(tmp_path / "design.json", {"layers": [
        {"type": "Reshape", "target_shape": [-1, 1]}, {"type": "Conv1D", "filters": 4, "kernel_size": 2},
        {"type": "MaxPooling1D", "pool_size": 2}, {"type": "Flatten"}]})
    hopeless = write_json(tmp_path / "pools.json", {"layers.2.repeat": {"int": [3, 5]}})
    code, err = _cli(capsys, "search", *common, "--spec", str(design), "--space", str(hopeless))
    assert code == 2 and '"layers.2.repeat"' in err and "invalid" in err

    import socket

    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    code, err = _cli(capsys, "search", *common, "--space", str(write_json(tmp_path / "s.json", GRID)),
                     "--ray", f"127.0.0.1:{port}")
    assert code == 2 and f"cannot reach a Ray cluster at 127.0.0.1:{port}" in err and "Nothing was trained" in err
    code, err = _cli(capsys, "--lang", "zh", "search", *common, "--space", str(tmp_path / "s.json"), "--ray", "nohost")
    assert code == 2 and "nohost" in err

    code, err = _cli(capsys, "search", *common, "--space", str(tmp_path / "missing.json"))
    assert code == 2 and "does not exist" in err
    assert not (out / "trials.json").exists()
