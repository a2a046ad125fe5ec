"""The builder: every catalog entry builds on data it suits, and matches the shape report."""
from __future__ import annotations

import time

import numpy as np
import pytest

from core.build import build_model, layer_name
from core.catalog import LAYERS, OPTIMIZERS
from core.errors import UserError
from core.shapes import shape_report
from core.spec import ProjectSpec
from tests.unit.design_checks import assert_report_matches_model, digit_codes, sample

SEQUENCE = {"type": "Reshape", "target_shape": [-1, 1]}
FLATTEN = {"type": "Flatten"}

# (data, hidden layers) per catalog entry, with some non-default settings to check the formulas.
CASES = {
    "Dense": ("iris", [{"type": "Dense", "units": 7, "kernel_l2": 0.01}]),
    "Dropout": ("iris", [{"type": "Dropout", "rate": 0.5}]),
    "GaussianNoise": ("iris", [{"type": "GaussianNoise"}]),
    "Activation": ("iris", [{"type": "Activation", "activation": "tanh"}]),
    "BatchNormalization": ("iris", [{"type": "Dense", "units": 6}, {"type": "BatchNormalization"}]),
    "LayerNormalization": ("iris", [{"type": "Dense", "units": 6}, {"type": "LayerNormalization"}]),
    "Flatten": ("digits", [FLATTEN]),
    "Reshape": ("iris", [{"type": "Reshape", "target_shape": [2, 2]}, FLATTEN]),
    "Conv2D": ("digits", [{"type": "Conv2D", "filters": 5, "kernel_size": 5, "strides": 2, "padding": "valid",
                           "kernel_initializer": "he_normal", "kernel_l1": 0.001}, FLATTEN]),
    "SeparableConv2D": ("digits", [{"type": "SeparableConv2D", "filters": 6, "depth_multiplier": 2, "padding": "valid"}, FLATTEN]),
    "Conv1D": ("iris", [SEQUENCE, {"type": "Conv1D", "filters": 3, "kernel_size": 2, "strides": 2, "padding": "valid"}, FLATTEN]),
    "MaxPooling2D": ("digits", [{"type": "MaxPooling2D", "pool_size": 3, "strides": 1, "padding": "same"}, FLATTEN]),
    "AveragePooling2D": ("digits", [{"type": "AveragePooling2D", "pool_size": 3}, FLATTEN]),
    "GlobalAveragePooling2D": ("digits", [{"type": "Conv2D", "filters": 4}, {"type": "GlobalAveragePooling2D"}]),
    "GlobalMaxPooling2D": ("digits", [{"type": "GlobalMaxPooling2D"}]),
    "MaxPooling1D": ("breast_cancer", [SEQUENCE, {"type": "MaxPooling1D", "pool_size": 3}, FLATTEN]),
    "AveragePooling1D": ("breast_cancer", [SEQUENCE, {"type": "AveragePooling1D", "padding": "same"}, FLATTEN]),
    "GlobalAveragePooling1D": ("iris", [SEQUENCE, {"type": "Conv1D", "filters": 4}, {"type": "GlobalAveragePooling1D"}]),
    "GlobalMaxPooling1D": ("iris", [SEQUENCE, {"type": "GlobalMaxPooling1D"}]),
    "LSTM": ("iris", [SEQUENCE, {"type": "LSTM", "units": 5, "return_sequences": True}, {"type": "LSTM", "units": 3}]),
    "GRU": ("diabetes", [SEQUENCE, {"type": "GRU", "units": 4, "dropout": 0.1}]),
    "Bidirectional": ("iris", [SEQUENCE, {"type": "Bidirectional", "layer": "GRU", "units": 3, "return_sequences": True},
                               {"type": "Bidirectional", "units": 2, "merge_mode": "sum"}]),
    "Embedding": ("digit_codes", [{"type": "Embedding", "input_dim": 17, "output_dim": 3}, {"type": "GlobalAveragePooling1D"}]),
    "RandomFlip": ("digits", [{"type": "RandomFlip", "mode": "horizontal_and_vertical"}, FLATTEN]),
    "RandomRotation": ("digits", [{"type": "RandomRotation", "factor": 0.1}, FLATTEN]),
    "RandomZoom": ("digits", [{"type": "RandomZoom"}, FLATTEN]),
    "RandomTranslation": ("digits", [{"type": "RandomTranslation"}, FLATTEN]),
    "RandomContrast": ("digits", [{"type": "RandomContrast"}, FLATTEN]),
}


