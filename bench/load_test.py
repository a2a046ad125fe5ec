"""Load test: several users run the sample flow at once on one `streamlit run` server.

    .venv/bin/python -m bench.load_test [--users 5] [--epochs 2] [--solo] [--hostile] [--out bench/results/load_test.json]

Each user is a separate browser context (its own cookies and Streamlit session) in one
headless Chromium; all of them, at the same moment: open Home, open Data and pick the iris
sample (since issue 25 Home's "Try it with a sample" starts a run with the template's own
epochs at once: bench/quick_start.py times that), open Train, set the epochs, start training, wait for the run to end, open
Evaluate, press Predict in its "Try it" form (the row prefilled with typical values) and
wait for the prediction, open Export and download the float32 TFLite file (checked: not
empty, the flatbuffer identifier "TFL3" at bytes 4-8). Bounded and loopback only: the
server listens on 127.0.0.1, every browser request to anything else is aborted (and
counted), and the whole test has a time limit (scaled with the users per training slot).

Recorded: the latency of each page interaction (from the action until the script run it
triggered has finished, read from Streamlit's `data-test-script-state` in the page; a page
opened: until its new element is drawn and the app is idle; the TFLite download, which
reruns nothing: from the click until the file has arrived), errors (exceptions shown in the
app, timeouts), the training wall time per user (queue included), and the server's memory:
before, at its peak, right after the tabs closed and after the session reaper had freed them
(LAYERLAB_SESSION_GRACE_S is shortened here).

Server side, from /proc and the run folders in the server's private TMPDIR: the CPU the
Streamlit process itself used (utime + stime, not its children) over the test's wall time,
and its worker processes' CPU (sampled every 0.5 s, plus what the kernel added to the
server's cutime/cstime for workers it reaped); per run, the queue wait (spec.json's mtime,
written when Start is pressed, to the worker's "start" event, i.e. the model built and the
fit about to begin) and the training speed (result.json's `samples_per_s`, which includes the
first epoch's graph building; and over the epochs after the first, from events.jsonl's epoch_s).

With --solo, the same training is first measured on a fresh server with nobody clicking:
`--solo-users` users (default: as many as there are training slots, so the runs overlap as
they do under load; 1 for a run alone) only open the app, load the sample and train; the
report then gives the median samples_per_s under load / solo. With --epochs 2 on the iris sample
a run trains for a few seconds, so its speed mostly reflects start-up and whatever else runs at
that moment (another worker importing TensorFlow); a longer run (--epochs 20) measures the ratio better.

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
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from playwright.async_api import Locator
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bench.browser import CLOCK_TICKS, StreamlitServer, _children, server_and_browser_cpu_seconds, tree_cpu_seconds
from bench.harness import REPO, environment, metric
from bench.hostile_files import HostileUpload, hostile_uploads
from uidriver.chromium import launch
from uidriver.ui import APP_IDLE, CHOOSE_FILE_BUTTON, ERROR_ALERT, NAV_LINKS

RESULT = REPO / "bench" / "results" / "load_test.json"
HOSTILE_RESULT = REPO / "bench" / "results" / "load_test_hostile.json"
SCREENSHOTS = Path(tempfile.gettempdir()) / "layerlab-load-test-failures"  # a failed step's page, for a look
ACTION_TIMEOUT_MS = 300_000  # one page interaction; 5 users on 2 cores took up to 76 s to open Evaluate
RUN_SEEN_TIMEOUT_MS = 15_000  # the page marks a rerun as requested at once; none by then means none came
HOSTILE_FILE_TIMEOUT_MS = 180_000  # one hostile file, upload to outcome (a 57 MB table parsed on 2 busy cores)
# Training, from Start until the run's end shows: the queue is ceil(users / slots) rounds of runs,
# each a new worker importing TensorFlow on 2 busy cores (20-30 s) and then the sample's epochs
# (well under a second each); 5 users through 2 slots took 102-160 s for 2 epochs.
TRAINING_BASE_S, TRAINING_ROUND_S, TRAINING_EPOCH_S, TRAINING_MAX_S = 120, 90, 3, 2400
FLOW_MARGIN_S, TOTAL_MAX_S = 600, 3600  # the rest of the flow around training; the cap on the whole test
GRACE_S = 10  # how long a closed tab's session is kept before the reaper frees it (default 120)
REAPER_WAIT_S = GRACE_S + 15  # grace + a sweep interval + time for the workers to exit
RUN_ENDED = re.compile(r"Run \d+: (Training (finished|stopped|diverged|reached|failed)|Stopped early|The training)")
PREDICTION = re.compile(r"Prediction: .+ \(\d+(\.\d+)?%\)")  # markdown "Prediction: **label** (97.1%)", as drawn
TFLITE_IDENTIFIER = b"TFL3"  # a TFLite flatbuffer's file identifier, at bytes 4-8
SAMPLE = "iris"  # loaded on the Data page
SAMPLE_SHOWN = "iris (sample)"  # the sidebar once it is loaded


def training_timeout_s(n_users: int, max_concurrent: int, epochs: int) -> int:
    """How long one user may wait from Start until the run's end shows (queue included)."""
    rounds = math.ceil(n_users / max(1, max_concurrent))
    return min(TRAINING_MAX_S, TRAINING_BASE_S + rounds * (TRAINING_ROUND_S + TRAINING_EPOCH_S * epochs))


