"""Load test: several users run the sample flow at once on one `streamlit run` server.

    .venv/bin/python -m bench.load_test [--users 5] [--epochs 2] [--hostile] [--out bench/results/load_test.json]

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

With --hostile, one more user opens the Data page at the same moment and uploads the files of
bench/hostile_files.py one after the other (a bzip2 bomb, ten 16-bit 40 Mpx PNGs, 1,000
big-canvas GIFs, a zip claiming a million entries, a 2,000-column table), round after round
until the other users are done, so their whole flow runs beside it. Each upload must end in a
plain message or, for the two within the caps, in the loaded data, never in a traceback;
recorded per upload: what the page said, how long it took, and the server's memory meanwhile.
The summary then covers the other users only, to compare with a run without --hostile.
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
from typing import Any, Callable
from urllib.parse import urlparse

from playwright.async_api import TimeoutError as PlaywrightTimeout

from bench.browser import StreamlitServer, _children
from bench.harness import REPO, environment
from bench.hostile_files import HostileUpload, hostile_uploads
from uidriver.chromium import launch
from uidriver.ui import APP_IDLE, CHOOSE_FILE_BUTTON, ERROR_ALERT, NAV_LINKS

RESULT = REPO / "bench" / "results" / "load_test.json"
HOSTILE_RESULT = REPO / "bench" / "results" / "load_test_hostile.json"
SCREENSHOTS = Path(tempfile.gettempdir()) / "layerlab-load-test-failures"  # a failed step's page, for a look
ACTION_TIMEOUT_MS = 120_000
RUN_SEEN_TIMEOUT_MS = 15_000  # the page marks a rerun as requested at once; none by then means none came
TRAINING_TIMEOUT_MS = 300_000  # 5 runs through a cap of 2 workers, each importing TensorFlow on 2 cores
HOSTILE_FILE_TIMEOUT_MS = 180_000  # one hostile file, upload to outcome (a 57 MB table parsed on 2 busy cores)
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


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A process's resident size in KiB; field "VmHWM" is its peak so far (the kernel's high-water mark)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
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

    def __init__(self, number: int, page, clock_zero: float) -> None:
        self.number = number
        self.page = page
        self.clock_zero = clock_zero  # time.perf_counter() when all users start
        self.latencies: dict[str, float] = {}
        self.started_s: dict[str, float] = {}  # when each action began, seconds after the start: what overlapped
        self.errors: list[str] = []
        self.unobserved: list[dict] = []  # actions whose script run the page never showed, with what the socket did
        self.frames = {"sent": 0, "received": 0}  # websocket messages to and from the server
        self.training_s: float | None = None
        self.end_message = ""
        page.on("websocket", self._count_frames)

    def _count_frames(self, socket) -> None:
        socket.on("framesent", lambda _: self.frames.__setitem__("sent", self.frames["sent"] + 1))
        socket.on("framereceived", lambda _: self.frames.__setitem__("received", self.frames["received"] + 1))

    def now_s(self) -> float:
        return round(time.perf_counter() - self.clock_zero, 2)

    async def act(self, name: str, action, shows: str | None = None) -> None:
        """Do `action` once the app is idle; its latency lasts until the element `shows` (new on
        the page) is visible and the app is idle again, or, for an action with no new element,
        until the script run it triggered has finished."""
        await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        self.started_s[name] = self.now_s()
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

    async def open_home(self, url: str) -> None:
        """Open the app: timed until Home's script run has finished and its sample button is drawn."""
        started = time.perf_counter()
        self.started_s["open_home"] = self.now_s()
        await self.page.goto(url)
        await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        await self.page.locator(".st-key-quick_start button").wait_for(timeout=ACTION_TIMEOUT_MS)
        self.latencies["open_home"] = round(time.perf_counter() - started, 3)

    async def flow(self, url: str, epochs: int) -> None:
        page = self.page
        await self.open_home(url)
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
        return {"user": self.number, "latencies_s": self.latencies, "started_s": self.started_s,
                "unobserved_runs": self.unobserved, "training_wall_s": self.training_s,
                "end_message": self.end_message, "errors": self.errors}


