"""Shared machinery for the benchmarks: fresh interpreters, peak memory, medians, environment.

Every measurement that reports memory runs in its own interpreter (`run_child`), so one
case's allocations never inflate another's peak. Inside the child, the case function
imports what it needs and then calls `mark_baseline()`; the peak it reports is the
largest resident size a 2 ms sampler saw after that mark minus the resident size at the
mark, i.e. the memory the work itself needed on top of importing the same libraries.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from uidriver.chromium import CHROMIUM

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")

_baseline_bytes: int | None = None
_sampler: "RssSampler | None" = None


@dataclass
class Context:
    """What every case gets: the mode, a private scratch folder, and a log function."""

    quick: bool
    work: Path
    log: Callable[[str], None] = print
    data: dict[str, Any] = field(default_factory=dict)  # files generated once, shared by cases

    def size(self, quick: int, full: int) -> int:
        return quick if self.quick else full


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def current_rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_BYTES


class RssSampler:
    """Reads the resident size every 2 ms in a thread and keeps the largest value."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.peak = current_rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, current_rss_bytes())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, current_rss_bytes())


def mark_baseline() -> None:
    """Call after the imports, before the work: later peaks are reported relative to here.

    The baseline is the resident size now; the peak is what a 2 ms RSS sampler sees. Not
    ru_maxrss: importing TensorFlow briefly needs more than it keeps, and once a thread has
    exited the kernel keeps that import peak in ru_maxrss even after a reset.
    """
    global _baseline_bytes, _sampler
    _baseline_bytes = current_rss_bytes()
    _sampler = RssSampler()


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def run_child(target: str, params: dict[str, Any], *, env: dict[str, str] | None = None,
              timeout: float = 1200) -> dict[str, Any]:
    """Run `module:function(**params)` in a fresh interpreter; return its dict plus memory figures.

    The result travels through a file, so whatever TensorFlow prints cannot corrupt it.
    """
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        params_path, out_path = Path(tmp) / "params.json", Path(tmp) / "result.json"
        params_path.write_text(json.dumps(params))
        proc = subprocess.run(
            [PYTHON, "-m", "bench.child", target, str(params_path), str(out_path)],
            cwd=REPO, env=child_env(env), capture_output=True, text=True, timeout=timeout,
        )
        if proc.returncode != 0 or not out_path.exists():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"{target} failed (exit {proc.returncode}):\n{tail}")
        return json.loads(out_path.read_text())


def child_main(argv: list[str]) -> None:
    """Entry point of `python -m bench.child TARGET PARAMS.json OUT.json`."""
    import importlib

    target, params_path, out_path = argv
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    result = func(**json.loads(Path(params_path).read_text()))
    peak = _sampler.stop() if _sampler else peak_rss_bytes()
    base = _baseline_bytes or 0
    result.update(peak_rss_bytes=peak, baseline_rss_bytes=base, work_peak_bytes=peak - base)
    Path(out_path).write_text(json.dumps(result))


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


class Stopwatch:
    """`with Stopwatch() as sw: ...; sw.seconds`"""

    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def _meminfo_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _chromium_version() -> str | None:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip() or None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment() -> dict[str, Any]:
    """Machine, date and versions: what the write-up must state next to every number."""
    packages = ["tensorflow", "keras", "streamlit", "pandas", "numpy", "pyarrow", "pillow",
                "ai-edge-litert", "plotly", "playwright", "jax"]
    return {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpu": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "memory_gib": _meminfo_gib(),
            "platform": platform.platform(),
        },
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in packages},
        "chromium": _chromium_version(),
        "git_commit": _git_commit(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def metric(name: str, value: float | None, unit: str = "", *, at_least: float | None = None,
           at_most: float | None = None, note: str = "") -> dict[str, Any]:
    """One row of the results table; `met` is None where the issue sets no target."""
    target, met = None, None
    if value is not None and at_least is not None:
        target, met = f">= {at_least:g}", value >= at_least
    elif value is not None and at_most is not None:
        target, met = f"<= {at_most:g}", value <= at_most
    elif at_least is not None:
        target = f">= {at_least:g}"
    elif at_most is not None:
        target = f"<= {at_most:g}"
    return {"name": name, "value": value, "unit": unit, "target": target, "met": met, "note": note}


def warm_file_cache(*paths: Path) -> None:
    """Read files once so every timed run starts from the page cache, not the disk."""
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass
