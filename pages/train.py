"""Step 3 · Train: choose the settings, start, watch the curves live, compare runs."""
import streamlit as st

from components.app_frame import require_app_frame
from components.i18n import t
from components.state.runs import sync_active_run
from components.state.training_service import get_training_service
from components.state.workspace import get_workspace
from components.training_form import settings_form
from components.training_view import live_progress, run_controls, runs_table, transfer_note

require_app_frame()
ws = get_workspace()
st.header(t("Train"))
st.caption(t("The network learns from the training data; the validation data shows whether it also works on examples it has not seen."))

sync_active_run(ws)  # a run that ended while this page was closed shows as ended right away
if ws.dataset is not None:
    get_training_service()  # warms a worker (TensorFlow import) while the settings are chosen
if ws.spec is not None:
    settings_form(ws)
    transfer_note(ws)
run_controls(ws)
live_progress(ws)
runs_table(ws)