def total_timeout_s(n_users: int, max_concurrent: int, epochs: int) -> int:
    return min(TOTAL_MAX_S, training_timeout_s(n_users, max_concurrent, epochs) + FLOW_MARGIN_S)


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


def own_cpu_seconds(pid: int) -> tuple[float, float]:
    """A process's own CPU seconds (utime + stime, its threads included, not its children), and
    what the kernel has added for the children it reaped (cutime + cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


class CpuMeter:
    """The server's own CPU over the test, and its descendants' (workers) and the headless
    Chromium's (which shares the machine's cores with the server), sampled by pid."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.own0, self.reaped0 = own_cpu_seconds(server_pid)
        self.children0 = self._children()  # a warm spare may be importing TensorFlow already
        self.children_max = dict(self.children0)
        self.browser0 = self._browser()
        self.browser_max = dict(self.browser0)
        self.started = time.perf_counter()
        self.result: dict[str, Any] = {}

    def _children(self) -> dict[int, float]:
        tree = tree_cpu_seconds(self.pid)
        tree.pop(self.pid, None)
        return tree

    def _browser(self) -> dict[int, float]:
        found = server_and_browser_cpu_seconds(self.pid)
        found.pop(self.pid, None)
        return found

    def sample(self) -> None:
        for pid, cpu in self._children().items():
            self.children_max[pid] = max(self.children_max.get(pid, 0.0), cpu)
        for pid, cpu in self._browser().items():
            self.browser_max[pid] = max(self.browser_max.get(pid, 0.0), cpu)

    def stop(self) -> dict[str, Any]:
        """Call once, when the users are done (before their tabs close)."""
        self.sample()
        wall = time.perf_counter() - self.started
        own, reaped = own_cpu_seconds(self.pid)
        workers = sum(cpu - self.children0.get(pid, 0.0) for pid, cpu in self.children_max.items())
        browser = sum(cpu - self.browser0.get(pid, 0.0) for pid, cpu in self.browser_max.items())
        self.result = {
            "wall_s": round(wall, 1),
            "server_cpu_s": round(own - self.own0, 1),
            "server_cpu_share": round((own - self.own0) / wall, 3),  # of one core; the machine has os.cpu_count()
            "workers_cpu_s_sampled": round(workers, 1),
            "workers_cpu_share": round(workers / wall, 3),
            "workers_seen": len(self.children_max),
            "reaped_children_cpu_s": round(reaped - self.reaped0, 1),
            "browser_cpu_s_sampled": round(browser, 1),
            "browser_cpu_share": round(browser / wall, 3),
        }
        return self.result


