"""Issue 21 in a real browser: from the empty designer, a residual block built with the forms
(its settings popover inside the block, the add form outside), then trained."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from uidriver import flows
from uidriver.ui import assert_no_traceback, choose, error_alert, go_to, press, wait_idle, widget


def test_a_residual_block_built_from_the_empty_designer_trains(page: Page) -> None:
    flows.pick_sample(page, "digits")
    go_to(page, "Design")
    main = page.get_by_test_id("stMain")  # (a row's name is in the diagram too: the row comes first)
    deletes = page.locator("[class*='st-key-layer_delete_']")  # empty the designer: the template's layers
    expect(deletes.first).to_be_visible()
    for left in reversed(range(deletes.count())):
        press(page, "layer_delete_1")
        expect(deletes).to_have_count(left)
    expect(main.get_by_text("No hidden layers yet")).to_be_visible()

    # Add a residual block: it comes with one Conv2D made for the 8×8×1 input, and a projection.
    widget(page, "add_block_open").locator("summary").click()
    wait_idle(page)  # the deletes' last rerun may still be drawing: a click then can land on a form being replaced
    expect(widget(page, "add_block_type").get_by_role("combobox")).to_have_value("Residual block")  # the first type
    press(page, "add_block")
    expect(main.get_by_text("1. Residual block").first).to_be_visible()
    expect(main.get_by_text("1.1 Conv2D").first).to_be_visible()
    expect(main.get_by_text("Shortcut: Conv2D").first).to_be_visible()

    # Its layer's settings, from the popover on its row inside the block: 16 filters.
    widget(page, "layer_edit_1.1").get_by_role("button").first.click()
    wait_idle(page)
    filters = page.locator("[class*='st-key-edit-1-1-'][class*='-filters'] input")
    expect(filters).to_be_visible()
    filters.fill("16")
    filters.press("Tab")
    widget(page, "layer_save_1.1").get_by_role("button").click()
    wait_idle(page)
    expect(main.get_by_text("(8, 8, 16) · 160 params").first).to_be_visible()
    expect(main.get_by_text("projection: 16 filters 1×1").first).to_be_visible()

    # The output needs flat data: global pooling after the block, from the add-layer form.
    main.get_by_test_id("stExpander").filter(has=widget(page, "add_layer_type")).locator("summary").click()
    choose(page, "add_layer_type", "GlobalAveragePooling2D")
    press(page, "add_layer")
    expect(main.get_by_text("2. GlobalAveragePooling2D").first).to_be_visible()
    expect(error_alert(page)).to_have_count(0)
    assert_no_traceback(page)

    ended = flows.train(page, epochs=2, batch_size=64)
    assert "Training finished" in ended, ended
    assert_no_traceback(page)
