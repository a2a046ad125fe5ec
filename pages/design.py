"""Step 2, Design: pick a template, then add, edit, move, duplicate and delete layers and blocks
(a residual block or branches: one row that opens to its own layers; components/designer.py).

Every redraw computes core.shapes.shape_report (pure Python); the Keras model is only
built when training starts, never here.
"""
from __future__ import annotations

import streamlit as st

from components import backbone_form, designer
from components.app_frame import require_app_frame
from components.uploads import UploadOnce
from components.i18n import error_text, option_labels, show_error, t
from components.network_diagram import network_dot
from components.state.workspace import Workspace, get_workspace
from core import templates
from core.errors import UserError
from core.shapes import shape_report
from core.spec import ProjectSpec

require_app_frame()  # before anything is drawn: see components.app_frame

PROJECT_UPLOAD = UploadOnce("design_page.project_file")
TEMPLATE_PICKED_KEY = "design_page.template_picked"
TEMPLATE_MIRROR_KEY = "design_page.template_mirror"


def needs_data() -> None:
    st.info(t("The designer needs data first: the input and output layers are made to fit it."),
            icon=":material/info:")
    st.page_link("pages/data.py", label=t("Go to step 1: Data"), icon=":material/table_chart:")


def apply_template(ws: Workspace, template_id: str) -> None:
    try:
        spec = templates.with_data_defaults(templates.template(template_id).fresh_spec(ws.dataset.task), ws.dataset)
    except UserError as err:
        show_error(err)
        return
    ws.spec, ws.template_id = spec, template_id


def template_picker(ws: Workspace) -> None:
    options = {tpl.id: tpl for tpl in templates.templates_for(ws.dataset)}
    if ws.template_id not in options:
        ws.template_id = None
    # Mirror the workspace's template into the widget whenever it changed elsewhere (Home, a loaded
    # file) or Streamlit dropped the widget's value (it does on page switches).
    if "template" not in st.session_state or st.session_state.get(TEMPLATE_MIRROR_KEY) != (
        ws.data_version, ws.template_id
    ):
        st.session_state["template"] = ws.template_id
        st.session_state[TEMPLATE_MIRROR_KEY] = (ws.data_version, ws.template_id)
    st.selectbox(
        t("Start from a template"),
        options=list(options),
        format_func=option_labels(options, lambda key: t(options[key].name)),
        placeholder=t("Choose a template…"),
        key="template",
        on_change=lambda: st.session_state.update({TEMPLATE_PICKED_KEY: True}),
        help=t("A ready-made stack of layers for this kind of data. Choosing one replaces the current layers."),
    )
    if st.session_state.pop(TEMPLATE_PICKED_KEY, False) and st.session_state.get("template"):
        apply_template(ws, st.session_state["template"])
        st.session_state[TEMPLATE_MIRROR_KEY] = (ws.data_version, ws.template_id)
    chosen = options.get(ws.template_id)
    if chosen is not None:
        st.caption(t(chosen.description))
        if chosen.spec.layers != ws.spec.layers:
            st.caption(t("You have changed its layers since; choose it again to start over."))


def offer_default_design(ws: Workspace) -> None:
    """A design that does not fit (often: it was made for other data) can be swapped in one click."""
    spec, template_id = designer.default_design(ws.dataset)
    if spec.layers == ws.spec.layers:
        return
    if st.button(t("Replace with a design that fits this data"), icon=":material/auto_fix_high:",
                 key="use_default_design"):
        ws.spec, ws.template_id = spec, template_id
        st.rerun()


def project_file_panel(ws: Workspace) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.download_button(
            t("Save the project file"),
            data=ws.spec.to_json(),
            file_name="project.json",
            mime="application/json",
            key="save_project",
            icon=":material/save:",
            on_click="ignore",
            help=t("The design and training settings as a small JSON file: load it later to get them back."),
        )
    with right:
        uploaded = st.file_uploader(t("Load a project file"), type=["json"], key="load_project")
        if PROJECT_UPLOAD.is_new(uploaded):
            try:
                spec = ProjectSpec.from_json(uploaded.getvalue())
            except UserError as err:
                PROJECT_UPLOAD.failed(uploaded, t("Could not load {file}. {reason}", file=uploaded.name, reason=error_text(err)))
            else:
                ws.spec, ws.template_id = spec, None
                st.rerun()
        if PROJECT_UPLOAD.show_error(uploaded):
            st.caption(t("Your design was not changed."))


def main() -> None:
    ws = get_workspace()
    st.title(t("Design"))
    st.write(t("Stack layers between the input and the output. Each row shows what comes out of the layer and how "
               "many numbers it learns."))
    if ws.dataset is None:
        needs_data()
        return
    if ws.spec is None:
        ws.spec, ws.template_id = designer.default_design(ws.dataset)

    template_picker(ws)
    report = shape_report(ws.spec, ws.dataset)

    if not report.ok:
        offer_default_design(ws)
    if backbone_form.offers_backbones(ws.dataset):
        backbone_form.backbone_panel(ws)
    layers_tab, diagram_tab = st.columns([0.7, 0.3], gap="medium")
    with layers_tab:
        st.subheader(t("Layers"))
        designer.layer_list(ws, report)
        designer.totals(ws, report)
        with st.expander(t("Add a layer"), expanded=not ws.spec.layers, icon=":material/add:"):
            designer.add_layer_panel(ws, ws.dataset.kind)
        with st.expander(t("Add a block"), icon=":material/account_tree:", key="add_block_open"):
            designer.add_block_panel(ws, report)
    with diagram_tab:
        st.subheader(t("Diagram"))
        st.graphviz_chart(network_dot(report, ws.spec.layers), width="stretch")

    st.subheader(t("Project file"))
    project_file_panel(ws)
    st.divider()
    if report.ok:
        st.page_link("pages/train.py", label=t("Next: train the network"), icon=":material/arrow_forward:")
    else:
        st.warning(t("Fix the problems marked above before training."), icon=":material/warning:")


main()
