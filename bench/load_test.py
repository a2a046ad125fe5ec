"""Load test: several users run the sample flow at once on one `streamlit run` server.

    .venv/bin/python -m bench.load_test [--users 5] [--epochs 2] [--out bench/results/load_test.json]

Each user is a separate browser context (its own cookies and Streamlit session) in one
headless Chromium; all of them, at the same moment: open Home, press "Try it with a
sample", open Train, set the epochs, start training, wait for the run to end, open
Evaluate. Bounded and loopback only: the server listens on 127.0.0.1, every browser
request to anything else is aborted (and counted), and the whole test has a time limit.

Recorded: the latency of each page interaction (from the action until the script run it
triggered has finished, read from Streamlit's `data-test-script-state` in the page),
errors (exceptions shown in the app, timeouts), the training wall time per user (queue
included), and the server's memory: before, at its peak, right after the tabs closed and
after the session reaper had freed them (LAYERLAB_SESSION_GRACE_S is shortened here).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import TimeoutError as PlaywrightTimeout

from bench.browser import StreamlitServer, _children
from bench.harness import REPO, environment
from uidriver.chromium import launch
from uidriver.ui import APP_IDLE, NAV_LINKS

RESULT = REPO / "bench" / "results" / "load_test.json"
SCREENSHOTS = Path(tempfile.gettempdir()) / "layerlab-load-test-failures"  # a failed step's page, for a look
ACTION_TIMEOUT_MS = 120_000
RUN_SEEN_TIMEOUT_MS = 15_000  # the page marks a rerun as requested at once; none by then means none came
TRAINING_TIMEOUT_MS = 300_000  # 5 runs through a cap of 2 workers, each importing TensorFlow on 2 cores
TOTAL_TIMEOUT_S = 900
GRACE_S = 10  # how long a closed tab's session is kept before the reaper frees it (default 120)
REAPER_WAIT_S = GRACE_S + 15  # grace + a sweep interval + time for the workers to exit
RUN_ENDED = re.compile(r"Run \d+: (Training (finished|stopped|diverged|reached|failed)|Stopped early|The training)")

# Records every change of the app's script state with the page's clock, so the end of the
# script run an action caused can be told apart from an earlier one. A short run may flip
# the state twice before the observer is called: each record's old value is kept too.
_OBSERVE_JS = """() => {
    window.__llStates = window.__llStates || [];
    const app = document.querySelector("[data-testid='stApp']");
    if (app.__llObserved) return;  // the app element can be replaced: observe each new one
    app.__llObserved = true;
    new MutationObserver((records) => {
        const now = performance.now();
        for (const record of records) window.__llStates.push([now, record.oldValue]);
        window.__llStates.push([now, app.getAttribute('data-test-script-state')]);
    }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
}"""
_RUN_SEEN_JS = """(t0) => window.__llStates.some(s => s[0] > t0 && (s[1] === 'running' || s[1] === 'rerunRequested'))"""
_RUN_DONE_JS = """(t0) => {
    const after = window.__llStates.filter(s => s[0] > t0);
    if (!after.some(s => s[1] === 'running' || s[1] === 'rerunRequested')) return null;
    const last = after[after.length - 1];
    return last[1] === 'notRunning' ? last[0] - t0 : null;
}"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory(server: StreamlitServer) -> dict[str, Any]:
    """The server's resident memory, and its worker processes' (training, warm spare)."""
    workers = []
    for pid in _children(server.process.pid):
        try:
            workers.append(rss_kib(pid))
        except OSError:
            pass
    return {"server_rss_mb": round(rss_kib(server.process.pid) / 1024, 1),
            "workers": len(workers), "workers_rss_mb": round(sum(workers) / 1024, 1)}


WORKSPACE_FOLDER = re.compile(r"layerlab-[a-z0-9_]{8}")  # Workspace's mkdtemp; not the workers' own temp folders


def workspace_folders(server: StreamlitServer) -> int:
    return sum(1 for path in server.tmpdir.iterdir() if WORKSPACE_FOLDER.fullmatch(path.name))


class User:
    """One person in one browser context; records each interaction's latency and any error."""

    def __init__(self, number: int, page) -> None:
        self.number = number
        self.page = page
        self.latencies: dict[str, float] = {}
        self.errors: list[str] = []
        self.unobserved: list[dict] = []  # actions whose script run the page never showed, with what the socket did
        self.frames = {"sent": 0, "received": 0}  # websocket messages to and from the server
        page.on("websocket", self._count_frames)

    def _count_frames(self, socket) -> None:
        socket.on("framesent", lambda _: self.frames.__setitem__("sent", self.frames["sent"] + 1))
        socket.on("framereceived", lambda _: self.frames.__setitem__("received", self.frames["received"] + 1))
        self.training_s: float | None = None
        self.end_message = ""

    async def act(self, name: str, action, shows: str | None = None) -> None:
        """Do `action` once the app is idle; its latency lasts until the element `shows` (new on
        the page) is visible and the app is idle again, or, for an action with no new element,
        until the script run it triggered has finished."""
        await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        if shows is not None:
            started = time.perf_counter()
            await action()
            await self.page.locator(shows).first.wait_for(timeout=ACTION_TIMEOUT_MS)
            await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
            self.latencies[name] = round(time.perf_counter() - started, 3)
            await self.check_no_exception(name)
            return
        await self.page.evaluate(_OBSERVE_JS)
        t0 = await self.page.evaluate("performance.now()")
        frames_before = dict(self.frames)
        await action()
        try:
            await self.page.wait_for_function(_RUN_SEEN_JS, arg=t0, timeout=RUN_SEEN_TIMEOUT_MS, polling=20)
        except PlaywrightTimeout:
            # React may fold a quick run into one render: the state attribute never changes.
            await self.page.screenshot(path=str(SCREENSHOTS / f"user{self.number}-{name}.png"), full_page=True)
            app = self.page.get_by_test_id("stApp")
            self.unobserved.append({
                "action": name,
                "connection": await app.get_attribute("data-test-connection-state"),
                "frames_sent": self.frames["sent"] - frames_before["sent"],
                "frames_received": self.frames["received"] - frames_before["received"],
            })
            await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
            return
        handle = await self.page.wait_for_function(_RUN_DONE_JS, arg=t0, timeout=ACTION_TIMEOUT_MS, polling=20)
        self.latencies[name] = round(await handle.json_value() / 1000, 3)
        await self.check_no_exception(name)

    async def check_no_exception(self, where: str) -> None:
        shown = self.page.get_by_test_id("stException")
        if await shown.count():
            self.errors.append(f"{where}: {(await shown.first.inner_text())[:300]}")

    async def flow(self, url: str, epochs: int) -> None:
        page = self.page
        started = time.perf_counter()
        await page.goto(url)
        await page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        await page.locator(".st-key-quick_start button").wait_for(timeout=ACTION_TIMEOUT_MS)
        self.latencies["open_home"] = round(time.perf_counter() - started, 3)
        await self.act("try_sample", lambda: page.locator(".st-key-quick_start button").click(), shows=".st-key-template")
        await self.act("open_train", lambda: page.locator(NAV_LINKS).filter(has_text=re.compile(r"Train\s*$")).first.click(),
                       shows=".st-key-epochs input")
        epochs_box = page.locator(".st-key-epochs input")

        async def set_epochs() -> None:
            await epochs_box.fill(str(epochs))
            await epochs_box.press("Enter")

        await self.act("set_epochs", set_epochs)
        pressed = time.perf_counter()
        await self.act("start_training", lambda: page.locator(".st-key-start_training button").click(),
                       shows=".st-key-stop_training button:not([disabled])")
        ended = page.get_by_test_id("stMain").get_by_text(RUN_ENDED).first
        await ended.wait_for(timeout=TRAINING_TIMEOUT_MS)
        self.training_s = round(time.perf_counter() - pressed, 2)
        self.end_message = (await ended.inner_text())[:200]
        await page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        await self.act("open_evaluate", lambda: page.locator(NAV_LINKS).filter(has_text=re.compile(r"Evaluate\s*$")).first.click(),
                       shows=".st-key-confusion_matrix .js-plotly-plot")

    def to_json(self) -> dict[str, Any]:
        return {"user": self.number, "latencies_s": self.latencies, "unobserved_runs": self.unobserved,
                "training_wall_s": self.training_s,
                "end_message": self.end_message, "errors": self.errors}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 3)


