"""Only the app's own menu ever shows, even when a page's address is typed directly."""
from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from uidriver.ui import NAV_LINKS, assert_no_traceback, wait_idle

STEPS = ("Home", "Data", "Design", "Train", "Evaluate", "Export")


def expect_app_menu(page: Page) -> None:
    links = page.locator(NAV_LINKS)
    for step in STEPS:
        expect(links.filter(has_text=re.compile(rf"(^|[a-z_]){step}\s*$"))).to_have_count(1)
    # Streamlit's legacy pages/ menu lists file names ("data", "design"...) in the sidebar.
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)


def test_direct_page_address_opens_inside_the_app_frame(new_user: Callable[[], Page], app_url: str) -> None:
    page = new_user()
    for path in ("data", "train", "export"):
        page.goto(f"{app_url}/{path}")
        wait_idle(page)
        expect_app_menu(page)
        assert_no_traceback(page)
