"""core.search.space: SPACE.json read and checked against the catalog and the shape report (pure Python)."""
from __future__ import annotations

import pytest

from core.data import load_sample
from core.errors import UserError
from core.search.space import apply, default_space, parse_space
from core.spec import ProjectSpec
from core.templates import default_template

ISSUE_EXAMPLE = {
    "optimizer.learning_rate": {"log_uniform": [1e-4, 1e-1]},
    "layers.0.units": {"choice": [16, 32, 64]},
    "layers.1.rate": {"uniform": [0.0, 0.5]},
    "training.batch_size": {"choice": [16, 32, 64]},
}


@pytest.fixture(scope="module")
def iris():
    dataset = load_sample("iris")
    return dataset, default_template(dataset)  # Dense 32, Dropout 0.2, Dense 16


def test_the_issue_example_reads_and_its_grid_has_a_few_points_per_range(iris) -> None:
    dataset, spec = iris
    space = parse_space(ISSUE_EXAMPLE, spec, dataset)
    assert space.places == list(ISSUE_EXAMPLE)
    grid = space.grid()
    assert grid["optimizer.learning_rate"] == [0.0001, 0.003162, 0.1]  # log-spaced, ends included
    assert grid["layers.1.rate"] == [0.0, 0.25, 0.5]
    assert grid["layers.0.units"] == [16, 32, 64] and space.grid_size == 81
    assert parse_space(space.to_json(), spec).to_json() == space.to_json()  # round trip


def test_apply_writes_settings_repeats_entries_and_switches_optimizers(iris) -> None:
    _, spec = iris
    design = apply(spec, {"layers.0.units": 8, "layers.1.repeat": 2, "layers.2.repeat": 3, "optimizer.type": "SGD",
                          "optimizer.learning_rate": 0.05, "training.batch_size": 16})
    assert [layer["type"] for layer in design.layers] == ["Dense", "Dropout", "Dropout", "Dense", "Dense", "Dense"]
    assert design.layers[0]["units"] == 8 and design.training["batch_size"] == 16
    assert design.optimizer == {"type": "SGD", "learning_rate": 0.05, "momentum": 0.9, "nesterov": False}
    assert spec.layers[0]["units"] == 32 and len(spec.layers) == 3  # the base design is untouched
    residual = ProjectSpec.from_dict({"layers": [{"type": "Residual", "layers": [{"type": "Dense", "units": 4}]}]})
    inner = apply(residual, {"layers.0.layers.0.units": 6, "layers.0.layers.0.repeat": 2, "layers.0.repeat": 2})
    assert [[x["units"] for x in block["layers"]] for block in inner.layers] == [[6, 6], [6, 6]]


def test_default_space_is_valid_and_covers_the_learning_rate_batch_size_units_and_dropout(iris) -> None:
    dataset, spec = iris
    space = default_space(spec, dataset)
    assert set(space) == {"optimizer.learning_rate", "training.batch_size", "layers.0.units", "layers.1.rate",
                          "layers.2.units"}
    assert space["layers.0.units"] == {"choice": [16, 32, 64]}
    parse_space(space, spec, dataset)


@pytest.mark.parametrize(("space", "code", "named"), [
    ({}, "search.empty_space", "empty"),
    ({"layers.9.units": {"choice": [8]}}, "search.no_such_entry", "layers.9.units"),
    ({"layers.0.unitz": {"int": [1, 2]}}, "search.unknown_setting", "unitz"),
    ({"layers.0.units": {"int": [0, 64]}}, "search.bad_value", "layers.0.units"),
    ({"layers.0.units": {"uniform": [8, 64]}}, "search.int_setting", "layers.0.units"),
    ({"layers.0.units": {"int": [64, 8]}}, "search.reversed_range", "layers.0.units"),
    ({"optimizer.learning_rate": {"log_uniform": [0, 0.1]}}, "search.log_needs_positive", "learning_rate"),
    ({"optimizer.type": {"choice": ["Adam", "Nadam"]}}, "search.bad_value", "Nadam"),
    ({"training.seed": {"int": [1, 5]}}, "search.fixed_setting", "training.seed"),
    ({"layers.0.activation": {"uniform": [0, 1]}}, "search.range_needs_number", "layers.0.activation"),
    ({"learning_rate": {"uniform": [0.1, 0.2]}}, "search.unknown_place", "learning_rate"),
    ({"layers.0.units": [16, 32]}, "search.bad_rule", "layers.0.units"),
    ({"layers.0.units": {"choice": [16, 16]}}, "search.repeated_choice", "layers.0.units"),
])
def test_bad_spaces_are_refused_naming_the_setting(iris, space, code, named) -> None:
    dataset, spec = iris
    with pytest.raises(UserError) as caught:
        parse_space(space, spec, dataset)
    assert caught.value.code == code and named in str(caught.value)
    assert "{" not in caught.value.render("zh").replace("{\"", "").replace("{[", "")  # every placeholder filled


def test_a_range_that_makes_every_design_invalid_is_refused_naming_the_setting(iris) -> None:
    dataset, _ = iris
    spec = ProjectSpec.from_dict({"layers": [
        {"type": "Reshape", "target_shape": [-1, 1]}, {"type": "Conv1D", "filters": 4, "kernel_size": 2},
        {"type": "MaxPooling1D", "pool_size": 2}, {"type": "Flatten"}]})
    with pytest.raises(UserError) as caught:
        parse_space({"layers.2.repeat": {"int": [3, 5]}}, spec, dataset)
    assert caught.value.code == "search.all_invalid"
    assert '"layers.2.repeat"' in str(caught.value) and "MaxPooling1D" in str(caught.value)
    assert parse_space({"layers.2.repeat": {"int": [1, 5]}}, spec, dataset).grid() == {"layers.2.repeat": [1, 2, 3, 4, 5]}
    # the nested shape-report problem is rendered in the message's language too
    assert "MaxPooling1D" in caught.value.render("zh")
