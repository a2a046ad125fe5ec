"""Design page with blocks (issue 21): a residual block or branches is one row that opens to its own
layers; every edit goes through the forms, every merge problem shows before training.

Keys inside blocks are path labels (components/designer.py): "1.2" is layer 2 of block 1,
"1.b2.1" layer 1 of branch 2 of block 1; the list inside block 1 is "1", branch 2 of it "1.b2".
"""
from __future__ import annotations

import json

from core.shapes import shape_report
from core.spec import ProjectSpec
from tests.app.apptest import errors, exceptions, new_app, workspace_with_sample
from tests.app.run_helpers import run_until_ended

DESIGN = "pages/design.py"


def design_app(ws, lang: str | None = None):
    at = new_app()
    if lang is not None:
        at.session_state["lang"] = lang
    at.session_state["workspace"] = ws
    at.run()
    return at.switch_page(DESIGN).run()


def empty_design(sample: str = "digits"):
    ws = workspace_with_sample(sample)
    ws.spec.layers = []
    return ws


def rows(at) -> list[str]:
    """Every layer and block row as shown, blocks' contents included: "1. Residual block", "1.1 Conv2D"."""
    return [m.value.strip("*") for m in at.markdown if m.value.startswith("**") and m.value[2:3].isdigit()]


def shapes(at) -> list[str]:
    """The output-shape cells of those rows, in the same order."""
    return [m.value.split("`")[1] for m in at.markdown if m.value.startswith("`(") or m.value.startswith("`?")]


def cell(at, start: str) -> str:
    """The shape · parameters cell of the row whose shape cell starts so."""
    return next(m.value for m in at.markdown if m.value.startswith(start))


def open_popover(at, key: str):
    at.session_state[key] = True  # the user opens it (its form runs only when open)
    return at.run()


def edit_field(at, label: str, setting: str):
    """A field of the opened settings form of row `label` (its key carries the design's signature)."""
    return next(w for w in [*at.number_input, *at.selectbox]
                if w.key and w.key.startswith(f"edit.{label}.") and w.key.endswith(f".{setting}"))


def add_inner_layer(at, place: str, kind: str, **values) -> None:
    open_popover(at, f"add_layer_open_{place}")
    at.selectbox(key=f"layer_type_{place}").set_value(kind).run()
    for name, value in values.items():
        at.number_input(key=f"add.{place}.{kind}.{name}").set_value(value)
    at.button(key=f"add_layer_{place}").click().run()


def spec_of(at) -> ProjectSpec:
    return at.session_state["workspace"].spec


def test_a_residual_block_built_with_the_forms_shows_its_layers_shortcut_and_total():
    ws = empty_design("digits")
    at = design_app(ws)
    assert at.selectbox(key="add_block_type").options == ["Residual block", "Branches"]
    at.button(key="add_block").click().run()  # a residual block, at position 1
    assert not exceptions(at)
    # It comes with one layer for its 8×8×1 input (never empty: the design stays valid).
    assert rows(at) == ["1. Residual block", "1.1 Conv2D"]
    block = spec_of(at).layers[0]
    assert block["type"] == "Residual" and [layer["type"] for layer in block["layers"]] == ["Conv2D"]
    assert block["layers"][0]["kernel_size"] == 3 and block["layers"][0]["padding"] == "same"
    ProjectSpec.from_dict(spec_of(at).to_dict())  # a valid project at every step

    # A second layer inside the block, then global pooling after it, through the forms.
    add_inner_layer(at, "1", "Conv2D", filters=32)
    at.selectbox(key="add_layer_type").set_value("GlobalAveragePooling2D").run()
    at.button(key="add_layer").click().run()
    assert not exceptions(at) and not errors(at)
    assert rows(at) == ["1. Residual block", "1.1 Conv2D", "1.2 Conv2D", "2. GlobalAveragePooling2D"]
    assert shapes(at) == ["(8, 8, 32)", "(8, 8, 32)", "(8, 8, 32)", "(32,)"]
    # The input (1 channel) is brought to 32 channels by a 1×1 projection, shown as part of the block.
    captions = [c.value for c in at.caption]
    assert ":material/u_turn_left: Shortcut: **Conv2D**" in captions and "projection: 32 filters 1×1" in captions
    # The block's total: 320 + 9,248 inside, 64 for the projection.
    assert cell(at, "`(8, 8, 32)` · 9,632 params in all")
    assert shape_report(spec_of(at), ws.dataset).ok

    # Edit the first inner layer: 16 filters; the next layer and the projection follow.
    open_popover(at, "layer_edit_1.1")
    edit_field(at, "1.1", "filters").set_value(16)
    at.button(key="layer_save_1.1").click().run()
    assert not exceptions(at) and not errors(at)
    assert spec_of(at).layers[0]["layers"][0]["filters"] == 16
    assert shapes(at)[:3] == ["(8, 8, 32)", "(8, 8, 16)", "(8, 8, 32)"]
    assert cell(at, "`(8, 8, 32)` · 4,864 params in all")  # 160 + 4,640 + 64

    # The block's own setting: linear after the sum.
    open_popover(at, "layer_edit_1")
    edit_field(at, "1", "activation").set_value("linear")
    at.button(key="layer_save_1").click().run()
    assert spec_of(at).layers[0]["activation"] == "linear"
    assert "input added back, then linear · shortcut: projection: 32 filters 1×1" in [m.value for m in at.markdown]
    assert at.metric[0].value == "3"  # hidden layers: those inside the block count


