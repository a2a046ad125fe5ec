"""The designer's widgets: the layer list with its row actions, the add-layer form, totals.

Everything is drawn from core.shapes.shape_report (pure Python), so each click costs
microseconds; no Keras model is ever built here.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Callable

import streamlit as st

from components.i18n import current_lang, option_labels, show_error, t, t_core
from components.layer_form import param_inputs
from components.state.workspace import Workspace, get_workspace
from core import design_edits, templates
from core.catalog import LAYERS, format_shape, layers_for
from core.data.kinds import kind_named
from core.errors import UserError
from core.sizes import human_size
from core.shapes import Notice, ShapeReport, ShapeRow, shape_report
from core.spec import ProjectSpec, normalize_layer

ROLE_NAMES = {"input": "Input", "preprocessing": "Preprocessing", "output": "Output"}
# Widths of the layer list's columns: layer, settings, output shape · parameters, actions.
ROW_COLUMNS = [0.22, 0.3, 0.2, 0.28]


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
    the user edited is kept as it is: the designer shows what no longer fits."""
    if ws.spec is None:
        ws.spec, ws.template_id = default_design(ws.dataset)
        return
    chosen = next((tpl for tpl in templates.TEMPLATES if tpl.id == ws.template_id), None)
    if chosen is None or chosen.spec.layers != ws.spec.layers:
        return
    if chosen.suits(ws.dataset) and shape_report(ws.spec, ws.dataset).ok:
        ws.spec = dataclasses.replace(ws.spec, task=ws.dataset.task)
    else:
        ws.spec, ws.template_id = default_design(ws.dataset)


def _apply(edit: Callable[..., ProjectSpec], *args) -> None:
    """Button callback: replace the design with an edited copy (runs before the page redraws)."""
    ws = get_workspace()
    ws.spec = edit(ws.spec, *args)


# ---- notices --------------------------------------------------------------------------------
def _row_notices(row: ShapeRow, notices: list[Notice], text: str | None) -> list[Notice]:
    if row.number is not None:
        return [n for n in notices if n.layer == row.number]
    return [n for n in notices if n.layer is None and str(n) == text]


def general_notices(report: ShapeReport) -> tuple[list[Notice], list[Notice]]:
    """Errors and warnings about the whole model (not shown next to a row)."""
    attached = {str(r.error) for r in report.rows if r.error} | {str(r.warning) for r in report.rows if r.warning}
    errors = [n for n in report.errors if n.layer is None and str(n) not in attached]
    warnings = [n for n in report.warnings if n.layer is None and str(n) not in attached]
    return errors, warnings


def _show_row_notices(report: ShapeReport, row: ShapeRow) -> None:
    for notice in _row_notices(row, report.errors, row.error):
        st.error(notice.render(current_lang()), icon=":material/error:")
    for notice in _row_notices(row, report.warnings, row.warning):
        st.warning(notice.render(current_lang()), icon=":material/warning:")


# ---- rows -----------------------------------------------------------------------------------
def _row_text(row: ShapeRow) -> tuple[str, str, str]:
    if row.number is not None:
        name = f"**{row.number}. {row.type}**"
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


def _edit_form(ws: Workspace, index: int, sig: str) -> None:
    layer = ws.spec.layers[index]
    entry = LAYERS.get(layer.get("type"))
    if entry is None:
        st.caption(t("This layer type is unknown; delete it."))
        return
    with st.form(key=f"edit_form_{index + 1}_{sig}", border=False):
        st.caption(t(entry.help))
        values = param_inputs(entry.params, layer, key_prefix=f"edit.{index + 1}.{sig}")
        saved = st.form_submit_button(t("Save changes"), type="primary", key=f"layer_save_{index + 1}")
    if saved:
        try:
            new_layer = normalize_layer(index + 1, {"type": entry.name, **values})
        except UserError as err:
            show_error(err)
            return
        ws.spec = design_edits.replace_layer(ws.spec, index, new_layer)
        st.rerun()


def _reads_codes_automatically(layer: dict) -> bool:
    """An Embedding whose number of codes (input_dim) is left empty: the data decides it
    (core.shapes.with_data_settings: a text's vocabulary size)."""
    entry = LAYERS.get(layer.get("type"))
    return entry is not None and entry.needs_integer_codes and layer.get("input_dim") is None