async def sample_peak(server: StreamlitServer, peak: dict[str, float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        now = memory(server)
        peak["server_rss_mb"] = max(peak.get("server_rss_mb", 0), now["server_rss_mb"])
        peak["workers_rss_mb"] = max(peak.get("workers_rss_mb", 0), now["workers_rss_mb"])
        peak["workers"] = max(peak.get("workers", 0), now["workers"])
        await asyncio.sleep(0.5)


async def run_users(server: StreamlitServer, n_users: int, epochs: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    blocked: list[str] = []

    async def loopback_only(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    SCREENSHOTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        contexts, users = [], []
        for number in range(1, n_users + 1):
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            await context.route("**/*", loopback_only)
            contexts.append(context)
            users.append(User(number, await context.new_page()))

        peak: dict[str, float] = {}
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_peak(server, peak, stop))
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(user.flow(server.url, epochs) for user in users), return_exceptions=True)
        wall = time.perf_counter() - started
        for user, outcome in zip(users, outcomes):
            if isinstance(outcome, BaseException):
                user.errors.append(f"{type(outcome).__name__}: {str(outcome).splitlines()[0][:300]}")
        folders_open = workspace_folders(server)
        memory_open = memory(server)
        for context in contexts:
            await context.close()
        await browser.close()
        stop.set()
        await sampler
    return {"users": users, "wall_s": round(wall, 1), "peak": peak, "blocked": blocked,
            "folders_open": folders_open, "memory_open": memory_open}


def summarise(users: list[User]) -> dict[str, Any]:
    names = sorted({name for user in users for name in user.latencies})
    per_step = {}
    for name in names:
        values = [user.latencies[name] for user in users if name in user.latencies]
        per_step[name] = {"n": len(values), "p50_s": percentile(values, 50), "p95_s": percentile(values, 95), "max_s": max(values)}
    everything = [v for user in users for name, v in user.latencies.items() if name != "open_home"]
    return {
        "interactions": len(everything),
        "p50_s": percentile(everything, 50),
        "p95_s": percentile(everything, 95),
        "per_step": per_step,
        "training_wall_s": [user.training_s for user in users],
        "errors": sum(len(user.errors) for user in users),
    }


def load_test(n_users: int, epochs: int, max_concurrent: int) -> dict[str, Any]:
    import os

    tmp = Path(tempfile.mkdtemp(prefix="layerlab-load-"))
    os.environ.update({"LAYERLAB_SESSION_GRACE_S": str(GRACE_S), "LAYERLAB_MAX_CONCURRENT_RUNS": str(max_concurrent)})
    server = StreamlitServer(REPO / "app.py", tmp / "tmp", tmp / "server.log").start()
    try:
        server.wait_healthy()
        time.sleep(2)
        before = memory(server)
        result = asyncio.run(asyncio.wait_for(run_users(server, n_users, epochs), TOTAL_TIMEOUT_S))
        closed = memory(server)
        time.sleep(REAPER_WAIT_S)
        after_cleanup = memory(server)
        folders_after = workspace_folders(server)
        freed = server.log_path.read_text(errors="replace").count("Freed the workspace of session")
        users: list[User] = result["users"]
        return {
            "environment": environment(),
            "settings": {"users": n_users, "epochs": epochs, "max_concurrent_runs": max_concurrent,
                         "session_grace_s": GRACE_S, "address": "127.0.0.1", "flow": "Home 'Try it with a sample' → Train → Start → Evaluate"},
            "wall_s": result["wall_s"],
            "summary": summarise(users),
            "users": [user.to_json() for user in users],
            "memory": {"before": before, "peak": result["peak"], "tabs_open": result["memory_open"],
                       "just_closed": closed, f"after_cleanup_{REAPER_WAIT_S}s": after_cleanup},
            "sessions_freed_by_reaper": freed,
            "workspace_folders": {"tabs_open": result["folders_open"], "after_cleanup": folders_after,
                                  "temp_entries_after_cleanup": sorted(path.name for path in server.tmpdir.iterdir())},
            "blocked_non_loopback_requests": result["blocked"],
            "server_log_tail": server.log_tail(1500) if any(user.errors for user in users) else "",
        }
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)  # the server log's tail is in the report when something failed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-concurrent", type=int, default=2, help="LAYERLAB_MAX_CONCURRENT_RUNS for the server")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    report = load_test(args.users, args.epochs, args.max_concurrent)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    summary = report["summary"]
    print(f"{args.users} users: p50 {summary['p50_s']} s, p95 {summary['p95_s']} s, errors {summary['errors']}; "
          f"memory {report['memory']['before']['server_rss_mb']} → {report['memory']['peak']['server_rss_mb']} (peak) → "
          f"{report['memory'][f'after_cleanup_{REAPER_WAIT_S}s']['server_rss_mb']} MB; "
          f"folders {report['workspace_folders']}; written to {args.out}")
    sys.exit(1 if summary["errors"] else 0)


if __name__ == "__main__":
    main()
