"""Demo in a minute (issue 25): from opening the landing page to the trained model's .keras
downloaded, with the quick start, in headless Chromium.

    .venv/bin/python -m bench.quick_start [--out bench/results/quick_start.json]

A fresh `streamlit run app.py` server (nobody has used it yet: the first training worker
imports TensorFlow while the clock runs, as for the first visitor of a demo), then one user:
open the landing page, press "Try it with a sample" (`quick_start`: the iris sample, its
design, the run started, the Train page opened), watch the run to its end, press the
`download_run_keras` button under it. Timed from `page.goto` until the file is saved; the
split (landing page drawn, run ended, file saved) is recorded too. The file is checked to be a
.keras archive (a zip with config.json and the weights). Also a case of `python -m bench`.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.harness import REPO, Context, environment, metric

NAME = "quick_start"
TITLE = "Demo in a minute (quick start to .keras)"
TARGET_S = 30.0
TIMEOUT_MS = 180_000


def measure(work: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from bench.browser import StreamlitServer
    from uidriver.chromium import launch
    from uidriver.flows import RUN_ENDED
    from uidriver.ui import APP_IDLE

    work.mkdir(parents=True, exist_ok=True)
    with StreamlitServer(REPO / "app.py", work / "tmp-server", work / "server.log") as server, sync_playwright() as pw:
        server.wait_healthy()
        browser = launch(pw)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(server.url, timeout=TIMEOUT_MS)
            quick_start = page.locator(".st-key-quick_start button")
            quick_start.wait_for(timeout=TIMEOUT_MS)
            landing_s = time.perf_counter() - started
            quick_start.click()  # click 1
            ended = page.get_by_test_id("stMain").get_by_text(RUN_ENDED).first
            ended.wait_for(timeout=TIMEOUT_MS)
            ended_s = time.perf_counter() - started
            end_message = ended.inner_text()[:200]
            button = page.locator(".st-key-download_run_keras button")
            button.wait_for(timeout=TIMEOUT_MS)
            page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
            with page.expect_download(timeout=TIMEOUT_MS) as info:
                button.click()  # click 2 (the third is the browser's own "save", if it asks)
            target = work / info.value.suggested_filename
            info.value.save_as(target)
            total_s = time.perf_counter() - started
            wall_at_start = time.time() - total_s  # the clock's zero, in file-time terms
            stages = run_stages(work / "tmp-server", wall_at_start)
        finally:
            browser.close()
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    return {
        "landing_drawn_s": round(landing_s, 2),
        "run_ended_s": round(ended_s, 2),
        "keras_saved_s": round(total_s, 2),
        "end_message": end_message,
        "file": target.name,
        "bytes": target.stat().st_size,
        "archive_members": names,
        "run_stages_s": stages,
        "is_keras": target.suffix == ".keras" and "config.json" in names and any(n.endswith(".h5") for n in names),
    }


def run_stages(server_tmp: Path, zero: float) -> dict[str, Any]:
    """When the run folder's files were written, in seconds since the landing page was opened:
    the job (spec.json, the click), the worker's first event (TensorFlow imported, model built),
    the kept model, the test evaluation and the float32 TFLite file (written before the end event)."""
    from core.training.events import read_all

    found = sorted(server_tmp.rglob("events.jsonl"))
    if not found:
        return {}
    folder = found[0].parent
    stages = {}
    for label, name in (("job_written", "spec.json"), ("best_keras", "best.keras"), ("evaluation", "evaluation.json"),
                        ("float32_tflite", "exports/model_float32.tflite"), ("events_last_written", "events.jsonl")):
        path = folder / name
        if path.exists():
            stages[label] = round(path.stat().st_mtime - zero, 2)
    end = next((e for e in read_all(found[0]) if e.get("type") == "end"), {})
    stages["training_elapsed"] = end.get("elapsed")
    stages["epochs_run"] = end.get("epochs_run")
    return stages


def run(ctx: Context) -> dict[str, Any]:
    ctx.log("  landing page -> quick start -> .keras downloaded (Chromium) ...")
    result = measure(ctx.work / "quick_start")
    result["metrics"] = [
        metric("landing page opened -> .keras downloaded (quick start, iris)", result["keras_saved_s"], "s",
               at_most=TARGET_S, note="fresh server: the first worker imports TensorFlow meanwhile"),
        metric("of which: landing page drawn", result["landing_drawn_s"], "s"),
        metric("of which: until the run's end shows", result["run_ended_s"], "s"),
        metric("downloaded file is a .keras archive", float(result["is_keras"]), "(1 = yes)", at_least=1),
    ]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quick_start", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="layerlab-quick-start-"))
    try:
        result = run(Context(quick=False, work=work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.update(environment=environment(), title=TITLE)
    print(json.dumps({k: v for k, v in result.items() if k != "environment"}, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
