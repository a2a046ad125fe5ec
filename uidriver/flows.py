"""Steps the browser tests and benchmarks share: load data, pick a template, train, watch the run."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from uidriver.ui import (
    TRAINING_TIMEOUT_MS,
    choose,
    go_to,
    plotly_figures,
    press,
    set_number,
    upload,
    wait_idle,
    widget,
)

# "Run 1: Training finished after 12 epochs. …", "Run 2: Training stopped at your request …"
RUN_ENDED = re.compile(r"Run \d+: (Training (finished|stopped|diverged|reached|failed)|Stopped early|The training)")

# Reads the live training chart and the progress bar in one go, so "points" and "still
# running" describe the same moment. Plotly may keep arrays base64-encoded in `data`;
# `_fullData` holds them decoded.
_LIVE_STATE_JS = """() => {
    const plot = document.querySelector('.st-key-training_curves .js-plotly-plot');
    const traces = plot ? (plot._fullData || plot.data || []) : [];
    const points = traces.reduce((most, t) => Math.max(most, t.x ? t.x.length : 0), 0);
    const progress = document.querySelector("[data-testid='stMain'] [data-testid='stProgress']");
    return {points, running: !!progress};
}"""


@dataclass(frozen=True)
class LiveState:
    points: int  # epochs drawn on the live chart (the longest curve)
    running: bool  # the epoch progress bar is shown: the run has not ended


def live_state(page: Page) -> LiveState:
    state = page.evaluate(_LIVE_STATE_JS)
    return LiveState(points=int(state["points"]), running=bool(state["running"]))


def wait_for_live_points(page: Page, more_than: int, timeout_ms: int = TRAINING_TIMEOUT_MS) -> LiveState:
    """Wait until the live chart shows more than `more_than` epochs or the run ends."""
    page.wait_for_function(
        f"(n) => {{ const s = ({_LIVE_STATE_JS})(); return s.points > n || (!s.running && s.points > 0); }}",
        arg=more_than,
        timeout=timeout_ms,
    )
    return live_state(page)


def pick_sample(page: Page, name: str) -> None:
    go_to(page, "Data")
    choose(page, "sample_dataset", name)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(name)


def upload_data(page: Page, path: Path) -> None:
    go_to(page, "Data")
    upload(page, path, key="data_upload")
    expect(page.get_by_test_id("stSidebar")).to_contain_text(path.name)


def pick_template(page: Page, name: str | re.Pattern[str]) -> None:
    go_to(page, "Design")
    choose(page, "template", name)


def set_training(page: Page, *, epochs: int, batch_size: int | None = None) -> None:
    go_to(page, "Train")
    set_number(page, "epochs", epochs)
    if batch_size is not None:
        set_number(page, "train_batch_size", batch_size)


def start_training(page: Page) -> float:
    """Press Start; returns the moment it was pressed (time.monotonic())."""
    started = time.monotonic()
    press(page, "start_training")
    expect(page.get_by_test_id("stMain").get_by_test_id("stProgress")).to_be_visible()
    return started


def wait_run_end(page: Page, timeout_ms: int = TRAINING_TIMEOUT_MS) -> str:
    """Wait for the sentence that says how the run ended; returns it."""
    message = page.get_by_test_id("stMain").get_by_text(RUN_ENDED).first
    expect(message).to_be_visible(timeout=timeout_ms)
    expect(widget(page, "stop_training").get_by_role("button")).to_be_disabled()
    text = message.inner_text()
    wait_idle(page)  # the page reruns once when a run ends
    return text


def train(page: Page, *, epochs: int, batch_size: int | None = None) -> str:
    set_training(page, epochs=epochs, batch_size=batch_size)
    start_training(page)
    return wait_run_end(page)


def confusion_matrix_on_page(page: Page) -> tuple[list[str], np.ndarray]:
    """Evaluate's heatmap: class names along the axes and the counts (rows: true class)."""
    go_to(page, "Evaluate")
    expect(widget(page, "confusion_matrix").locator(".js-plotly-plot")).to_be_visible(timeout=60_000)
    figure = plotly_figures(page, "confusion_matrix")[-1]
    heatmap = next(trace for trace in figure["traces"] if trace["type"] == "heatmap")
    return [str(name) for name in heatmap["x"]], np.asarray(heatmap["z"], dtype=int)


def confusion_matrix(y_true: np.ndarray, outputs: np.ndarray, n_classes: int) -> np.ndarray:
    """The same counts, from a downloaded model's outputs."""
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, dtype=int), outputs.argmax(axis=1)), 1)
    return matrix


# Every cell of the keyed plain table (st.table) with its text and whether it lies wholly inside
# the visible area: the window and every ancestor that clips its overflow (a scrolled table).
_TABLE_CELLS_JS = """(selector) => {
    const table = document.querySelector(selector + ' table');
    if (!table) return null;
    let left = 0, right = window.innerWidth;
    for (let el = table.parentElement; el; el = el.parentElement) {
        const style = getComputedStyle(el);
        if (style.overflowX !== 'visible') {
            const box = el.getBoundingClientRect();
            left = Math.max(left, box.left);
            right = Math.min(right, box.right);
        }
    }
    const cell = c => {
        const box = c.getBoundingClientRect();
        return {text: c.innerText.trim(), visible: box.width > 0 && box.left >= left - 1 && box.right <= right + 1};
    };
    return {
        headers: Array.from(table.querySelectorAll('thead th'), cell),
        rows: Array.from(table.querySelectorAll('tbody tr'), tr => Array.from(tr.querySelectorAll('th, td'), cell)),
    };
}"""


def table_cells(page: Page, key: str) -> dict:
    """{"headers": [cell], "rows": [[cell]]} of the keyed st.table; a cell is {"text", "visible"}."""
    found = page.evaluate(_TABLE_CELLS_JS, f".st-key-{key}")
    assert found is not None, f"no table in .st-key-{key}"
    return found


def columns_in_view(page: Page, key: str, headers: tuple[str, ...]) -> dict[str, list[str]]:
    """The values of the named columns of the keyed table, asserting that each header and value
    is wholly visible (not cut off or scrolled away at this window width)."""
    cells = table_cells(page, key)
    names = [h["text"] for h in cells["headers"]]
    values = {}
    for header in headers:
        column = names.index(header)
        assert cells["headers"][column]["visible"], f"the header {header!r} is out of view"
        shown = [row[column] for row in cells["rows"]]
        hidden = [c["text"] for c in shown if not c["visible"]]
        assert not hidden, f"{header} values out of view: {hidden}"
        values[header] = [c["text"] for c in shown]
    return values
