"""Project files: validated against the catalog, never deserialized by Keras, never running code."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from core.catalog import LAYERS, OPTIMIZERS, TRAINING_PARAMS
from core.errors import UserError
from core.spec import MAX_FILE_BYTES, ProjectSpec


def _load(data) -> ProjectSpec:
    return ProjectSpec.from_json(json.dumps(data) if not isinstance(data, (str, bytes)) else data)


def _refusal(data) -> UserError:
    with pytest.raises(UserError) as info:
        _load(data)
    return info.value


def test_a_minimal_file_gets_every_default_filled_in():
    spec = _load({"layers": [{"type": "Dense", "units": 8}]})
    assert spec.layers == [{"type": "Dense", "units": 8, "activation": "relu", "kernel_initializer": "glorot_uniform",
                            "kernel_l1": 0.0, "kernel_l2": 0.0}]
    assert spec.optimizer == {"type": "Adam", "learning_rate": 0.001}
    assert spec.training["epochs"] == 30 and spec.training["seed"] == 42 and spec.task is None


def test_json_round_trip_keeps_everything():
    spec = _load({
        "format": "layerlab/1", "task": "regression",
        "layers": [{"type": "Reshape", "target_shape": [-1, 1]}, {"type": "Bidirectional", "layer": "GRU", "units": 4}],
        "optimizer": {"type": "SGD", "learning_rate": 0.05, "momentum": 0.5},
        "training": {"epochs": 3, "time_limit_s": 60},
    })
    again = ProjectSpec.from_json(spec.to_json().encode("utf-8"))
    assert again == spec and json.loads(spec.to_json())["format"] == "layerlab/2"  # a layerlab/1 file reads the same
    assert again.training["time_limit_s"] == 60.0 and again.layers[1]["layer"] == "GRU"


@pytest.mark.parametrize(
    ("layer", "code", "words"),
    [
        ({"type": "Dense", "units": 0}, "spec.out_of_range", ["Layer 2 (Dense)", "units", "between 1 and 65536", "got 0"]),
        ({"type": "Dense", "units": "64"}, "spec.bad_type", ["Layer 2 (Dense)", "units", "whole number"]),
        ({"type": "Dense", "units": 8.5}, "spec.bad_type", ["Layer 2 (Dense)", "units"]),
        ({"type": "Dropout", "rate": 0.99}, "spec.out_of_range", ["Layer 2 (Dropout)", "rate", "0.9"]),
        ({"type": "Dense", "activation": "magic"}, "spec.bad_choice", ["Layer 2 (Dense)", "activation", "relu"]),
        ({"type": "Dense", "neurons": 8}, "spec.unknown_key", ["Layer 2 (Dense)", '"neurons"', "units"]),
        ({"type": "Conv3D"}, "spec.unknown_layer", ["Layer 2", '"Conv3D"', "Conv2D"]),
        ({"units": 8}, "spec.unknown_layer", ["Layer 2"]),
        ({"type": ["Dense"]}, "spec.unknown_layer", ["Layer 2", '["Dense"]']),  # was TypeError: unhashable type
        ({"type": {"Lambda": 1}}, "spec.unknown_layer", ["Layer 2", '{"Lambda": 1}']),
        ({"type": "Reshape", "target_shape": [2, "x"]}, "spec.bad_type", ["Layer 2 (Reshape)", "target_shape"]),
        ({"type": "LSTM", "return_sequences": 1}, "spec.bad_type", ["Layer 2 (LSTM)", "return_sequences", "true or false"]),
    ],
)
def test_bad_layers_are_refused_naming_layer_number_and_key(layer, code, words):
    err = _refusal({"layers": [{"type": "Flatten"}, layer]})
    assert err.code == code and err.params["layer"] == 2
    for word in words:
        assert word in str(err)


@pytest.mark.parametrize(
    "data",
    [
        {"layers": [{"type": "Lambda", "function": "lambda x: x"}]},
        {"layers": [{"type": "TFSMLayer"}]},
        {"layers": [{"type": "Dense", "config": {"units": 8}}]},
        {"layers": [{"type": "Dense", "function": "os.system"}]},
        {"layers": [{"type": "Dense", "__class__": "x"}]},
        {"class_name": "Sequential", "config": {"layers": []}},
        {"optimizer": {"type": "Adam", "module": "os"}},
    ],
)
def test_anything_that_could_carry_code_is_refused(data):
    err = _refusal(data)
    assert err.code in {"spec.code_refused", "spec.code_layer"}
    assert "code" in str(err)


def test_loading_a_project_never_imports_keras():
    script = (
        "import sys, json; from core.spec import ProjectSpec; "
        "ProjectSpec.from_json(json.dumps({'layers': [{'type': 'Conv2D'}, {'type': 'LSTM'}]})); "
        "print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_oversized_files_are_refused_before_parsing():
    text = '{"layers": [' + ",".join(['{"type": "Flatten"}'] * 20000) + "]}"
    assert len(text) > MAX_FILE_BYTES
    err = _refusal(text)
    assert err.code == "spec.too_large" and "KB" in str(err)


def test_deeply_nested_files_are_refused_before_parsing():
    # Deep enough to crash a recursive parser; the depth check must come first.
    err = _refusal("[" * 50000 + "]" * 50000)
    assert err.code == "spec.too_deep"
    err = _refusal({"layers": [{"type": "Reshape", "target_shape": [[[[[[[[[[[[1]]]]]]]]]]]]}]})
    assert err.code == "spec.too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting():
    err = _refusal({"layers": [{"type": "[[[[[[[[[[[[[[[[[["}]})
    assert err.code == "spec.unknown_layer"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"layers": [', "spec.not_json"),
        ('{"training": {"epochs": NaN}}', "spec.not_json"),
        ('{"task": "regression", "task": "classification"}', "spec.not_json"),
        (b"\xff\xfe{}", "spec.not_text"),
        ("[1, 2]", "spec.not_object"),
        ('{"format": "layerlab/99"}', "spec.format"),
        ('{"format": "layerlab/1", "name": "mine"}', "spec.unknown_top_key"),
        ('{"task": "clustering"}', "spec.bad_task"),
        ('{"layers": {"type": "Dense"}}', "spec.layers_not_list"),
        ('{"optimizer": {"type": "Adagrad"}}', "spec.unknown_optimizer"),
        ('{"optimizer": {"type": ["Adam"]}}', "spec.unknown_optimizer"),  # was TypeError: unhashable type
        ('{"optimizer": {"type": {"name": "Adam"}}}', "spec.unknown_optimizer"),
        ('{"optimizer": "Adam"}', "spec.optimizer_not_object"),
        ('{"training": ["epochs", 3]}', "spec.training_not_object"),
        ('{"training": {"epochs": [3]}}', "spec.bad_type"),
        ('{"optimizer": {"type": "Adam", "learning_rate": -1}}', "spec.out_of_range"),
        ('{"training": {"epochs": 0}}', "spec.out_of_range"),
        ('{"training": {"batchsize": 8}}', "spec.unknown_key"),
    ],
)
def test_broken_files_get_a_plain_message(text, code):
    err = _refusal(text)
    assert err.code == code
    assert "Traceback" not in str(err) and len(str(err)) < 400


def test_a_setting_that_is_not_an_object_is_shown_the_shape_it_needs():
    # messages without other parameters showed their escaped braces: {{"epochs": 30}}
    assert 'such as {"epochs": 30}.' in str(_refusal('{"training": [1]}'))
    assert '例如 {"type": "Adam", "learning_rate": 0.001}。' in _refusal('{"optimizer": "Adam"}').render("zh")


def test_optimizer_and_training_messages_say_where():
    assert "Optimizer (Adam): learning_rate" in str(_refusal('{"optimizer": {"type": "Adam", "learning_rate": -1}}'))
    assert "Training settings: epochs" in str(_refusal('{"training": {"epochs": 0}}'))


def test_a_designer_built_spec_validates_like_a_file():
    spec = ProjectSpec(layers=[{"type": "Dense", "units": 4}])
    assert spec.validated().layers[0]["activation"] == "relu"
    spec.layers.append({"type": "Dense", "units": -4})
    with pytest.raises(UserError) as info:
        spec.validated()
    assert info.value.params["layer"] == 2


def _random_value(rng: random.Random, depth: int = 0):
    """A JSON value of any shape: what a hand-edited or corrupted project file may hold anywhere."""
    roll = rng.random()
    if depth > 2 or roll < 0.5:
        return rng.choice([None, True, False, 0, -1, 3, 10**30, 2.5, -1e308, "", "Adam", "Dense", "relu", "x" * 50])
    if roll < 0.75:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["type", "units", "layer", "learning_rate", "epochs", "config"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _random_project(rng: random.Random):
    """Mostly the right structure with random values in some places, sometimes a random shape anywhere."""
    def entry(kind: str, params) -> object:
        data = {"type": kind if rng.random() < 0.8 else _random_value(rng)}
        data.update({p.name: _random_value(rng) for p in params if rng.random() < 0.3})
        return data if rng.random() < 0.9 else _random_value(rng)

    project = {
        "format": rng.choice(["layerlab/1", "layerlab/1", _random_value(rng)]),
        "task": rng.choice(["classification", "regression", None, _random_value(rng)]),
        "layers": [entry(kind, LAYERS[kind].params if kind in LAYERS else ())
                   for kind in rng.choices([*LAYERS, "Lambda"], k=rng.randint(0, 4))],
        "optimizer": entry(kind := rng.choice(list(OPTIMIZERS)), OPTIMIZERS[kind].params),
        "training": {name: _random_value(rng) for name in TRAINING_PARAMS if rng.random() < 0.3},
    }
    for key in list(project):
        roll = rng.random()
        if roll < 0.2:
            del project[key]
        elif roll < 0.3:
            project[key] = _random_value(rng)
    return project if rng.random() < 0.95 else _random_value(rng)


def test_project_files_of_any_shape_load_or_give_a_user_error():
    """The Design page and the CLI catch only UserError: nothing else may come out of a project file."""
    rng = random.Random(20261204)
    loaded = refused = 0
    for _ in range(1500):
        text = json.dumps(_random_project(rng))
        try:
            spec = ProjectSpec.from_json(text)
        except UserError as err:
            for message in (err.render(), err.render("zh")):  # filled in, in both languages
                assert message and "{{" not in message and "{layer}" not in message
            refused += 1
        else:
            assert ProjectSpec.from_json(spec.to_json()) == spec
            loaded += 1
    assert loaded > 20 and refused > 1000  # both paths exercised
