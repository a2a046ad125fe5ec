"""Predictions for new rows and images, in the app and through `python -m core predict`."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import export
from core.errors import UserError
from core.predict import predict_images, predict_rows
from tests.unit.trained_models import sample, trained


def _iris_rows(n: int = 4):
    dataset = sample("iris")
    return dataset.frame.drop(columns=[dataset.target]).head(n).copy()


def test_rows_get_the_models_most_probable_class():
    dataset, model = sample("iris"), trained("iris")
    rows = _iris_rows()
    result = predict_rows(model, dataset, rows)
    expected = model.predict(dataset.preprocessor.transform(rows), verbose=0)
    assert [item.source for item in result.items] == ["row 1", "row 2", "row 3", "row 4"]
    assert [item.label for item in result.items] == [dataset.classes[k] for k in expected.argmax(axis=1)]
    assert [item.label for item in result.items] == ["setosa"] * 4  # the first iris rows are setosa
    for item in result.items:
        assert list(item.probabilities) == dataset.classes
        assert sum(item.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert item.probability == max(item.probabilities.values())
    assert result.warnings == []


def test_one_row_with_the_target_column_still_works():
    dataset = sample("iris")
    result = predict_rows(trained("iris"), dataset, dataset.frame.tail(1))
    assert len(result.items) == 1 and result.items[0].label == "virginica" and result.warnings == []


def test_a_missing_column_is_named():
    rows = _iris_rows().drop(columns=["petal width (cm)"])
    with pytest.raises(UserError) as caught:
        predict_rows(trained("iris"), sample("iris"), rows)
    assert caught.value.code == "predict.missing_columns"
    assert "'petal width (cm)'" in caught.value.render()


def test_extra_columns_are_ignored_with_a_note():
    rows = _iris_rows().assign(colour="blue")
    result = predict_rows(trained("iris"), sample("iris"), rows)
    assert len(result.items) == 4
    assert len(result.warnings) == 1 and "'colour'" in result.warnings[0]


def test_cells_that_are_text_or_too_large_are_named_as_filled_in():
    rows = _iris_rows().astype(object)
    rows.iloc[1, 0] = "about five"  # text in a numeric column
    rows.iloc[2, 3] = "1e39"  # beyond float32
    result = predict_rows(trained("iris"), sample("iris"), rows)
    assert len(result.items) == 4
    notes = [w for w in result.warnings if w.startswith("Row ")]
    assert [n.split(":")[0] for n in notes] == ["Row 2", "Row 3"]
    assert f"'{rows.columns[0]}'" in notes[0] and f"'{rows.columns[3]}'" in notes[1] and "filled in" in notes[0]


def test_a_row_with_nothing_usable_is_refused_by_number():
    rows = _iris_rows().astype(object)
    rows.iloc[2, :] = ["n/a", "?", "inf", "big"]
    with pytest.raises(UserError) as caught:
        predict_rows(trained("iris"), sample("iris"), rows)
    assert caught.value.code == "predict.row_unusable"
    assert caught.value.render().startswith("Row 3 has no value the model can use")


def test_regression_rows_get_values_in_target_units():
    dataset = sample("diabetes")
    rows = dataset.frame.drop(columns=[dataset.target]).head(3)
    result = predict_rows(trained("diabetes"), dataset, rows)
    values = [item.value for item in result.items]
    assert all(25 <= v <= 346 for v in values)  # diabetes progression ranges 25..346
    frame = result.to_frame()
    assert list(frame.columns) == ["input", "prediction"] and frame["prediction"].tolist() == pytest.approx(values)


def _png(pixels: np.ndarray, mode: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").convert(mode).resize(size).save(buffer, format="PNG")
    return buffer.getvalue()


def _digit_images() -> tuple[list[bytes], list[int]]:
    """Test digits as a user might upload them: other sizes, colour and transparency."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    picks = [0, 1, 2]  # a 0, a 1 and a 2
    modes = [("RGB", (64, 64)), ("RGBA", (8, 8)), ("L", (30, 20))]
    images = [
        _png(np.round(digits.images[i] * (255 / 16)).astype(np.uint8), mode, size) for i, (mode, size) in zip(picks, modes)
    ]
    return images, [int(digits.target[i]) for i in picks]


def test_images_of_any_size_and_mode_are_predicted():
    dataset, model = sample("digits"), trained("digits")
    images, labels = _digit_images()
    result = predict_images(model, dataset, images, names=["a.png", "b.png", "c.png"])
    assert [item.source for item in result.items] == ["a.png", "b.png", "c.png"]
    assert [item.label for item in result.items[:2]] == [str(labels[0]), str(labels[1])]
    assert all(len(item.probabilities) == 10 for item in result.items)


def test_a_file_that_is_not_an_image_is_named():
    with pytest.raises(UserError) as caught:
        predict_images(trained("digits"), sample("digits"), [b"not an image"], names=["notes.txt"])
    assert caught.value.code == "predict.image_unreadable" and "notes.txt" in caught.value.render()


def test_a_table_model_refuses_images():
    with pytest.raises(UserError) as caught:
        predict_images(trained("iris"), sample("iris"), _digit_images()[0][:1])
    assert caught.value.code == "predict.needs_table"


# ---- the CLI: python -m core predict DIR INPUT --------------------------------------------


def _model_folder(folder: Path, name: str) -> Path:
    dataset = sample(name)
    folder.mkdir()
    (folder / "model.keras").write_bytes(export.keras_bytes(trained(name)))
    (folder / "labels.json").write_text(export.labels_json(dataset), encoding="utf-8")
    (folder / "preprocessing.json").write_text(export.preprocessing_json(dataset), encoding="utf-8")
    return folder


def _cli(*args: str) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, timeout=180, cwd=root)


def test_cli_prints_one_prediction_per_row_and_per_image(tmp_path):
    table_dir = _model_folder(tmp_path / "iris_model", "iris")
    csv = tmp_path / "new_flowers.csv"
    _iris_rows(3).to_csv(csv, index=False)
    image_dir = _model_folder(tmp_path / "digits_model", "digits")
    images, _ = _digit_images()
    files = []
    for k, data in enumerate(images):
        files.append(tmp_path / f"digit{k}.png")
        files[-1].write_bytes(data)

    done = _cli("predict", str(table_dir), str(csv))
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"row {k + 1}: setosa (") for k, line in enumerate(lines))

    done = _cli("predict", str(image_dir), *map(str, files))
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["digit0.png", "digit1.png", "digit2.png"]
    assert lines[0].startswith("digit0.png: 0 (") and "%" in lines[0]


def test_cli_user_errors_exit_2_with_a_plain_message(tmp_path):
    table_dir = _model_folder(tmp_path / "iris_model", "iris")
    csv = tmp_path / "rows.csv"
    _iris_rows(2).drop(columns=["sepal length (cm)"]).to_csv(csv, index=False)
    done = _cli("predict", str(table_dir), str(csv))
    assert done.returncode == 2 and "'sepal length (cm)'" in done.stderr and "Traceback" not in done.stderr

    done = _cli("predict", str(tmp_path), str(csv))  # not a model folder
    assert done.returncode == 2 and "model.keras" in done.stderr and "Traceback" not in done.stderr
