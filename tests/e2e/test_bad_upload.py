"""Flow 5: a bad upload shows a readable error and keeps the dataset the user already had."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests import datafiles
from uidriver.ui import assert_no_traceback, choose, error_alert, go_to, page_text, upload, widget

IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def expect_iris_loaded(page: Page) -> None:
    main = page.get_by_test_id("stMain")
    for name in IRIS_CLASSES:
        expect(main.get_by_text(name).first).to_be_attached()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("iris")


def test_bad_uploads_show_an_error_and_keep_the_sample(page: Page, tmp_path: Path) -> None:
    go_to(page, "Data")
    choose(page, "sample_dataset", "iris")
    expect_iris_loaded(page)

    upload(page, datafiles.not_a_zip(tmp_path), key="data_upload")
    alert = error_alert(page)
    expect(alert.first).to_be_visible()
    # Readable: names the file or what is wrong with it, in words rather than an exception name.
    expect(alert.first).to_contain_text(re.compile(r"holiday photos\.zip|zip", re.I))
    assert not re.search(r"BadZipFile|Error:|Exception", alert.first.inner_text())
    expect_iris_loaded(page)
    assert_no_traceback(page)

    upload(page, datafiles.empty_csv(tmp_path), key="data_upload")
    expect(error_alert(page).filter(has_text=re.compile(r"empty|no rows|no data", re.I)).first).to_be_visible()
    expect_iris_loaded(page)
    assert_no_traceback(page)

    # The next step still works on the sample: Design offers its templates.
    go_to(page, "Design")
    expect(widget(page, "template")).to_be_visible()
    assert "iris" in page_text(page)
    assert_no_traceback(page)