def test_moves_duplicates_and_deletes_inside_a_block_and_of_the_block():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Residual", "activation": "relu",
                       "layers": [{"type": "Dense", "units": 8}, {"type": "Dense", "units": 4}]},
                      {"type": "Dense", "units": 3}]
    ws.spec = ws.spec.validated()
    at = design_app(ws)
    assert rows(at) == ["1. Residual block", "1.1 Dense", "1.2 Dense", "2. Dense"]
    assert shapes(at)[1:3] == ["(8,)", "(4,)"]
    at.button(key="layer_down_1.1").click().run()
    assert shapes(at)[1:3] == ["(4,)", "(8,)"]
    assert at.button(key="layer_up_1.1").disabled and at.button(key="layer_down_1.2").disabled
    at.button(key="layer_duplicate_1.2").click().run()
    assert rows(at) == ["1. Residual block", "1.1 Dense", "1.2 Dense", "1.3 Dense", "2. Dense"]
    at.button(key="layer_delete_1.1").click().run()
    at.button(key="layer_delete_1.1").click().run()
    assert rows(at)[:2] == ["1. Residual block", "1.1 Dense"]
    # The last layer of a residual block stays (an empty one is not a valid design).
    assert at.button(key="layer_delete_1.1").disabled
    # The block row moves, duplicates and deletes like a layer.
    at.button(key="layer_down_1").click().run()
    assert rows(at) == ["1. Dense", "2. Residual block", "2.1 Dense"]
    at.button(key="layer_duplicate_2").click().run()
    assert rows(at) == ["1. Dense", "2. Residual block", "2.1 Dense", "3. Residual block", "3.1 Dense"]
    at.button(key="layer_delete_2").click().run()
    assert rows(at) == ["1. Dense", "2. Residual block", "2.1 Dense"]
    assert not exceptions(at) and not errors(at)
    # Closed, a block keeps its row; its layers are hidden.
    at.session_state["block_open_2"] = False
    at.run()
    assert rows(at) == ["1. Dense", "2. Residual block"]