def _dataset(name: str):
    return digit_codes() if name == "digit_codes" else sample(name)


def _spec(layers, **extra) -> ProjectSpec:
    return ProjectSpec.from_dict({"layers": layers, **extra})


def test_every_catalog_entry_has_a_build_case():
    assert sorted(CASES) == sorted(LAYERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_catalog_entry_builds_and_matches_the_shape_report(name):
    data, layers = CASES[name]
    dataset = _dataset(data)
    assert dataset.kind in LAYERS[name].kinds or "sequence" in LAYERS[name].kinds
    spec = _spec(layers)
    model = build_model(spec, dataset)
    assert_report_matches_model(shape_report(spec, dataset), model)
    predictions = model.predict(dataset.x_test[:5], verbose=0)
    assert predictions.shape == (5, dataset.n_outputs) and np.isfinite(predictions).all()


def test_weight_penalties_reach_the_loss():
    model = build_model(_spec(CASES["Dense"][1]), sample("iris"))
    assert len(model.losses) == 1
    assert len(build_model(_spec([{"type": "Dense", "units": 7}]), sample("iris")).losses) == 0


def test_tables_are_normalised_with_training_statistics():
    dataset = sample("wine")
    model = build_model(_spec([]), dataset)
    normalization = model.get_layer("normalization")
    assert np.allclose(np.asarray(normalization.mean).ravel(), dataset.x_train.mean(axis=0), rtol=1e-4)


def test_images_take_raw_pixels_and_give_class_probabilities():
    dataset = sample("digits")
    model = build_model(_spec([FLATTEN]), dataset)
    assert model.get_layer("rescaling").scale == pytest.approx(1 / 255)
    probabilities = model.predict(dataset.x_test[:4], verbose=0)
    assert probabilities.shape == (4, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_regression_answers_in_the_targets_units_and_learns():
    dataset = sample("diabetes")
    model = build_model(_spec([{"type": "Dense", "units": 16}], optimizer={"type": "Adam", "learning_rate": 0.01}), dataset)
    untrained = model.predict(dataset.x_test, verbose=0).ravel()
    assert abs(untrained.mean() - dataset.y_train.mean()) < dataset.y_train.std()  # ~150, not ~0
    before = model.evaluate(dataset.x_val, dataset.y_val, verbose=0, return_dict=True)
    model.fit(dataset.x_train, dataset.y_train, epochs=5, batch_size=32, verbose=0)
    after = model.evaluate(dataset.x_val, dataset.y_val, verbose=0, return_dict=True)
    assert set(after) >= {"loss", "mae"} and after["loss"] < before["loss"]


def test_classification_is_compiled_with_accuracy():
    dataset = sample("iris")
    model = build_model(_spec([{"type": "Dense", "units": 8}]), dataset)
    result = model.evaluate(dataset.x_test, dataset.y_test, verbose=0, return_dict=True)
    assert set(result) == {"loss", "accuracy"} and 0 <= result["accuracy"] <= 1


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_gets_its_settings(name):
    optimizer = {"type": name, "learning_rate": 0.02}
    model = build_model(_spec([], optimizer=optimizer), sample("iris"))
    assert type(model.optimizer).__name__ == name
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)
    if name == "SGD":
        assert model.optimizer.momentum == pytest.approx(0.9)


def test_same_seed_same_starting_weights():
    spec = _spec([{"type": "Dense", "units": 8}], training={"seed": 7})
    first = build_model(spec, sample("iris")).get_layer(layer_name(1, "Dense")).get_weights()[0]
    again = build_model(spec, sample("iris")).get_layer(layer_name(1, "Dense")).get_weights()[0]
    other = build_model(_spec([{"type": "Dense", "units": 8}], training={"seed": 8}), sample("iris"))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other.get_layer(layer_name(1, "Dense")).get_weights()[0])