class RunWatcher:
    """Follows the run folders (<workspace>/runs/<run id>) in the server's TMPDIR: when each job
    was written (spec.json's mtime: the server writes it when Start is pressed, before the run
    waits in the queue), when its worker wrote the "start" event (the model built, the fit about to
    begin), and its result.json. Polled; the start event's time is the file's mtime when the
    file held only that event (exact), else the poll's time (at most one interval late)."""

    def __init__(self, tmpdir: Path) -> None:
        self.tmpdir = tmpdir
        self.runs: dict[str, dict[str, Any]] = {}

    def scan(self) -> None:
        try:
            folders = [path for path in self.tmpdir.iterdir() if WORKSPACE_FOLDER.fullmatch(path.name)]
        except OSError:
            return
        for folder in folders:
            try:
                run_dirs = list((folder / "runs").iterdir())
            except OSError:
                continue
            for run_dir in run_dirs:
                try:
                    self._look(self.runs.setdefault(f"{folder.name}/{run_dir.name}", {}), run_dir)
                except (OSError, ValueError):
                    continue  # half there; the next scan sees more

    @staticmethod
    def _look(record: dict[str, Any], run_dir: Path) -> None:
        if "job_written" not in record:
            record["job_written"] = (run_dir / "spec.json").stat().st_mtime
        if "training_started" not in record:
            events = run_dir / "events.jsonl"
            before = events.stat().st_mtime_ns
            text = events.read_text(encoding="utf-8")
            after = events.stat().st_mtime_ns
            lines = [line for line in text[: text.rfind("\n") + 1].splitlines() if line.strip()]
            if lines:
                first = json.loads(lines[0])
                exact = len(lines) == 1 and before == after
                record["training_started"] = after / 1e9 if exact else time.time()
                record["start_time_exact"] = exact
                record["first_event"] = first.get("type")
        if "result" not in record and (run_dir / "result.json").exists():
            data = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
            record["result"] = {key: data.get(key) for key in ("status", "samples_per_s", "elapsed", "epochs_run")}
            record["result"]["later_epochs_samples_per_s"] = later_epochs_speed(run_dir / "events.jsonl")

    def report(self) -> list[dict[str, Any]]:
        rows = []
        for name, record in sorted(self.runs.items(), key=lambda item: item[1].get("job_written", 0)):
            started, written = record.get("training_started"), record.get("job_written")
            result = record.get("result") or {}
            rows.append({
                "run": name,
                "queue_wait_s": round(started - written, 2) if started and written else None,
                "start_time_exact": record.get("start_time_exact"),
                "first_event": record.get("first_event"),
                "status": result.get("status"),
                "samples_per_s": result.get("samples_per_s"),
                "later_epochs_samples_per_s": result.get("later_epochs_samples_per_s"),
                "training_elapsed_s": None if result.get("elapsed") is None else round(result["elapsed"], 2),
                "epochs_run": result.get("epochs_run"),
            })
        return rows


