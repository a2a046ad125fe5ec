"""What a user does in LayerLab, in Playwright terms.

Widgets are found by their stable key (the `.st-key-<key>` class Streamlit puts on a
keyed widget's container: the automation keys the app promises) or by their visible label. After
every action we wait until the app's script has finished running, as Streamlit's own
browser tests do.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
NAV_LINKS = "[data-testid='stSidebarNavLink'], [data-testid='stTopNavLink']"
ERROR_ALERT = "[data-testid='stAlertContentError']"  # an st.error box
TRAINING_TIMEOUT_MS = 120_000
# The uploader's "Upload" button, or its "+" (icon "add") once it already holds a file.
CHOOSE_FILE_BUTTON = re.compile(r"^\W*(upload\W*)?(browse|upload|add)", re.I)

Text = str | re.Pattern[str]


def wait_idle(page: Page, timeout_ms: int = TRAINING_TIMEOUT_MS) -> None:
    """Wait for the script run an action triggered to finish (it may start a moment later)."""
    page.wait_for_timeout(150)
    page.wait_for_selector(APP_IDLE, timeout=timeout_ms)


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    expect(page.get_by_test_id("stApp")).to_be_visible()


def go_to(page: Page, name: Text) -> None:
    """Open a step through the navigation menu, as a user would (the session is kept)."""
    pattern = name if isinstance(name, re.Pattern) else re.compile(rf"{re.escape(name)}\s*$")
    link = page.locator(NAV_LINKS).filter(has_text=pattern).first
    expect(link).to_be_visible()
    link.click()
    wait_idle(page)


def widget(page: Page, key: str) -> Locator:
    """The keyed widget's container: Streamlit writes the key into a class, with every character
    other than a letter, digit, "_" or "-" as "-" ("layer_edit_3.b2.1" -> st-key-layer_edit_3-b2-1)."""
    return page.locator(f".st-key-{re.sub(r'[^A-Za-z0-9_-]', '-', key.strip())}")


def choose(page: Page, key: str, option: Text) -> None:
    """Pick `option` in the keyed selectbox, radio, segmented control or pills."""
    box = widget(page, key)
    expect(box).to_be_visible()
    # Selectboxes render a skeleton first; wait until the real widget is there.
    real = box.locator("[data-testid='stSelectbox'], [data-testid='stRadio'], [data-testid='stButtonGroup']")
    expect(real.first).to_be_visible()
    if box.get_by_test_id("stSelectbox").count():
        combo = box.get_by_role("combobox")
        combo.click()
        if isinstance(option, str):
            combo.fill(option)  # filters the list, so long lists need no scrolling
        page.get_by_role("option").filter(has_text=option).first.click()
        wait_idle(page)
        shown = option if isinstance(option, re.Pattern) else re.compile(re.escape(option), re.I)
        expect(combo).to_have_value(shown)
    elif box.get_by_test_id("stRadio").count():
        box.locator("label").filter(has_text=option).first.click()
        wait_idle(page)
    else:
        box.get_by_role("button").filter(has_text=option).first.click()
        wait_idle(page)


def set_number(page: Page, key: str, value: float) -> None:
    field = widget(page, key).locator("input")
    expect(field).to_be_visible()
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)
    expect(field).to_have_value(str(value))


def press(page: Page, key: str) -> None:
    button = widget(page, key).get_by_role("button").first
    expect(button).to_be_enabled()
    button.click()
    wait_idle(page)


def upload(page: Page, path: Path, key: str | None = None) -> None:
    """Upload through the file chooser that the uploader's button opens, as a user does."""
    uploader = widget(page, key) if key else page.get_by_test_id("stFileUploader").first
    expect(uploader).to_be_visible()
    with page.expect_file_chooser() as chooser:
        uploader.locator("button").filter(has_text=CHOOSE_FILE_BUTTON).first.click()
    chooser.value.set_files(str(path))
    # The file appears in the uploader's list once it reached the server.
    expect(uploader.get_by_text(path.name)).to_be_visible()
    wait_idle(page)


def download(page: Page, key: str, into: Path) -> Path:
    """Click a download button and return the saved file (named as the app suggests)."""
    button = widget(page, key).get_by_role("button").first
    expect(button).to_be_enabled(timeout=TRAINING_TIMEOUT_MS)
    with page.expect_download(timeout=TRAINING_TIMEOUT_MS) as info:
        button.click()
    target = into / info.value.suggested_filename
    info.value.save_as(target)
    return target


def plotly_figures(page: Page, key: str | None = None) -> list[dict[str, Any]]:
    """The Plotly charts on the page (or in the keyed chart): each trace's type, name, x, y, z.

    Reads `_fullData`, where Plotly has already decoded the base64 arrays `data` may hold.
    """
    # A chart redrawn by a rerun can briefly exist twice: the stale copy is left out.
    fresh = ":not([data-stale='true'])"
    selector = f".st-key-{key}{fresh} .js-plotly-plot" if key else f"[data-testid='stElementContainer']{fresh} .js-plotly-plot"
    return page.evaluate(
        """(selector) => {
            const plain = v => (v == null ? null : ArrayBuffer.isView(v) || Array.isArray(v) ? Array.from(v, plain) : v);
            return Array.from(document.querySelectorAll(selector)).map(el => ({
                traces: (el._fullData || el.data || []).map(t => ({
                    type: t.type || 'scatter', name: t.name || '',
                    x: plain(t.x), y: plain(t.y), z: plain(t.z),
                })),
            }));
        }""",
        selector,
    )


def page_text(page: Page) -> str:
    return page.inner_text("body")


def assert_no_traceback(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page_text(page), "the page shows a Python traceback"


def error_alert(page: Page) -> Locator:
    """The error boxes (st.error) on the page."""
    return page.locator(ERROR_ALERT)
