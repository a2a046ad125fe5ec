"""Built-in samples, the `inspect` command end to end, and the server caps."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.data import SAMPLES, Limits, load_sample
from core.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def test_every_sample_is_described_and_loads():
    assert set(SAMPLES) == {"iris", "wine", "breast_cancer", "diabetes", "digits", "sms_spam", "zh_reviews",
                            "electrical_equipment", "co2_mauna_loa"}
    iris = load_sample("iris")
    assert iris.classes == ["setosa", "versicolor", "virginica"] and iris.n_rows == 150
    assert load_sample("wine").classes == ["class_0", "class_1", "class_2"]
    assert load_sample("breast_cancer").classes == ["benign", "malignant"]
    diabetes = load_sample("diabetes")
    assert diabetes.task == "regression" and diabetes.y_train.dtype == np.float32 and diabetes.input_shape == (10,)


def test_the_series_samples_are_real_dated_series_to_forecast():
    orders = load_sample("electrical_equipment")
    assert orders.kind == "series" and orders.task == "forecast" and orders.series.frequency.name == "monthly"
    assert orders.series.n == 257 and (orders.series.window, orders.series.horizon) == (24, 12)
    co2 = load_sample("co2_mauna_loa")
    assert co2.series.frequency.name == "weekly" and co2.series.report["filled_values"] == {"co2_ppm": 59}
    assert co2.series.stamp_text(0) == "1958-03-29"


def test_digits_come_through_the_image_path_as_0_to_255_pixels():
    ds = load_sample("digits")
    assert ds.kind == "images" and ds.n_rows == 1797 and ds.input_shape == (8, 8, 1)
    assert ds.classes == [str(d) for d in range(10)]
    assert ds.x_train.dtype == np.uint8 and ds.x_train.max() == 255


def test_unknown_sample_lists_the_choices():
    with pytest.raises(UserError) as info:
        load_sample("mnist")
    assert "iris, wine" in info.value.render()


def _inspect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "inspect", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_inspect_prints_the_contract_json(iris_csv, digits_zip):
    table = json.loads(_inspect(str(iris_csv), "--target", "species").stdout)
    assert table["kind"] == "table" and table["task"] == "classification" and table["target"] == "species"
    assert table["n_rows"] == 150 and table["classes"] == ["setosa", "versicolor", "virginica"]
    assert {"name": "sepal length (cm)", "kind": "numeric", "missing": 0}.items() <= table["features"][0].items()
    images = json.loads(_inspect(str(digits_zip)).stdout)
    assert images["kind"] == "images" and images["n_images"] == 24
    assert images["image_size"] == [8, 8] and images["channels"] == 1 and images["skipped"] == []


def test_inspect_user_error_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    done = _inspect(str(bad))
    assert done.returncode == 2 and "empty.csv is empty" in done.stderr and "Traceback" not in done.stderr


def test_limits_come_from_the_environment():
    limits = Limits.from_env({"LAYERLAB_MAX_ROWS": "5000", "LAYERLAB_MAX_UPLOAD_BYTES": "1e6"})
    assert limits.rows == 5000 and limits.upload_bytes == 1_000_000 and limits.images == Limits().images
    with pytest.raises(UserError) as info:
        Limits.from_env({"LAYERLAB_MAX_IMAGES": "lots"})
    assert "LAYERLAB_MAX_IMAGES=lots" in info.value.render()
