"""Home: the landing page, the workflow ticks, the quick start, the frame every page shares."""
from __future__ import annotations

import subprocess
import sys

from tests.app.apptest import APP, ROOT, exceptions, new_app, open_page


from components.workflow import DONE_ICON, PENDING_ICON

DONE, TODO = "done", "todo"


def ticks(at) -> list[str]:
    marks = {DONE_ICON: DONE, PENDING_ICON: TODO}
    return [marks[m.value] for m in at.main.markdown if m.value in marks]


def test_home_explains_the_app_and_lists_the_steps_none_done(app):
    at = app.run()
    assert not exceptions(at)
    assert at.title[0].value == "LayerLab"
    assert "without any code" in at.markdown[0].value
    assert ticks(at) == [TODO] * 5
    assert [b.label for b in at.button] == ["Try it with a sample"]
    # The shared frame: language switch and session status in the sidebar.
    assert at.sidebar.selectbox(key="lang").value == "en"
    assert any("no data yet" in m.value for m in at.sidebar.markdown)


def test_quick_start_loads_iris_with_a_template_starts_training_and_opens_the_train_page(app):
    at = app.run()
    at.button(key="quick_start").click().run()
    ws = at.session_state["workspace"]
    try:
        assert not exceptions(at)
        assert at.header[0].value == "Train"
        assert ws.dataset.name == "sample:iris" and ws.spec.layers
        # the run is going already: the live view polls it, Stop is offered, Start waits for it
        assert ws.active_run is not None and len(ws.runs) == 1 and ws.runs[0].dataset is ws.dataset
        assert at.button(key="stop_training").disabled is False and at.button(key="start_training").disabled
        # Home (a fresh script run with the same workspace) ticks the first two steps.
        home = new_app()
        home.session_state["workspace"] = ws
        assert ticks(home.run())[:2] == [DONE, DONE]
    finally:
        stop_run(ws)


def stop_run(ws) -> None:
    """End a run the quick start began (these tests only need it started)."""
    if ws.active_run is not None:
        ws.active_run.kill()


def test_browser_language_is_the_default_language():
    at = new_app()
    at.context = {"locale": "zh-CN"}
    assert at.run().sidebar.selectbox(key="lang").value == "zh"
    at = new_app()
    at.context = {"locale": "fr-FR"}  # no French table: English
    assert at.run().sidebar.selectbox(key="lang").value == "en"


def test_a_page_opened_directly_is_drawn_inside_the_app_frame(app):
    # AppTest opens pages through Streamlit's legacy pages/ mode (like a direct URL on a
    # fresh server); the page must still get the frame's sidebar.
    at = open_page(app, "pages/data.py")
    assert at.title[0].value == "Data"
    assert at.sidebar.selectbox(key="lang").value == "en"
    assert len(at.title) == 1  # drawn once, not once bare and once framed


def test_home_and_data_do_not_import_tensorflow_nor_pandas_before_there_is_data():
    # A fresh server's first pages pay only for what they draw (bench/cold_start.py measures it).
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({APP!r}, default_timeout=60).run()\n"
        "at.switch_page('pages/design.py').run()\n"
        "at.switch_page('pages/data.py').run()\n"
        "assert not at.exception, at.exception\n"
        "print('pandas' in sys.modules, 'pyarrow' in sys.modules)\n"
        "at.selectbox(key='sample_dataset').set_value('iris').run()\n"
        "assert not at.exception, at.exception\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-2:] == ["False False", "False False"]


def test_switching_the_language_redraws_every_step_without_errors(app):
    at = app.run()
    at.sidebar.selectbox(key="lang").set_value("zh").run()
    assert not exceptions(at) and at.session_state["lang"] == "zh"
    at.button(key="quick_start").click().run()  # Train, with iris training
    try:
        assert not exceptions(at) and at.sidebar.selectbox(key="lang").value == "zh"
        for page in ("pages/data.py", "pages/design.py"):
            at.switch_page(page).run()
            assert not exceptions(at) and at.sidebar.selectbox(key="lang").value == "zh"
    finally:
        stop_run(at.session_state["workspace"])
