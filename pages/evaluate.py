"""Step 4 · Evaluate: how good is the trained model, where does it go wrong, and try it."""
import streamlit as st

from components.app_frame import require_app_frame
from components.evaluation_views import (
    choose_run,
    classification_details,
    metric_cards,
    regression_details,
    run_evaluation,
    trained_runs_or_explain,
    try_it,
    worst_mistakes,
)
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
        metric_cards(evaluation)
        if evaluation.task == "classification":
            classification_details(evaluation)
        else:
            regression_details(evaluation)
        worst_mistakes(evaluation, run.dataset)
        ws.mark_done("evaluate")
    try_it(ws, run)