def test_an_impossible_merge_is_an_error_on_the_block_until_it_is_fixed():
    at = design_app(empty_design("digits"))
    at.selectbox(key="add_block_type").set_value("Branches").run()
    at.selectbox(key="add.Branches.merge").set_value("add")
    at.button(key="add_block").click().run()
    at.selectbox(key="add_layer_type").set_value("Flatten").run()
    at.button(key="add_layer").click().run()
    # Two branches for the 8×8×1 input: a 1×1 and a 3×3 convolution with 32 filters each: addable.
    assert rows(at) == ["1. Branches", "1.b1.1 Conv2D", "1.b2.1 Conv2D", "2. Flatten"]
    assert not errors(at)
    assert [m.value for m in at.markdown if m.value.startswith("**Branch")] == ["**Branch 1**", "**Branch 2**"]

    # 16 filters in branch 2: the shapes cannot be added.
    open_popover(at, "layer_edit_1.b2.1")
    edit_field(at, "1.b2.1", "filters").set_value(16)
    at.button(key="layer_save_1.b2.1").click().run()
    assert not exceptions(at)
    assert errors(at) == [
        "Layer 1 (Branches): branch 1 gives shape (8, 8, 32) but branch 2 gives (8, 8, 16); adding needs the same "
        'shape from every branch. Give the branches the same number of units or filters (and padding "same"), or '
        "merge with concatenate."]
    assert "Fix the problems marked above before training." in [w.value for w in at.warning]
    assert at.metric[3].value == "1 to fix"
    # Closed, the block still shows it (it is the block's own problem).
    at.session_state["block_open_1"] = False
    assert len(errors(at.run())) == 1
    at.session_state["block_open_1"] = True
    at.run()

    # Fix it the way the message says: merge with concatenate (the block's own setting).
    open_popover(at, "layer_edit_1")
    edit_field(at, "1", "merge").set_value("concatenate")
    at.button(key="layer_save_1").click().run()
    assert not errors(at) and not at.warning
    assert cell(at, "`(8, 8, 48)`")
    assert shape_report(spec_of(at), at.session_state["workspace"].dataset).ok

    # A third branch (empty: passes the input on), then removed again; two stay.
    at.button(key="branch_add_1").click().run()
    assert len(spec_of(at).layers[0]["branches"]) == 3 and cell(at, "`(8, 8, 49)`")
    assert "Empty: passes the block's input on unchanged." in [c.value for c in at.caption]
    add_inner_layer(at, "1.b3", "MaxPooling2D")
    assert rows(at)[3] == "1.b3.1 MaxPooling2D"
    assert errors(at)[0].startswith("Layer 1 (Branches): branch 1 gives shape (8, 8, 32) but branch 3 gives (4, 4, 1)")
    at.button(key="branch_delete_1.b3").click().run()
    assert len(spec_of(at).layers[0]["branches"]) == 2 and not errors(at)
    assert at.button(key="branch_delete_1.b1").disabled


def test_a_block_inside_a_block_works_the_same_way_two_levels_at_most():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Residual", "activation": "relu", "layers": [{"type": "Dense", "units": 16}]}]
    ws.spec = ws.spec.validated()
    at = design_app(ws)
    open_popover(at, "add_block_open_1")
    at.selectbox(key="block_type_1").set_value("Branches").run()
    at.button(key="add_block_1").click().run()
    assert not exceptions(at) and not errors(at)
    # Inside it, Dense layers for the 16 numbers that reach it (as many units: no projection needed).
    assert rows(at) == ["1. Residual block", "1.1 Dense", "1.2 Branches", "1.2.b1.1 Dense", "1.2.b2.1 Dense"]
    assert shapes(at)[3:] == ["(16,)", "(16,)"]
    assert cell(at, "`(32,)` · ")  # concatenated
    add_inner_layer(at, "1.2.b1", "Dense", units=5)
    assert rows(at)[3:5] == ["1.2.b1.1 Dense", "1.2.b1.2 Dense"] and not errors(at)
    # Two levels deep: layers can be added there, blocks cannot (drawn popovers have a state).
    assert "add_layer_open_1.2.b2" in at.session_state and "add_block_open_1.2.b2" not in at.session_state
    ProjectSpec.from_dict(spec_of(at).to_dict())


def test_the_add_forms_inside_blocks_list_the_layers_that_suit_the_data_first():
    from components.designer import layer_type_options

    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Branches", "merge": "concatenate", "branches": [[{"type": "Dense"}], []]}]
    ws.spec = ws.spec.validated()
    at = design_app(ws)
    open_popover(at, "add_layer_open_1.b2")
    assert at.selectbox(key="layer_type_1.b2").options == at.selectbox(key="add_layer_type").options
    assert at.selectbox(key="layer_type_1.b2").options[0] == layer_type_options("table")[0] == "Dense"
    at.selectbox(key="layer_type_1.b2").set_value("Conv1D").run()
    assert any("first add a Reshape layer" in i.value for i in at.info)