def layer_row(ws: Workspace, report: ShapeReport, row: ShapeRow, sig: str) -> None:
    index, count = row.number - 1, len(ws.spec.layers)
    n = row.number
    with st.container(border=True):
        name, settings, shape = _row_text(row)
        if _reads_codes_automatically(ws.spec.layers[index]):
            settings = t("{settings} (number of codes: automatic, from the data)", settings=settings)
        cols = st.columns(ROW_COLUMNS, vertical_alignment="center")
        cols[0].markdown(name)
        cols[1].markdown(settings or "")
        cols[2].markdown(shape)
        with cols[3]:
            actions = st.columns(5, gap="small")
            # Only an opened popover runs its form: every layer's form on every rerun made each
            # designer edit ~a quarter slower (bench case 5).
            edit = actions[0].popover("", icon=":material/edit:", help=t("Change the settings"),
                                      key=f"layer_edit_{n}", on_change="rerun")
            with edit:
                if edit.open:
                    _edit_form(ws, index, sig)
            actions[1].button("", icon=":material/content_copy:", key=f"layer_duplicate_{n}", help=t("Duplicate"),
                              on_click=_apply, args=(design_edits.duplicate_layer, index))
            actions[2].button("", icon=":material/arrow_upward:", key=f"layer_up_{n}", help=t("Move up"),
                              disabled=index == 0, on_click=_apply, args=(design_edits.move_layer, index, -1))
            actions[3].button("", icon=":material/arrow_downward:", key=f"layer_down_{n}", help=t("Move down"),
                              disabled=index == count - 1, on_click=_apply, args=(design_edits.move_layer, index, 1))
            actions[4].button("", icon=":material/delete:", key=f"layer_delete_{n}", help=t("Delete"),
                              on_click=_apply, args=(design_edits.delete_layer, index))
        _show_row_notices(report, row)


def layer_list(ws: Workspace, report: ShapeReport) -> None:
    sig = spec_signature(ws.spec)
    header = st.columns(ROW_COLUMNS)
    for col, title in zip(header, (t("Layer"), t("Settings"), t("Output shape · parameters"), t("Actions"))):
        col.caption(title)
    for row in report.rows:
        if row.role == "output" and not ws.spec.layers:
            st.info(t("No hidden layers yet: the output is computed straight from the input. Add a layer below, "
                      "or pick a template."), icon=":material/info:")
        if row.role == "layer":
            layer_row(ws, report, row, sig)
        else:
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
    suited = [entry.name for entry in LAYERS.values() if suited_kinds & set(entry.kinds)]
    groups: list[tuple[str | None, list[str]]] = [(None, suited)]
    for reshaped in kind_named(data_kind).reshaped_layer_kinds:
        groups.append((SEQUENCE_HEADING, [e.name for e in layers_for(reshaped) if e.name not in suited]))
    offered = {name for _, names in groups for name in names}
    groups.append((OTHER_HEADING, [name for name in LAYERS if name not in offered]))
    return [(heading, names) for heading, names in groups if names]


def layer_type_options(data_kind: str) -> list[str]:
    """The add-layer list: group by group, each later group behind its heading."""
    return [item for heading, names in layer_type_groups(data_kind) for item in ([heading] if heading else []) + names]


def _type_label(name: str) -> str:
    return t(HEADINGS_EN[name]) if name in HEADINGS_EN else name


def add_layer_panel(ws: Workspace, data_kind: str) -> None:
    groups = layer_type_groups(data_kind)
    options = layer_type_options(data_kind)
    kind = st.selectbox(
        t("Layer type"),
        options=options,
        key="add_layer_type",
        format_func=option_labels(options, _type_label),
        help=t("Layers that suit your data are listed first; the rest follow under headings. "
               "Type to search the list."),
    )
    if kind in HEADINGS_EN:
        st.info(t("That is a heading: pick one of the layers listed below it."), icon=":material/info:")
        return
    has_reshape = any(layer.get("type") == "Reshape" for layer in ws.spec.layers)
    if not has_reshape and any(heading == SEQUENCE_HEADING and kind in names for heading, names in groups):
        st.info(t("{name} reads a sequence. On a table, first add a Reshape layer with target_shape [-1, 1] "
                  "(in this list), so each number becomes one step.", name=kind), icon=":material/info:")
    entry = LAYERS[kind]
    st.caption(t(entry.help))
    count = len(ws.spec.layers)
    with st.form(key=f"add_layer_form_{kind}", border=True):
        values = param_inputs(entry.params, entry.defaults(), key_prefix=f"add.{kind}")
        position = st.number_input(
            t("Position in the stack"), min_value=1, max_value=count + 1, value=count + 1, step=1,
            key=f"add_layer_position_{count}",
            help=t("1 puts it first, right after the input; {last} puts it last, just before the output.",
                   last=count + 1),
        )
        added = st.form_submit_button(t("Add layer"), type="primary", icon=":material/add:", key="add_layer")
    if added:
        try:
            layer = normalize_layer(int(position), {"type": kind, **values})
        except UserError as err:
            show_error(err)
            return
        ws.spec = design_edits.insert_layer(ws.spec, int(position), layer)
        st.rerun()


# ---- totals ---------------------------------------------------------------------------------
def totals(ws: Workspace, report: ShapeReport) -> None:
    cols = st.columns(4)
    cols[0].metric(t("Hidden layers"), len(ws.spec.layers))
    cols[1].metric(t("Parameters"), f"{report.total_params:,}",
                   help=t("Numbers the model learns. Trainable: {n}.", n=f"{report.trainable_params:,}"))
    cols[2].metric(t("Training memory"), human_size(report.memory_bytes),
                   help=t("An estimate for one training step with the chosen batch size."))
    cols[3].metric(t("Status"), t("ready") if report.ok else t("{n} to fix", n=len(report.errors)))
    errors, warnings = general_notices(report)
    for notice in errors:
        st.error(notice.render(current_lang()), icon=":material/error:")
    for notice in warnings:
        st.warning(notice.render(current_lang()), icon=":material/warning:")
