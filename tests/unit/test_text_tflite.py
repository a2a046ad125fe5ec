"""A text model's TFLite file gives a phone app the Keras model's answers: every text template,
trained briefly on a slice of the SMS sample, is converted with core.export.tflite_bytes and run
in LiteRT on the same token ids as Keras (core.data.tokens, hostile texts included). The
recurrent template converts for one text at a time; the smaller variants convert too."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from core.data import load_data  # noqa: E402
from core.data.tokens import TextSettings  # noqa: E402
from core.errors import UserError  # noqa: E402
from core.templates import TEXT_TEMPLATES  # noqa: E402
from tests.datafiles import HOSTILE_TEXTS, MIXED_TEXTS, text_csv_bytes, text_sample_frame, write  # noqa: E402
from tests.unit.trained_models import TemplateModels  # noqa: E402

TOLERANCE = 1e-5
SEQUENCE_LENGTH = 24  # short texts keep the recurrent template quick


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("sms") / "sms slice.csv", text_csv_bytes(text_sample_frame("sms_spam", 200)))
    return load_data(path, text_settings=TextSettings(sequence_length=SEQUENCE_LENGTH))


@pytest.fixture(scope="module")
def token_ids(dataset) -> np.ndarray:
    """The test split's ids and those of hostile texts (unknown tokens, empty, cut), as the model takes them."""
    return np.concatenate([dataset.x_test, dataset.text.ids(HOSTILE_TEXTS + MIXED_TEXTS)]).astype(np.float32)


@pytest.fixture(scope="module")
def models(dataset) -> TemplateModels:
    """Each text template, trained for one epoch (built lazily: a test asks for the ones it needs)."""
    return TemplateModels(dataset, epochs=1)


def _litert(content: bytes, x: np.ndarray) -> tuple[np.ndarray, int]:
    """Outputs of a TFLite file in LiteRT, and the batch size it was converted for (-1: any)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert inp["dtype"] == np.float32 and list(inp["shape_signature"][1:]) == [SEQUENCE_LENGTH]
    batch = int(inp["shape_signature"][0])
    if batch == 1:  # one text at a time
        interpreter.allocate_tensors()
        rows = []
        for row in x:
            interpreter.set_tensor(inp["index"], row[None])
            interpreter.invoke()
            rows.append(interpreter.get_tensor(out["index"])[0].copy())
        return np.array(rows), batch
    interpreter.resize_tensor_input(inp["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(out["index"]).copy(), batch


@pytest.mark.parametrize("template_id", [t.id for t in TEXT_TEMPLATES])
def test_float32_tflite_gives_the_keras_answers_on_the_same_token_ids(models, dataset, token_ids, template_id):
    from core.export import tflite_bytes

    model = models[template_id]
    expected = model.predict(token_ids, verbose=0)
    got, batch = _litert(tflite_bytes(model, "float32", dataset), token_ids)
    assert batch == (1 if template_id == "text_bilstm" else -1)  # recurrent: converted for one text at a time
    assert got.shape == expected.shape == (len(token_ids), 2)
    assert float(np.max(np.abs(got - expected))) < TOLERANCE, template_id


def test_the_smaller_variants_of_the_bag_of_embeddings_convert_and_run(models, dataset, token_ids):
    from core.export import tflite_bytes

    model = models["text_bag_of_embeddings"]
    expected = model.predict(token_ids, verbose=0)
    for variant, tolerance in (("float16", 1e-3), ("dynamic_range", 1e-2)):
        got, _ = _litert(tflite_bytes(model, variant, dataset), token_ids)
        assert float(np.max(np.abs(got - expected))) < tolerance, variant


@pytest.mark.parametrize("template_id", [t.id for t in TEXT_TEMPLATES if t.id != "text_bilstm"])
def test_int8_files_keep_the_keras_answers(models, dataset, token_ids, template_id):
    """The multi-hot template's int8 file counted every word absent from a text as half present (the
    converter quantized ONE_HOT's off value with a scale of its own): 0.17 from Keras after one epoch,
    chance level (50% against 95%) once trained."""
    from core.export import tflite_bytes

    model = models[template_id]
    expected = model.predict(token_ids, verbose=0)
    got, _ = _litert(tflite_bytes(model, "int8", dataset), token_ids)
    assert np.allclose(got.sum(axis=1), 1, atol=1e-2)
    assert float(np.max(np.abs(got - expected))) < 0.06, template_id


def test_int8_of_the_recurrent_template_is_refused_with_the_documented_message(models, dataset):
    from core.build import build_model
    from core.export import tflite_bytes
    from core.templates import template

    model = build_model(template("text_bilstm").fresh_spec(dataset.task), dataset)  # refused before converting
    with pytest.raises(UserError) as info:
        tflite_bytes(model, "int8", dataset)
    assert info.value.code == "export.int8_recurrent"
    assert "Use the dynamic_range file instead" in info.value.render()


def test_the_files_a_phone_app_needs_come_with_the_model(dataset):
    """vocabulary.json lists the tokens by id, preprocessing.json says how to make them."""
    import json

    from core.export import preprocessing_json, side_files

    vocabulary = json.loads(side_files(dataset)["vocabulary.json"])
    assert vocabulary["tokens"] == ["", "[UNK]", *dataset.text.vocabulary]
    info = json.loads(preprocessing_json(dataset))
    assert info["sequence_length"] == SEQUENCE_LENGTH and info["model_input"]["shape"] == [None, SEQUENCE_LENGTH]
    assert info["keras_text_vectorization"]["split"] == "whitespace"
    # the recipe in the files (ASCII text here: lower case, no punctuation, split at spaces, look up) gives the ids
    index = {token: i for i, token in enumerate(vocabulary["tokens"])}
    text = "Free entry, WIN a prize! call zzzunknownzzz NOW"
    words = "".join(c for c in text.lower() if c not in "!,").split()
    recipe = [index.get(w, info["unknown_id"]) for w in words]
    assert dataset.text.ids([text])[0].tolist() == recipe + [info["padding_id"]] * (SEQUENCE_LENGTH - len(recipe))
