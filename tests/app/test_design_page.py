"""Design page: templates, the layer list and its actions, inline errors, the project file."""
from __future__ import annotations

import json

from tests.app.apptest import errors, exceptions, new_app, workspace_with_sample

DESIGN = "pages/design.py"


def design_app(ws=None):
    at = new_app()
    if ws is not None:
        at.session_state["workspace"] = ws
    at.run()
    return at.switch_page(DESIGN).run()


def layer_names(at) -> list[str]:
    """The hidden-layer rows as shown: "**1. Dense**", ..."""
    return [m.value.strip("*") for m in at.markdown if m.value.startswith("**") and ". " in m.value]


def shapes(at) -> list[str]:
    """Output shape cells of the hidden-layer rows (the locked rows are captions)."""
    return [m.value.split("`")[1] for m in at.markdown if m.value.startswith("`(")]


def test_without_data_the_designer_links_to_the_data_page():
    at = design_app()
    assert not exceptions(at)
    assert "needs data first" in at.info[0].value
    assert [link.proto.page for link in at.get("page_link")][-1] == "data"
    assert not layer_names(at)


def test_with_iris_the_default_template_is_shown_with_locked_rows():
    at = design_app(workspace_with_sample("iris", with_design=False))
    assert not exceptions(at) and not errors(at)
    ws = at.session_state["workspace"]
    assert ws.spec is not None and at.selectbox(key="template").value == ws.template_id
    assert len(layer_names(at)) == len(ws.spec.layers)
    captions = " ".join(c.value for c in at.caption)
    assert "Input: **Input**" in captions and "Output: **Dense**" in captions  # locked rows
    assert "3 classes, softmax" in captions
    assert len(at.get("graphviz_chart")) == 1


def test_add_move_duplicate_delete_update_rows_and_shapes():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Dense", "units": 16}]
    at = design_app(ws)
    assert layer_names(at) == ["1. Dense"] and shapes(at)[0] == "(16,)"

    # Add a Dense layer of 5 units at position 1.
    at.selectbox(key="add_layer_type").set_value("Dense").run()
    at.number_input(key="add.Dense.units").set_value(5)
    at.number_input(key="add_layer_position_1").set_value(1)
    at.button(key="add_layer").click().run()
    assert not exceptions(at) and not errors(at)
    assert layer_names(at) == ["1. Dense", "2. Dense"]
    assert shapes(at)[0:2] == ["(5,)", "(16,)"]

    at.button(key="layer_down_1").click().run()
    assert shapes(at)[0:2] == ["(16,)", "(5,)"]

    at.button(key="layer_duplicate_2").click().run()
    assert layer_names(at) == ["1. Dense", "2. Dense", "3. Dense"]
    assert shapes(at)[0:3] == ["(16,)", "(5,)", "(5,)"]

    at.button(key="layer_delete_1").click().run()
    assert layer_names(at) == ["1. Dense", "2. Dense"]
    assert shapes(at)[0:2] == ["(5,)", "(5,)"]
    # Parameters of the first hidden layer: 4 inputs x 5 units + 5 biases.
    assert "25 params" in [m.value for m in at.markdown if m.value.startswith("`(5,)`")][0]


def test_editing_a_layer_changes_its_shape():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Dense", "units": 16}]
    at = design_app(ws)
    assert not [n for n in at.number_input if n.key and n.key.startswith("edit.")]  # forms run only when opened
    at.session_state["layer_edit_1"] = True  # the user opens the first layer's edit popover
    at.run()
    units = next(n for n in at.number_input if n.key and n.key.startswith("edit.1.") and n.key.endswith(".units"))
    units.set_value(7)
    at.button(key="layer_save_1").click().run()
    assert not exceptions(at)
    assert shapes(at)[0] == "(7,)"
    assert at.session_state["workspace"].spec.layers[0]["units"] == 7


def test_an_impossible_stack_shows_the_error_next_to_its_layer():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Dense", "units": 16}, {"type": "Conv2D"}]
    at = design_app(ws)
    assert not exceptions(at)
    assert len(errors(at)) == 1 and errors(at)[0].startswith("Layer 2 (Conv2D): it works on images")
    assert "Fix the problems marked above before training." in [w.value for w in at.warning]
    at.button(key="layer_delete_2").click().run()
    assert not errors(at) and not at.warning


def test_choosing_a_template_replaces_the_layers():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Dense", "units": 3}]
    at = design_app(ws)
    options = at.selectbox(key="template").options
    assert len(options) >= 2
    at.selectbox(key="template").select_index(1).run()
    ws = at.session_state["workspace"]
    from core.templates import templates_for

    second = templates_for(ws.dataset)[1]
    assert ws.template_id == second.id
    assert ws.spec.layers == second.spec.layers
    assert len(layer_names(at)) == len(second.spec.layers)
    changed = "You have changed its layers since; choose it again to start over."
    assert changed not in [c.value for c in at.caption]
    at.button(key="layer_delete_1").click().run()
    assert changed in [c.value for c in at.caption]


def test_a_bad_project_file_shows_an_error_and_keeps_the_design():
    ws = workspace_with_sample("iris")
    before = ws.spec.to_dict()
    at = design_app(ws)
    bad = json.dumps({"format": "layerlab/1", "layers": [{"type": "Lambda", "function": "os.system('x')"}]})
    at.file_uploader(key="load_project").set_value(("project.json", bad.encode(), "application/json"))
    at.run()
    assert not exceptions(at)
    assert any("Lambda" in e for e in errors(at))
    assert at.session_state["workspace"].spec.to_dict() == before
    at.file_uploader(key="load_project").set_value(("broken.json", b"{not json", "application/json"))
    at.run()
    assert errors(at) and at.session_state["workspace"].spec.to_dict() == before


