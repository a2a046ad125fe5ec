"""`python -m core predict` on a model folder that was edited by hand: refused with exit 2 and a
message naming the file, before any model is loaded, never a traceback or a huge allocation."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.cli import main as cli_main


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("iris-model") / "model"
    assert cli_main(["train", "sample:iris", "--epochs", "1", "--out", str(out)]) == 0
    return out


@pytest.fixture
def folder(trained_folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(trained_folder, copy)
    return copy


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n5.1,3.5,1.4,0.2\n")
    return path


def _predict(capsys, folder: Path, *inputs: Path) -> tuple[int, str, str]:
    code = cli_main(["predict", str(folder), *map(str, inputs)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_untouched_folder_predicts(capsys, folder, rows):
    code, out, err = _predict(capsys, folder, rows)
    assert code == 0 and out.startswith("row 1: ") and err == ""


@pytest.mark.parametrize(
    "file, change, says",
    [
        ("labels.json", lambda d: d.pop("task"), "labels.json could not be read (its task is None"),
        ("labels.json", lambda d: d.update(classes=["setosa"]), "labels.json could not be read (it has fewer than two classes"),
        ("labels.json", lambda d: d.update(classes={"a": 1}), "its classes are not a list"),
        ("labels.json", lambda d: d.update(classes=["a", "b"]), "gives 3 outputs but labels.json describes 2"),
        ("preprocessing.json", lambda d: d.update(columns={"not": "a list"}), "preprocessing.json could not be read"),
        ("preprocessing.json", lambda d: d.update(kind="spreadsheet"), "does not know the kind of data 'spreadsheet'"),
        ("preprocessing.json", lambda d: d.update(kind="images", image_size=[100000, 100000], channels=3),
         "not one LayerLab writes"),
    ],
)
def test_edited_json_files_are_refused_by_name(capsys, folder, rows, file, change, says):
    _edit(folder / file, change)
    code, _, err = _predict(capsys, folder, rows)
    assert code == 2 and says in err and "Traceback" not in err


def test_a_json_file_that_is_not_an_object_is_refused(capsys, folder, rows):
    (folder / "labels.json").write_text("[1, 2, 3]")
    code, _, err = _predict(capsys, folder, rows)
    assert code == 2 and "labels.json could not be read (it does not hold a JSON object)" in err


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"print('hello')"])
def test_an_empty_or_foreign_model_file_is_refused(capsys, folder, rows, content):
    (folder / "model.keras").write_bytes(content)
    code, _, err = _predict(capsys, folder, rows)
    assert code == 2 and "model.keras could not be read" in err and "Traceback" not in err


def test_a_model_with_a_lambda_layer_is_never_loaded(capsys, folder, rows, tmp_path):
    import keras

    marker = tmp_path / "ran.txt"
    inputs = keras.Input((4,))
    # the code a hostile file would carry: it writes a marker file whenever it runs
    code = eval(f"lambda x: x[:, :3] * 0 + float(bool(open({str(marker)!r}, 'w').write('ran')))")  # noqa: S307
    outputs = keras.layers.Lambda(code)(inputs)
    keras.Model(inputs, outputs).save(folder / "model.keras")
    marker.unlink()
    code, _, err = _predict(capsys, folder, rows)
    assert code == 2 and "model.keras could not be read" in err and "safely" in err
    assert not marker.exists()