def later_epochs_speed(events_path: Path) -> float | None:
    """Training samples per second over the epochs after the first (the first one also builds the
    graph): n_train × epochs / their summed epoch_s. None with a single epoch."""
    events = [json.loads(line) for line in events_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = next((event for event in events if event.get("type") == "start"), None)
    later = [event["epoch_s"] for event in events if event.get("type") == "epoch" and event.get("epoch", 0) >= 2]
    if start is None or not later or sum(later) <= 0:
        return None
    return round(start["n_train"] * len(later) / sum(later), 1)


def runs_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    waits = [row["queue_wait_s"] for row in rows if row["queue_wait_s"] is not None]
    speeds = [row["samples_per_s"] for row in rows if row["samples_per_s"] is not None]
    later = [row["later_epochs_samples_per_s"] for row in rows if row["later_epochs_samples_per_s"] is not None]
    return {
        "runs": len(rows),
        "queue_wait_s": {"n": len(waits), "p50": percentile(waits, 50), "p95": percentile(waits, 95),
                         "max": max(waits, default=None)},
        "samples_per_s": {"n": len(speeds), "median": round(statistics.median(speeds), 1) if speeds else None,
                          "min": min(speeds, default=None), "max": max(speeds, default=None)},
        "later_epochs_samples_per_s": {"n": len(later), "median": round(statistics.median(later), 1) if later else None,
                                       "min": min(later, default=None), "max": max(later, default=None)},
    }


class User:
    """One person in one browser context; records each interaction's latency and any error."""

    def __init__(self, number: int, page, clock_zero: float, training_timeout_ms: int = 300_000) -> None:
        self.number = number
        self.page = page
        self.clock_zero = clock_zero  # time.perf_counter() when all users start
        self.training_timeout_ms = training_timeout_ms
        self.latencies: dict[str, float] = {}
        self.started_s: dict[str, float] = {}  # when each action began, seconds after the start: what overlapped
        self.errors: list[str] = []
        self.unobserved: list[dict] = []  # actions whose script run the page never showed, with what the socket did
        self.frames = {"sent": 0, "received": 0}  # websocket messages to and from the server
        self.training_s: float | None = None
        self.end_message = ""
        self.step = "open_home"  # what the flow is doing now (named in an error)
        self.failed_page: dict[str, Any] = {}  # what the page showed when the flow failed
        self.prediction = ""  # what "Try it" showed
        self.tflite: dict[str, Any] = {}  # the downloaded file: name, size, identifier
        page.on("websocket", self._count_frames)

    def _count_frames(self, socket) -> None:
        socket.on("framesent", lambda _: self.frames.__setitem__("sent", self.frames["sent"] + 1))
        socket.on("framereceived", lambda _: self.frames.__setitem__("received", self.frames["received"] + 1))

    def now_s(self) -> float:
        return round(time.perf_counter() - self.clock_zero, 2)

    async def act(self, name: str, action, shows: "str | Locator | None" = None) -> None:
        """Do `action` once the app is idle; its latency lasts until the element `shows` (new on
        the page) is visible and the app is idle again, or, for an action with no new element,
        until the script run it triggered has finished."""
        self.step = name
        await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        self.started_s[name] = self.now_s()
        if shows is not None:
            started = time.perf_counter()
            await action()
            shown = self.page.locator(shows) if isinstance(shows, str) else shows
            await shown.first.wait_for(timeout=ACTION_TIMEOUT_MS)
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
        await self.page.goto(url, timeout=ACTION_TIMEOUT_MS)  # 20 tabs loading the app's scripts on 2 cores pass 30 s
        await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        await self.page.locator(".st-key-quick_start button").wait_for(timeout=ACTION_TIMEOUT_MS)
        self.latencies["open_home"] = round(time.perf_counter() - started, 3)

    async def note_failure(self) -> None:
        """What the page shows now (a failed flow): the app's states, the main area's text, a screenshot."""
        try:
            app = self.page.get_by_test_id("stApp")
            self.failed_page = {
                "script_state": await app.get_attribute("data-test-script-state", timeout=5_000),
                "connection": await app.get_attribute("data-test-connection-state", timeout=5_000),
                "main_text": (await self.page.get_by_test_id("stMain").inner_text(timeout=5_000))[:600],
            }
            await self.page.screenshot(path=str(SCREENSHOTS / f"user{self.number}-failed.png"), full_page=True, timeout=10_000)
        except Exception as err:  # a diagnosis only: never hide the failure itself
            self.failed_page["note_error"] = f"{type(err).__name__}: {str(err)[:200]}"

    def nav(self, name: str):
        return self.page.locator(NAV_LINKS).filter(has_text=re.compile(rf"{name}\s*$")).first

    async def flow(self, url: str, epochs: int, *, train_only: bool = False) -> None:
        page = self.page
        await self.open_home(url)
        await self.act("open_data", lambda: self.nav("Data").click(), shows=".st-key-sample_dataset input")
        await self.act("try_sample", self.pick_sample, shows=page.get_by_test_id("stSidebar").get_by_text(SAMPLE_SHOWN))
        await self.act("open_train", lambda: page.locator(NAV_LINKS).filter(has_text=re.compile(r"Train\s*$")).first.click(),
                       shows=".st-key-epochs input")
        epochs_box = page.locator(".st-key-epochs input")

        async def set_epochs() -> None:
            await epochs_box.fill(str(epochs))
            await epochs_box.press("Enter")

        await self.act("set_epochs", set_epochs)
        pressed = time.perf_counter()
        ended = page.get_by_test_id("stMain").get_by_text(RUN_ENDED).first
        # Stop enabled (queued or training), or already the run's end when the page lagged behind a short run
        await self.act("start_training", lambda: page.locator(".st-key-start_training button").click(),
                       shows=page.locator(".st-key-stop_training button:not([disabled])").or_(ended))
        self.step = "wait_for_the_run_end"
        await ended.wait_for(timeout=self.training_timeout_ms)
        self.training_s = round(time.perf_counter() - pressed, 2)
        self.end_message = (await ended.inner_text())[:200]
        await page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        if train_only:
            return
        await self.act("open_evaluate", lambda: self.nav("Evaluate").click(), shows=".st-key-confusion_matrix .js-plotly-plot")
        await self.try_it()
        await self.act("open_export", lambda: self.nav("Export").click(), shows=".st-key-download_tflite button")
        await self.download_tflite()

    async def pick_sample(self) -> None:
        """The Data page's sample list: type the name, pick it (the quick start would start a run)."""
        combo = self.page.locator(".st-key-sample_dataset").get_by_role("combobox")
        await combo.click()
        await combo.fill(SAMPLE)
        await self.page.get_by_role("option").filter(has_text=SAMPLE).first.click()

    async def try_it(self) -> None:
        """Evaluate's "Try it": press Predict in the "Fill in a row" form (prefilled with typical
        values) and wait for the prediction; timed by the script run the submit caused."""
        predict = self.page.get_by_test_id("stForm").get_by_role("button").filter(has_text="Predict").first
        self.step = "try_it"
        await predict.wait_for(timeout=ACTION_TIMEOUT_MS)
        await self.act("try_it", predict.click)
        shown = self.page.get_by_test_id("stMain").get_by_text(PREDICTION).first
        await shown.wait_for(timeout=ACTION_TIMEOUT_MS)
        self.prediction = (await shown.inner_text())[:200]

    async def download_tflite(self) -> None:
        """Export's TFLite download (float32, converted when the page opened). The button reruns
        nothing (on_click="ignore"): timed from the click until the whole file has arrived."""
        button = self.page.locator(".st-key-download_tflite").get_by_role("button").first
        self.step = "download_tflite"
        await self.page.wait_for_selector(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        self.started_s["download_tflite"] = self.now_s()
        started = time.perf_counter()
        async with self.page.expect_download(timeout=ACTION_TIMEOUT_MS) as info:
            await button.click()
        download = await info.value
        path = await download.path()  # waits until the download has finished
        self.latencies["download_tflite"] = round(time.perf_counter() - started, 3)
        data = Path(path).read_bytes()
        self.tflite = {"file": download.suggested_filename, "bytes": len(data),
                       "identifier": data[4:8].decode("latin-1")}
        if not data or data[4:8] != TFLITE_IDENTIFIER:
            self.errors.append(f"download_tflite: {download.suggested_filename} ({len(data)} bytes) "
                               f"is not a TFLite flatbuffer: bytes 4-8 are {data[4:8]!r}")

    def to_json(self) -> dict[str, Any]:
        return {"user": self.number, "latencies_s": self.latencies, "started_s": self.started_s,
                "unobserved_runs": self.unobserved, "training_wall_s": self.training_s,
                "end_message": self.end_message, "prediction": self.prediction, "tflite": self.tflite,
                "websocket_frames": self.frames, "failed_page": self.failed_page, "errors": self.errors}


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

    async def flow(self, url: str, epochs: int, *, train_only: bool = False) -> None:
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
                      clock_zero: float, stop: asyncio.Event, cpu: CpuMeter | None = None,
                      watcher: RunWatcher | None = None, load: dict[str, float] | None = None) -> None:
    """Every 0.25 s: keeps the largest sizes seen, the server's size over time in `series`, the
    workers' CPU (`cpu`), the run folders (`watcher`) and the highest 1-minute load average."""
    while not stop.is_set():
        now = memory(server)
        series.append((time.perf_counter() - clock_zero, now["server_rss_mb"]))
        peak["server_rss_mb"] = max(peak.get("server_rss_mb", 0), now["server_rss_mb"])
        peak["workers_rss_mb"] = max(peak.get("workers_rss_mb", 0), now["workers_rss_mb"])
        peak["workers"] = max(peak.get("workers", 0), now["workers"])
        if cpu is not None and not cpu.result:
            cpu.sample()
        if watcher is not None:
            watcher.scan()
        if load is not None:
            load["max_1min"] = max(load.get("max_1min", 0.0), round(os.getloadavg()[0], 2))
        await asyncio.sleep(0.25)


def peak_between(series: list[tuple[float, float]], start_s: float, end_s: float | None) -> float | None:
    """The largest sample from the last one before `start_s` to the first one after `end_s`
    (a window shorter than the sampling interval still gets the samples around it)."""
    first = max([i for i, (at, _) in enumerate(series) if at <= start_s], default=0)
    after = [i for i, (at, _) in enumerate(series) if end_s is not None and at >= end_s]
    last = min(after) if after else len(series) - 1
    return max((rss for _, rss in series[first : last + 1]), default=None)


async def run_users(server: StreamlitServer, n_users: int, epochs: int, uploads: list[HostileUpload] | None, *,
                    max_concurrent: int, train_only: bool = False) -> dict[str, Any]:
    """The users' flows at once (and the hostile user's uploads, if `uploads`); a flow still going
    after the test's time limit is cancelled and counted as an error, the rest is reported."""
    from playwright.async_api import async_playwright

    blocked: list[str] = []

    async def loopback_only(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    SCREENSHOTS.mkdir(exist_ok=True)
    training_ms = training_timeout_s(n_users, max_concurrent, epochs) * 1000
    total_s = total_timeout_s(n_users, max_concurrent, epochs)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        contexts, pages = [], []
        for _ in range(n_users + (1 if uploads else 0)):
            context = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            await context.route("**/*", loopback_only)
            contexts.append(context)
            pages.append(await context.new_page())

        load = {"start": [round(x, 2) for x in os.getloadavg()]}
        cpu = CpuMeter(server.process.pid)
        watcher = RunWatcher(server.tmpdir)
        started = time.perf_counter()
        users = [User(number, page, started, training_ms) for number, page in enumerate(pages[:n_users], start=1)]
        others = [asyncio.ensure_future(user.flow(server.url, epochs, train_only=train_only)) for user in users]
        hostile = [HostileUser(n_users + 1, pages[-1], started, uploads,
                               others_busy=lambda: not all(flow.done() for flow in others))] if uploads else []
        everyone = users + hostile
        flows = others + [asyncio.ensure_future(user.flow(server.url, epochs)) for user in hostile]
        peak: dict[str, float] = {}
        series: list[tuple[float, float]] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_peak(server, peak, series, started, stop, cpu, watcher, load))
        _, pending = await asyncio.wait(flows, timeout=total_s)
        for flow in pending:
            flow.cancel()
        outcomes = await asyncio.gather(*flows, return_exceptions=True)
        wall = time.perf_counter() - started
        cpu.stop()
        watcher.scan()
        load["end"] = [round(x, 2) for x in os.getloadavg()]
        for user, flow, outcome in zip(everyone, flows, outcomes):
            if flow in pending:
                user.errors.append(f"{getattr(user, 'step', '?')}: not done within the test's limit of {total_s} s "
                                   f"(steps done: {', '.join(user.latencies) or 'none'})")
            elif isinstance(outcome, BaseException):
                user.errors.append(f"{getattr(user, 'step', '?')}: {type(outcome).__name__}: "
                                   f"{str(outcome).splitlines()[0][:300]}")
            if user.errors and not isinstance(user, HostileUser):
                await user.note_failure()
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
            "folders_open": folders_open, "memory_open": memory_open, "cpu": cpu.result, "runs": watcher.report(),
            "load_average": load, "timeouts_s": {"action": ACTION_TIMEOUT_MS // 1000, "training": training_ms // 1000,
                                                 "total": total_s}}


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
        "unobserved_runs": sum(len(user.unobserved) for user in users),
        "errors": sum(len(user.errors) for user in users),
    }