def test_a_saved_project_file_loads_back():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Dense", "units": 9}, {"type": "Dropout", "rate": 0.3}]
    saved = ws.spec.to_json()
    other = workspace_with_sample("iris")
    at = design_app(other)
    at.file_uploader(key="load_project").set_value(("project.json", saved.encode(), "application/json"))
    at.run()
    assert not exceptions(at) and not errors(at)
    assert layer_names(at) == ["1. Dense", "2. Dropout"]
    assert shapes(at)[0] == "(9,)"
    assert at.download_button(key="save_project") is not None


def test_leaving_the_page_and_coming_back_keeps_the_template_shown():
    at = design_app(workspace_with_sample("iris"))
    at.selectbox(key="template").select_index(1).run()
    chosen = at.session_state["workspace"].template_id
    at.switch_page("pages/data.py").run()
    at.switch_page(DESIGN).run()
    assert at.selectbox(key="template").value == chosen


def test_forms_take_lists_choices_and_automatic_values():
    """Reshape (a list of numbers), Conv1D (choices) and MaxPooling1D (strides left automatic)
    added through the forms turn the 4 iris measurements into a sequence."""
    ws = workspace_with_sample("iris")
    ws.spec.layers = []
    at = design_app(ws)
    at.selectbox(key="add_layer_type").set_value("Reshape").run()
    at.text_input(key="add.Reshape.target_shape").input("4, 1")
    at.button(key="add_layer").click().run()
    at.selectbox(key="add_layer_type").set_value("Conv1D").run()
    at.number_input(key="add.Conv1D.filters").set_value(6)
    at.selectbox(key="add.Conv1D.padding").set_value("valid")
    at.button(key="add_layer").click().run()
    at.selectbox(key="add_layer_type").set_value("MaxPooling1D").run()
    assert at.number_input(key="add.MaxPooling1D.strides").value is None  # automatic
    at.button(key="add_layer").click().run()
    at.selectbox(key="add_layer_type").set_value("Flatten").run()
    at.button(key="add_layer").click().run()
    assert not exceptions(at) and not errors(at)
    assert layer_names(at) == ["1. Reshape", "2. Conv1D", "3. MaxPooling1D", "4. Flatten"]
    assert shapes(at) == ["(4, 1)", "(2, 6)", "(1, 6)", "(6,)"]
    assert at.session_state["workspace"].spec.layers[2]["strides"] is None


def test_a_list_that_is_not_numbers_is_refused_with_a_message():
    ws = workspace_with_sample("iris")
    at = design_app(ws)
    before = list(ws.spec.layers)
    at.selectbox(key="add_layer_type").set_value("Reshape").run()
    at.text_input(key="add.Reshape.target_shape").input("four, one")
    at.button(key="add_layer").click().run()
    assert not exceptions(at)
    assert any("target_shape" in e for e in errors(at))
    assert at.session_state["workspace"].spec.layers == before


def test_on_a_table_the_layers_an_error_suggests_come_before_the_unusual_ones():
    """Conv2D on iris says "add Reshape ... and use Conv1D": both must be easy to find in the list."""
    import re

    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Conv2D"}]
    at = design_app(ws)
    message = errors(at)[0]
    assert "Reshape" in message and "Conv1D" in message
    picker = at.selectbox(key="add_layer_type")
    shown = picker.options
    other = shown.index("── Not usual for this data ──")
    sequence = shown.index("── Sequence layers: add a Reshape [-1, 1] first ──")
    assert sequence < shown.index("Conv1D") < other and shown.index("Reshape") < sequence
    assert {"LSTM", "GRU", "Bidirectional", "MaxPooling1D"} <= set(shown[sequence:other])
    from core.catalog import LAYERS

    assert set(LAYERS) <= set(shown)  # every layer stays reachable
    suggested = set(re.findall(r"\b[A-Z][A-Za-z0-9]+\b", message)) & set(LAYERS)
    assert suggested and all(shown.index(name) < other for name in suggested - {"Conv2D"})

    picker.set_value("Conv1D").run()
    assert any("first add a Reshape layer with target_shape [-1, 1]" in i.value for i in at.info)
    picker.set_value("-- sequence layers --").run()  # a heading: a hint, no form
    assert any("pick one of the layers listed below it" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "add_layer"] and not exceptions(at)


def test_forms_show_plain_labels_with_the_keras_name():
    ws = workspace_with_sample("digits")
    at = design_app(ws)
    at.selectbox(key="add_layer_type").set_value("Conv2D").run()
    labels = {w.key.rsplit(".", 1)[-1]: w.label for w in [*at.number_input, *at.selectbox] if w.key.startswith("add.Conv2D.")}
    assert labels["filters"] == "Number of filters (filters)"
    assert labels["kernel_size"] == "Filter size (kernel_size)"
    assert labels["strides"] == "Step (strides)"
    assert labels["padding"] == "Padding"
    assert labels["kernel_initializer"] == "Weight initialiser (kernel_initializer)"
    assert labels["kernel_l2"] == "L2 penalty (kernel_l2)"
    at.selectbox(key="add_layer_type").set_value("Dropout").run()
    assert at.number_input(key="add.Dropout.rate").label == "Fraction dropped (rate)"


def test_plain_labels_are_translated_and_keep_the_keras_name():
    from components.i18n import LANG_KEY

    at = new_app()
    at.session_state[LANG_KEY] = "zh"
    at.session_state["workspace"] = workspace_with_sample("digits")
    at.run()
    at.switch_page(DESIGN).run()
    at.selectbox(key="add_layer_type").set_value("Conv2D").run()
    label = at.number_input(key="add.Conv2D.filters").label
    assert label.endswith(" (filters)") and "Number" not in label and any("\u4e00" <= ch <= "\u9fff" for ch in label)
