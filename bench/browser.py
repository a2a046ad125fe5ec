"""A real `streamlit run` server and headless Chromium, for the cases a user feels in the browser.

The server gets a private TMPDIR, so each session's Workspace folder (and the training run
directories inside it, with their events.jsonl) can be found from outside. Process CPU
time is read from /proc, to wait until the server and its workers are idle (a warm spare
worker importing TensorFlow must not overlap a measurement) and to tell whether the
server process has TensorFlow loaded.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.harness import REPO, child_env

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command() -> Path:
    """The checkout's .venv streamlit, else the one next to this interpreter (a git worktree
    without its own .venv, run with another checkout's Python)."""
    own = REPO / ".venv" / "bin" / "streamlit"
    return own if own.exists() else Path(sys.executable).parent / "streamlit"


class StreamlitServer:
    """`streamlit run SCRIPT` on a free loopback port; `started_at` is taken just before the spawn."""

    def __init__(self, script: Path, tmpdir: Path, log_path: Path, cpus: set[int] | None = None) -> None:
        self.cpus = cpus  # pin the server and every process it starts to these cores (taskset)
        self.script = script
        self.tmpdir = tmpdir
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> "StreamlitServer":
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        env = child_env({"TMPDIR": str(self.tmpdir), "PYTHONUNBUFFERED": "1"})
        command = [
            str(streamlit_command()), "run", str(self.script),
            "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(self.port),
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        ]
        if self.cpus:
            command = ["taskset", "-c", ",".join(map(str, sorted(self.cpus)))] + command
        with self.log_path.open("w") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_healthy(self, timeout_s: float = 60.0) -> float:
        """Poll the health endpoint every 20 ms; return the seconds since the spawn."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - self.started_at
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"streamlit did not answer within {timeout_s} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def has_tensorflow_loaded(self) -> bool:
        """Whether TensorFlow's native library is mapped into the server process."""
        maps = Path(f"/proc/{self.process.pid}/maps").read_text()
        return "tensorflow" in maps

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU seconds of a process and each of its live descendants, by pid."""
    found, stack = {}, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[current] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        stack += _children(current)
    return found


def server_and_browser_cpu_seconds(server_pid: int) -> dict[int, float]:
    """CPU seconds by pid of the Streamlit server process itself (not its training workers) and
    of every Chromium process this benchmark started (not Playwright's own driver)."""
    tree = tree_cpu_seconds(os.getpid())
    found = {server_pid: tree[server_pid]} if server_pid in tree else {}
    for pid, cpu in tree.items():
        try:
            if b"chrom" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found[pid] = cpu
        except OSError:
            continue
    return found


def wait_quiet(pids: list[int], *, window_s: float = 1.0, busy_fraction: float = 0.05, timeout_s: float = 120.0) -> float:
    """Wait until the process trees use less than `busy_fraction` of one core over a window.

    CPU is compared per process, so a process that exits during the window (a finished
    training worker) cannot hide the work of one that started (the next warm spare).
    """
    def snapshot() -> dict[int, float]:
        merged: dict[int, float] = {}
        for pid in pids:
            merged.update(tree_cpu_seconds(pid))
        return merged

    start = time.perf_counter()
    previous = snapshot()
    while time.perf_counter() - start < timeout_s:
        time.sleep(window_s)
        now = snapshot()
        used = sum(max(0.0, cpu - previous.get(pid, 0.0)) for pid, cpu in now.items())
        if used < busy_fraction * window_s:
            return time.perf_counter() - start
        previous = now
    return time.perf_counter() - start


def wait_painted(page) -> None:
    """Two animation frames: what is in the DOM has been painted."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
