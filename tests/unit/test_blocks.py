"""Blocks (issue 21): residual blocks and branches, checked against Keras and refused plainly.

- A few hundred random valid designs with blocks (tests/unit/block_designs.py, seeded) over
  tables, images, sequences, a series and texts: the pure-Python shape report gives every
  row's output shape and parameter count exactly as the Keras model the builder makes.
- Every refusal names the position as a path ("Layer 3 › branch 2 › layer 1 (Conv2D): ...").
- layerlab/1 files load as before; design edits work inside blocks and branches.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache

import numpy as np
import pytest

from core import design_edits
from core.blocks import (
    BRANCHES, MAX_BRANCHES, RESIDUAL, block_summary, keras_name, new_block, path_label, position_name, walk,
)
from core.build import build_model
from core.errors import UserError
from core.shapes import format_report, shape_report
from core.spec import ProjectSpec, normalize_layer
from core.templates import TEMPLATES
from tests.unit.block_designs import STARTS, random_designs
from tests.unit.design_checks import assert_report_matches_model, dataset, digit_codes, sample

# 300 designs (about 630 blocks): the whole file runs in about 37 s on this machine's two cores.
# No keras.backend.clear_session between builds: its garbage collection doubled the time.
COUNT = 300


@lru_cache(maxsize=None)
def designs() -> list[tuple[str, list[dict]]]:
    return random_designs(COUNT)


def _spec(layers: list) -> ProjectSpec:
    return ProjectSpec.from_dict({"layers": layers})


@pytest.mark.parametrize("index", range(COUNT))
def test_a_random_design_with_blocks_builds_as_its_shape_report_says(index):
    name, layers = designs()[index]
    data = dataset(name)
    spec = _spec(layers)
    report = shape_report(spec, data)
    assert report.ok, [str(e) for e in report.errors]
    model = build_model(spec, data)
    assert_report_matches_model(report, model)
    if index % 3 == 0:  # and the graph runs: a forward pass on a few examples (all 300: +18 s)
        out = np.asarray(model(data.x_test[:3]))
        assert out.shape == (3, *report.rows[-1].output_shape) and np.isfinite(out).all()


def test_the_random_designs_cover_every_kind_of_block_and_of_data():
    seen: Counter = Counter()
    for name, layers in designs():
        seen[f"data {name}"] += 1
        report = shape_report(_spec(layers), dataset(name))
        for row in report.rows:
            if row.role == "shortcut":
                seen[f"projection {row.type}" + (", stride" if "stride" in row.settings else "")] += 1
            elif row.role == "block" and row.type == RESIDUAL and row.settings.endswith("identity"):
                seen["identity shortcut"] += 1
            elif row.role == "block" and row.type == BRANCHES:
                seen[f"branches {row.settings.rsplit(', ', 1)[-1]}"] += 1
            if row.depth == 2:
                seen["a layer two blocks deep"] += 1
        for _, entry in walk(_spec(layers).layers):
            if entry["type"] == BRANCHES:
                seen["empty branch"] += sum(1 for branch in entry["branches"] if not branch)
                seen[f"{len(entry['branches'])} branches"] += 1
    expected = [
        "projection Conv2D", "projection Conv2D, stride", "projection Dense", "projection Conv1D",
        "projection Conv1D, stride", "identity shortcut", "branches add", "branches concatenate",
        "a layer two blocks deep", "empty branch", "2 branches", "3 branches", "4 branches", "8 branches",
        *{f"data {data}" for data, _ in STARTS.values()},
    ]
    assert {feature: seen[feature] for feature in expected if seen[feature] < 5} == {}


def test_the_generator_is_seeded():
    assert random_designs(20) == designs()[:20]


# ---- rows, names and positions of a hand-written design -----------------------------------------

def _conv(filters: int, **settings) -> dict:
    return {"type": "Conv2D", "filters": filters, **settings}


NESTED = [
    _conv(8),
    {"type": RESIDUAL, "layers": [_conv(16, strides=2), _conv(16, activation="linear")]},
    {"type": BRANCHES, "merge": "concatenate", "branches": [
        [_conv(4)],
        [],
        [{"type": RESIDUAL, "activation": "linear", "layers": [_conv(8, kernel_size=1)]}],
    ]},
    {"type": "GlobalAveragePooling2D"},
]


def test_rows_of_blocks_inner_layers_and_shortcuts():
    spec = _spec(NESTED)
    report = shape_report(spec, sample("digits"))
    rows = {row.label: row for row in report.rows if row.label}
    assert list(rows) == ["1", "2", "2.1", "2.2", "2.s", "3", "3.b1.1", "3.b3.1", "3.b3.1.1", "3.b3.1.s", "4"]
    assert rows["2"].role == "block" and rows["2"].output_shape == (4, 4, 16) and rows["2"].params == 0
    assert rows["2"].settings == "2 layers, input added back, relu, shortcut: projection: 16 filters 1×1, stride 2"
    assert rows["2.s"].role == "shortcut" and rows["2.s"].params == 8 * 16 + 16 and rows["2.s"].path == (1, -1)
    assert rows["2"].block_params == rows["2.1"].params + rows["2.2"].params + rows["2.s"].params
    assert rows["3"].output_shape == (4, 4, 4 + 16 + 8) and rows["3"].settings == "3 branches, concatenate"
    assert rows["3.b3.1.1"].path == (2, 2, 0, 0) and rows["3.b3.1.1"].depth == 2 and rows["3.b3.1.1"].number == 3
    assert rows["3"].block_params == sum(rows[k].params for k in ("3.b1.1", "3.b3.1.1", "3.b3.1.s"))
    assert report.total_params == sum(r.params for r in report.rows)
    assert "3.b3.1.s" in format_report(report) and "(" + f"{rows['3'].block_params:,}" + ")" in format_report(report)
    assert_report_matches_model(report, build_model(spec, sample("digits")))


def test_positions_are_named_for_people_and_for_keras():
    layers = _spec(NESTED).layers
    assert position_name((2, 2, 0, 0), layers) == "3 › branch 3 › layer 1 › layer 1"
    assert position_name((1, 1), layers) == "2 › layer 2"
    assert path_label((2, 2, 0, 0), layers) == "3.b3.1.1"
    assert keras_name((2, 2, 0, 0), "Conv2D", layers) == "layer_3_b3_1_1_conv2d"
    assert keras_name((0,), "Conv2D", layers) == "layer_1_conv2d"  # top level: the names of layerlab/1 models
    assert block_summary(new_block(RESIDUAL)) == "0 layers, input added back, relu"
    assert new_block(BRANCHES) == {"type": BRANCHES, "merge": "concatenate", "branches": [[], []]}


def test_a_shortcut_on_sequences_and_vectors():
    sequence = [{"type": "Reshape", "target_shape": [-1, 1]},
                {"type": RESIDUAL, "layers": [{"type": "Conv1D", "filters": 6, "strides": 2}]}, {"type": "Flatten"},
                {"type": RESIDUAL, "layers": [{"type": "Dense", "units": 5}]}]
    report = shape_report(_spec(sequence), sample("wine"))
    shortcuts = [row for row in report.rows if row.role == "shortcut"]
    assert [(r.type, r.settings, r.output_shape) for r in shortcuts] == [
        ("Conv1D", "projection: 6 filters of 1, stride 2", (7, 6)), ("Dense", "projection: 5 units", (5,))]
    assert_report_matches_model(report, build_model(_spec(sequence), sample("wine")))


# ---- refusals: the project file -----------------------------------------------------------------

CONV = _conv(4)
UNTRANSLATED_POSITION = re.compile(r"› (branch|layer) |branch \d")
SPEC_REFUSALS = [
    ([{"type": RESIDUAL, "layers": []}], "spec.empty_block",
     'Layer 1 (Residual): a residual block needs at least one layer in "layers". Add a layer to it, or delete the block.'),
    ([CONV, {"type": RESIDUAL}], "spec.empty_block", "Layer 2 (Residual): a residual block needs"),
    ([{"type": BRANCHES, "branches": [[CONV]]}], "spec.bad_branches",
     'Layer 1 (Branches): "branches" must be a list of 2 to 8 lists of layers (an empty list passes the input through).'),
    ([{"type": BRANCHES, "branches": [[]] * 9}], "spec.bad_branches", 'Layer 1 (Branches): "branches" must be a list of 2 to 8'),
    ([{"type": BRANCHES, "branches": [[], CONV]}], "spec.bad_branches", "Layer 1 (Branches)"),
    ([{"type": BRANCHES, "branches": {"a": []}}], "spec.bad_branches", "Layer 1 (Branches)"),
    ([CONV, {"type": RESIDUAL, "layers": [{"type": BRANCHES, "branches": [[], [{"type": RESIDUAL, "layers": [CONV]}]]}]}],
     "spec.too_deep_blocks", "Layer 2 › layer 1 › branch 2 › layer 1 (Residual): blocks can be nested at most 2 levels "
     "deep. Move this block out of the block around it."),
    ([{"type": RESIDUAL, "layers": [CONV], "shortcut": "none"}], "spec.unknown_key",
     'Layer 1 (Residual): there is no setting "shortcut". Residual has: activation, layers.'),
    ([{"type": BRANCHES, "branches": [[], []], "layers": []}], "spec.unknown_key",
     'Layer 1 (Branches): there is no setting "layers". Branches has: merge, branches.'),
    ([{"type": BRANCHES, "branches": [[], []], "merge": "multiply"}], "spec.bad_choice",
     'Layer 1 (Branches): merge must be one of concatenate, add, got "multiply".'),
    ([{"type": RESIDUAL, "layers": [CONV], "activation": "swishy"}], "spec.bad_choice",
     'Layer 1 (Residual): activation must be one of relu'),
    ([{"type": RESIDUAL, "layers": [CONV], "config": {}}], "spec.code_refused",
     'Layer 1 (Residual): the entry "config" is for program code'),
    ([{"type": BRANCHES, "branches": [[], [CONV, {"type": "Conv2D", "function": "print"}]]}], "spec.code_refused",
     'Layer 1 › branch 2 › layer 2 (Conv2D): the entry "function" is for program code'),
    ([{"type": RESIDUAL, "layers": [{"type": "Lambda"}]}], "spec.code_layer",
     "Layer 1 › layer 1: Lambda layers run program code, so LayerLab never loads them."),
    ([CONV, CONV, {"type": BRANCHES, "branches": [[], [{"type": "Conv3D"}]]}], "spec.unknown_layer",
     'Layer 3 › branch 2 › layer 1: "Conv3D" is not a layer LayerLab offers.'),
    ([CONV, CONV, {"type": BRANCHES, "branches": [[], [_conv(0)]]}], "spec.out_of_range",
     "Layer 3 › branch 2 › layer 1 (Conv2D): filters must be between 1 and 4096, got 0."),
    ([{"type": RESIDUAL, "layers": [7]}], "spec.layer_not_object", "Layer 1 › layer 1 must be an object"),
    ([{"type": "residual", "layers": [CONV]}], "spec.unknown_layer", 'Layer 1: "residual" is not a layer LayerLab offers.'),
]


@pytest.mark.parametrize(("layers", "code", "message"), SPEC_REFUSALS, ids=[c for _, c, _ in SPEC_REFUSALS])
def test_a_bad_block_in_a_project_file_is_refused_naming_its_position(layers, code, message):
    with pytest.raises(UserError) as caught:
        ProjectSpec.from_json(json.dumps({"format": "layerlab/2", "layers": layers}))
    assert caught.value.code == code and str(caught.value).startswith(message)
    assert caught.value.params["layer"]  # the designer points at the entry by it
    assert not UNTRANSLATED_POSITION.search(caught.value.render("zh"))  # positions are translated too
    # A designer-built spec gets the same message on its top-level row, and the builder refuses it.
    report = shape_report(ProjectSpec(layers=layers), sample("digits"))
    assert report.errors[0].code == code and str(report.errors[0]) == str(caught.value)
    top = int(str(caught.value.params["layer"]).split(" ")[0])
    assert report.errors[0].layer == top and [r for r in report.rows if r.path == (top - 1,)][0].error
    with pytest.raises(UserError) as built:
        build_model(ProjectSpec(layers=layers), sample("digits"))
    assert built.value.code == code


def test_blocks_nest_two_levels_and_a_file_that_deep_is_not_too_deep_to_parse():
    two = [{"type": BRANCHES, "branches": [[{"type": BRANCHES, "branches": [[CONV], [CONV]]}], []]}, {"type": "Flatten"}]
    assert _spec(two).layers[0]["branches"][0][0]["branches"][1][0]["filters"] == 4
    three = [{"type": BRANCHES, "branches": [[{"type": BRANCHES, "branches": [[{"type": BRANCHES, "branches": [
        [{"type": "Reshape", "target_shape": [64, 1]}], []]}], []]}], []]}]
    with pytest.raises(UserError) as caught:
        ProjectSpec.from_json(json.dumps({"layers": three}))
    assert caught.value.code == "spec.too_deep_blocks"  # not the JSON depth check: the message says what to do


# ---- refusals: shapes that cannot meet ----------------------------------------------------------

FLAT = {"type": "Flatten"}
SHAPE_REFUSALS = [
    ("digits", [{"type": RESIDUAL, "layers": [CONV, FLAT]}], "build.residual_rank", (0,),
     "Layer 1 (Residual): its layers turn shape (8, 8, 1) into (256,), which cannot be added back to the input: a "
     "shortcut can only change the size of each axis, not the number of axes. Move Flatten, global pooling or Reshape "
     "out of the block (after it)."),
    ("wine", [{"type": RESIDUAL, "layers": [{"type": "Reshape", "target_shape": [-1, 1]}, {"type": "Conv1D"}]}, FLAT],
     "build.residual_rank", (0,), "Layer 1 (Residual): its layers turn shape (13,) into (13, 32), which cannot be added "
     "back to the input: a shortcut can only change the size of each axis, not the number of axes. Move Reshape out of "
     "the block (before it), so the block works on the reshaped data."),
    ("wine", [{"type": "Reshape", "target_shape": [-1, 1]}, {"type": RESIDUAL, "layers": [{"type": "LSTM"}]}],
     "build.residual_rank", (1,), "Layer 2 (Residual): its layers turn shape (13, 1) into (32,), which cannot be added "
     "back to the input: a shortcut can only change the size of each axis, not the number of axes. Move Flatten, global "
     "pooling, Reshape or an LSTM/GRU without return_sequences out of the block (after it)."),
    ("digits", [CONV, {"type": RESIDUAL, "layers": [_conv(4, padding="valid")]}, FLAT], "build.residual_size", (1,),
     "Layer 2 (Residual): its layers turn shape (8, 8, 4) into (6, 6, 4); the input cannot be brought to that size by a "
     'shortcut with one stride for every axis. Use padding "same" in the block\'s layers, and the same pooling or '
     "stride on every axis."),
    ("digits", [{"type": RESIDUAL, "layers": [{"type": "Reshape", "target_shape": [4, 16, 1]}]}, FLAT],
     "build.residual_size", (0,), "Layer 1 (Residual): its layers turn shape (8, 8, 1) into (4, 16, 1); the input cannot"),
    ("digits", [CONV, {"type": BRANCHES, "merge": "add", "branches": [[], [_conv(8)]]}, FLAT], "build.branches_add", (1,),
     "Layer 2 (Branches): branch 1 gives shape (8, 8, 4) but branch 2 gives (8, 8, 8); adding needs the same shape from "
     'every branch. Give the branches the same number of units or filters (and padding "same"), or merge with '
     "concatenate."),
    ("digits", [{"type": BRANCHES, "merge": "add", "branches": [[CONV], [CONV], [_conv(4, strides=2)]]}, FLAT],
     "build.branches_add", (0,), "Layer 1 (Branches): branch 1 gives shape (8, 8, 4) but branch 3 gives (4, 4, 4)"),
    ("digits", [{"type": BRANCHES, "branches": [[CONV], [{"type": "MaxPooling2D"}]]}, FLAT], "build.branches_concatenate",
     (0,), "Layer 1 (Branches): branch 1 gives shape (8, 8, 4) but branch 2 gives (4, 4, 1); concatenating needs every "
     'axis but the last to match. Use padding "same" and the same pooling in every branch, or end each branch with the '
     "same flattening layer."),
    ("digits", [{"type": BRANCHES, "branches": [[FLAT], [CONV]]}, FLAT], "build.branches_concatenate", (0,),
     "Layer 1 (Branches): branch 1 gives shape (64,) but branch 2 gives (8, 8, 4)"),
    ("digit_codes", [{"type": RESIDUAL, "layers": [{"type": "Embedding", "output_dim": 4}]}, FLAT],
     "build.embedding_in_block", (0, 0), "Layer 1 › layer 1 (Embedding): Embedding cannot be inside a block: it reads "
     "the raw whole-number codes of the data, so it must be the first layer of the design, before any block. Move it "
     "out of the block, to position 1."),
    ("sms_spam", [{"type": BRANCHES, "branches": [[{"type": "Embedding"}], []]}, FLAT], "build.embedding_in_block",
     (0, 0, 0), "Layer 1 › branch 1 › layer 1 (Embedding): Embedding cannot be inside a block"),
    ("digits", [{"type": BRANCHES, "branches": [[{"type": RESIDUAL, "layers": [{"type": "Dense"}, {"type": "LSTM"}]}],
                                                []]}, FLAT],
     "build.sequence_layer_on_image", (0, 0, 0, 1), "Layer 1 › branch 1 › layer 1 › layer 2 (LSTM): it works on "
     "sequences, but its input is an image of shape (8, 8, 64)."),
    ("digits", [{"type": BRANCHES, "branches": [[FLAT], [{"type": "GlobalMaxPooling2D"}]]}, CONV],
     "build.image_layer_after_flatten", (1,), "Layer 2 (Conv2D): it needs an image (height × width × channels), but layer "
     "1 (Branches) already turned the data into a flat list of 65 numbers. Move this layer before layer 1."),
    ("digits", [{"type": RESIDUAL, "layers": [CONV]}], "build.output_needs_flat", (),
     "The output needs one flat list of numbers per example, but layer 1 (Residual) gives shape (8, 8, 4)."),
]


@pytest.mark.parametrize(("data", "layers", "code", "path", "message"), SHAPE_REFUSALS,
                         ids=[f"{c}-{i}" for i, (_, _, c, _, _) in enumerate(SHAPE_REFUSALS)])
def test_shapes_that_cannot_meet_are_refused_before_training_naming_the_position(data, layers, code, path, message):
    spec = _spec(layers)
    report = shape_report(spec, dataset(data))
    error = report.errors[0]
    assert error.code == code and str(error).startswith(message)
    assert error.path == path and error.layer == (path[0] + 1 if path else None)
    if path:
        assert next(r for r in report.rows if r.path == path).error == str(error)  # the inline error, on its row
    assert not UNTRANSLATED_POSITION.search(error.render("zh"))
    with pytest.raises(UserError) as caught:
        build_model(spec, dataset(data))
    assert caught.value.code == code


def test_the_parameter_budget_names_a_shortcut_or_an_inner_layer():
    big = [CONV, {"type": RESIDUAL, "layers": [{"type": "Dense", "units": 2}, {"type": "Dense", "units": 64}]}, FLAT]
    report = shape_report(_spec(big), sample("digits"), max_params=300)
    assert "The biggest layer is the shortcut of layer 2 (Residual) with 320 parameters" in str(report.errors[0])
    assert "第 2 层（Residual）的捷径" in report.errors[0].render("zh")
    inner = [{"type": BRANCHES, "branches": [[], [_conv(64)]]}, FLAT]
    report = shape_report(_spec(inner), sample("digits"), max_params=300)
    assert "The biggest layer is layer 1 › branch 2 › layer 1 (Conv2D) with 640 parameters" in str(report.errors[0])
    assert "第 1 层 › 分支 2 › 第 1 层（Conv2D）" in report.errors[0].render("zh")


def test_block_rows_render_in_chinese():
    from core.i18n import translate_fragment

    report = shape_report(_spec(NESTED), sample("digits"))
    row = next(r for r in report.rows if r.label == "2")
    assert translate_fragment(row.settings, "zh") == "2 层，加回输入，relu，捷径：投影：16 个 1×1 卷积核，步长 2"
    assert translate_fragment("3 branches, concatenate", "zh") == "3 个分支，拼接（concatenate）"


# ---- layerlab/1 files ---------------------------------------------------------------------------

@pytest.mark.parametrize("item", [t for t in TEMPLATES if not any(e["type"] in (RESIDUAL, BRANCHES) for e in t.spec.layers)],
                         ids=lambda t: t.id)
def test_a_layerlab_1_file_loads_unchanged_and_is_saved_as_layerlab_2(item):
    old = {**item.spec.to_dict(), "format": "layerlab/1"}
    spec = ProjectSpec.from_json(json.dumps(old))
    assert spec == item.spec
    assert json.loads(spec.to_json()) == {**old, "format": "layerlab/2"}


def test_a_layerlab_1_design_builds_the_same_keras_layers_as_before():
    spec = ProjectSpec.from_json(json.dumps({
        "format": "layerlab/1", "task": "classification",
        "layers": [{"type": "Conv2D", "filters": 4}, {"type": "MaxPooling2D"}, {"type": "Flatten"}, {"type": "Dense", "units": 8}],
    }))
    model = build_model(spec, sample("digits"))
    names = [layer.name for layer in model.layers]
    assert names == ["input", "rescaling", "layer_1_conv2d", "layer_2_maxpooling2d", "layer_3_flatten", "layer_4_dense",
                     "output"]
    assert [row.label for row in shape_report(spec, sample("digits")).rows if row.number] == ["1", "2", "3", "4"]


def test_an_unknown_format_is_still_refused():
    with pytest.raises(UserError) as caught:
        ProjectSpec.from_json(json.dumps({"format": "layerlab/3", "layers": []}))
    assert caught.value.code == "spec.format" and "layerlab/2" in str(caught.value)


# ---- design edits inside blocks -----------------------------------------------------------------

BN = normalize_layer(1, {"type": "BatchNormalization"})
DENSE = normalize_layer(1, {"type": "Dense", "units": 8})


def _design() -> ProjectSpec:
    return _spec(NESTED)


def _ok(spec: ProjectSpec) -> ProjectSpec:
    """Valid as a file and as shapes."""
    assert spec.validated() == spec and ProjectSpec.from_json(spec.to_json()) == spec
    assert shape_report(spec, sample("digits")).ok
    return spec


def _types(entries: list) -> list[str]:
    return [e["type"] for e in entries]


def test_insert_into_a_residual_block_a_branch_and_a_block_inside_a_branch():
    spec = _design()
    before = json.dumps(spec.to_dict())
    inner = _ok(design_edits.insert_layer(spec, 2, BN, place=(1,)))
    assert _types(inner.layers[1]["layers"]) == ["Conv2D", "BatchNormalization", "Conv2D"]
    branch = _ok(design_edits.insert_layer(spec, 1, BN, place=(2, 1)))  # into the empty branch
    assert branch.layers[2]["branches"][1] == [BN]
    deep = _ok(design_edits.insert_layer(spec, 99, BN, place=(2, 2, 0)))  # clamped: the end of the list
    assert _types(deep.layers[2]["branches"][2][0]["layers"]) == ["Conv2D", "BatchNormalization"]
    assert json.dumps(spec.to_dict()) == before  # edits return a new spec


def test_move_duplicate_replace_and_delete_inside_blocks():
    spec = _design()
    moved = _ok(design_edits.move_layer(spec, 0, 1, place=(1,)))
    assert [e["activation"] for e in moved.layers[1]["layers"]] == ["linear", "relu"]
    assert design_edits.move_layer(spec, 1, 1, place=(1,)) is spec  # past the end: nothing changes
    twice = _ok(design_edits.duplicate_layer(spec, 1))  # a block, with everything in it
    assert _types(twice.layers) == ["Conv2D", RESIDUAL, RESIDUAL, BRANCHES, "GlobalAveragePooling2D"]
    assert twice.layers[1] == twice.layers[2] and twice.layers[1] is not twice.layers[2]
    copy = _ok(design_edits.duplicate_layer(spec, 0, place=(2, 0)))
    assert _types(copy.layers[2]["branches"][0]) == ["Conv2D", "Conv2D"]
    replaced = _ok(design_edits.replace_layer(spec, 0, normalize_layer(1, _conv(16, kernel_size=1)), place=(2, 2, 0)))
    assert replaced.layers[2]["branches"][2][0]["layers"][0]["filters"] == 16
    gone = _ok(design_edits.delete_layer(spec, 0, place=(2, 0)))
    assert gone.layers[2]["branches"][0] == []
    emptied = design_edits.delete_layer(spec, 0, place=(2, 2, 0))  # the nested residual block's only layer
    assert emptied.layers[2]["branches"][2][0]["layers"] == []
    error = shape_report(emptied, sample("digits")).errors[0]
    assert error.code == "spec.empty_block" and error.layer == 3
    assert str(error).startswith("Layer 3 › branch 3 › layer 1 (Residual): a residual block needs at least one layer")


def test_add_and_delete_branches():
    spec = _design()
    more = _ok(design_edits.add_branch(spec, (2,)))
    assert more.layers[2]["branches"][3] == []
    fewer = _ok(design_edits.delete_branch(spec, (2,), 0))
    assert fewer.layers[2]["branches"] == spec.layers[2]["branches"][1:]
    two = design_edits.delete_branch(fewer, (2,), 0)
    assert len(design_edits.delete_branch(two, (2,), 0).layers[2]["branches"]) == 2  # at least two stay
    full = spec
    for _ in range(MAX_BRANCHES + 2):
        full = design_edits.add_branch(full, (2,))
    assert len(full.layers[2]["branches"]) == MAX_BRANCHES
    _ok(full)
    nested = design_edits.insert_layer(spec, 1, new_block(BRANCHES), place=(2, 1))  # a Branches block inside a branch
    nested = _ok(design_edits.add_branch(nested, (2, 1, 0)))
    assert nested.layers[2]["branches"][1][0]["branches"] == [[], [], []]
    nested = _ok(design_edits.delete_branch(nested, (2, 1, 0), 2))
    assert nested.layers[2]["branches"][1][0]["branches"] == [[], []]


def test_a_new_residual_block_waits_for_its_first_layer():
    spec = design_edits.insert_layer(_design(), 2, new_block(RESIDUAL))
    error = shape_report(spec, sample("digits")).errors[0]
    assert error.code == "spec.empty_block" and error.layer == 2
    filled = _ok(design_edits.insert_layer(spec, 1, DENSE, place=(1,)))
    assert filled.layers[1] == {"type": RESIDUAL, "activation": "relu", "layers": [DENSE]}


def test_a_place_must_name_a_list_of_layers():
    layers = _design().layers
    assert design_edits.entries_at(layers, (2, 2, 0)) is layers[2]["branches"][2][0]["layers"]
    with pytest.raises(ValueError):
        design_edits.entries_at(layers, (0,))  # a layer holds no layers
    with pytest.raises(ValueError):
        design_edits.entries_at(layers, (2,))  # a Branches block: which branch?


def test_digit_codes_with_a_block_after_the_embedding():
    layers = [{"type": "Embedding", "output_dim": 4},
              {"type": RESIDUAL, "layers": [{"type": "Conv1D", "filters": 4, "kernel_size": 3}]},
              {"type": "GlobalAveragePooling1D"}]
    report = shape_report(_spec(layers), digit_codes())
    assert report.ok and report.rows[1].settings == "Embedding reads the raw codes"
    assert_report_matches_model(report, build_model(_spec(layers), digit_codes()))