@pytest.mark.parametrize(
    ("data", "layers", "code"),
    [
        ("iris", [{"type": "Conv2D"}], "build.image_layer_on_table"),
        ("digits", [FLATTEN, {"type": "Conv2D"}], "build.image_layer_after_flatten"),
        ("digits", [{"type": "MaxPooling2D", "pool_size": 9}], "build.pooling_too_small"),
        ("iris", [{"type": "LSTM"}], "build.needs_sequence"),
        ("digits", [{"type": "Dense"}], "build.output_needs_flat"),
        ("iris", [{"type": "Embedding"}], "build.embedding_needs_codes"),
    ],
)
def test_impossible_stacks_are_refused_with_the_report_message(data, layers, code):
    spec = _spec(layers)
    with pytest.raises(UserError) as info:
        build_model(spec, sample(data))
    assert info.value.code == code
    assert str(info.value) == str(shape_report(spec, sample(data)).errors[0])


def test_over_budget_models_are_refused_before_anything_is_allocated():
    # ~3.6 billion weights: allocating them would take minutes and ~14 GB; refusing takes no time.
    spec = _spec([FLATTEN, {"type": "Dense", "units": 60000}, {"type": "Dense", "units": 60000}])
    start = time.perf_counter()
    with pytest.raises(UserError) as info:
        build_model(spec, sample("digits"))
    assert info.value.code == "build.too_many_params" and time.perf_counter() - start < 1
    with pytest.raises(UserError) as info:
        build_model(_spec([{"type": "Dense", "units": 100}]), sample("iris"), max_params=100)
    assert info.value.code == "build.too_many_params"


def test_invalid_settings_in_a_designer_spec_are_refused():
    with pytest.raises(UserError) as info:
        build_model(ProjectSpec(layers=[{"type": "Dense", "units": 0}]), sample("iris"))
    assert info.value.code == "spec.out_of_range"


def test_categorical_columns_are_one_hot_encoded_inside_the_model(tmp_path):
    """One input per column; the model widens categories to one-hot itself, and an unseen category (-1) adds nothing."""
    import keras
    import pandas as pd

    from core.data import load_data
    from core.export import keras_bytes, load_trained_model
    from tests.datafiles import sklearn_frame

    frame = sklearn_frame("iris")
    rng = np.random.default_rng(0)
    frame.insert(0, "colour", rng.choice(["red", "green", "blue"], len(frame)))
    frame.insert(1, "grade", rng.integers(1, 6, len(frame)))
    path = tmp_path / "iris_extra.csv"
    frame.to_csv(path, index=False)
    dataset = load_data(path)
    pre = dataset.preprocessor
    assert dataset.input_shape == (6,) and pre.categorical_positions == [(0, 3), (1, 5)] and pre.encoded_width == 12
    spec = ProjectSpec.from_dict({"task": "classification", "layers": [{"type": "Dense", "units": 5}]})
    model = build_model(spec, dataset)
    report = shape_report(spec, dataset)
    assert_report_matches_model(report, model)
    assert model.get_layer(layer_name(1, "Dense")).kernel.shape == (12, 5)

    encoded = keras.Model(model.input, model.get_layer("encoded_inputs").output)
    rows = pre.transform(pd.DataFrame({"colour": ["red", "purple"], "grade": [2, 3], "sepal length (cm)": [5.0, 6.0],
                                       "sepal width (cm)": [3.0, 3.0], "petal length (cm)": [1.5, 4.0],
                                       "petal width (cm)": [0.2, 1.3]}))
    out = np.asarray(encoded.predict(rows, verbose=0))
    one_hot = out[:, 4:]  # numbers first (4 Normalization outputs), then colour (3) and grade (5)
    assert one_hot[0].tolist() == [0, 0, 1, 0, 1, 0, 0, 0]  # red, grade 2
    assert one_hot[1].tolist() == [0, 0, 0, 0, 0, 1, 0, 0]  # purple was never seen: no colour at all

    path = tmp_path / "model.keras"
    path.write_bytes(keras_bytes(model))
    reloaded = load_trained_model(path)
    assert np.allclose(reloaded.predict(rows, verbose=0), model.predict(rows, verbose=0))
