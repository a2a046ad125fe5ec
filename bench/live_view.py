"""Case 2: live-view overhead, and the time from pressing Start to the first progress shown.

Browser side: `streamlit run app.py` and headless Chromium; a user uploads the benchmark
CSV, opens Design (which sets the default template) and Train, sets the epochs and turns
early stopping off, and presses Start while the page's live progress fragment and chart
refresh. Before each press the server and its workers must be idle (so the warm spare
worker has finished importing TensorFlow: "once the app is warm"); the first run is a
warm-up. Its samples/s comes from the run's own events.jsonl (found through the server's
private TMPDIR): training samples x epochs / the trainer's elapsed time.

Headless side: the same spec and arrays (read back from that run's directory), started
through the same `core.training.TrainingService` in a plain Python process that polls
like the page does, with the page idle. Each timed browser run is followed by its headless
twin, and the ratio is the median of the pairs' ratios: this machine's speed drifts by more
than the effect measured, and a drift then hits both sides of a pair alike.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from bench.harness import Context, median, metric, run_child
# The headless side polls as the Train page does once progress shows (before that it polls
# every 20 ms, to time the worker's first event closely).
from components.training_view import POLL_INTERVAL_S as POLL_S

NAME = "live_view"
TITLE = "2. Live-view overhead"
TARGET_RATIO = 0.9
FIRST_PROGRESS_TARGET_S = 2.0
CORES = os.cpu_count() or 1
# Progress that came from the worker: a batch counter or at least one finished epoch.
_REAL_PROGRESS_JS = r"""() => {
    const bar = document.querySelector('[data-testid="stProgress"]');
    const text = bar ? bar.innerText : '';
    return /batch \d+ of \d+/.test(text) || /Epoch [1-9]\d* of/.test(text);
}"""


def rate_from_events(run_dir: Path) -> dict[str, Any]:
    from core.training.events import read_all

    events = read_all(run_dir / "events.jsonl")
    start = next(e for e in events if e["type"] == "start")
    epochs = [e for e in events if e["type"] == "epoch"]
    end = next(e for e in events if e["type"] == "end")
    if end["status"] != "finished" or not epochs:
        raise RuntimeError(f"run in {run_dir} ended {end['status']}: {end.get('message')}")
    elapsed = epochs[-1]["elapsed"]
    return {"n_train": start["n_train"], "epochs": len(epochs), "batch_size": start["batch_size"],
            "elapsed_s": elapsed, "samples_per_s": start["n_train"] * len(epochs) / elapsed,
            "progress_events": sum(e["type"] == "batch" for e in events), "worker_pid": start.get("pid")}


def child_headless(run_dir: str, work: str, runs: int) -> dict[str, Any]:
    """The browser run's job again, through TrainingService, polled at the page's pace."""
    from core.training import TrainingService
    from core.training.rundir import RunDir, read_job

    spec, dataset = read_job(RunDir(run_dir))
    Path(work).mkdir(parents=True, exist_ok=True)
    service = TrainingService(max_concurrent=1)
    results = []
    try:
        for i in range(runs):
            _wait_for(lambda: service.warm, 180, "a warm training worker")
            target = Path(work) / f"headless{i}"
            pressed = time.perf_counter()
            handle = service.start(spec, dataset, target)
            started = first = None  # seconds to the worker's "start" event, to the first progress
            while handle.state != "done":
                kinds = {e["type"] for e in handle.poll()}
                now = time.perf_counter() - pressed
                started = now if started is None and kinds else started
                first = now if first is None and kinds & {"batch", "epoch"} else first
                time.sleep(POLL_S if first is not None else 0.02)
            results.append({**rate_from_events(target), "start_event_s": started, "first_progress_s": first})
    finally:
        service.shutdown()
    return {"runs": results}


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _new_run_dir(tmpdir: Path, known: set[Path]) -> Path:
    """The run directory the press created (the server's Workspace lives under its TMPDIR)."""
    found: list[Path] = []

    def appeared() -> bool:
        found[:] = [p for p in tmpdir.glob("layerlab-*/runs/*") if p.is_dir() and p not in known]
        return bool(found)

    _wait_for(appeared, 60, "the run directory")
    if len(found) != 1:
        raise RuntimeError(f"expected one new run directory under {tmpdir}, found {found}")
    return found[0]


def _ended(run_dir: Path) -> bool:
    from core.training.events import read_all

    return any(e["type"] == "end" for e in read_all(run_dir / "events.jsonl"))


def browser_runs(ctx: Context, csv_path: Path, epochs: int, runs: int, after_run=None) -> dict[str, Any]:
    """One user in Chromium: upload, default design, `runs` + 1 timed trainings on the Train page;
    `after_run(job_dir)` is called after each timed one, with the page idle."""
    from playwright.sync_api import expect, sync_playwright

    from bench.browser import StreamlitServer, server_and_browser_cpu_seconds, wait_quiet
    from bench.harness import REPO
    from uidriver.chromium import launch
    from uidriver.flows import set_training, upload_data
    from uidriver.ui import go_to, open_app, set_number, widget

    expect.set_options(timeout=120_000)
    tmpdir = ctx.work / "live-tmp"
    results, known = [], set()
    with sync_playwright() as playwright, \
            StreamlitServer(REPO / "app.py", tmpdir, ctx.work / "live-server.log") as server:
        server.wait_healthy()
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            open_app(page, server.url)
            upload_data(page, csv_path)
            go_to(page, "Design")
            set_training(page, epochs=epochs)
            set_number(page, "train_patience", 0)
            start_button = widget(page, "start_training").get_by_role("button").first
            for i in range(runs + 1):  # run 0 warms up the worker and the page
                quiet_after_s = wait_quiet([server.process.pid])
                expect(start_button).to_be_enabled()
                cpu_before = server_and_browser_cpu_seconds(server.process.pid)
                pressed_wall, pressed = time.time(), time.perf_counter()
                start_button.click()
                page.wait_for_selector('[data-testid="stProgress"]', timeout=180_000)
                bar_shown = time.perf_counter() - pressed  # the rerun the click caused has drawn the bar
                page.wait_for_function(_REAL_PROGRESS_JS, polling="raf", timeout=180_000)
                first_progress = time.perf_counter() - pressed
                run_dir = _new_run_dir(tmpdir, known)
                known.add(run_dir)
                job_written_s = (run_dir / "spec.json").stat().st_mtime - pressed_wall
                _wait_for(lambda: _ended(run_dir), 900, "the end of the run")
                cpu_after = server_and_browser_cpu_seconds(server.process.pid)
                run_s = time.perf_counter() - pressed
                # What the server (page reruns, event polling) and Chromium (drawing) took from the
                # trainer's cores: unlike a ratio of rates, this does not move with the machine's drift.
                used = {pid: max(0.0, cpu - cpu_before.get(pid, 0.0)) for pid, cpu in cpu_after.items()}
                server_cpu_s = used.pop(server.process.pid, 0.0)
                expect(start_button).to_be_enabled()  # the page has seen the end too
                points = page.evaluate(
                    "() => { const p = document.querySelector('.st-key-training_curves .js-plotly-plot');"
                    " return p ? Math.max(0, ...(p._fullData || []).map(t => t.x ? t.x.length : 0)) : 0; }")
                # keep the job: the session's folder goes when the server stops
                job = ctx.work / f"live-job{i}"
                shutil.copytree(run_dir, job, ignore=shutil.ignore_patterns("*.keras"))
                results.append({**rate_from_events(job), "first_progress_s": first_progress,
                                "chart_points": points, "run_dir": str(job), "warm_up": i == 0,
                                "quiet_after_s": quiet_after_s, "job_written_after_press_s": job_written_s,
                                "progress_bar_shown_s": bar_shown, "run_s": run_s,
                                "server_cpu_s": server_cpu_s, "browser_cpu_s": sum(used.values())})
                if i and after_run is not None:
                    after_run(job)
        finally:
            browser.close()
    return {"runs": results}


def run(ctx: Context) -> dict[str, Any]:
    from bench import synthetic

    rows, epochs, runs = ctx.size(40_000, 100_000), ctx.size(3, 5), ctx.size(1, 3)
    csv_path = ctx.work / f"live_{rows}.csv"
    synthetic.write_table_csv(csv_path, rows, seed=1)
    ctx.log(f"  {rows:,}-row CSV, {epochs} epochs: {runs} pairs (browser run, then the same job headless) "
            "after a warm-up ...")
    headless: dict[str, Any] = {"runs": []}

    def headless_twin(job: Path) -> None:
        twin = run_child("bench.live_view:child_headless",
                         {"run_dir": str(job), "work": str(ctx.work / f"{job.name}-headless"), "runs": 1})
        headless["runs"] += twin["runs"]

    browser = browser_runs(ctx, csv_path, epochs, runs, after_run=headless_twin)
    timed = [r for r in browser["runs"] if not r["warm_up"]]
    pair_ratios = [b["samples_per_s"] / h["samples_per_s"] for b, h in zip(timed, headless["runs"])]
    browser_rate = median(r["samples_per_s"] for r in timed)
    headless_rate = median(r["samples_per_s"] for r in headless["runs"])
    first = median(r["first_progress_s"] for r in timed)
    job = timed[0]
    return {
        "browser": browser,
        "headless": headless,
        "browser_samples_per_s": browser_rate,
        "headless_samples_per_s": headless_rate,
        "pair_ratios": pair_ratios,
        "metrics": [
            metric("samples/s with the Train page open / headless", median(pair_ratios), "x",
                   at_least=TARGET_RATIO,
                   note=f"median of pairs {', '.join(f'{r:.2f}' for r in pair_ratios)}; {browser_rate:,.0f} vs "
                        f"{headless_rate:,.0f} samples/s; {job['n_train']:,} training rows, "
                        f"batch {job['batch_size']}, {job['epochs']} epochs, page polls every {POLL_S:g} s"),
            metric("server process + Chromium CPU while training, share of the machine's cores",
                   100 * median((r["server_cpu_s"] + r["browser_cpu_s"]) / (r["run_s"] * CORES) for r in timed), "%",
                   note="what the live view takes from training, whatever the machine's drift; server "
                        f"{100 * median(r['server_cpu_s'] / (r['run_s'] * CORES) for r in timed):.1f} %, Chromium "
                        f"{100 * median(r['browser_cpu_s'] / (r['run_s'] * CORES) for r in timed):.1f} %"),
            metric("press Start -> first progress on the page (warm)", first, "s", at_most=FIRST_PROGRESS_TARGET_S),
            metric("press Start -> progress bar drawn (the click's own rerun)",
                   median(r["progress_bar_shown_s"] for r in timed), "s"),
            metric("same, first run of the session (worker warming)", browser["runs"][0]["first_progress_s"], "s"),
            metric("headless: start -> worker's start event (model built)",
                   median(r["start_event_s"] for r in headless["runs"]), "s"),
            metric("headless: start -> first progress event", median(r["first_progress_s"] for r in headless["runs"]),
                   "s"),
        ],
    }
