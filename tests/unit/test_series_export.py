"""A forecaster leaves LayerLab whole: train_model.py reads a dated CSV into exactly the series
LayerLab prepared (dates in every style, gaps, duplicates, decimal commas, no dates at all), splits
it into the same windows, builds the same network and trains; every series template's TFLite files
give the Keras model's forecasts in LiteRT; model.keras reloads in a fresh process in safe mode."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from core.codegen import training_script  # noqa: E402
from core.data import load_data  # noqa: E402
from core.data.samples import series_sample_file  # noqa: E402
from core.data.series import SeriesSettings  # noqa: E402
from core.errors import UserError  # noqa: E402
from core.templates import SERIES_TEMPLATES, default_template, template  # noqa: E402
from tests.datafiles import csv_bytes, monthly_sales_frame, write  # noqa: E402
from tests.unit.trained_models import TemplateModels  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SALES = SeriesSettings(target="sales", inputs=("temperature",), window=12, horizon=3)
FILE_NAMES = [  # _series_files
    "sales dd.mm.yyyy, newest first, a month missing", "quarters", "unix seconds with a gap",
    "ISO with offsets and a repeated hour", "no dates, two series", "irregular dates",
    "semicolons, decimal commas, a '?'", "electrical_equipment", "co2_mauna_loa",
]


def _series_files(folder: Path) -> dict[str, tuple[Path, SeriesSettings | None]]:
    """Dated CSVs as people export them, with the settings a user would choose."""
    rng = np.random.default_rng(0)
    n = 120
    quarters = pd.DataFrame({"quarter": [f"{1990 + i // 4}Q{i % 4 + 1}" for i in range(n)],
                             "gdp": np.round(np.cumsum(rng.normal(1, 1, n)), 2)})
    hours = pd.DataFrame({"time": 1_600_000_000 + 3600 * np.arange(n), "load": np.round(np.sin(np.arange(n) / 4), 3)})
    stamps = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%dT%H:%M:%S+01:00")
    meter = pd.DataFrame({"timestamp": stamps, "kw": np.round(np.arange(n) % 24 + rng.normal(0, 0.1, n), 3)})
    days = np.sort(rng.choice(900, n, replace=False))
    irregular = pd.DataFrame({"date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D")).strftime("%d/%m/%Y"),
                              "v": np.round(rng.normal(0, 1, n).cumsum(), 2)})
    european = monthly_sales_frame(date_format="%d/%m/%Y")
    european["sales"] = european["sales"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}".replace(".", ","))
    european.loc[4, "sales"] = "?"
    european.loc[9, "month"] = ""  # a row without a date is left out
    files = {
        "sales dd.mm.yyyy, newest first, a month missing": (csv_bytes(monthly_sales_frame()), SALES),
        "quarters": (csv_bytes(quarters), None),
        "unix seconds with a gap": (csv_bytes(hours.drop(index=[10, 11, 12])), None),
        "ISO with offsets and a repeated hour": (csv_bytes(pd.concat([meter, meter.iloc[[5]].assign(kw=99.0)])), None),
        "no dates, two series": (csv_bytes(pd.DataFrame({"a": rng.normal(0, 1, n).cumsum(), "b": rng.normal(0, 1, n)})),
                                 SeriesSettings(target="a", inputs=("b",))),
        "irregular dates": (csv_bytes(irregular), None),
        "semicolons, decimal commas, a '?'": (european.to_csv(index=False, sep=";").encode(), SeriesSettings(target="sales")),
    }
    out = {name: (write(folder / f"{i}.csv", data), settings) for i, (name, (data, settings)) in enumerate(files.items())}
    for sample in ("electrical_equipment", "co2_mauna_loa"):
        out[sample] = (series_sample_file(sample), None)
    assert list(out) == FILE_NAMES
    return out


@pytest.fixture(scope="module")
def series_files(tmp_path_factory) -> dict[str, tuple[Path, SeriesSettings | None]]:
    return _series_files(tmp_path_factory.mktemp("series files"))


def _script_namespace(dataset, spec=None) -> dict:
    namespace = {"__name__": "train_model"}
    source = training_script(spec or default_template(dataset), dataset)
    exec(compile(source, "train_model.py", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace


@pytest.mark.parametrize("name", FILE_NAMES)
def test_the_script_reads_and_splits_a_series_exactly_like_layerlab(series_files, name, capsys):
    path, settings = series_files[name]
    dataset = load_data(path, task="forecast", series_settings=settings)
    ns = _script_namespace(dataset)
    values = ns["load_data"](str(path))
    assert values.dtype == np.float32 and np.array_equal(values, dataset.series.values), name
    val_start, test_start = ns["periods"](len(values))
    assert (val_start, test_start) == (dataset.series.val_start, dataset.series.test_start)
    for (x, y), part in zip(ns["split_windows"](values, val_start, test_start), ("train", "val", "test")):
        assert np.array_equal(x, getattr(dataset, f"x_{part}")) and np.array_equal(y, getattr(dataset, f"y_{part}")), part


def test_the_script_names_a_bad_date_and_a_missing_column(tmp_path, capsys):
    frame = monthly_sales_frame()
    dataset = load_data(write(tmp_path / "sales.csv", csv_bytes(frame)), task="forecast", series_settings=SALES)
    ns = _script_namespace(dataset)
    frame.loc[3, "month"] = "yesterday"
    with pytest.raises(SystemExit, match=r"Row 5 has 'yesterday' in the date column 'month'"):
        ns["load_data"](str(write(tmp_path / "bad date.csv", csv_bytes(frame))))
    with pytest.raises(SystemExit, match="no column.*temperature"):
        ns["load_data"](str(write(tmp_path / "no input.csv", csv_bytes(frame.drop(columns="temperature")))))


@pytest.mark.parametrize("template_id", [t.id for t in SERIES_TEMPLATES])
def test_the_script_builds_the_network_layerlab_builds(template_id, tmp_path):
    from core.build import build_model

    dataset = load_data(write(tmp_path / "sales.csv", csv_bytes(monthly_sales_frame())), task="forecast",
                        series_settings=SALES)
    spec = template(template_id).fresh_spec(dataset.task)
    rows = dataset.series.values[: dataset.series.val_start]  # what the script's Normalization adapts on
    scripted = _script_namespace(dataset, spec)["build_model"](rows, dataset.y_train)
    built = build_model(spec, dataset)
    assert [layer.name for layer in scripted.layers] == [layer.name for layer in built.layers]
    assert scripted.count_params() == built.count_params()
    normalization = scripted.get_layer("normalization")
    assert np.allclose(np.ravel(normalization.mean), np.ravel(built.get_layer("normalization").mean))
    x = np.asarray(dataset.x_test[:4], dtype=np.float32)
    built.set_weights(scripted.get_weights())  # same weights: the same forecasts (the head's reference included)
    assert np.allclose(scripted.predict(x, verbose=0), built.predict(x, verbose=0), rtol=1e-5)


def test_the_generated_script_trains_and_reports_the_naive_forecasts(tmp_path):
    import keras

    from core.forecast import forecast_scores

    csv = write(tmp_path / "my sales.csv", csv_bytes(monthly_sales_frame()))
    dataset = load_data(csv, task="forecast", series_settings=SALES)
    script = tmp_path / "train_model.py"
    script.write_text(training_script(default_template(dataset), dataset), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), "--data", str(csv), "--epochs", "2", "--out",
                           str(tmp_path / "model.keras")], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "84 time steps: 44 training, 11 validation, 11 test windows" in done.stdout
    scores = re.search(r"test MAE: model ([\d.]+), naive ([\d.]+), seasonal naive ([\d.]+)", done.stdout)
    assert scores, done.stdout[-2000:]
    layerlab = forecast_scores(np.asarray(dataset.y_test, dtype=np.float64), np.asarray(dataset.y_test), dataset.series)
    assert float(scores[2]) == pytest.approx(layerlab["naive_mae"], abs=1e-3)
    assert float(scores[3]) == pytest.approx(layerlab["seasonal_naive_mae"], abs=1e-3)
    model = keras.saving.load_model(tmp_path / "model.keras")  # raw values in, the next 3 sales out
    forecasts = model.predict(np.asarray(dataset.x_test, dtype=np.float32), verbose=0)
    assert forecasts.shape == (11, 3)
    assert float(np.mean(np.abs(forecasts - dataset.y_test))) == pytest.approx(float(scores[1]), abs=1e-3)


# ---- TFLite and .keras -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataset():
    return load_data("sample:electrical_equipment")


@pytest.fixture(scope="module")
def models(dataset) -> TemplateModels:
    """Each series template, trained for two epochs (built when a test asks for it)."""
    return TemplateModels(dataset, epochs=2)


def _relative(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(got - expected) / np.abs(expected)))


# float32 is the Keras model (measured 1e-7); float16 and dynamic_range store the weights in 16 and 8 bits
# (measured up to 3e-4 and 8e-4 of the forecast after five epochs)
VARIANT_TOLERANCE = {"float32": 1e-5, "float16": 1e-3, "dynamic_range": 3e-3}


@pytest.mark.parametrize("template_id", [t.id for t in SERIES_TEMPLATES])
def test_tflite_variants_give_the_keras_forecasts_in_litert(models, dataset, template_id):
    from ai_edge_litert.interpreter import Interpreter

    from core.export import run_tflite, tflite_bytes

    model = models[template_id]
    x = np.concatenate([dataset.x_val, dataset.x_test]).astype(np.float32)
    expected = model.predict(x, verbose=0)
    for variant, tolerance in VARIANT_TOLERANCE.items():
        content = tflite_bytes(model, variant, dataset)
        signature = Interpreter(model_content=content).get_input_details()[0]["shape_signature"]
        recurrent = template_id in ("series_lstm", "series_gru")
        assert list(signature) == [1 if recurrent else -1, 24, 1], variant  # recurrent: one window at a time
        got = run_tflite(content, x)
        assert got.shape == expected.shape == (len(x), 12)
        assert _relative(got, expected) < tolerance, (variant, _relative(got, expected))


@pytest.mark.parametrize("template_id", [t.id for t in SERIES_TEMPLATES])
def test_int8_works_for_dense_and_cnn_and_is_refused_plainly_for_recurrent_layers(models, dataset, template_id):
    from core.export import run_tflite, tflite_bytes

    model = models[template_id]
    if template_id in ("series_lstm", "series_gru"):
        with pytest.raises(UserError) as info:
            tflite_bytes(model, "int8", dataset)
        assert info.value.code == "export.int8_recurrent" and "dynamic_range" in info.value.render()
        return
    x = np.asarray(dataset.x_test, dtype=np.float32)
    expected = model.predict(x, verbose=0)
    got = run_tflite(tflite_bytes(model, "int8", dataset), x)
    # the reference values the head adds its change to stay float32: only the change is quantized
    assert _relative(got, expected) < 0.02
    keras_mae = float(np.mean(np.abs(expected - dataset.y_test)))
    assert float(np.mean(np.abs(got - dataset.y_test))) < keras_mae * 1.05


FRESH_PROCESS = """\
import json, sys
import numpy as np
from core.export import load_trained_model
x = np.asarray(json.loads(sys.stdin.read()), dtype="float32")
print(json.dumps({path: load_trained_model(path).predict(x, verbose=0).tolist() for path in sys.argv[1:]}))
"""


def test_model_keras_reloads_in_a_fresh_process_in_safe_mode_and_forecasts_the_same(models, dataset, tmp_path):
    from core.export import downloadable_model, keras_bytes

    x = np.asarray(dataset.x_test, dtype=np.float32)
    expected = {}
    for template_id in ("series_dense", "series_gru"):
        path = write(tmp_path / f"{template_id}.keras", keras_bytes(downloadable_model(models[template_id], dataset)))
        expected[str(path)] = models[template_id].predict(x, verbose=0)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", FRESH_PROCESS, *expected], input=json.dumps(x.tolist()), env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    reloaded = json.loads(done.stdout.strip().splitlines()[-1])
    for path, forecasts in expected.items():
        assert np.allclose(np.asarray(reloaded[path]), forecasts, rtol=1e-6, atol=1e-5), path
