"""Design edits: insert, replace, move, duplicate and delete layers of a real template's design.

Each edit returns a new ProjectSpec that still validates; the design it started from is
left as it was (the designer may discard the result).
"""
from __future__ import annotations

import copy

import pytest

from core import design_edits
from core.shapes import shape_report
from core.spec import ProjectSpec, normalize_layer
from core.templates import template
from tests.unit.design_checks import sample

SMALL = "table_mlp_small"  # Dense 32, Dropout 0.2, Dense 16
LENET = "images_lenet"  # Conv2D 16, MaxPooling2D, Conv2D 32, MaxPooling2D, Flatten, Dense 64, Dropout


def design(template_id: str) -> ProjectSpec:
    return template(template_id).fresh_spec("classification")


def types(spec: ProjectSpec) -> list[str]:
    return [layer["type"] for layer in spec.layers]


def assert_valid(spec: ProjectSpec) -> None:
    """The edited design passes the project-file checks with nothing left to fill in."""
    assert spec.validated() == spec
    assert ProjectSpec.from_json(spec.to_json()) == spec


BATCH_NORM = normalize_layer(1, {"type": "BatchNormalization"})
DENSE_8 = normalize_layer(1, {"type": "Dense", "units": 8, "activation": "tanh"})


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (1, ["BatchNormalization", "Dense", "Dropout", "Dense"]),
        (2, ["Dense", "BatchNormalization", "Dropout", "Dense"]),
        (4, ["Dense", "Dropout", "Dense", "BatchNormalization"]),
        (99, ["Dense", "Dropout", "Dense", "BatchNormalization"]),  # past the end: last
        (0, ["BatchNormalization", "Dense", "Dropout", "Dense"]),  # before the start: first
    ],
)
def test_insert_puts_the_layer_at_that_number(position, expected):
    spec = design(SMALL)
    edited = design_edits.insert_layer(spec, position, BATCH_NORM)
    assert types(edited) == expected
    assert types(spec) == ["Dense", "Dropout", "Dense"]  # the design it started from is unchanged
    assert_valid(edited)


def test_replace_changes_only_that_layer():
    spec = design(SMALL)
    edited = design_edits.replace_layer(spec, 2, DENSE_8)
    assert edited.layers == [spec.layers[0], spec.layers[1], DENSE_8]
    assert spec.layers[2]["units"] == 16
    assert (edited.optimizer, edited.training, edited.task) == (spec.optimizer, spec.training, spec.task)
    assert_valid(edited)


def test_duplicate_puts_an_independent_copy_right_after():
    spec = design(LENET)
    edited = design_edits.duplicate_layer(spec, 0)
    assert types(edited) == ["Conv2D", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout"]
    assert edited.layers[0] == edited.layers[1] == spec.layers[0]
    edited.layers[1]["filters"] = 64  # editing the copy later must not change the original
    assert edited.layers[0]["filters"] == spec.layers[0]["filters"] == 16
    assert_valid(edited)
    assert shape_report(edited, sample("digits")).ok  # and it still fits the data it was made for


@pytest.mark.parametrize(
    ("index", "offset", "expected"),
    [
        (1, -1, ["Dropout", "Dense", "Dense"]),
        (1, 1, ["Dense", "Dense", "Dropout"]),
    ],
)
def test_move_swaps_with_the_neighbour(index, offset, expected):
    spec = design(SMALL)
    edited = design_edits.move_layer(spec, index, offset)
    assert types(edited) == expected
    assert edited.layers[index + offset] == spec.layers[index]
    assert types(spec) == ["Dense", "Dropout", "Dense"]
    assert_valid(edited)


@pytest.mark.parametrize(("index", "offset"), [(0, -1), (2, 1)])
def test_a_move_past_either_end_changes_nothing(index, offset):
    spec = design(SMALL)
    before = copy.deepcopy(spec)
    assert design_edits.move_layer(spec, index, offset) == before


def test_delete_removes_that_layer_and_the_last_delete_leaves_an_empty_valid_design():
    spec = design(SMALL)
    edited = design_edits.delete_layer(spec, 1)
    assert edited.layers == [spec.layers[0], spec.layers[2]]
    assert_valid(edited)
    for _ in range(2):
        edited = design_edits.delete_layer(edited, 0)
    assert edited.layers == []
    assert_valid(edited)
    assert len(spec.layers) == 3


def test_edits_chain_like_clicks_in_the_designer():
    """Insert, move, duplicate, replace and delete one after the other, as a user would."""
    spec = design(SMALL)
    spec = design_edits.insert_layer(spec, 2, BATCH_NORM)  # Dense, BatchNorm, Dropout, Dense
    spec = design_edits.move_layer(spec, 1, 1)  # Dense, Dropout, BatchNorm, Dense
    spec = design_edits.duplicate_layer(spec, 3)  # ..., Dense 16, Dense 16
    spec = design_edits.replace_layer(spec, 4, DENSE_8)
    spec = design_edits.delete_layer(spec, 1)
    assert [(layer["type"], layer.get("units")) for layer in spec.layers] == [
        ("Dense", 32), ("BatchNormalization", None), ("Dense", 16), ("Dense", 8),
    ]
    assert_valid(spec)
    assert shape_report(spec, sample("iris")).ok
