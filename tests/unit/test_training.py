"""The in-process trainer: progress events, stop, divergence, early stopping, time limit, seeds.

Real data (scikit-learn's iris and diabetes through core.data) and LayerLab's own builder;
tiny models and few epochs, because this machine is small.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.spec import ProjectSpec  # noqa: E402
from core.training import RunRecord, train_in_process  # noqa: E402
from core.training.events import EventReader, EventWriter, read_all  # noqa: E402
from tests.unit.trained_models import sample  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def spec_for(training: dict, optimizer: dict | None = None, units: int = 16) -> ProjectSpec:
    return ProjectSpec.from_dict(
        {
            "layers": [{"type": "Dense", "units": units, "activation": "relu"}],
            "optimizer": optimizer or {"type": "Adam", "learning_rate": 0.01},
            "training": {"early_stopping_patience": 0, **training},
        }
    )


def load(path: Path):
    import keras

    return keras.saving.load_model(path)


def test_events_describe_every_epoch_and_the_end(tmp_path: Path) -> None:
    iris = sample("iris")
    seen: list[dict] = []
    result = train_in_process(spec_for({"epochs": 3, "batch_size": 16, "seed": 1}), iris, tmp_path, on_event=seen.append)

    assert result.status == "finished"
    assert result.message.startswith("Training finished after 3 epochs. The model from epoch ")
    on_disk = read_all(tmp_path / "events.jsonl")
    assert on_disk == seen  # the callback and the file tell the same story
    kinds = [e["type"] for e in on_disk]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 3
    epochs = [e for e in on_disk if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert set(epochs[0]["logs"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert epochs[-1]["eta"] == 0 and epochs[0]["eta"] > 0
    assert epochs[0]["elapsed"] < epochs[1]["elapsed"] < epochs[2]["elapsed"]
    # history and result.json carry the same per-epoch values
    assert result.history == [e["logs"] for e in epochs]
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["status"] == "finished" and saved["history"] == result.history


def test_stop_takes_effect_within_one_batch_and_keeps_the_best_weights(tmp_path: Path) -> None:
    iris = sample("iris")  # 102 training rows, batch 16: 7 batches per epoch
    calls = 0
    stop_at = 7 * 2 + 3  # asked before the 3rd batch of epoch 3

    def should_stop() -> bool:
        nonlocal calls
        calls += 1
        return calls >= stop_at

    result = train_in_process(spec_for({"epochs": 50, "batch_size": 16, "seed": 2}), iris, tmp_path, should_stop=should_stop)

    assert result.status == "stopped"
    assert "stopped at your request during epoch 3" in result.message
    assert int(result.model.optimizer.iterations.numpy()) == stop_at  # that batch ran, no other
    val_losses = [h["val_loss"] for h in result.history]
    assert result.best_epoch == int(np.argmin(val_losses)) + 1
    best = load(tmp_path / "best.keras")
    probabilities = best.predict(iris.x_test, verbose=0)
    assert probabilities.shape == (len(iris.x_test), 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(probabilities, result.model.predict(iris.x_test, verbose=0), rtol=1e-5, atol=1e-6)


def test_a_nan_loss_ends_the_run_as_diverged_with_a_usable_model(tmp_path: Path) -> None:
    diabetes = sample("diabetes")
    absurd = {"type": "SGD", "learning_rate": 10.0, "momentum": 0.9}
    result = train_in_process(spec_for({"epochs": 20, "batch_size": 32, "seed": 3}, absurd), diabetes, tmp_path)

    assert result.status == "diverged"
    assert result.message.startswith("Training diverged — try a lower learning rate.")
    assert result.epochs_run < 20
    predictions = load(tmp_path / "best.keras").predict(diabetes.x_test, verbose=0)
    assert np.isfinite(predictions).all()  # the last good weights, not the NaN ones
    end = read_all(tmp_path / "events.jsonl")[-1]
    assert end["type"] == "end" and end["status"] == "diverged"


def test_early_stopping_ends_the_run_and_restores_the_best_epoch(tmp_path: Path) -> None:
    import keras

    iris = sample("iris")
    # a learning rate far too high for iris makes the validation loss bounce, so patience runs out
    spec = spec_for({"epochs": 40, "batch_size": 8, "seed": 1, "early_stopping_patience": 2}, {"type": "Adam", "learning_rate": 0.3}, 32)
    result = train_in_process(spec, iris, tmp_path)

    assert result.status == "early_stopped"
    val_losses = [h["val_loss"] for h in result.history]
    assert result.best_epoch == int(np.argmin(val_losses)) + 1
    assert result.epochs_run == result.best_epoch + 2 < 40
    assert f"The model from epoch {result.best_epoch} is kept" in result.message
    kept = load(tmp_path / "best.keras")
    kept_loss = kept.evaluate(iris.x_val, iris.y_val, verbose=0, return_dict=True)["loss"]
    assert kept_loss == pytest.approx(min(val_losses), rel=1e-4)
    keras.backend.clear_session()


def test_the_time_limit_ends_a_long_run_with_a_model(tmp_path: Path) -> None:
    iris = sample("iris")
    result = train_in_process(spec_for({"epochs": 10000, "batch_size": 4, "seed": 1, "time_limit_s": 1.0}), iris, tmp_path)

    assert result.status == "timeout"
    assert "time limit of 1 seconds" in result.message
    assert 1.0 <= result.elapsed < 60
    assert result.epochs_run < 10000
    assert load(tmp_path / "best.keras").predict(iris.x_test[:3], verbose=0).shape == (3, 3)


def test_the_same_seed_repeats_the_history_and_another_seed_does_not(tmp_path: Path) -> None:
    iris = sample("iris")

    def history(seed: int, name: str) -> list[dict]:
        return train_in_process(spec_for({"epochs": 2, "batch_size": 16, "seed": seed}), iris, tmp_path / name).history

    first = history(5, "a")
    assert history(5, "b") == first
    assert history(6, "c") != first


def test_the_event_reader_ignores_a_half_written_last_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    reader = EventReader(path)
    assert reader.read_new() == []  # no file yet
    with EventWriter(path) as writer:
        writer.write({"type": "start"})
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"type": "epo')  # a worker killed mid-write
    assert reader.read_new() == [{"type": "start"}]
    with open(path, "a", encoding="utf-8") as f:
        f.write('ch", "epoch": 1}\n')
    assert reader.read_new() == [{"type": "epoch", "epoch": 1}]
    assert reader.read_new() == []


def test_a_run_record_summarises_a_run_for_comparison(tmp_path: Path) -> None:
    spec = spec_for({"epochs": 2, "batch_size": 16, "seed": 1})
    result = train_in_process(spec, sample("iris"), tmp_path)
    record = RunRecord(id="run-1", number=1, spec=spec.to_dict())
    record.update_from(result)
    record.metrics = {"accuracy": 0.9, "classes": ["a"]}

    row = record.summary()
    assert row["run"] == "Run 1" and row["status"] == "finished" and row["epochs_run"] == 2
    assert row["optimizer"] == "Adam" and row["batch_size"] == 16 and row["test_accuracy"] == 0.9
    assert row["best_val_loss"] == result.history[result.best_epoch - 1]["val_loss"]
    assert RunRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_importing_the_training_package_does_not_import_tensorflow() -> None:
    code = "import sys, core.training; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
