"""serving.zip's SavedModel (core.serving.package): loaded with tf.saved_model.load, its serving
signature takes raw inputs and answers what the .keras model does after LayerLab's preprocessing
(≤ 1e-5): a table's raw cells as text (markers, codes, unseen categories, huge numbers), pixels,
texts, recent values."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.datafiles import csv_bytes, survey_with_markers_frame, write


def _signature(model, dataset, folder: Path):
    import tensorflow as tf

    from core.serving.package import serving_settings, write_saved_model

    settings = serving_settings(dataset, "test")
    write_saved_model(model, settings, folder)
    return tf.saved_model.load(str(folder)).signatures["serving_default"], settings


def test_a_table_signature_does_the_preprocessing_itself(tmp_path):
    import tensorflow as tf

    from core.build import build_model
    from core.data.csv_reader import read_csv
    from core.data.tables import prepare_table
    from core.templates import default_template

    path = write(tmp_path / "survey.csv", csv_bytes(survey_with_markers_frame(target="score")))
    raw = read_csv(path)
    dataset = prepare_table(raw, target="score")
    model = build_model(default_template(dataset), dataset)
    signature, settings = _signature(model, dataset, tmp_path / "1")
    names = [c["name"] for c in settings["columns"]]
    assert names == ["rating", "weight", "floor", "colour"]
    lines = list(csv.DictReader(io.StringIO(path.read_text())))
    lines += [{"rating": " 4.0 ", "weight": "", "floor": "2", "colour": "purple"},  # an unseen colour: -1
              {"rating": "", "weight": "1e39", "floor": "", "colour": ""},
              {"rating": "7", "weight": "-.5e1", "floor": "3.0", "colour": "red"}]
    cells = np.array([[line[n] for n in names] for line in lines], dtype=object)
    got = signature(rows=tf.constant(cells))["outputs"].numpy()
    import pandas as pd

    frame = pd.concat([raw.frame, pd.DataFrame(lines[-3:])], ignore_index=True)
    frame = read_csv(write(tmp_path / "all.csv", frame.to_csv(index=False).encode())).frame
    want = model(dataset.preprocessor.transform(frame)).numpy()
    assert got.shape == want.shape == (len(lines), 1)
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("name", ["digits", "sms_spam", "electrical_equipment"])
def test_images_texts_and_series_signatures_equal_the_keras_model(name, tmp_path):
    import tensorflow as tf

    from core.build import build_model
    from core.data import load_sample
    from core.data.kinds import contract_for
    from core.export import downloadable_model
    from core.templates import default_template

    dataset = load_sample(name)
    model = build_model(default_template(dataset), dataset)
    signature, settings = _signature(downloadable_model(model, dataset), dataset, tmp_path / "1")
    if settings["signature_input"] == "texts":
        texts = ["free prize call now", "see you at lunch", "", "ünïcode 文字"]
        x, fed = contract_for(dataset).inputs_from_texts(texts).x, tf.constant(texts)
    else:
        x = dataset.x_test[:5]
        fed = tf.constant(x, tf.float32)
    got = signature(**{settings["signature_input"]: fed})["outputs"].numpy()
    np.testing.assert_allclose(got, model(np.asarray(x, dtype="float32")).numpy(), atol=1e-5)
    _serve_py_answers_like_layerlab(tmp_path / "1", settings, dataset, model)


def _serve_py_answers_like_layerlab(folder: Path, settings: dict, dataset, model) -> None:
    """serve.py's decoding (SavedModelPredictor) against the kind's contract + the .keras model."""
    import pandas as pd

    from core.data.kinds import contract_for, kind_of
    from core.serving.standalone import Limits, SavedModelPredictor, answer
    from tests.datafiles import encode_image

    served, contract, limits = SavedModelPredictor(folder, settings), contract_for(dataset), Limits()
    if settings["format"] == "texts":
        texts = ["free prize call now", "see you at lunch"]
        decoded, inputs = served.decode_json({"texts": texts}, limits), contract.inputs_from_texts(texts)
    elif settings["format"] == "recent_rows":
        rows = kind_of(dataset).serving_examples(dataset)["example_rows"]
        decoded, inputs = served.decode_json({"rows": rows}, limits), contract.inputs_from_frame(pd.DataFrame(rows))
        assert decoded.times == inputs.ahead
    else:
        files = [(f"{k}.png", encode_image(dataset.x_test[k][..., 0].astype(np.uint8))) for k in range(3)]
        decoded, inputs = served.decode_files(files, limits), contract.inputs_from_images([d for _, d in files])
        huge = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (100_000).to_bytes(4, "big") * 2 + b"\x08\0\0\0\0"
        with pytest.raises(Exception, match="100000 pixels on a side"):  # refused before any decoding
            served.decode_files([("bomb.png", huge)], limits)
    got = answer(settings, decoded, served.run(decoded.x))["predictions"]
    want = model(np.asarray(inputs.x, dtype="float32")).numpy()
    values = [list(p["probabilities"].values()) if "probabilities" in p else p["values"] for p in got]
    np.testing.assert_allclose(values, want, rtol=1e-5, atol=1e-5)


def test_the_zip_holds_the_service_and_its_readme(tmp_path):
    from core.build import build_model
    from core.data import load_sample
    from core.export import serving_zip
    from core.serving import standalone
    from core.templates import default_template

    dataset = load_sample("iris")
    with zipfile.ZipFile(io.BytesIO(serving_zip(build_model(default_template(dataset), dataset), dataset, "iris"))) as archive:
        names = set(archive.namelist())
        assert {"serve.py", "serving.json", "requirements.txt", "Dockerfile", "README.md",
                "model/1/saved_model.pb"} <= names
        assert archive.read("serve.py") == Path(standalone.__file__).read_bytes()
        readme = archive.read("README.md").decode()
        settings = json.loads(archive.read("serving.json"))
    assert '"sepal length (cm)": 5.8' in readme and "python serve.py" in readme and "tensorflow/serving" in readme
    assert settings["format"] == standalone.TABLE_ROWS and settings["classes"] == ["setosa", "versicolor", "virginica"]