SERVER_CPUS: set[int] | None = None  # --server-cores: the server machine's share of this one


def start_server(tmp: Path) -> StreamlitServer:
    server = StreamlitServer(REPO / "app.py", tmp / "tmp", tmp / "server.log", cpus=SERVER_CPUS).start()
    server.wait_healthy()
    time.sleep(2)
    return server


def hard_limit_s(n_users: int, max_concurrent: int, epochs: int) -> int:
    """run_users keeps its own limit and still reports; this one only stops a hung browser."""
    return total_timeout_s(n_users, max_concurrent, epochs) + 180


def solo_baseline(n_users: int, epochs: int, max_concurrent: int) -> dict[str, Any]:
    """The same training with nobody clicking: on a fresh server, `n_users` users open the app,
    load the sample, set the epochs and press Start at once, then only wait for the end."""
    tmp = Path(tempfile.mkdtemp(prefix="layerlab-solo-"))
    server = None
    try:
        server = start_server(tmp)
        result = asyncio.run(asyncio.wait_for(
            run_users(server, n_users, epochs, None, max_concurrent=max_concurrent, train_only=True),
            hard_limit_s(n_users, max_concurrent, epochs)))
        users: list[User] = result["users"]
        return {
            "users": n_users, "flow": "Home → Data (iris sample) → Train → Start → the run's end, no other page",
            "wall_s": result["wall_s"], "runs": result["runs"], "training": runs_summary(result["runs"]),
            "cpu": result["cpu"], "load_average": result["load_average"],
            "errors": [f"user {user.number}: {error}" for user in users for error in user.errors],
        }
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def targets(n_users: int, summary: dict[str, Any], memory_report: dict[str, Any], training: dict[str, Any],
            speed_ratio: float | None) -> list[dict[str, Any]]:
    """Issue 18's targets that this run measures (5 users, or 20 users; the speed ratio with --solo)."""
    per_step = summary["per_step"]
    rows = []
    if n_users == 5:
        start = memory_report["before"]["server_rss_mb"]
        after = memory_report[f"after_cleanup_{REAPER_WAIT_S}s"]["server_rss_mb"]
        rows += [
            metric("p95 per interaction, 5 users", summary["p95_s"], "s", at_most=1.5),
            metric("opening Evaluate p95, 5 users", per_step.get("open_evaluate", {}).get("p95_s"), "s", at_most=1.0),
            metric("server memory peak, 5 users", memory_report["peak"].get("server_rss_mb"), "MB", at_most=300),
            metric("server memory after the sessions were freed / at the start", round(after / start, 2) if start else None,
                   "x", at_most=1.10),
        ]
    if n_users == 20:
        rows += [metric("errors, 20 users", summary["errors"], "", at_most=0),
                 metric("p95 per interaction, 20 users", summary["p95_s"], "s", at_most=3.0)]
    if speed_ratio is not None:
        rows.append(metric("training speed under load / nobody clicking (median samples_per_s)", speed_ratio, "x",
                           at_least=0.9))
    rows.append(metric("queue wait p50 (reported separately)", training["queue_wait_s"]["p50"], "s"))
    return rows


