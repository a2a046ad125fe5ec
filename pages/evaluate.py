"""Step 4 · Evaluate: how good is the trained model, where does it go wrong, and try it."""
import streamlit as st

from components.app_frame import require_app_frame
from components.evaluation_views import choose_run, evaluation_details, run_evaluation, trained_runs_or_explain, try_it
from components.i18n import t
from components.state.workspace import get_workspace

require_app_frame()
ws = get_workspace()
st.header(t("Evaluate"))
st.caption(t("How well the trained model does on test data it never saw during training."))

runs = trained_runs_or_explain(ws)
if runs:
    run = choose_run(ws, runs, key="evaluate_run")
    evaluation = run_evaluation(ws, run)
    if evaluation is not None:
        evaluation_details(ws, evaluation, run)
        ws.mark_done("evaluate")
    try_it(ws, run)
