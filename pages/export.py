"""Step 5 · Export: download the trained model and everything needed to use or rebuild it."""
import streamlit as st

from components.app_frame import require_app_frame
from components.evaluation_views import choose_run, trained_runs_or_explain
from components.export_views import (
    json_and_code_downloads, keras_download, kind_notes, project_download, serving_download, tflite_download,
    tflite_table,
)
from components.i18n import t
from components.state.workspace import get_workspace

require_app_frame()
ws = get_workspace()
st.header(t("Export"))
st.caption(t("Every file comes from the model the run saved: downloading never trains again."))

runs = trained_runs_or_explain(ws)
if runs:
    run = choose_run(ws, runs, key="export_run")
    kind_notes(run)
    keras_download(ws, run)  # first, so a TFLite problem below never hides it
    json_and_code_downloads(ws, run)
    st.divider()
    tflite_download(ws, run)
    tflite_table(ws, run)
    st.divider()
    serving_download(ws, run)
    ws.mark_done("export")
elif ws.spec is not None:
    st.divider()
    project_download(ws.spec, t("Your current design and settings, to open again later on the Design page."))
