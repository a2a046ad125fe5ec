"""Home: what LayerLab does, the workflow with a tick per step done, and the one-click quick start.

Light on purpose (no TensorFlow): this is the landing page and must paint fast.
"""
from __future__ import annotations

import streamlit as st

from components.i18n import show_error, t
from components.state.workspace import get_workspace
from components.workflow import workflow_steps
from core.errors import UserError
from core.sources import sample_source

QUICK_START_SAMPLE = "iris"
TRAIN_PAGE = "pages/train.py"


def step_purpose(key: str) -> str:
    """What the user does in a workflow step, in a few words."""
    return {
        "data": t("Pick a sample, or upload a table or a zip of photos."),
        "design": t("Stack layers, starting from a ready-made template."),
        "train": t("Watch the network learn, live."),
        "evaluate": t("See how good it is and try it on new examples."),
        "export": t("Download the model for Keras, a phone (TFLite) or Python."),
    }[key]


def start_with_sample() -> None:
    """Load the quick-start sample with its default template, start training it and open the
    Train page, where the live curves run and the finished run offers its .keras."""
    from components.designer import default_design
    from components.state.runs import start_run
    from components.state.training_service import get_training_service
    from core.data import load_sample

    ws = get_workspace()
    get_training_service()  # first: a fresh server's worker starts importing TensorFlow while the sample loads
    try:
        with st.spinner(t("Loading the sample…")):
            dataset = load_sample(QUICK_START_SAMPLE)
            spec, template_id = default_design(dataset)
    except UserError as err:
        show_error(err)
        return
    ws.set_dataset(dataset, sample_source(QUICK_START_SAMPLE))
    ws.spec, ws.template_id = spec, template_id
    if ws.active_run is None:  # a run already going (a second click) keeps going
        try:
            start_run(ws)
        except UserError as err:  # the service refused it (e.g. shutting down): said here, on Home
            show_error(err)
            return
    st.switch_page(TRAIN_PAGE)


def home() -> None:
    ws = get_workspace()
    st.title(t("LayerLab"))
    st.write(
        t(
            "LayerLab builds a neural network for your data without any code. "
            "Bring a table (CSV) or a zip of photos, stack layers from a menu and watch the model learn. "
            "Then see how good it is, try it on new examples and download it for a phone or a Python program."
        )
    )
    if st.button(t("Try it with a sample"), type="primary", icon=":material/rocket_launch:", key="quick_start"):
        start_with_sample()
    st.caption(t("Loads the iris flowers sample and a ready-made design and starts training it; "
                 "download the model when the run ends."))

    st.subheader(t("How it works"))
    with st.container(border=True):
        for number, step in enumerate(workflow_steps(ws), start=1):
            icon, link, purpose, detail = st.columns([0.05, 0.2, 0.5, 0.25], vertical_alignment="center")
            icon.markdown(step.icon)
            link.page_link(step.page, label=t("Step {n}: {title}", n=number, title=step.title))
            purpose.markdown(step_purpose(step.key))
            detail.caption(step.detail)
