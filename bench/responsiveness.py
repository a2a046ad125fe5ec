"""Case 5: responsiveness.

a) Designer edit with the 1M-row dataset loaded: the Design page is driven through
   Streamlit's AppTest (the real app.py, router included, with a Workspace holding the
   dataset), and each "Add layer" click is timed as `at.run()`, the server-side script run
   the click causes. Median of N clicks. `core.shapes.shape_report`, which the page
   computes on every redraw, is timed on its own as well.
b) Start-up: time from spawning `streamlit run` to the landing page painted in headless
   Chromium (page loaded, script finished, the page's heading visible, two animation
   frames), on a warm install (one unmeasured start first). Streamlit's own start-up is
   most of it, so the figure is also given as a ratio to a bare one-line Streamlit page
   measured the same way in the same run. The server's memory map is checked for
   TensorFlow after the landing page painted: it must not be loaded there.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.harness import REPO, Context, median, metric, ratio, run_child
from core.sources import sample_name, sample_source

NAME = "responsiveness"
TITLE = "5. Responsiveness"
EDIT_TARGET_S = 0.100
STARTUP_TARGET_S = 2.0
HELLO_PAGE = 'import streamlit as st\n\nst.title("Hello")\n'


def child_designer_edit(source: str, target: str, edits: int) -> dict[str, Any]:
    """Load the data as the Data page does, then time Add-layer clicks on the Design page.

    `source` is a CSV path or "sample:NAME". After each timed click the added layer is
    deleted again (untimed), so every timed edit works on the same two-layer design.
    """
    from streamlit.testing.v1 import AppTest

    from components.state.workspace import WORKSPACE_KEY, Workspace
    from core.data import load_sample, prepare_table, read_csv
    from core.shapes import shape_report
    from core.templates import default_template

    start = time.perf_counter()
    if sample_name(source) is not None:
        raw, dataset = None, load_sample(sample_name(source))
    else:
        raw = read_csv(Path(source))
        dataset = prepare_table(raw, target=target)
    load_s = time.perf_counter() - start
    workspace = Workspace()
    workspace.set_dataset(dataset, Path(source).name, raw_table=raw)
    workspace.spec = default_template(dataset)

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.session_state[WORKSPACE_KEY] = workspace
    at.run()
    at.switch_page("pages/design.py").run()
    _no_exception(at)
    layers = len(workspace.spec.layers)
    times = []
    for _ in range(edits):
        button = at.button(key="add_layer")
        begin = time.perf_counter()
        button.click().run()
        times.append(time.perf_counter() - begin)
        _no_exception(at)
        added = at.session_state[WORKSPACE_KEY].spec
        if len(added.layers) != layers + 1:
            raise RuntimeError(f"Add layer left {len(added.layers)} layers, expected {layers + 1}")
        at.button(key=f"layer_delete_{layers + 1}").click().run()
        _no_exception(at)
    spec = at.session_state[WORKSPACE_KEY].spec
    report_times = []
    for _ in range(50):
        begin = time.perf_counter()
        shape_report(spec, dataset)
        report_times.append(time.perf_counter() - begin)
    return {"rows": dataset.n_rows, "layers": layers, "load_s": load_s, "edit_s": times,
            "median_edit_s": median(times), "shape_report_s": median(report_times)}


def _no_exception(at) -> None:
    if at.exception:
        raise RuntimeError(f"the page raised: {at.exception[0].value}")


def _time_to_landing(script: Path, heading: str, work: Path, label: str, playwright) -> dict[str, Any]:
    """Spawn the server, then paint its landing page in a browser that is already running."""
    from bench.browser import StreamlitServer, wait_painted
    from uidriver.chromium import launch
    from uidriver.ui import APP_IDLE

    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        with StreamlitServer(script, work / f"tmp-{label}", work / f"server-{label}.log") as server:
            healthy_s = server.wait_healthy()
            page.goto(server.url)
            page.wait_for_selector(APP_IDLE, timeout=120_000)
            page.get_by_role("heading", name=heading).first.wait_for(state="visible", timeout=120_000)
            wait_painted(page)
            painted_s = time.perf_counter() - server.started_at
            tensorflow = server.has_tensorflow_loaded()
    finally:
        browser.close()
    return {"healthy_s": healthy_s, "painted_s": painted_s, "tensorflow_loaded": tensorflow}


def measure_startup(ctx: Context) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    hello = ctx.work / "hello_app.py"
    hello.write_text(HELLO_PAGE)
    repeats = ctx.size(1, 5)
    runs: dict[str, list[dict[str, Any]]] = {"hello": [], "app": []}
    with sync_playwright() as playwright:
        for i in range(repeats + 1):  # the first round only warms caches (.pyc, page cache)
            for label, script, heading in (("hello", hello, "Hello"), ("app", REPO / "app.py", "LayerLab")):
                result = _time_to_landing(script, heading, ctx.work, f"{label}{i}", playwright)
                if i > 0:
                    runs[label].append(result)
    app_s = median(r["painted_s"] for r in runs["app"])
    hello_s = median(r["painted_s"] for r in runs["hello"])
    return {"repeats": repeats, "app_painted_s": app_s, "hello_painted_s": hello_s,
            "app_healthy_s": median(r["healthy_s"] for r in runs["app"]),
            "tensorflow_loaded": any(r["tensorflow_loaded"] for r in runs["app"]), "runs": runs}


def run(ctx: Context) -> dict[str, Any]:
    from bench.csv_ingestion import table_csv
    from bench.synthetic import TARGET

    path, rows = table_csv(ctx)
    ctx.log("  designer edits (AppTest) ...")
    n_edits = ctx.size(5, 15)
    edits = run_child("bench.responsiveness:child_designer_edit",
                      {"source": str(path), "target": TARGET, "edits": n_edits})
    small = run_child("bench.responsiveness:child_designer_edit",
                      {"source": sample_source("iris"), "target": "", "edits": n_edits})
    ctx.log("  start-up to landing page (Chromium) ...")
    startup = measure_startup(ctx)
    return {
        "designer_edit": edits,
        "designer_edit_iris": small,
        "startup": startup,
        "metrics": [
            metric(f"designer edit (add a layer), {rows:,} rows loaded: median server time", edits["median_edit_s"]
                   * 1e3, "ms", at_most=EDIT_TARGET_S * 1e3, note="AppTest at.run() per click"),
            metric("same edit with the 150-row iris sample loaded", small["median_edit_s"] * 1e3, "ms"),
            metric("shape report per redraw", edits["shape_report_s"] * 1e3, "ms"),
            metric("streamlit run -> landing page painted", startup["app_painted_s"], "s", at_most=STARTUP_TARGET_S),
            metric("same for a bare one-line Streamlit page", startup["hello_painted_s"], "s"),
            metric("landing page / bare Streamlit page", ratio(startup["app_painted_s"], startup["hello_painted_s"]),
                   "x"),
            metric("TensorFlow loaded by the landing page", float(startup["tensorflow_loaded"]), "(1 = yes)",
                   at_most=0),
        ],
    }