def load_test(n_users: int, epochs: int, max_concurrent: int, hostile: bool = False,
              solo_users: int = 0) -> dict[str, Any]:
    os.environ.update({"LAYERLAB_SESSION_GRACE_S": str(GRACE_S), "LAYERLAB_MAX_CONCURRENT_RUNS": str(max_concurrent)})
    solo = solo_baseline(solo_users, epochs, max_concurrent) if solo_users else None
    tmp = Path(tempfile.mkdtemp(prefix="layerlab-load-"))
    server = None
    try:
        uploads = hostile_uploads(tmp / "hostile") if hostile else None  # built before the server starts
        server = start_server(tmp)
        before = memory(server)
        result = asyncio.run(asyncio.wait_for(
            run_users(server, n_users, epochs, uploads, max_concurrent=max_concurrent),
            hard_limit_s(n_users, max_concurrent, epochs)))
        closed = memory(server)
        time.sleep(REAPER_WAIT_S)
        after_cleanup = memory(server)
        folders_after = workspace_folders(server)
        freed = server.log_path.read_text(errors="replace").count("Freed the workspace of session")
        users: list[User] = result["users"]
        everyone = users + result["hostile"]
        summary = summarise(users)
        training = runs_summary(result["runs"])
        under_load, alone = training["samples_per_s"]["median"], (solo or {}).get("training", {}).get("samples_per_s", {}).get("median")
        ratio = round(under_load / alone, 2) if under_load and alone else None
        later_load = training["later_epochs_samples_per_s"]["median"]
        later_alone = (solo or {}).get("training", {}).get("later_epochs_samples_per_s", {}).get("median")
        later_ratio = round(later_load / later_alone, 2) if later_load and later_alone else None
        memory_report = {"before": before, "peak": result["peak"],
                         "server_high_water_mb": round(rss_kib(server.process.pid, "VmHWM") / 1024, 1),
                         "tabs_open": result["memory_open"],
                         "just_closed": closed, f"after_cleanup_{REAPER_WAIT_S}s": after_cleanup}
        return {
            "environment": environment(),
            "settings": {"users": n_users, "epochs": epochs, "max_concurrent_runs": max_concurrent,
                         "session_grace_s": GRACE_S, "address": "127.0.0.1",
                         "server_cores": sorted(SERVER_CPUS) if SERVER_CPUS else "all (shared with the browsers)",
                         "flow": "Home → Data (iris sample) → Train → Start → Evaluate → Try it (Predict) → Export → download TFLite",
                         "timeouts_s": result["timeouts_s"],
                         "hostile_user": "Home → Data → upload each file of bench/hostile_files.py in turn" if hostile else None},
            "load_average": result["load_average"],
            "wall_s": result["wall_s"],
            "summary": summary,
            "server_cpu": result["cpu"],
            "training": {**training, "runs": result["runs"],
                         "solo_samples_per_s_median": alone, "under_load_over_solo": ratio,
                         "solo_later_epochs_samples_per_s_median": later_alone,
                         "later_epochs_under_load_over_solo": later_ratio},
            "targets": targets(n_users, summary, memory_report, training, ratio),
            "solo": solo,
            "users": [user.to_json() for user in users],
            "hostile_users": [user.to_json() for user in result["hostile"]],
            "memory": memory_report,
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


def print_summary(report: dict[str, Any], out: Path) -> None:
    summary, cpu, training, memory_report = report["summary"], report["server_cpu"], report["training"], report["memory"]
    print(f"{report['settings']['users']} users: p50 {summary['p50_s']} s, p95 {summary['p95_s']} s "
          f"over {summary['interactions']} interactions, errors {summary['errors']}; wall {report['wall_s']} s; "
          f"load average {report['load_average']}")
    for name, step in summary["per_step"].items():
        print(f"  {name:16} n {step['n']:2}  p50 {step['p50_s']} s  p95 {step['p95_s']} s  max {step['max_s']} s")
    print(f"  server CPU: {cpu['server_cpu_s']} s of {cpu['wall_s']} s = {cpu['server_cpu_share']} of one core "
          f"({report['environment']['machine']['cpu_count']} cores); workers {cpu['workers_cpu_s_sampled']} s sampled "
          f"({cpu['workers_cpu_share']} of one core, {cpu['workers_seen']} processes), reaped {cpu['reaped_children_cpu_s']} s; "
          f"headless Chromium {cpu['browser_cpu_s_sampled']} s ({cpu['browser_cpu_share']} of one core)")
    waits, speeds = training["queue_wait_s"], training["samples_per_s"]
    print(f"  queue wait (Start → the worker's start event): p50 {waits['p50']} s, p95 {waits['p95']} s, "
          f"max {waits['max']} s over {waits['n']} runs")
    print(f"  training: samples/s median {speeds['median']} (per run {[run['samples_per_s'] for run in training['runs']]}); "
          f"nobody clicking {training['solo_samples_per_s_median']} → ratio {training['under_load_over_solo']}; "
          f"epochs after the first: median {training['later_epochs_samples_per_s']['median']}, nobody clicking "
          f"{training['solo_later_epochs_samples_per_s_median']} → ratio {training['later_epochs_under_load_over_solo']}")
    print(f"  memory: server {memory_report['before']['server_rss_mb']} → {memory_report['peak'].get('server_rss_mb')} (peak) → "
          f"{memory_report[f'after_cleanup_{REAPER_WAIT_S}s']['server_rss_mb']} MB after the sessions were freed; "
          f"folders {report['workspace_folders']['tabs_open']} → {report['workspace_folders']['after_cleanup']}")
    for row in report["targets"]:
        print(f"  target {row['name']}: {row['value']} {row['unit']} (target {row['target']}, met {row['met']})")
    for user in report["users"]:
        for error in user["errors"]:
            print(f"  user {user['user']} error: {error[:300]}")
    print(f"written to {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-concurrent", type=int, default=2, help="LAYERLAB_MAX_CONCURRENT_RUNS for the server")
    parser.add_argument("--solo", action="store_true",
                        help="first measure the same training with nobody clicking, on a fresh server, for the speed ratio")
    parser.add_argument("--solo-users", type=int, help="users training at once in the --solo measurement "
                                                       "(default: --max-concurrent, so the runs overlap as under load)")
    parser.add_argument("--server-cores", help="e.g. 0: pin the server and its workers to these cores and this "
                        "test with its browsers to the others, as if the users' browsers ran on their own machines")
    parser.add_argument("--hostile", action="store_true",
                        help="one more user uploads hostile files on the Data page meanwhile (bench/hostile_files.py)")
    parser.add_argument("--out", type=Path, help=f"default {RESULT.relative_to(REPO)}, "
                                                 f"with --hostile {HOSTILE_RESULT.relative_to(REPO)}")
    args = parser.parse_args(argv)
    out = args.out or (HOSTILE_RESULT if args.hostile else RESULT)
    if args.server_cores:
        global SERVER_CPUS
        SERVER_CPUS = {int(c) for c in args.server_cores.split(",")}
        os.sched_setaffinity(0, set(os.sched_getaffinity(0)) - SERVER_CPUS)  # Chromium inherits it
    solo_users = (args.solo_users or args.max_concurrent) if args.solo else 0
    report = load_test(args.users, args.epochs, args.max_concurrent, hostile=args.hostile, solo_users=solo_users)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_summary(report, out)
    if report["solo"]:
        for error in report["solo"]["errors"]:
            print(f"  solo error: {error[:300]}")
    hostile_errors = 0
    for user in report["hostile_users"]:
        hostile_errors += len(user["errors"])
        for record in user["files"]:
            print(f"  hostile {record['file']}: {record.get('outcome')} in {record.get('seconds')} s "
                  f"(server peak {record['server_rss_peak_mb']} MB): {record.get('message', '')[:120]}")
        for error in user["errors"]:
            print(f"  hostile user error: {error}")
    sys.exit(1 if report["summary"]["errors"] or hostile_errors else 0)


if __name__ == "__main__":
    main()