class HostileUser(User):
    """Opens the Data page and uploads each hostile file in turn, as a user does (the uploader's
    button and the file chooser), in rounds while `others_busy()`; records what the page ended
    with and how long it took."""

    def __init__(self, number: int, page, clock_zero: float, uploads: list[HostileUpload],
                 others_busy: Callable[[], bool]) -> None:
        super().__init__(number, page, clock_zero)
        self.uploads = uploads
        self.others_busy = others_busy
        self.files: list[dict[str, Any]] = []
        self.rounds = 0

    async def flow(self, url: str, epochs: int) -> None:
        page = self.page
        await self.open_home(url)
        await self.act("open_data", lambda: page.locator(NAV_LINKS).filter(has_text=re.compile(r"Data\s*$")).first.click(),
                       shows=".st-key-data_upload button")
        while self.rounds == 0 or self.others_busy():
            self.rounds += 1
            for upload in self.uploads:
                await self.upload(upload)

    async def upload(self, upload: HostileUpload) -> None:
        page, name = self.page, upload.path.name
        uploader = page.locator(".st-key-data_upload")
        record: dict[str, Any] = {"round": self.rounds, "file": name, "what": upload.what,
                                  "bytes": upload.path.stat().st_size, "expected": upload.expected}
        await page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        record["started_s"] = self.now_s()
        self.files.append(record)
        started = time.perf_counter()
        async with page.expect_file_chooser() as chooser:
            await uploader.locator("button").filter(has_text=CHOOSE_FILE_BUTTON).first.click()
        await (await chooser.value).set_files(str(upload.path))
        # Refused: a message that names the file. Loaded: the "Your data: <file>" heading.
        refused = page.locator(ERROR_ALERT).filter(has_text=name)
        loaded = page.get_by_test_id("stMain").get_by_role("heading").filter(has_text=f"Your data: {name}")
        try:
            await uploader.get_by_text(name).first.wait_for(timeout=HOSTILE_FILE_TIMEOUT_MS)
            await refused.or_(loaded).first.wait_for(timeout=HOSTILE_FILE_TIMEOUT_MS)
            await page.wait_for_selector(APP_IDLE, timeout=HOSTILE_FILE_TIMEOUT_MS)
        except PlaywrightTimeout:
            record.update(seconds=None, ended_s=self.now_s(), outcome="none", message=await self._alerts_shown())
            self.errors.append(f"{name}: neither a message naming the file nor its data within "
                               f"{HOSTILE_FILE_TIMEOUT_MS // 1000} s (shown: {record['message'][:200]!r})")
            await page.screenshot(path=str(SCREENSHOTS / f"user{self.number}-{name}.png"), full_page=True)
            return
        record["seconds"] = round(time.perf_counter() - started, 2)
        record["ended_s"] = self.now_s()
        outcome = "refused" if await refused.count() else "loaded"
        record["outcome"] = outcome
        shown = refused.first.get_by_test_id("stMarkdownContainer") if outcome == "refused" else loaded.first
        record["message"] = await shown.inner_text()  # the message without the alert's icon name
        if outcome != upload.expected:
            self.errors.append(f"{name}: {outcome}, expected {upload.expected}: {record['message'][:200]}")
        await self.check_no_exception(name)
        if "Traceback" in await page.inner_text("body"):
            self.errors.append(f"{name}: the page shows a Python traceback")

    async def _alerts_shown(self) -> str:
        return " | ".join(await self.page.locator(ERROR_ALERT).all_inner_texts())

    def to_json(self) -> dict[str, Any]:
        return {"user": self.number, "latencies_s": self.latencies, "started_s": self.started_s,
                "rounds": self.rounds, "files": self.files, "errors": self.errors}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 3)


async def sample_peak(server: StreamlitServer, peak: dict[str, float], series: list[tuple[float, float]],
                      clock_zero: float, stop: asyncio.Event) -> None:
    """Keeps the largest sizes seen every 0.5 s, and the server's size over time in `series`."""
    while not stop.is_set():
        now = memory(server)
        series.append((time.perf_counter() - clock_zero, now["server_rss_mb"]))
        peak["server_rss_mb"] = max(peak.get("server_rss_mb", 0), now["server_rss_mb"])
        peak["workers_rss_mb"] = max(peak.get("workers_rss_mb", 0), now["workers_rss_mb"])
        peak["workers"] = max(peak.get("workers", 0), now["workers"])
        await asyncio.sleep(0.5)


def peak_between(series: list[tuple[float, float]], start_s: float, end_s: float | None) -> float | None:
    """The largest sample from the last one before `start_s` to the first one after `end_s`
    (a window shorter than the sampling interval still gets the samples around it)."""
    first = max([i for i, (at, _) in enumerate(series) if at <= start_s], default=0)
    after = [i for i, (at, _) in enumerate(series) if end_s is not None and at >= end_s]
    last = min(after) if after else len(series) - 1
    return max((rss for _, rss in series[first : last + 1]), default=None)


