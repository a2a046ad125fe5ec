"""The shared frame around every page: the router guard, the language switch, the session status.

Why the guard: the project keeps its page files in `pages/`, the folder Streamlit's legacy
multipage mode auto-discovers. That mode stays on in a fresh server process until some
session runs `st.navigation`, so the very first visit to a direct URL such as `/data`
would run `pages/data.py` alone, without `app.py` around it. Each page calls
`require_app_frame()` first, which draws the frame around it in that case.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.i18n import LANG_KEY, LANGUAGES, t
from components.state.workspace import Workspace, get_workspace
from components.workflow import workflow_steps

CHOSEN_LANG_KEY = "frame.chosen_lang"


def require_app_frame() -> None:
    """Make sure this page runs inside the app frame (see the module docstring).

    In legacy mode the frame is drawn here, in this same run (a rerun would lose a button
    click that came with it): st.navigation switches legacy mode off and runs this page
    again inside the frame; then the outer, frameless run of the page stops.
    """
    if PagesManager.uses_pages_directory:
        run_app()
        st.stop()


def run_app() -> None:
    """The frame of every page: page setup, sidebar, and the navigation that runs the chosen page.

    Widget ids include the "active script". In legacy mode (see above) that is a page's or the
    legacy main page's id, so the frame is drawn under app.py's own id, as in a normal run:
    the sidebar's widgets (the language) then keep their ids and values from run to run.
    """
    ctx = get_script_run_ctx()
    if ctx is None:  # bare mode (plain `python app.py`): nothing to align
        _frame_and_page()
        return
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        _frame_and_page()


def _frame_and_page() -> None:
    from components.home_view import home

    st.set_page_config(page_title="LayerLab", page_icon="🧱", layout="wide")
    with st.sidebar:
        language_switch()
        status_slot = st.empty()
    with status_slot.container():
        session_status(get_workspace())
    pages = [
        st.Page(home, title=t("Home"), icon=":material/home:", default=True),
        st.Page("pages/data.py", title=t("Data"), icon=":material/table_chart:", url_path="data"),
        st.Page("pages/design.py", title=t("Design"), icon=":material/account_tree:", url_path="design"),
        st.Page("pages/train.py", title=t("Train"), icon=":material/model_training:", url_path="train"),
        st.Page("pages/evaluate.py", title=t("Evaluate"), icon=":material/fact_check:", url_path="evaluate"),
        st.Page("pages/export.py", title=t("Export"), icon=":material/download:", url_path="export"),
    ]
    # At the top: client.showSidebarNavigation = false (no legacy menu) would hide a sidebar one.
    st.navigation(pages, position="top").run()
    # Drawn again after the page: a step the page just completed (Evaluate, Export) is ticked
    # in this same run. The first drawing stays if the page stopped early (st.stop).
    with status_slot.container():
        session_status(get_workspace())


def browser_language() -> str:
    """The first of LANGUAGES matching the browser's language ("zh-CN" -> "zh"), else English."""
    locale = (getattr(st.context, "locale", None) or "").lower()
    code = locale.split("-")[0].split("_")[0]
    return code if code in LANGUAGES else "en"


def language_switch() -> None:
    # Streamlit drops a widget's value when the page changes; a plain key keeps the choice.
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = st.session_state.get(CHOSEN_LANG_KEY) or browser_language()
    st.selectbox(
        t("Language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.get,
        key=LANG_KEY,
    )
    st.session_state[CHOSEN_LANG_KEY] = st.session_state[LANG_KEY]


def session_status(ws: Workspace) -> None:
    """A compact list of the workflow steps and where this session stands on each."""
    st.caption(t("This session"))
    for step in workflow_steps(ws):
        st.markdown(f"{step.icon} **{step.title}** · {step.detail}")
