"""Editing a layer through its popover in a real browser: the form runs only once opened."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from uidriver import flows
from uidriver.ui import assert_no_traceback, wait_idle, widget


def test_a_layers_settings_change_through_its_edit_popover(page: Page) -> None:
    flows.pick_sample(page, "iris")
    flows.pick_template(page, "Small network")
    popover = widget(page, "layer_edit_1")
    popover.get_by_role("button").first.click()
    wait_idle(page)
    units = page.locator("[class*='st-key-edit-1-'][class*='-units'] input")
    expect(units).to_be_visible()
    units.fill("7")
    units.press("Tab")
    page.locator(".st-key-layer_save_1").get_by_role("button").click()
    wait_idle(page)
    expect(page.get_by_text("(7,)").first).to_be_visible()
    assert_no_traceback(page)
