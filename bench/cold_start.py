"""`python -m bench.cold_start [--runs 5] [--users 5] [--server-runs 3] [--no-pages | --no-server]
[--streamlit-option runner.postScriptGC=false]`: what a fresh server process pays for its first
script runs (issue 18).

Two parts, results in bench/results/cold_start.json:

1. Pages (AppTest). For Home and for each page reached from a fresh session (Home first,
   then `switch_page`), `--runs` fresh interpreters each (bench.harness.run_child): the wall
   time of the script run itself (ScriptRunner._run_script, timed from inside: AppTest's own
   set-up, such as its scan for custom components, is left out), the modules that run
   imported (count, top-level packages, the heavy ones), and the resident size after it and
   added by it (AppTest's runner skips Streamlit's post-run `gc.collect(2)`). A one-line
   Streamlit script runs first in each interpreter, so Streamlit's own one-off work (the
   bare-mode check on the first element) is not counted against the app; part 2 counts it.
   One more interpreter per page runs with `-X importtime`: import time per top-level package
   during the measured run (the sum of the modules' own times, so packages add up).
2. Server. A real `streamlit run app.py` (instrumented from inside: each script run's wall
   time and post-run GC, and on request sys.modules and the resident size) and headless
   Chromium: `--users` browser contexts open Home at the same moment; recorded per user the
   time from `goto` until Home is drawn (script finished, quick-start button shown), the
   server-side script runs, and what the first sessions imported and added to the server's
   memory; then one more user opens Home on the now warm server. `--server-runs` fresh servers;
   `--streamlit-option KEY=VALUE` passes a config option to them (to try a setting).

The server must never import TensorFlow, Keras or JAX: `forbidden_loaded` lists any that were.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.browser import StreamlitServer, server_and_browser_cpu_seconds
from bench.harness import PYTHON, REPO, child_env, current_rss_bytes, environment, median, run_child

RESULT = REPO / "bench" / "results" / "cold_start.json"
PAGES = {"home": None, "data": "pages/data.py", "design": "pages/design.py", "train": "pages/train.py",
         "evaluate": "pages/evaluate.py", "export": "pages/export.py"}
# Packages worth naming when a page imports them (most are 10-80 MB and 0.1-0.5 s the first time).
HEAVY = ("pandas", "numpy", "pyarrow", "PIL", "plotly", "sklearn", "scipy", "multiprocessing", "dateutil",
         "cloudpickle", "tensorflow", "keras", "jax", "ai_edge_litert", "h5py")
FORBIDDEN = ("tensorflow", "keras", "jax")  # the server process must never import these
HOME_DRAWN = ".st-key-quick_start button"  # Home's quick-start button: the page has been drawn
IMPORTTIME_MARK = "--- cold_start: measured run ---"
MB = 1 << 20


# --- part 1: pages, in a fresh interpreter each -------------------------------------------------

class ScriptRunTimer:
    """Times every ScriptRunner._run_script (the script and Streamlit's work around it) and the
    post-run gc.collect inside it, from inside the process. Besides the wall time, the script
    thread's CPU time: on a shared, loaded machine it moves much less than the wall time."""

    def __init__(self) -> None:
        from streamlit.runtime.scriptrunner import script_runner

        self.runs: list[dict[str, float]] = []
        self._gc_ms = threading.local()
        original_run, original_collect = script_runner.ScriptRunner._run_script, gc.collect
        timer = self

        def timed_run(runner, rerun_data):
            timer._gc_ms.value = 0.0
            start, start_cpu = time.perf_counter(), time.thread_time()
            try:
                return original_run(runner, rerun_data)
            finally:
                timer.runs.append({"ms": (time.perf_counter() - start) * 1e3,
                                   "cpu_ms": (time.thread_time() - start_cpu) * 1e3, "gc_ms": timer._gc_ms.value})

        def timed_collect(*args):
            start = time.perf_counter()
            try:
                return original_collect(*args)
            finally:
                timer._gc_ms.value = getattr(timer._gc_ms, "value", 0.0) + (time.perf_counter() - start) * 1e3

        script_runner.ScriptRunner._run_script = timed_run
        gc.collect = timed_collect  # Streamlit calls gc.collect(2) after every run (runner.postScriptGC)


def packages_of(modules: set[str] | list[str]) -> dict[str, int]:
    """Top-level package -> how many of its modules, most first."""
    return dict(Counter(name.split(".")[0] for name in modules).most_common())


def page_child(page: str | None, importtime: bool = False) -> dict[str, Any]:
    """In a fresh interpreter: Home (page None), or Home and then `page`, in a new AppTest session."""
    from streamlit.testing.v1 import AppTest

    timer = ScriptRunTimer()
    AppTest.from_string("import streamlit as st\nst.write('warm-up')").run()  # Streamlit's own first-run work
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    if page is not None:
        at.run()
        at.switch_page(page)
    before_modules, before_rss = set(sys.modules), current_rss_bytes()
    timer.runs.clear()
    if importtime:
        sys.stderr.write(f"\n{IMPORTTIME_MARK}\n")
        sys.stderr.flush()
    start = time.perf_counter()
    at.run()
    apptest_ms = (time.perf_counter() - start) * 1e3
    new = set(sys.modules) - before_modules
    return {
        "script_ms": sum(run["ms"] for run in timer.runs),
        "script_cpu_ms": sum(run["cpu_ms"] for run in timer.runs),
        "script_runs": len(timer.runs),
        "apptest_run_ms": apptest_ms,
        "modules_before": len(before_modules),
        "modules_added": len(new),
        "packages_added": packages_of(new),
        "heavy_added": [name for name in HEAVY if name in new],
        "forbidden_loaded": [name for name in FORBIDDEN if name in sys.modules],
        "rss_after_mb": current_rss_bytes() / MB,
        "rss_added_mb": (current_rss_bytes() - before_rss) / MB,
        "exceptions": [str(e.value)[:300] for e in at.exception],
    }


_IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(page: str | None) -> dict[str, Any]:
    """One more fresh interpreter with -X importtime: the measured run's import time by package."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        params, out = Path(tmp) / "params.json", Path(tmp) / "out.json"
        params.write_text(json.dumps({"page": page, "importtime": True}))
        proc = subprocess.run(
            [PYTHON, "-X", "importtime", "-m", "bench.child", "bench.cold_start:page_child", str(params), str(out)],
            cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=600,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"importtime run of {page} failed:\n{proc.stderr[-2000:]}")
    own_us: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for line in proc.stderr.split(IMPORTTIME_MARK, 1)[-1].splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match:
            top = match.group(4).split(".")[0]
            own_us[top] += int(match.group(1))
            modules[top] += 1
    return {"total_ms": round(sum(own_us.values()) / 1e3, 1),
            "by_package": [{"package": name, "ms": round(us / 1e3, 1), "modules": modules[name]}
                           for name, us in own_us.most_common(12)]}


def measure_pages(runs: int, log=print) -> dict[str, Any]:
    pages: dict[str, Any] = {}
    for name, page in PAGES.items():
        samples = [run_child("bench.cold_start:page_child", {"page": page}) for _ in range(runs)]
        first = samples[0]
        pages[name] = {
            "page": page or "app.py (Home)",
            "runs": runs,
            "script_ms_median": round(median(s["script_ms"] for s in samples), 1),
            "script_ms_all": [round(s["script_ms"], 1) for s in samples],
            "script_cpu_ms_median": round(median(s["script_cpu_ms"] for s in samples), 1),
            "apptest_run_ms_median": round(median(s["apptest_run_ms"] for s in samples), 1),
            "rss_after_mb_median": round(median(s["rss_after_mb"] for s in samples), 1),
            "rss_added_mb_median": round(median(s["rss_added_mb"] for s in samples), 1),
            "modules_added": first["modules_added"],
            "heavy_added": first["heavy_added"],
            "packages_added": first["packages_added"],
            "import_time": import_times(page),
            "forbidden_loaded": sorted({n for s in samples for n in s["forbidden_loaded"]}),
            "exceptions": first["exceptions"],
        }
        row = pages[name]
        log(f"  {name:9s} script run {row['script_ms_median']:6.0f} ms (CPU {row['script_cpu_ms_median']:.0f}), "
            f"+{row['modules_added']} modules, RSS {row['rss_after_mb_median']:.0f} MB "
            f"(+{row['rss_added_mb_median']:.0f}); heavy: {', '.join(row['heavy_added']) or 'none'}")
    return pages


# --- part 2: a real server and several users at once --------------------------------------------

SNAPSHOT_DIR_ENV = "LAYERLAB_BENCH_SNAPSHOTS"


def serve(snapshot_dir: str, streamlit_args: list[str]) -> None:
    """The server side: `streamlit run` with script runs timed, and snapshots on request.

    The bench asks for snapshot N by creating `want-N` in `snapshot_dir`; a thread answers with
    `snap-N.json` (sys.modules, resident size, the script runs so far)."""
    timer = ScriptRunTimer()
    folder = Path(snapshot_dir)

    def answer() -> None:
        number = 0
        while True:
            if (folder / f"want-{number}").exists():
                snap = {"modules": sorted(sys.modules), "rss_mb": current_rss_bytes() / MB, "runs": list(timer.runs)}
                (folder / f"snap-{number}.tmp").write_text(json.dumps(snap))
                (folder / f"snap-{number}.tmp").rename(folder / f"snap-{number}.json")
                number += 1
            time.sleep(0.01)

    threading.Thread(target=answer, name="cold-start-snapshots", daemon=True).start()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", "run", *streamlit_args]
    streamlit_main()


class InstrumentedServer(StreamlitServer):
    """bench.browser's server, started through `serve` above instead of the streamlit script."""

    options: list[str] = []  # "--key=value" config options for `streamlit run`

    def start(self) -> "InstrumentedServer":
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.snapshots = self.tmpdir / "snapshots"
        self.snapshots.mkdir()
        self.asked = 0
        env = child_env({"TMPDIR": str(self.tmpdir), "PYTHONUNBUFFERED": "1"})
        command = [
            PYTHON, "-m", "bench.cold_start", "--serve", str(self.snapshots), str(self.script),
            "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(self.port),
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false", *self.options,
        ]
        with self.log_path.open("w") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def snapshot(self, timeout_s: float = 30.0) -> dict[str, Any]:
        number, self.asked = self.asked, self.asked + 1
        (self.snapshots / f"want-{number}").touch()
        answer = self.snapshots / f"snap-{number}.json"
        deadline = time.perf_counter() + timeout_s
        while not answer.exists():
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no snapshot from the server:\n{self.log_tail()}")
            time.sleep(0.01)
        return json.loads(answer.read_text())


def server_trial(users: int, options: list[str], log=print) -> dict[str, Any]:
    import shutil

    from playwright.async_api import async_playwright

    from uidriver.chromium import launch
    from uidriver.ui import APP_IDLE

    tmp = Path(tempfile.mkdtemp(prefix="layerlab-cold-"))
    server = InstrumentedServer(REPO / "app.py", tmp / "tmp", tmp / "server.log")
    server.options = options

    async def loopback_only(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            await route.abort()

    async def open_home(page) -> float:
        start = time.perf_counter()
        await page.goto(server.url)
        await page.wait_for_selector(APP_IDLE, timeout=120_000)
        await page.locator(HOME_DRAWN).wait_for(timeout=120_000)
        return time.perf_counter() - start

    async def trial() -> dict[str, Any]:
        async with async_playwright() as playwright:
            browser = await launch(playwright)  # before the server: its start-up is not measured
            pages = []
            for _ in range(users + 1):
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                await context.route("**/*", loopback_only)
                pages.append(await context.new_page())
            server.start()
            healthy_s = server.wait_healthy()
            await asyncio.sleep(1.0)  # let the server settle after answering the health check
            idle = server.snapshot()
            cpu_before, wall_start = server_and_browser_cpu_seconds(server.process.pid), time.perf_counter()
            at_once = await asyncio.gather(*(open_home(page) for page in pages[:users]))
            wall, cpu_after = time.perf_counter() - wall_start, server_and_browser_cpu_seconds(server.process.pid)
            after_first = server.snapshot()
            warm_s = await open_home(pages[users])
            after_warm = server.snapshot()
            await browser.close()
        used = {pid: cpu - cpu_before.get(pid, 0.0) for pid, cpu in cpu_after.items()}
        cpu = {"wall_s": wall, "server_s": used.get(server.process.pid, 0.0),
               "chromium_s": sum(v for pid, v in used.items() if pid != server.process.pid)}
        return {"healthy_s": healthy_s, "idle": idle, "at_once": at_once, "cpu": cpu, "after_first": after_first,
                "warm_s": warm_s, "after_warm": after_warm}

    try:
        raw = asyncio.run(asyncio.wait_for(trial(), 300))
        tensorflow_mapped = server.has_tensorflow_loaded()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    idle, first, warm = raw["idle"], raw["after_first"], raw["after_warm"]
    first_runs = first["runs"][len(idle["runs"]):]
    warm_runs = warm["runs"][len(first["runs"]):]
    new = set(first["modules"]) - set(idle["modules"])
    result = {
        "healthy_s": round(raw["healthy_s"], 2),
        "home_at_once_s": [round(s, 2) for s in raw["at_once"]],
        "home_at_once_median_s": round(median(raw["at_once"]), 2),
        "home_at_once_max_s": round(max(raw["at_once"]), 2),
        "home_warm_s": round(raw["warm_s"], 2),
        # CPU seconds used while the users opened Home: is the server or the browser the bottleneck?
        "at_once_cpu_s": {key: round(value, 2) for key, value in raw["cpu"].items()},
        "first_script_runs_ms": [round(r["ms"], 1) for r in first_runs],
        "first_script_runs_cpu_ms": [round(r["cpu_ms"], 1) for r in first_runs],
        "first_script_runs_gc_ms": [round(r["gc_ms"], 1) for r in first_runs],
        "warm_script_runs_ms": [round(r["ms"], 1) for r in warm_runs],
        "warm_script_runs_cpu_ms": [round(r["cpu_ms"], 1) for r in warm_runs],
        "warm_script_runs_gc_ms": [round(r["gc_ms"], 1) for r in warm_runs],
        "modules_idle": len(idle["modules"]),
        "modules_added_by_first_sessions": len(new),
        "packages_added_by_first_sessions": packages_of(new),
        "heavy_added": [name for name in HEAVY if name in new],
        "forbidden_loaded": [name for name in FORBIDDEN if name in warm["modules"]],
        "tensorflow_mapped": tensorflow_mapped,
        "rss_idle_mb": round(idle["rss_mb"], 1),
        "rss_after_first_sessions_mb": round(first["rss_mb"], 1),
        "rss_after_warm_session_mb": round(warm["rss_mb"], 1),
    }
    log(f"  server: {users} Home at once median {result['home_at_once_median_s']} s, max "
        f"{result['home_at_once_max_s']} s (CPU: server {result['at_once_cpu_s']['server_s']} s, Chromium "
        f"{result['at_once_cpu_s']['chromium_s']} s); script runs {result['first_script_runs_ms']} ms "
        f"(CPU {result['first_script_runs_cpu_ms']}, GC {result['first_script_runs_gc_ms']}); warm Home "
        f"{result['home_warm_s']} s, script {result['warm_script_runs_ms']} ms (CPU "
        f"{result['warm_script_runs_cpu_ms']}); +{len(new)} modules; RSS {result['rss_idle_mb']} → "
        f"{result['rss_after_first_sessions_mb']} MB")
    return result


def measure_server(users: int, trials: int, options: list[str], log=print) -> dict[str, Any]:
    results = [server_trial(users, options, log) for _ in range(trials)]

    def med(key: str, pick=lambda value: value) -> float:
        return round(median(pick(r[key]) for r in results), 2)

    return {
        "users": users,
        "streamlit_options": options,
        "trials": results,
        "summary": {
            "home_at_once_median_s": med("home_at_once_median_s"),
            "home_at_once_max_s": med("home_at_once_max_s"),
            "home_warm_s": med("home_warm_s"),
            "at_once_server_cpu_s": med("at_once_cpu_s", lambda cpu: cpu["server_s"]),
            "at_once_chromium_cpu_s": med("at_once_cpu_s", lambda cpu: cpu["chromium_s"]),
            "first_script_run_ms_median": med("first_script_runs_ms", median),
            "first_script_run_ms_max": med("first_script_runs_ms", max),
            "first_script_run_cpu_ms_median": med("first_script_runs_cpu_ms", median),
            "first_script_runs_cpu_ms_total": med("first_script_runs_cpu_ms", sum),
            "first_script_run_gc_ms_median": med("first_script_runs_gc_ms", median),
            "warm_script_run_ms": med("warm_script_runs_ms", median),
            "warm_script_run_cpu_ms": med("warm_script_runs_cpu_ms", median),
            "warm_script_run_gc_ms": med("warm_script_runs_gc_ms", median),
            "modules_added_by_first_sessions": med("modules_added_by_first_sessions"),
            "rss_idle_mb": med("rss_idle_mb"),
            "rss_after_first_sessions_mb": med("rss_after_first_sessions_mb"),
            "forbidden_loaded": sorted({n for r in results for n in r["forbidden_loaded"]}),
            "tensorflow_mapped": any(r["tensorflow_mapped"] for r in results),
        },
    }


def log(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:  # the instrumented server process (InstrumentedServer)
        serve(argv[1], argv[2:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description="What a fresh server process pays for its first script runs (issue 18).")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per page (median)")
    parser.add_argument("--users", type=int, default=5, help="browser sessions opening Home at once")
    parser.add_argument("--server-runs", type=int, default=3, help="fresh servers (median)")
    parser.add_argument("--no-pages", action="store_true", help="skip part 1")
    parser.add_argument("--no-server", action="store_true", help="skip part 2 (no browser needed)")
    parser.add_argument("--streamlit-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a config option for the servers of part 2, e.g. runner.postScriptGC=false")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)

    report: dict[str, Any] = {"environment": environment(),
                              "settings": {"runs": args.runs, "users": args.users, "server_runs": args.server_runs}}
    if not args.no_pages:
        log("Pages, fresh interpreter each (AppTest; script run timed from inside):")
        report["pages"] = measure_pages(args.runs, log=log)
    if not args.no_server:
        options = [f"--{option}" for option in args.streamlit_option]
        log(f"Server: {args.users} users open Home at once on a fresh `{' '.join(['streamlit run', *options])}`:")
        report["server"] = measure_server(args.users, args.server_runs, options, log=log)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    forbidden = sorted({n for page in report.get("pages", {}).values() for n in page["forbidden_loaded"]}
                       | set(report.get("server", {}).get("summary", {}).get("forbidden_loaded", [])))
    print(f"written to {args.out}" + (f"; FORBIDDEN modules loaded: {forbidden}" if forbidden else ""))
    sys.exit(1 if forbidden else 0)


if __name__ == "__main__":
    main()
