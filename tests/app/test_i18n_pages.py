"""With Chinese selected, no page shows English that has a translation gap; the switch keeps the work.

Each page is drawn with the state it needs (a sample for Data and Design, one trained
1-epoch run for Train, Evaluate and Export: trained once, in this process) and every visible
text is checked by tests/app/i18n_texts.py (Keras names, file names, units and the user's own
data may stay English).
"""
from __future__ import annotations

import pytest

from components.i18n import LANG_KEY
from tests.app.apptest import new_app, workspace_with_sample
from tests.app.i18n_texts import assert_all_chinese, chinese_page
from tests.app.run_helpers import workspace_with_trained_run

PAGES = ["pages/data.py", "pages/design.py", "pages/train.py", "pages/evaluate.py", "pages/export.py"]


@pytest.fixture(scope="module")
def trained():
    ws, _model = workspace_with_trained_run("iris", epochs=1)
    return ws


@pytest.mark.parametrize("page", [None, *PAGES])
def test_every_page_without_earlier_steps_is_all_chinese(page):
    assert_all_chinese(chinese_page(None, page), None)


def test_home_data_and_design_with_a_sample_are_all_chinese():
    ws = workspace_with_sample("iris")
    for page in (None, "pages/data.py", "pages/design.py"):
        assert_all_chinese(chinese_page(ws, page), ws)


def test_design_page_on_images_is_all_chinese():
    ws = workspace_with_sample("digits")
    assert_all_chinese(chinese_page(ws, "pages/design.py"), ws)


@pytest.mark.parametrize("page", ["pages/train.py", "pages/evaluate.py", "pages/export.py"])
def test_pages_after_a_trained_run_are_all_chinese(trained, page):
    assert_all_chinese(chinese_page(trained, page), trained)


def test_switching_language_redraws_at_once_and_keeps_the_work():
    # The switch is used on Home: AppTest re-serialises a selectbox through its format_func
    # outside the script run (English there), which would not match the Chinese options of
    # the Design page's template picker; a browser sends the label it shows.
    at = new_app()
    at.session_state["workspace"] = ws = workspace_with_sample("iris")
    at.run()
    assert at.title[0].value == "LayerLab" and at.subheader[0].value == "How it works"
    layers_before = [dict(layer) for layer in ws.spec.layers]

    at.sidebar.selectbox(key=LANG_KEY).select("zh").run()
    assert at.subheader[0].value == "使用步骤"  # the same run: no second click or reload
    assert at.sidebar.selectbox(key=LANG_KEY).value == "zh"
    at.switch_page("pages/design.py").run()
    assert at.title[0].value == "设计"
    assert at.session_state["workspace"] is ws and ws.spec.layers == layers_before
    assert at.selectbox(key="template").value == ws.template_id

    at.switch_page("pages/data.py").run()
    at.sidebar.selectbox(key=LANG_KEY).select("en").run()
    assert at.title[0].value == "Data"
    assert at.session_state["workspace"].dataset is ws.dataset


def test_a_user_error_from_core_is_shown_in_chinese():
    from core.errors import UserError
    from core.spec import ProjectSpec

    at = new_app()
    at.session_state[LANG_KEY] = "zh"
    at.session_state["workspace"] = workspace_with_sample("iris")
    at.run().switch_page("pages/design.py").run()
    with pytest.raises(UserError) as raised:
        ProjectSpec.from_json(b"{not json")
    at.file_uploader(key="load_project").set_value(("broken.json", b"{not json", "application/json")).run()
    shown = [e.value for e in at.error]
    assert shown == [f"无法载入 broken.json。{raised.value.render('zh')}"], shown
    assert "项目文件不是有效的 JSON" in shown[0]


@pytest.mark.parametrize("sample", ["diabetes", "digits"])  # regression charts; image mistakes and uploads
def test_train_and_evaluate_for_regression_and_images_are_all_chinese(sample):
    ws, _model = workspace_with_trained_run(sample, epochs=1)
    for page in ("pages/train.py", "pages/evaluate.py"):
        assert_all_chinese(chinese_page(ws, page), ws)


def test_design_problems_next_to_their_layer_are_in_chinese():
    ws = workspace_with_sample("iris")
    ws.spec.layers = [{"type": "Conv2D", "filters": 8, "kernel_size": 3}, {"type": "Dense", "activation": "bogus"}]
    at = chinese_page(ws, "pages/design.py")
    shown = [e.value for e in at.error]
    assert any(text.startswith("第 1 层（Conv2D）：") for text in shown), shown
    assert any(text.startswith("第 2 层（Dense）：activation 必须是 relu, ") for text in shown), shown
    assert_all_chinese(at, ws, user_words=frozenset({"bogus"}))  # the user's own value, quoted back


def test_text_pages_are_all_chinese():
    """sms_spam: English messages (the user's data) on a Chinese page; a 1-epoch model for the later pages."""
    ws, _model = workspace_with_trained_run("sms_spam", epochs=1)
    for page in PAGES:
        assert_all_chinese(chinese_page(ws, page), ws)