async def run_users(server: StreamlitServer, n_users: int, epochs: int,
                    uploads: list[HostileUpload] | None) -> dict[str, Any]:
    """The users' flows at once (and the hostile user's uploads, if `uploads`)."""
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
        contexts, pages = [], []
        for _ in range(n_users + (1 if uploads else 0)):
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            await context.route("**/*", loopback_only)
            contexts.append(context)
            pages.append(await context.new_page())

        started = time.perf_counter()
        users = [User(number, page, started) for number, page in enumerate(pages[:n_users], start=1)]
        others = [asyncio.ensure_future(user.flow(server.url, epochs)) for user in users]
        hostile = [HostileUser(n_users + 1, pages[-1], started, uploads,
                               others_busy=lambda: not all(flow.done() for flow in others))] if uploads else []
        everyone = users + hostile
        flows = others + [asyncio.ensure_future(user.flow(server.url, epochs)) for user in hostile]
        peak: dict[str, float] = {}
        series: list[tuple[float, float]] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_peak(server, peak, series, started, stop))
        outcomes = await asyncio.gather(*flows, return_exceptions=True)
        wall = time.perf_counter() - started
        for user, outcome in zip(everyone, outcomes):
            if isinstance(outcome, BaseException):
                user.errors.append(f"{type(outcome).__name__}: {str(outcome).splitlines()[0][:300]}")
        folders_open = workspace_folders(server)
        memory_open = memory(server)
        for context in contexts:
            await context.close()
        await browser.close()
        stop.set()
        await sampler
    for user in hostile:
        for record in user.files:
            record["server_rss_peak_mb"] = peak_between(series, record["started_s"], record.get("ended_s"))
    return {"users": users, "hostile": hostile, "wall_s": round(wall, 1), "peak": peak, "blocked": blocked,
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


def load_test(n_users: int, epochs: int, max_concurrent: int, hostile: bool = False) -> dict[str, Any]:
    import os

    tmp = Path(tempfile.mkdtemp(prefix="layerlab-load-"))
    os.environ.update({"LAYERLAB_SESSION_GRACE_S": str(GRACE_S), "LAYERLAB_MAX_CONCURRENT_RUNS": str(max_concurrent)})
    server = None
    try:
        uploads = hostile_uploads(tmp / "hostile") if hostile else None  # built before the server starts
        server = StreamlitServer(REPO / "app.py", tmp / "tmp", tmp / "server.log").start()
        server.wait_healthy()
        time.sleep(2)
        before = memory(server)
        result = asyncio.run(asyncio.wait_for(run_users(server, n_users, epochs, uploads), TOTAL_TIMEOUT_S))
        closed = memory(server)
        time.sleep(REAPER_WAIT_S)
        after_cleanup = memory(server)
        folders_after = workspace_folders(server)
        freed = server.log_path.read_text(errors="replace").count("Freed the workspace of session")
        users: list[User] = result["users"]
        everyone = users + result["hostile"]
        return {
            "environment": environment(),
            "settings": {"users": n_users, "epochs": epochs, "max_concurrent_runs": max_concurrent,
                         "session_grace_s": GRACE_S, "address": "127.0.0.1", "flow": "Home 'Try it with a sample' → Train → Start → Evaluate",
                         "hostile_user": "Home → Data → upload each file of bench/hostile_files.py in turn" if hostile else None},
            "wall_s": result["wall_s"],
            "summary": summarise(users),
            "users": [user.to_json() for user in users],
            "hostile_users": [user.to_json() for user in result["hostile"]],
            "memory": {"before": before, "peak": result["peak"],
                       "server_high_water_mb": round(rss_kib(server.process.pid, "VmHWM") / 1024, 1),
                       "tabs_open": result["memory_open"],
                       "just_closed": closed, f"after_cleanup_{REAPER_WAIT_S}s": after_cleanup},
            "sessions_freed_by_reaper": freed,
            "workspace_folders": {"tabs_open": result["folders_open"], "after_cleanup": folders_after,
                                  "temp_entries_after_cleanup": sorted(path.name for path in server.tmpdir.iterdir())},
            "blocked_non_loopback_requests": result["blocked"],
            "server_log_tail": server.log_tail(1500) if any(user.errors for user in everyone) else "",
        }
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)  # the server log's tail is in the report when something failed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-concurrent", type=int, default=2, help="LAYERLAB_MAX_CONCURRENT_RUNS for the server")
    parser.add_argument("--hostile", action="store_true",
                        help="one more user uploads hostile files on the Data page meanwhile (bench/hostile_files.py)")
    parser.add_argument("--out", type=Path, help=f"default {RESULT.relative_to(REPO)}, "
                                                 f"with --hostile {HOSTILE_RESULT.relative_to(REPO)}")
    args = parser.parse_args(argv)
    out = args.out or (HOSTILE_RESULT if args.hostile else RESULT)
    report = load_test(args.users, args.epochs, args.max_concurrent, hostile=args.hostile)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    summary = report["summary"]
    print(f"{args.users} users: p50 {summary['p50_s']} s, p95 {summary['p95_s']} s, errors {summary['errors']}; "
          f"memory {report['memory']['before']['server_rss_mb']} → {report['memory']['peak']['server_rss_mb']} (peak) → "
          f"{report['memory'][f'after_cleanup_{REAPER_WAIT_S}s']['server_rss_mb']} MB; "
          f"folders {report['workspace_folders']}; written to {out}")
    hostile_errors = 0
    for user in report["hostile_users"]:
        hostile_errors += len(user["errors"])
        for record in user["files"]:
            print(f"  hostile {record['file']}: {record.get('outcome')} in {record.get('seconds')} s "
                  f"(server peak {record['server_rss_peak_mb']} MB): {record.get('message', '')[:120]}")
        for error in user["errors"]:
            print(f"  hostile user error: {error}")
    sys.exit(1 if summary["errors"] or hostile_errors else 0)


if __name__ == "__main__":
    main()
