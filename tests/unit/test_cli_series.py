"""`python -m core` on time series, as the README shows it: inspect and summary of a dated CSV with
the forecast flags, `train` writing a folder (model, TFLite, metrics next to the naive forecasts,
train_model.py) from a user's CSV and from the sample, `predict` printing the next values with their
months from a CSV of recent rows, and plain messages (exit 2, no traceback) for what a user gets wrong.

One model is trained for the whole module (2 epochs on 7 years of monthly sales)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli import main as cli_main
from tests.datafiles import csv_bytes, digit_images, encode_image, monthly_sales_frame, write

REPO = Path(__file__).resolve().parents[2]
FORECAST_FLAGS = ("--task", "forecast", "--target", "sales", "--inputs", "temperature", "--window", "12", "--horizon", "3")
METRICS = {"task", "n_test", "loss", "mae", "rmse", "mape", "mae_per_step", "rmse_per_step", "mape_per_step", "horizon",
           "window", "season", "naive_mae", "naive_rmse", "naive_mae_per_step", "seasonal_naive_mae",
           "seasonal_naive_rmse", "seasonal_naive_mae_per_step", "verdict", "training"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)


def _refused(capsys, *args: str) -> str:
    """`python -m core ARGS` run in this process: exit 2, a message on stderr, nothing on stdout."""
    code = cli_main(list(args))
    captured = capsys.readouterr()
    assert code == 2, (captured.out, captured.err)
    assert captured.out == "" and "Traceback" not in captured.err
    return captured.err.strip()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-series")


@pytest.fixture(scope="module")
def sales_csv(folder: Path) -> Path:
    """84 months, newest first, dated 31.12.2022 ... 31.01.2016 (one month missing, one sales cell empty)."""
    return write(folder / "monthly sales.csv", csv_bytes(monthly_sales_frame()))


@pytest.fixture(scope="module")
def model_folder(folder: Path, sales_csv: Path) -> Path:
    out = folder / "sales model"
    done = run_cli("train", str(sales_csv), *FORECAST_FLAGS, "--epochs", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Training on monthly sales.csv: 44 training and 11 validation examples." in done.stdout
    return out


@pytest.fixture(scope="module")
def recent_csv(folder: Path) -> Path:
    """The latest 14 months as exported, newest first: December 2022 back to November 2021."""
    return write(folder / "recent.csv", csv_bytes(monthly_sales_frame().head(14)))


def test_inspect_reads_the_dates_the_frequency_and_the_framing(sales_csv):
    done = run_cli("inspect", str(sales_csv), *FORECAST_FLAGS)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["kind"], info["task"], info["target"], info["inputs"]) == ("series", "forecast", "sales", ["temperature"])
    assert (info["date_column"], info["date_style"], info["frequency"], info["season"]) == ("month", "31.01.2024", "monthly", 12)
    assert (info["window"], info["horizon"], info["n_steps"], info["missing_steps"]) == (12, 3, 84, 1)
    assert info["periods"]["test"] == {"rows": 13, "from": "2021-12", "to": "2022-12"}


def test_summary_shows_the_window_and_the_forecast_head(sales_csv):
    done = run_cli("summary", str(sales_csv), *FORECAST_FLAGS)
    assert done.returncode == 0, done.stderr
    assert "the last 12 steps of 2 series" in done.stdout and "(12, 2)" in done.stdout
    out_row = next(line for line in done.stdout.splitlines() if line.startswith("out"))
    assert "3 values ahead: the value one season earlier plus a learned change" in out_row and "(3,)" in out_row


def test_train_writes_the_model_folder_with_the_forecast_metrics(model_folder):
    written = {p.name for p in model_folder.iterdir()}
    assert {"model.keras", "model.tflite", "metrics.json", "history.json", "project.json", "labels.json",
            "preprocessing.json", "train_model.py"} <= written
    metrics = json.loads((model_folder / "metrics.json").read_text())
    assert METRICS <= set(metrics) and metrics["task"] == "forecast" and metrics["n_test"] == 11
    assert len(metrics["mae_per_step"]) == len(metrics["naive_mae_per_step"]) == 3
    assert metrics["naive_mae"] > 0 and metrics["seasonal_naive_mae"] > 0
    assert re.match(r"(Beats|Does not beat) the naive forecast", metrics["verdict"])
    history = json.loads((model_folder / "history.json").read_text())
    assert len(history["loss"]) == len(history["val_loss"]) == 2
    labels = json.loads((model_folder / "labels.json").read_text())
    assert (labels["task"], labels["target"], labels["horizon"]) == ("forecast", "sales", 3)
    info = json.loads((model_folder / "preprocessing.json").read_text())
    assert (info["kind"], info["columns"], info["date_column"], info["date_format"]) == (
        "series", ["sales", "temperature"], "month", "%d.%m.%Y")
    assert (info["window"], info["horizon"], info["frequency"]["name"]) == (12, 3, "monthly")
    script = (model_folder / "train_model.py").read_text()
    assert 'DATE_FORMAT = "%d.%m.%Y"' in script and "WINDOW = 12" in script and 'INPUTS = ["temperature"]' in script


def test_train_on_the_sample_writes_the_test_errors_next_to_the_naive_ones(tmp_path, capsys):
    out = tmp_path / "equipment"
    assert cli_main(["train", "sample:electrical_equipment", "--epochs", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Epoch 2/2" in printed and "model.tflite" in printed.splitlines()[-1]
    metrics = json.loads((out / "metrics.json").read_text())
    assert METRICS <= set(metrics) and (metrics["window"], metrics["horizon"], metrics["season"]) == (24, 12, 12)
    assert metrics["naive_mae"] == pytest.approx(8.537, abs=1e-3)  # the same test windows whatever the model
    assert metrics["seasonal_naive_mae"] == pytest.approx(2.438, abs=1e-3)
    assert metrics["training"]["epochs_run"] == 2
    assert (out / "model.tflite").stat().st_size > 1000


def test_predict_prints_the_next_months_and_the_model_forecasts_them(model_folder, recent_csv):
    from core.export import load_trained_model

    done = run_cli("predict", str(model_folder), str(recent_csv))
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    parsed = [re.fullmatch(r"(\d{4}-\d\d): (-?[\d.]+(?:e[-+]\d+)?)", line) for line in lines]
    assert all(parsed), lines
    assert [m[1] for m in parsed] == ["2023-01", "2023-02", "2023-03"]
    assert "sorted by 'month'" in done.stderr  # the rows came newest first: a note, not an error
    # the same forecast from model.keras on the last 12 months, oldest first, as the CLI read them
    recent = monthly_sales_frame().head(12).iloc[::-1]
    window = recent[["sales", "temperature"]].to_numpy(dtype=np.float32)[None]
    expected = load_trained_model(model_folder / "model.keras").predict(window, verbose=0)[0]
    assert [float(m[2]) for m in parsed] == pytest.approx(expected.tolist(), rel=1e-5)


def test_predict_reads_recent_dates_written_another_way(model_folder, folder, capsys):
    recent = monthly_sales_frame(date_format="%Y-%m-%d").head(14)
    path = write(folder / "recent iso.csv", csv_bytes(recent))
    assert cli_main(["predict", str(model_folder), str(path)]) == 0
    assert capsys.readouterr().out.startswith("2023-01: ")


def test_what_a_user_gets_wrong_when_forecasting_is_a_plain_message(model_folder, recent_csv, folder, capsys):
    photo = write(folder / "photo.png", encode_image(digit_images(1, (3,))[0][1]))
    few = write(folder / "few.csv", csv_bytes(monthly_sales_frame().head(5)))
    no_input = write(folder / "no temperature.csv", csv_bytes(monthly_sales_frame().head(14).drop(columns="temperature")))
    bad = monthly_sales_frame().head(14)
    bad.loc[2, "month"] = "soon"
    bad_date = write(folder / "bad date.csv", csv_bytes(bad))

    err = _refused(capsys, "predict", str(model_folder), str(photo))
    assert "A forecast starts from one CSV file of recent rows (at least 12, with the columns 'month', 'sales', " \
           "'temperature')" in err
    assert "Give exactly one CSV file" in _refused(capsys, "predict", str(model_folder), str(recent_csv), str(recent_csv))
    assert _refused(capsys, "predict", str(model_folder), str(few)) == (
        "few.csv has 5 time steps, but the model reads the last 12. Give at least 12 recent rows (dates in order, "
        "no long gaps).")
    assert "no temperature.csv has no column 'temperature'. A forecast needs the columns the model was trained " \
           "with" in _refused(capsys, "predict", str(model_folder), str(no_input))
    assert "'soon'" in _refused(capsys, "predict", str(model_folder), str(bad_date))


def test_what_a_user_gets_wrong_when_training_is_a_plain_message(sales_csv, folder, capsys):
    short = write(folder / "short.csv", csv_bytes(monthly_sales_frame(months=30)))
    out = str(folder / "never written")
    assert "The look-back window must be a whole number of steps, 1 or more, not 0" in _refused(
        capsys, "train", str(sales_csv), *FORECAST_FLAGS[:6], "--window", "0", "--out", out)
    assert "short.csv has 30 time steps, too few for a window of 24 and a horizon of 12: at least 60" in _refused(
        capsys, "train", str(short), "--task", "forecast", "--window", "24", "--horizon", "12", "--out", out)
    assert "no series named 'rain'" in _refused(capsys, "inspect", str(sales_csv), "--task", "forecast", "--inputs", "rain")
    assert "its task is 'forecast', not 'regression'" in _refused(
        capsys, "summary", str(sales_csv), "--kind", "series", "--task", "regression")
    assert not Path(out).exists()


def test_a_message_reaches_the_user_without_a_traceback_in_chinese(model_folder, folder):
    few = write(folder / "few rows.csv", csv_bytes(monthly_sales_frame().head(5)))
    done = run_cli("--lang", "zh", "predict", str(model_folder), str(few))
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert "few rows.csv" in done.stderr and "12" in done.stderr and "Give at least" not in done.stderr


def test_recent_rows_without_dates_are_read_in_file_order(folder):
    """A series without a date column: the last `window` rows are the input, the steps ahead have no dates."""
    from core.data import load_data
    from core.data.kinds import contract_for
    from core.data.series import SeriesSettings

    rng = np.random.default_rng(1)
    frame = monthly_sales_frame()[["sales", "temperature"]].iloc[::-1].reset_index(drop=True)
    frame["sales"] = frame["sales"].fillna(250.0) + rng.normal(0, 1, len(frame)).round(2)
    dataset = load_data(write(folder / "no dates.csv", csv_bytes(frame)), task="forecast",
                        series_settings=SeriesSettings(target="sales", inputs=("temperature",), window=12, horizon=3))
    inputs = contract_for(dataset).inputs_from_frame(frame.tail(15).reset_index(drop=True))
    assert inputs.x.shape == (1, 12, 2) and inputs.x.dtype == np.float32
    assert np.array_equal(inputs.x[0], frame.tail(12).to_numpy(dtype=np.float32))
    assert inputs.ahead == [["step +1", "step +2", "step +3"]]
