"""Step 3 · Train: choose the settings, start, watch the curves live, compare runs; or let a
search try variations of the design (the Search tab, components/search_view.py)."""
import streamlit as st

from components.app_frame import require_app_frame
from components.i18n import t
from components.search_view import search_tab
from components.state.runs import sync_active_run
from components.state.training_service import get_training_service
from components.state.workspace import get_workspace
from components.training_form import settings_form
from components.training_view import live_progress, run_controls, runs_table, transfer_note

TAB_KEY = "train_tab"  # the open tab's label; only the open tab's content runs
CHOSEN_TAB_KEY = "train.chosen_tab"  # "train" | "search": kept while the tab's own value is dropped (page switches)

require_app_frame()
ws = get_workspace()
st.header(t("Train"))
st.caption(t("The network learns from the training data; the validation data shows whether it also works on examples it has not seen."))

sync_active_run(ws)  # a run that ended while this page was closed shows as ended right away
if ws.dataset is not None:
    get_training_service()  # warms a worker (TensorFlow import) while the settings are chosen
labels = {"train": t("Train a model"), "search": t("Search for a better design")}
if st.session_state.get(TAB_KEY) not in labels.values():  # dropped on a page switch, or another language
    st.session_state[TAB_KEY] = labels[st.session_state.get(CHOSEN_TAB_KEY, "train")]
train_tab, search_tab_ = st.tabs(list(labels.values()), key=TAB_KEY, on_change="rerun")
st.session_state[CHOSEN_TAB_KEY] = "search" if search_tab_.open else "train"
if train_tab.open:
    with train_tab:
        if ws.spec is not None:
            settings_form(ws)
            transfer_note(ws)
        run_controls(ws)
        live_progress(ws)
        runs_table(ws)
if search_tab_.open:
    with search_tab_:
        search_tab(ws)
