"""The designer's widgets: the layer list with its row actions, blocks that open to their own
lists of layers, the add-layer and add-block forms, totals.

Everything is drawn from core.shapes.shape_report (pure Python), so each click costs
microseconds; no Keras model is ever built here.

Widget keys. A position is named by its label (core.blocks.path_label): "3" for entry 3 of the
design, "3.1" for the first layer of residual block 3, "3.b2.1" for the first layer of branch 2
of block 3. A row at label L has `layer_edit_L` (its settings popover: a layer's settings or a
block's own), `layer_save_L`, `layer_duplicate_L`, `layer_up_L`, `layer_down_L`,
`layer_delete_L`; the fields of its form are `edit.L.<signature>.<setting>`. A block also has
`block_open_L` (the expander that shows what is inside). A list of layers inside a block is
named by its place P: "3" (residual block 3's layers) or "3.b2" (branch 2 of block 3); its add
controls are the popovers `add_layer_open_P` and `add_block_open_P`, and in them `layer_type_P`,
`add.P.<Type>.<setting>`, `add_layer_position_P_<count>`, `add_layer_P`, `block_type_P`,
`add_block_position_P_<count>`, `add_block_P`. Branches: `branch_add_L`, `branch_delete_L.bN`.
The design's own list keeps its keys: `add_layer_type`, `add.<Type>.<setting>`,
`add_layer_position_<count>`, `add_layer`; `add_block_type`, `add_block_position_<count>`,
`add_block`.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Callable

import streamlit as st

from components.i18n import current_lang, option_labels, show_error, t, t_core
from components.layer_form import param_inputs
from components.state.workspace import Workspace, get_workspace
from core import design_edits, templates
from core.blocks import (
    BLOCK_HELP, BLOCK_PARAMS, BLOCK_TYPES, BRANCHES, MAX_BRANCHES, MAX_NESTING, RESIDUAL, is_block,
    path_label, position_name, walk,
)
from core.backbones import BACKBONE, is_backbone
from core.catalog import LAYERS, Shape, format_shape, layers_for
from core.data.kinds import kind_named
from core.errors import UserError
from core.sizes import human_size
from core.shapes import Notice, ShapeReport, ShapeRow, shape_report
from core.spec import ProjectSpec, normalize_entries, normalize_layer

ROLE_NAMES = {"input": "Input", "preprocessing": "Preprocessing", "output": "Output"}
BLOCK_NAMES = {RESIDUAL: "Residual block", BRANCHES: "Branches"}
# Widths of the layer list's columns: layer, settings, output shape · parameters, actions.
ROW_COLUMNS = [0.22, 0.3, 0.2, 0.28]
Place = tuple[int, ...]


def spec_signature(spec: ProjectSpec) -> str:
    """Short content hash: part of form keys, so forms show fresh values after any edit."""
    return hashlib.sha1(spec.to_json().encode()).hexdigest()[:10]


def default_design(dataset) -> tuple[ProjectSpec, str | None]:
    """The design a new dataset starts with, and the id of the template it came from."""
    fitting = templates.templates_for(dataset)
    return templates.default_template(dataset), (fitting[0].id if fitting else None)


def fit_design_to_data(ws: Workspace) -> None:
    """After new data: start a design if there is none; an untouched template follows the data
    (the task is updated, or the data's default replaces it when it no longer fits). A design
    the user edited is kept as it is: the designer shows what no longer fits. Either way the
    data's training defaults (core.templates.with_data_defaults) are set for the new data."""
    if ws.spec is None:
        ws.spec, ws.template_id = default_design(ws.dataset)
        return
    chosen = next((tpl for tpl in templates.TEMPLATES if tpl.id == ws.template_id), None)
    if chosen is not None and chosen.spec.layers == ws.spec.layers:
        if not (chosen.suits(ws.dataset) and shape_report(ws.spec, ws.dataset).ok):
            ws.spec, ws.template_id = default_design(ws.dataset)
            return
        ws.spec = dataclasses.replace(ws.spec, task=ws.dataset.task)
    ws.spec = templates.with_data_defaults(ws.spec, ws.dataset)


def _apply(edit: Callable[..., ProjectSpec], *args) -> None:
    """Button callback: replace the design with an edited copy (runs before the page redraws)."""
    ws = get_workspace()
    ws.spec = edit(ws.spec, *args)


def hidden_layer_count(layers: list[dict]) -> int:
    """Catalog layers at every depth (a block counts by what is inside it)."""
    return sum(1 for _, entry in walk(layers) if not is_block(entry))


# ---- places: the lists of entries inside blocks ---------------------------------------------
def place_label(layers: list[dict], place: Place) -> str:
    """"" for the design's own list, "3" for residual block 3's layers, "3.b2" for branch 2 of block 3."""
    return path_label(place, layers) if place else ""


def _key(name: str, label: str) -> str:
    """A widget key for a place: the design's own list keeps the plain name."""
    return f"{name}_{label}" if label else name


def blocks_around(layers: list[dict], place: Place) -> int:
    """How many blocks hold the list at `place` (a block may go in it while this is below MAX_NESTING)."""
    count, container, steps = 0, layers, list(place)
    while steps:
        entry = container[steps.pop(0)]
        count += 1
        container = entry["layers"] if entry["type"] == RESIDUAL else entry["branches"][steps.pop(0)]
    return count


def _holding_block(layers: list[dict], place: Place) -> Place:
    """The path of the block whose list `place` is (place minus a branch index, if any)."""
    container, steps, path = layers, list(place), []
    last: Place = ()
    while steps:
        index = steps.pop(0)
        path.append(index)
        entry = container[index]
        last = tuple(path)
        if entry["type"] == RESIDUAL:
            container = entry["layers"]
        else:
            branch = steps.pop(0)
            path.append(branch)
            container = entry["branches"][branch]
    return last


def input_shape_at(report: ShapeReport, layers: list[dict], place: Place, position: int) -> Shape | None:
    """The shape that reaches an entry put at `position` (1-based) of the list at `place`: the
    output of the entry before it, or what reaches the block holding the list (None: unknown)."""
    rows = {row.path: row for row in report.rows if row.path}
    while True:
        if position > 1:
            row = rows.get((*place, position - 2))
            return tuple(row.output_shape) if row is not None and row.output_shape is not None else None
        if not place:
            step = next((row for row in report.rows if row.role == "preprocessing"), None)
            return tuple(step.output_shape) if step is not None and step.output_shape is not None else None
        block = _holding_block(layers, place)
        place, position = block[:-1], block[-1] + 1


def starter_layer(shape: Shape | None, fallback: Shape | None, kernel: int = 3) -> dict:
    """The one layer a new block starts with, made for the shape that reaches it: a Conv2D 3×3
    "same" on images, a Conv1D on sequences, a Dense on flat data; as many filters or units as
    the input has channels (8 to 256; else the layer's default, with a projection), so the input
    is usually added back as it is."""
    shape = shape or fallback or (1,)
    width = int(shape[-1])
    if len(shape) >= 3:
        layer = {"type": "Conv2D", "kernel_size": kernel, "padding": "same"}
    elif len(shape) == 2:
        layer = {"type": "Conv1D", "kernel_size": kernel, "padding": "same"}
    else:
        layer = {"type": "Dense"}
    if 8 <= width <= 256:  # not a text's multi-hot vocabulary: a Dense(10000) would exceed the weight budget
        layer["units" if layer["type"] == "Dense" else "filters"] = width
    return normalize_layer(1, layer)


def new_block_entry(type_name: str, settings: dict, shape: Shape | None, fallback: Shape | None) -> dict:
    """A block as "Add a block" makes it: never empty (a residual block needs a layer to be valid),
    so the design stays trainable. Branches start as 1×1 and 3×3 convolutions (Inception), or two
    Dense layers on flat data."""
    if type_name == RESIDUAL:
        return {"type": RESIDUAL, **settings, "layers": [starter_layer(shape, fallback)]}
    return {"type": BRANCHES, **settings,
            "branches": [[starter_layer(shape, fallback, kernel=1)], [starter_layer(shape, fallback, kernel=3)]]}


# ---- notices --------------------------------------------------------------------------------
def _row_notices(row: ShapeRow, notices: list[Notice], text: str | None) -> list[Notice]:
    if row.number is None:
        return [n for n in notices if n.layer is None and str(n) == text]
    if len(row.path) <= 1:  # a problem of the entry's settings (no path) belongs to its top-level row
        return [n for n in notices if n.path == row.path or (not n.path and n.layer == row.number)]
    return [n for n in notices if n.path == row.path]


def general_notices(report: ShapeReport) -> tuple[list[Notice], list[Notice]]:
    """Errors and warnings about the whole model (not shown next to a row)."""
    attached = {str(r.error) for r in report.rows if r.error} | {str(r.warning) for r in report.rows if r.warning}
    errors = [n for n in report.errors if n.layer is None and str(n) not in attached]
    warnings = [n for n in report.warnings if n.layer is None and str(n) not in attached]
    return errors, warnings


def _show_notices(errors: list[Notice], warnings: list[Notice]) -> None:
    for notice in errors:
        st.error(notice.render(current_lang()), icon=":material/error:")
    for notice in warnings:
        st.warning(notice.render(current_lang()), icon=":material/warning:")


def _show_row_notices(report: ShapeReport, row: ShapeRow) -> None:
    _show_notices(_row_notices(row, report.errors, row.error), _row_notices(row, report.warnings, row.warning))


def _inside(notices: list[Notice], path: tuple[int, ...]) -> list[Notice]:
    return [n for n in notices if len(n.path) > len(path) and n.path[:len(path)] == path]


# ---- rows -----------------------------------------------------------------------------------
def _row_text(row: ShapeRow) -> tuple[str, str, str]:
    if row.number is not None:
        name = f"**{row.number}. {row.type}**" if len(row.path) <= 1 else f"**{row.label} {row.type}**"
    else:
        role = t(ROLE_NAMES.get(row.role, row.role))
        name = ":material/lock: " + t("{role}: {type}", role=role, type=f"**{t_core(row.type)}**")
    params = t("{n} params", n=f"{row.params:,}") if row.params else t("no weights")
    return name, t_core(row.settings), f"`{format_shape(row.output_shape)}` · {params}"


def locked_row(report: ShapeReport, row: ShapeRow) -> None:
    """Input, preprocessing and output head: added by LayerLab from the data, shown greyed."""
    with st.container(border=True):
        name, settings, shape = _row_text(row)
        cols = st.columns(ROW_COLUMNS, vertical_alignment="center")
        cols[0].caption(name)
        cols[1].caption(settings)
        cols[2].caption(shape)
        cols[3].caption(t("added for you"), help=t("LayerLab adds this from your data; it cannot be edited."))
        _show_row_notices(report, row)


def _entry_at(ws: Workspace, place: Place, index: int) -> dict:
    return design_edits.entries_at(ws.spec.layers, place)[index]


def _layer_form(ws: Workspace, place: Place, index: int, label: str, sig: str) -> None:
    layer = _entry_at(ws, place, index)
    entry = LAYERS.get(layer.get("type"))
    if entry is None:
        st.caption(t("This layer type is unknown; delete it."))
        return
    with st.form(key=f"edit_form_{label}_{sig}", border=False):
        st.caption(t(entry.help))
        values = param_inputs(entry.params, layer, key_prefix=f"edit.{label}.{sig}")
        saved = st.form_submit_button(t("Save changes"), type="primary", key=f"layer_save_{label}")
    if saved:
        path = (*place, index)
        number = index + 1 if not place else position_name(path, ws.spec.layers)
        try:
            new_layer = normalize_layer(number, {"type": entry.name, **values})
        except UserError as err:
            show_error(err)
            return
        ws.spec = design_edits.replace_layer(ws.spec, index, new_layer, place)
        st.rerun()


def _block_form(ws: Workspace, place: Place, index: int, label: str, sig: str) -> None:
    """A block's own settings (core.blocks.BLOCK_PARAMS: the activation after the sum, the merge)."""
    block = _entry_at(ws, place, index)
    type_name = block["type"]
    with st.form(key=f"edit_form_{label}_{sig}", border=False):
        st.caption(t(BLOCK_HELP[type_name]))
        values = param_inputs(BLOCK_PARAMS[type_name], block, key_prefix=f"edit.{label}.{sig}", columns=1)
        saved = st.form_submit_button(t("Save changes"), type="primary", key=f"layer_save_{label}")
    if saved:
        _keep_if_valid(ws, design_edits.replace_layer(ws.spec, index, {**block, **values}, place))


def _reads_codes_automatically(layer: dict) -> bool:
    """An Embedding whose number of codes (input_dim) is left empty: the data decides it
    (core.shapes.with_data_settings: a text's vocabulary size)."""
    entry = LAYERS.get(layer.get("type"))
    return entry is not None and entry.needs_integer_codes and layer.get("input_dim") is None


def _only_layer_of_residual(ws: Workspace, place: Place, count: int) -> bool:
    """The last layer of a residual block stays: an empty residual block is not a valid design.
    (A residual block's list is named by the block's own path; a branch's by the block's path and
    the branch.)"""
    return bool(place) and count <= 1 and _holding_block(ws.spec.layers, place) == place


def _actions(ws: Workspace, place: Place, index: int, label: str, sig: str, count: int, block: bool) -> None:
    """The row's buttons: settings (a popover whose form runs only when opened), duplicate, move, delete."""
    actions = st.columns(5, gap="small")
    # Only an opened popover runs its form: every layer's form on every rerun made each
    # designer edit ~a quarter slower (bench case 5).
    edit = actions[0].popover("", icon=":material/edit:", help=t("Change the settings"),
                              key=f"layer_edit_{label}", on_change="rerun")
    with edit:
        if edit.open:
            (_block_form if block else _layer_form)(ws, place, index, label, sig)
    actions[1].button("", icon=":material/content_copy:", key=f"layer_duplicate_{label}", help=t("Duplicate"),
                      on_click=_apply, args=(design_edits.duplicate_layer, index, place))
    first = 1 if not place and _starts_with_backbone(ws) else 0  # nothing goes above a backbone
    actions[2].button("", icon=":material/arrow_upward:", key=f"layer_up_{label}", help=t("Move up"),
                      disabled=index <= first, on_click=_apply, args=(design_edits.move_layer, index, -1, place))
    actions[3].button("", icon=":material/arrow_downward:", key=f"layer_down_{label}", help=t("Move down"),
                      disabled=index == count - 1, on_click=_apply, args=(design_edits.move_layer, index, 1, place))
    last = not block and _only_layer_of_residual(ws, place, count)
    actions[4].button("", icon=":material/delete:", key=f"layer_delete_{label}",
                      help=t("A residual block needs at least one layer: delete the whole block instead.") if last
                      else t("Delete"),
                      disabled=last, on_click=_apply, args=(design_edits.delete_layer, index, place))


def layer_row(ws: Workspace, report: ShapeReport, row: ShapeRow | None, place: Place, index: int, sig: str) -> None:
    layer = _entry_at(ws, place, index)
    path = (*place, index)
    count = len(design_edits.entries_at(ws.spec.layers, place))
    label = path_label(path, ws.spec.layers)
    if row is None:  # the block around it has a problem of its own: no shapes inside it
        row = ShapeRow("layer", str(layer.get("type")), "", None, number=path[0] + 1, path=path, label=label)
    with st.container(border=True):
        name, settings, shape = _row_text(row)
        if _reads_codes_automatically(layer):
            settings = t("{settings} (number of codes: automatic, from the data)", settings=settings)
        cols = st.columns(ROW_COLUMNS, vertical_alignment="center")
        cols[0].markdown(name)
        cols[1].markdown(settings or "")
        cols[2].markdown(shape)
        with cols[3]:
            _actions(ws, place, index, label, sig, count, block=False)
        _show_row_notices(report, row)


def _block_settings(block: dict, shortcut: ShapeRow | None) -> str:
    if block["type"] == RESIDUAL:
        text = t("input added back, then {activation}", activation=block["activation"])
        return text + (" · " + t("shortcut: {what}", what=t_core(shortcut.settings)) if shortcut else "")
    return t("{n} branches, merged by {merge}", n=len(block["branches"]), merge=block["merge"])


def block_row(ws: Workspace, report: ShapeReport, rows: dict, place: Place, index: int, sig: str) -> None:
    """A block: one row like a layer's (its own settings, the shape it gives, every parameter
    inside it), opening to its list of layers (residual) or its branches."""
    block = _entry_at(ws, place, index)
    path = (*place, index)
    count = len(design_edits.entries_at(ws.spec.layers, place))
    label = path_label(path, ws.spec.layers)
    head = rows.get(path) or ShapeRow("block", block["type"], "", None, number=path[0] + 1, path=path, label=label)
    shortcut = rows.get((*path, -1))
    with st.container(border=True):
        cols = st.columns(ROW_COLUMNS, vertical_alignment="center")
        title = t(BLOCK_NAMES[block["type"]])
        cols[0].markdown(f"**{label}. {title}**" if not place else f"**{label} {title}**")
        cols[1].markdown(_block_settings(block, shortcut))
        total = head.block_params or 0
        params = t("{n} params in all", n=f"{total:,}") if total else t("no weights")
        cols[2].markdown(f"`{format_shape(head.output_shape)}` · {params}")
        with cols[3]:
            _actions(ws, place, index, label, sig, count, block=True)
        _show_row_notices(report, head)
        inside = st.expander(t("Inside block {label}", label=label), expanded=True, key=f"block_open_{label}",
                             icon=":material/account_tree:", on_change="rerun")
        with inside:
            if inside.open:
                if block["type"] == RESIDUAL:
                    entry_rows(ws, report, rows, path, sig)
                    add_controls(ws, report, path)
                    shortcut_row(shortcut)  # after the layers: where the input is added back
                else:
                    branches(ws, report, rows, path, sig)
        if not inside.open:  # closed: its contents' problems are still shown
            _show_notices(_inside(report.errors, path), _inside(report.warnings, path))


def shortcut_row(row: ShapeRow | None) -> None:
    """The residual block's shortcut: the input as it is, or a projection LayerLab adds."""
    if row is None:
        st.caption(":material/u_turn_left: " + t("Shortcut: the block's input is added back as it is (same shape)."))
        return
    with st.container(border=True):
        cols = st.columns(ROW_COLUMNS, vertical_alignment="center")
        cols[0].caption(":material/u_turn_left: " + t("Shortcut: {type}", type=f"**{row.type}**"))
        cols[1].caption(t_core(row.settings))
        cols[2].caption(f"`{format_shape(row.output_shape)}` · " + t("{n} params", n=f"{row.params:,}"))
        cols[3].caption(t("added for you"), help=t("The layers change the shape, so LayerLab brings the block's input "
                                                   "to their output's shape before adding it back."))


def branches(ws: Workspace, report: ShapeReport, rows: dict, path: tuple[int, ...], sig: str) -> None:
    block = _entry_at(ws, path[:-1], path[-1])
    label = path_label(path, ws.spec.layers)
    count = len(block["branches"])
    for number, branch in enumerate(block["branches"], start=1):
        place = (*path, number - 1)
        with st.container(border=True):
            head = st.columns([0.85, 0.15], vertical_alignment="center")
            head[0].markdown(f"**{t('Branch {n}', n=number)}**")
            if not branch:
                head[0].caption(t("Empty: passes the block's input on unchanged."))
            head[1].button("", icon=":material/delete:", key=f"branch_delete_{label}.b{number}",
                           help=t("A block has at least two branches.") if count <= 2 else t("Delete this branch"),
                           disabled=count <= 2, on_click=_apply, args=(design_edits.delete_branch, path, number - 1))
            entry_rows(ws, report, rows, place, sig)
            add_controls(ws, report, place)
    st.button(t("Add a branch"), icon=":material/add:", key=f"branch_add_{label}", disabled=count >= MAX_BRANCHES,
              help=t("A new, empty branch: it passes the block's input on until you add layers to it."),
              on_click=_apply, args=(design_edits.add_branch, path))


def _starts_with_backbone(ws: Workspace) -> bool:
    return bool(ws.spec.layers) and is_backbone(ws.spec.layers[0])


def backbone_row(ws: Workspace, report: ShapeReport, row: ShapeRow | None) -> None:
    """The design's pretrained backbone (always first): what it is, frozen or fine-tuned, its
    shape and weights; changed in the "Pretrained backbone" panel above, removed here."""
    from components.backbone_form import backbone_title, fine_tune_text, remove_backbone

    entry = ws.spec.layers[0]
    if row is None:
        row = ShapeRow("layer", BACKBONE, "", None, number=1, path=(0,), label="1")
    with st.container(border=True):
        cols = st.columns(ROW_COLUMNS, vertical_alignment="center")
        cols[0].markdown(f"**1. {t('Backbone')}** :material/neurology:")
        cols[1].markdown(f"{backbone_title(entry, ws)} · {fine_tune_text(entry)}")
        params = t("{n} params", n=f"{row.params:,}") if row.params else t("no weights")
        frozen = row.params - row.trainable_params if row.params and row.trainable_params is not None else 0
        if frozen:
            params += " · " + t("{n} frozen", n=f"{frozen:,}")
        cols[2].markdown(f"`{format_shape(row.output_shape)}` · {params}")
        with cols[3]:
            actions = st.columns(5, gap="small")
            actions[0].button("", icon=":material/edit:", key="layer_edit_backbone", on_click=_open_backbone_panel,
                              help=t("Change it in the Pretrained backbone panel above"))
            if actions[4].button("", icon=":material/delete:", key="layer_delete_1", help=t("Remove the backbone")):
                remove_backbone(ws)
        _show_row_notices(report, row)


def _open_backbone_panel() -> None:
    st.session_state["backbone_open"] = True


def entry_rows(ws: Workspace, report: ShapeReport, rows: dict, place: Place, sig: str) -> None:
    """The rows of the list at `place`: a layer's row or a block's row (which draws its contents)."""
    for index, entry in enumerate(design_edits.entries_at(ws.spec.layers, place)):
        path = (*place, index)
        if not place and index == 0 and is_backbone(entry):
            backbone_row(ws, report, rows.get(path))
        elif is_block(entry):
            block_row(ws, report, rows, place, index, sig)
        else:
            layer_row(ws, report, rows.get(path), place, index, sig)


def add_controls(ws: Workspace, report: ShapeReport, place: Place) -> None:
    """Inside a block's list: "Add a layer" and (where nesting allows) "Add a block" popovers,
    whose forms run only once opened."""
    label = place_label(ws.spec.layers, place)
    cols = st.columns(2)
    layer_pop = cols[0].popover(t("Add a layer"), icon=":material/add:", key=f"add_layer_open_{label}",
                                on_change="rerun", width="stretch")
    with layer_pop:
        if layer_pop.open:
            add_layer_panel(ws, ws.dataset.kind, place)
    if blocks_around(ws.spec.layers, place) < MAX_NESTING:
        block_pop = cols[1].popover(t("Add a block"), icon=":material/account_tree:", key=f"add_block_open_{label}",
                                    on_change="rerun", width="stretch")
        with block_pop:
            if block_pop.open:
                add_block_panel(ws, report, place)


def layer_list(ws: Workspace, report: ShapeReport) -> None:
    sig = spec_signature(ws.spec)
    rows = {row.path: row for row in report.rows if row.path}
    header = st.columns(ROW_COLUMNS)
    for col, title in zip(header, (t("Layer"), t("Settings"), t("Output shape · parameters"), t("Actions"))):
        col.caption(title)
    for row in report.rows:
        if row.role in ("input", "preprocessing"):
            locked_row(report, row)
    entry_rows(ws, report, rows, (), sig)
    for row in report.rows:
        if row.role == "output":
            if not ws.spec.layers:
                st.info(t("No hidden layers yet: the output is computed straight from the input. Add a layer below, "
                          "or pick a template."), icon=":material/info:")
            locked_row(report, row)


# ---- adding ---------------------------------------------------------------------------------
# Headings inside the layer-type list (not layers): picking one shows a hint instead of a form.
SEQUENCE_HEADING = "-- sequence layers --"
OTHER_HEADING = "-- other layers --"
HEADINGS_EN = {
    SEQUENCE_HEADING: "── Sequence layers: add a Reshape [-1, 1] first ──",
    OTHER_HEADING: "── Not usual for this data ──",
}


def layer_type_groups(data_kind: str) -> list[tuple[str | None, list[str]]]:
    """Every catalog layer, in groups: (heading, names). Layers suited to the data come first
    (no heading); on tables, the sequence layers (Conv1D, pooling 1D, LSTM, GRU, Bidirectional...)
    next, since a Reshape with target_shape [-1, 1] turns a row into a sequence; the rest last.
    Every layer a shape-report message suggests is in one of them."""
    suited_kinds = set(kind_named(data_kind).suited_layer_kinds)  # text: Embedding and the sequence layers
    suited = [entry.name for entry in LAYERS.values() if suited_kinds & set(entry.kinds) and entry.name != BACKBONE]
    groups: list[tuple[str | None, list[str]]] = [(None, suited)]
    for reshaped in kind_named(data_kind).reshaped_layer_kinds:
        groups.append((SEQUENCE_HEADING, [e.name for e in layers_for(reshaped) if e.name not in suited]))
    offered = {name for _, names in groups for name in names} | {BACKBONE}  # the backbone has its own panel
    groups.append((OTHER_HEADING, [name for name in LAYERS if name not in offered]))
    return [(heading, names) for heading, names in groups if names]


def layer_type_options(data_kind: str) -> list[str]:
    """The add-layer list: group by group, each later group behind its heading."""
    return [item for heading, names in layer_type_groups(data_kind) for item in ([heading] if heading else []) + names]


def _type_label(name: str) -> str:
    return t(HEADINGS_EN[name]) if name in HEADINGS_EN else name


def _position_input(label: str, name: str, count: int, place: Place) -> int:
    if not place:
        help_text = t("1 puts it first, right after the input; {last} puts it last, just before the output.",
                      last=count + 1)
    else:
        help_text = t("1 puts it first in this list; {last} puts it last.", last=count + 1)
    key = f"{name}_{label}_{count}" if label else f"{name}_{count}"
    lowest = 2 if not place and _starts_with_backbone(get_workspace()) else 1  # the backbone stays first
    if lowest > 1:
        help_text = t("2 puts it right after the backbone; {last} puts it last, just before the output.", last=count + 1)
    return int(st.number_input(t("Position in the stack") if not place else t("Position in this list"), min_value=lowest,
                               max_value=count + 1, value=count + 1, step=1, key=key, help=help_text))


def add_layer_panel(ws: Workspace, data_kind: str, place: Place = ()) -> None:
    """The add-layer form for the design's list (place ()) or a list inside a block; layers that
    suit the data come first in both."""
    label = place_label(ws.spec.layers, place)
    groups = layer_type_groups(data_kind)
    options = layer_type_options(data_kind)
    kind = st.selectbox(
        t("Layer type"),
        options=options,
        key="add_layer_type" if not place else f"layer_type_{label}",
        format_func=option_labels(options, _type_label),
        help=t("Layers that suit your data are listed first; the rest follow under headings. "
               "Type to search the list."),
    )
    if kind in HEADINGS_EN:
        st.info(t("That is a heading: pick one of the layers listed below it."), icon=":material/info:")
        return
    has_reshape = any(layer.get("type") == "Reshape" for _, layer in walk(ws.spec.layers))
    if not has_reshape and any(heading == SEQUENCE_HEADING and kind in names for heading, names in groups):
        st.info(t("{name} reads a sequence. On a table, first add a Reshape layer with target_shape [-1, 1] "
                  "(in this list), so each number becomes one step.", name=kind), icon=":material/info:")
    entry = LAYERS[kind]
    st.caption(t(entry.help))
    count = len(design_edits.entries_at(ws.spec.layers, place))
    prefix = f"add.{label}.{kind}" if place else f"add.{kind}"
    with st.form(key=f"add_layer_form_{label}_{kind}" if place else f"add_layer_form_{kind}", border=True):
        values = param_inputs(entry.params, entry.defaults(), key_prefix=prefix)
        position = _position_input(label, "add_layer_position", count, place)
        added = st.form_submit_button(t("Add layer"), type="primary", icon=":material/add:",
                                      key=_key("add_layer", label))
    if added:
        number = position if not place else position_name((*place, position - 1), ws.spec.layers)
        try:
            layer = normalize_layer(number, {"type": kind, **values})
        except UserError as err:
            show_error(err)
            return
        ws.spec = design_edits.insert_layer(ws.spec, position, layer, place)
        st.rerun()


def add_block_panel(ws: Workspace, report: ShapeReport, place: Place = ()) -> None:
    """Add a residual block or branches at a position of the design's list or of a block's list.
    The block comes with a first layer made for the shape that reaches it (core.spec refuses an
    empty residual block, and the design stays trainable)."""
    label = place_label(ws.spec.layers, place)
    kind = st.selectbox(
        t("Block type"),
        options=list(BLOCK_TYPES),
        key="add_block_type" if not place else f"block_type_{label}",
        format_func=option_labels(BLOCK_TYPES, lambda name: t(BLOCK_NAMES[name])),
        help=t("A residual block adds its input back to the output of its layers; branches run several lists of "
               "layers side by side and merge them."),
    )
    st.caption(t(BLOCK_HELP[kind]))
    count = len(design_edits.entries_at(ws.spec.layers, place))
    prefix = f"add.{label}.{kind}" if place else f"add.{kind}"
    with st.form(key=f"add_block_form_{label}_{kind}" if place else f"add_block_form_{kind}", border=True):
        values = param_inputs(BLOCK_PARAMS[kind], {}, key_prefix=prefix, columns=1)
        position = _position_input(label, "add_block_position", count, place)
        st.caption(t("It starts with one layer made for its input; open it to add, change or remove layers."))
        added = st.form_submit_button(t("Add block"), type="primary", icon=":material/add:",
                                      key=_key("add_block", label))
    if added:
        fallback = input_shape_at(report, ws.spec.layers, (), 1)  # what the data gives, if the place's shape is unknown
        block = new_block_entry(kind, values, input_shape_at(report, ws.spec.layers, place, position), fallback)
        _keep_if_valid(ws, design_edits.insert_layer(ws.spec, position, block, place))


# ---- totals ---------------------------------------------------------------------------------
def totals(ws: Workspace, report: ShapeReport) -> None:
    cols = st.columns(4)
    cols[0].metric(t("Hidden layers"), hidden_layer_count(ws.spec.layers))
    cols[1].metric(t("Parameters"), f"{report.total_params:,}",
                   help=t("Numbers the model learns. Trainable: {n}.", n=f"{report.trainable_params:,}"))
    cols[2].metric(t("Training memory"), human_size(report.memory_bytes),
                   help=t("An estimate for one training step with the chosen batch size."))
    cols[3].metric(t("Status"), t("ready") if report.ok else t("{n} to fix", n=len(report.errors)))
    errors, warnings = general_notices(report)
    _show_notices(errors, warnings)


def _keep_if_valid(ws: Workspace, edited: Any) -> None:
    """Make `edited` the design and redraw, or show why it cannot be (the design stays as it was)."""
    try:
        normalize_entries(edited.layers)
    except UserError as err:
        show_error(err)
        return
    ws.spec = edited
    st.rerun()
