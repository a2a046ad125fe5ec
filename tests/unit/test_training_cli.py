"""`python -m core train`: the files it writes, its progress lines, its user errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTPUT_FILES = {
    "model.keras", "model.tflite", "metrics.json", "history.json", "project.json",
    "labels.json", "preprocessing.json", "train_model.py", "serving.zip",
}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The CLI as the README shows it: none of the Makefile's environment (no TF_CPP_MIN_LOG_LEVEL)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_train_writes_every_file_and_prints_each_epoch(tmp_path: Path) -> None:
    out = tmp_path / "iris model"
    done = run_cli("train", "sample:iris", "--epochs", "3", "--seed", "4", "--out", str(out))

    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    epoch_lines = [line for line in done.stdout.splitlines() if line.startswith("Epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    assert "val_loss" in epoch_lines[0]

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == ["setosa", "versicolor", "virginica"]
    assert metrics["n_test"] > 0 and 0 <= metrics["accuracy"] <= 1 and metrics["loss"] > 0
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == len(history["val_loss"]) == 3
    project = json.loads((out / "project.json").read_text())
    assert project["training"]["epochs"] == 3 and project["training"]["seed"] == 4
    assert (out / "model.tflite").stat().st_size > 0
    compile((out / "train_model.py").read_text(), "train_model.py", "exec")  # valid Python
    # only LayerLab's own lines: no TensorFlow start-up or conversion logs, no Python warnings
    assert done.stderr.strip() == "", done.stderr[-2000:]


def test_an_output_folder_that_cannot_be_written_is_refused_before_training(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    under_file = run_cli("train", "sample:iris", "--epochs", "50", "--out", str(a_file / "model"))
    assert under_file.returncode == 2 and "Traceback" not in under_file.stderr
    assert "cannot write into" in under_file.stderr and "--out" in under_file.stderr
    assert "Epoch" not in under_file.stdout  # refused before any training


def test_impossible_settings_are_user_errors_without_a_traceback(tmp_path: Path) -> None:
    bad_epochs = run_cli("train", "sample:iris", "--epochs", "0", "--out", str(tmp_path / "a"))
    assert bad_epochs.returncode == 2
    assert "epochs" in bad_epochs.stderr and "Traceback" not in bad_epochs.stderr

    missing_spec = run_cli("train", "sample:iris", "--spec", str(tmp_path / "nope.json"), "--out", str(tmp_path / "b"))
    assert missing_spec.returncode == 2
    assert "nope.json does not exist" in missing_spec.stderr and "Traceback" not in missing_spec.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
