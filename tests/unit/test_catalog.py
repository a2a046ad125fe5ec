"""The layer catalog: what the designer offers, with defaults that pass their own checks."""
from __future__ import annotations

import pytest

from core.catalog import DATA_KINDS, LAYERS, OPTIMIZERS, TRAINING_PARAMS, KerasCall, ParamProblem, Regularizer, layers_for

REQUIRED = (
    "Dense Dropout BatchNormalization LayerNormalization Activation GaussianNoise Flatten Reshape Conv2D SeparableConv2D "
    "MaxPooling2D AveragePooling2D GlobalAveragePooling2D GlobalMaxPooling2D Conv1D MaxPooling1D GlobalAveragePooling1D "
    "LSTM GRU Bidirectional Embedding RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast"
).split()


def test_every_layer_the_issue_asks_for_is_offered():
    assert [name for name in REQUIRED if name not in LAYERS] == []


@pytest.mark.parametrize("name", list(LAYERS))
def test_each_entry_is_complete_for_the_form(name):
    layer = LAYERS[name]
    assert layer.help and set(layer.kinds) <= set(DATA_KINDS) and layer.kinds
    for param in layer.params:
        assert param.help, f"{name}.{param.name} needs a help line"
        assert param.check(param.default) == param.default or param.type == "int_tuple"
        if param.type == "choice":
            assert param.default in param.choices
    assert isinstance(layer.summary({}), str)


def test_summary_shows_the_key_settings():
    assert LAYERS["Dense"].summary({"units": 64, "activation": "relu"}) == "64 units, relu"
    assert LAYERS["Dense"].summary({"units": 8, "kernel_l2": 0.001}) == "8 units, relu, L2 0.001"
    assert LAYERS["Conv2D"].summary({"filters": 16, "kernel_size": 5}) == "16 filters 5×5, relu, same"


def test_weight_penalties_map_to_keras_l1l2_only_when_set():
    dense = LAYERS["Dense"]
    assert "kernel_regularizer" not in dense.keras_call({"units": 4}).kwargs
    call = dense.keras_call({"units": 4, "kernel_l1": 0.01, "kernel_l2": 0.001})
    assert call.kwargs["kernel_regularizer"] == Regularizer(l1=0.01, l2=0.001)
    assert "kernel_l1" not in call.kwargs and "kernel_l2" not in call.kwargs
    separable = LAYERS["SeparableConv2D"].keras_call({"kernel_l2": 0.01}).kwargs
    assert separable["depthwise_regularizer"] == separable["pointwise_regularizer"] == Regularizer(0.0, 0.01)


def test_bidirectional_wraps_the_chosen_recurrent_layer():
    call = LAYERS["Bidirectional"].keras_call({"layer": "GRU", "units": 8, "merge_mode": "sum"})
    assert call.class_name == "Bidirectional" and call.kwargs["merge_mode"] == "sum"
    assert call.kwargs["layer"] == KerasCall("GRU", {"units": 8, "return_sequences": False, "dropout": 0.0,
                                                      "kernel_initializer": "glorot_uniform"})


def test_contrast_is_told_the_pixels_are_already_scaled_to_0_1():
    assert LAYERS["RandomContrast"].keras_call({}).kwargs["value_range"] == (0.0, 1.0)


def test_initializer_choices_are_offered_where_keras_has_them():
    for name in ("Dense", "Conv2D", "Conv1D", "LSTM", "GRU"):
        assert "he_normal" in LAYERS[name].param("kernel_initializer").choices


def test_layers_for_each_kind_of_data():
    images = {layer.name for layer in layers_for("images")}
    tables = {layer.name for layer in layers_for("table")}
    assert {"Conv2D", "MaxPooling2D", "RandomFlip", "Dense"} <= images and "LSTM" not in images
    assert {"Dense", "Dropout", "Reshape", "Embedding"} <= tables and "Conv2D" not in tables
    assert {"LSTM", "Conv1D"} <= {layer.name for layer in layers_for("sequence")}


def test_optimizers_have_a_learning_rate_and_sgd_has_momentum():
    assert set(OPTIMIZERS) == {"SGD", "Adam", "AdamW", "RMSprop"}
    for optimizer in OPTIMIZERS.values():
        assert optimizer.defaults()["learning_rate"] > 0
    assert OPTIMIZERS["SGD"].defaults()["momentum"] == 0.9
    assert OPTIMIZERS["Adam"].summary({"learning_rate": 0.01}) == "Adam, learning rate 0.01"


def test_training_defaults_match_the_contract():
    defaults = {name: p.default for name, p in TRAINING_PARAMS.items()}
    assert defaults == {"epochs": 30, "batch_size": 32, "early_stopping_patience": 5, "seed": 42, "time_limit_s": None,
                        "balance_classes": False}


def test_a_run_without_epochs_in_its_settings_trains_the_catalogs_default():
    """The trainer reads a run's settings with the catalog's defaults, as a project file gets them."""
    from core.spec import ProjectSpec
    from core.training import TrainingSettings

    settings = TrainingSettings.from_training({"seed": 1})
    assert settings.epochs == TRAINING_PARAMS["epochs"].default == ProjectSpec.from_dict({}).training["epochs"] == 30
    assert settings.batch_size == TRAINING_PARAMS["batch_size"].default
    assert TrainingSettings().epochs == 30


@pytest.mark.parametrize(
    ("param", "value", "code"),
    [
        (LAYERS["Dense"].param("units"), 0, "spec.out_of_range"),
        (LAYERS["Dense"].param("units"), True, "spec.bad_type"),
        (LAYERS["Dropout"].param("rate"), float("inf"), "spec.bad_type"),
        (LAYERS["Dense"].param("activation"), "magic", "spec.bad_choice"),
        (LAYERS["Reshape"].param("target_shape"), [1, 2, 3, 4], "spec.bad_length"),
    ],
)
def test_param_checks_refuse_bad_values(param, value, code):
    with pytest.raises(ParamProblem) as info:
        param.check(value)
    assert info.value.code == code and info.value.params["key"] == param.name


def test_every_setting_has_a_plain_label_that_is_not_just_its_keras_name():
    from core.catalog import LAYERS, OPTIMIZERS, PARAM_LABELS, TRAINING_PARAMS

    params = [p for owner in (*LAYERS.values(), *OPTIMIZERS.values()) for p in owner.params] + list(TRAINING_PARAMS.values())
    for p in params:
        assert p.label and p.label == PARAM_LABELS[p.label], p.name
        assert "_" not in p.label, p.label  # plain words, not a keyword
    assert LAYERS["Conv2D"].param("filters").label == "Number of filters"
    assert LAYERS["Conv2D"].param("kernel_size").label == "Filter size"
    assert LAYERS["Dropout"].param("rate").label == "Fraction dropped"
    assert LAYERS["Dense"].param("kernel_l1").label == "L1 penalty"