def test_a_project_file_with_blocks_saves_as_layerlab_2_and_loads_back(downloads):
    ws = workspace_with_sample("digits")
    ws.spec.layers = [
        {"type": "Conv2D", "filters": 8},
        {"type": "Residual", "activation": "relu", "layers": [
            {"type": "Conv2D", "filters": 8},
            {"type": "Branches", "merge": "add", "branches": [[{"type": "Conv2D", "filters": 8}], []]}]},
        {"type": "GlobalAveragePooling2D"},
    ]
    ws.spec = ws.spec.validated()
    at = design_app(ws)
    saved = downloads(at, "save_project")
    data = json.loads(saved)
    assert data["format"] == "layerlab/2" and data["layers"][1]["layers"][1]["branches"][1] == []

    other = design_app(workspace_with_sample("digits"))
    other.file_uploader(key="load_project").set_value(("project.json", saved, "application/json")).run()
    assert not exceptions(other) and not errors(other)
    assert spec_of(other).layers == ws.spec.layers
    assert rows(other) == ["1. Conv2D", "2. Residual block", "2.1 Conv2D", "2.2 Branches", "2.2.b1.1 Conv2D",
                           "3. GlobalAveragePooling2D"]
    assert "Branch 2" in " ".join(m.value for m in other.markdown)


def test_the_diagram_draws_the_shortcut_and_the_branches():
    ws = workspace_with_sample("digits")
    ws.spec.layers = [{"type": "Residual", "activation": "relu", "layers": [{"type": "Conv2D", "filters": 8}]},
                      {"type": "Branches", "merge": "concatenate",
                       "branches": [[{"type": "Conv2D", "filters": 4}], []]},
                      {"type": "Flatten"}]
    ws.spec = ws.spec.validated()
    dot = design_app(ws).get("graphviz_chart")[0].proto.spec
    assert "subgraph cluster_n_0" in dot and "subgraph cluster_n_1" in dot  # one frame per block
    assert 'n_0_s [label="Shortcut: Conv2D' in dot  # the projection (1 → 8 channels)
    assert 'n_preprocessing -> n_0_s [style=dashed' in dot and "n_0_s -> n_0_merge" in dot
    assert "n_0_merge -> n_1_0_0;" in dot and 'n_1_0_0 -> n_1_merge [label="branch 1"' in dot
    assert 'n_0_merge -> n_1_merge [label="branch 2: as it is"' in dot  # the empty branch
    assert "n_1_merge -> n_2;" in dot and "n_2 -> n_output;" in dot


def test_the_designer_with_blocks_is_all_chinese():
    from tests.app.i18n_texts import data_words, keras_words, untranslated, visible_texts

    ws = workspace_with_sample("digits")
    ws.spec.layers = [{"type": "Residual", "activation": "relu", "layers": [{"type": "Conv2D", "filters": 8}]},
                      {"type": "Branches", "merge": "add", "branches": [[{"type": "Conv2D", "filters": 4}], []]},
                      {"type": "Flatten"}]
    ws.spec = ws.spec.validated()
    at = design_app(ws, lang="zh")
    open_popover(at, "add_layer_open_2.b2")
    open_popover(at, "layer_edit_2")
    assert not exceptions(at)
    assert errors(at)[0].startswith("第 2 层（Branches）：分支 1 的输出形状是 (8, 8, 4)")
    allowed = keras_words() | data_words(ws.dataset)
    gaps = untranslated(visible_texts(at), allowed)
    assert not gaps, gaps
    # A problem inside a block names its position in Chinese too.
    ws.spec.layers[0]["layers"][0] = {**ws.spec.layers[0]["layers"][0], "type": "Conv1D"}
    ws.spec = ws.spec.validated()
    at.run()
    assert errors(at)[0].startswith("第 1 层 › 第 1 层（Conv1D）："), errors(at)
    assert not untranslated(visible_texts(at), allowed)


def test_a_design_with_blocks_trains():
    """The designed blocks are what the worker trains (the functional API): a few epochs, finished."""
    ws = workspace_with_sample("digits")
    ws.spec.layers = [{"type": "Conv2D", "filters": 8},
                      {"type": "Residual", "activation": "relu", "layers": [{"type": "Conv2D", "filters": 8}]},
                      {"type": "Branches", "merge": "concatenate",
                       "branches": [[{"type": "Conv2D", "filters": 4, "kernel_size": 1}], []]},
                      {"type": "GlobalAveragePooling2D"}]
    ws.spec = ws.spec.validated()
    ws.spec.training.update(epochs=3, early_stopping_patience=0)
    at = design_app(ws)
    assert not errors(at)
    at.switch_page("pages/train.py").run()
    at.button(key="start_training").click().run()
    run_until_ended(at)
    run = ws.runs[0]
    assert run.status == "finished" and len(run.history) == 3, (run.status, run.history)
    assert run.spec["layers"][2]["branches"][1] == []
