"""`python -m bench.profiling CASE [--rows N]`: where the time of a missed target goes.

py-spy is not installed here, so this carries a small sampling profiler of the same kind:
a thread that looks at every other thread's Python stack every millisecond and counts, per
function, the samples in which it was on the stack (inclusive time). It sees Streamlit's
script thread, which cProfile (one thread only) cannot; cProfile is used where the work
stays in the calling thread.

Cases: `designer` (one Add-layer click on the Design page with a big table loaded),
`csv` (core.data.load_data on the benchmark CSV, plus what the Dataset holds in memory),
`csv-memory` (read_csv, then prepare_table, in a fresh interpreter: time, resident size and
peak after each, the way case 3 measures them),
`engine` (train_in_process against a plain fit of the tabular MLP, cProfile),
`text` (load_data on case 8's CSV of short texts, cProfile; `--rows` texts, default 200,000),
`text-memory` (the same in a fresh interpreter, stage by stage: the reader, its check for repeated
text, the column judgement, tokenising, ids, duplicates; time, resident size and peak after each).
"""
from __future__ import annotations

import argparse
import cProfile
import collections
import io
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from bench.harness import REPO


class StackSampler:
    """Counts, per function, the samples whose stack (any thread but this one) contains it."""

    def __init__(self, interval_s: float = 0.001) -> None:
        self.interval_s = interval_s
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stack-sampler", daemon=True)

    def _loop(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                seen: set[str] = set()
                while frame is not None:
                    code = frame.f_code
                    name = f"{_short(code.co_filename)}:{code.co_firstlineno}({code.co_name})"
                    seen.add(name)
                    frame = frame.f_back
                self.inclusive.update(seen)
            self.samples += 1
            time.sleep(self.interval_s)

    def __enter__(self) -> "StackSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self, top: int = 30, only: str = "") -> str:
        rows = [(n, c) for n, c in self.inclusive.most_common() if only in n][:top]
        return "\n".join(f"{c / max(self.samples, 1):6.1%}  {n}" for n, c in rows)


def _short(path: str) -> str:
    for marker in ("site-packages/", str(REPO) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _cprofile(func: Callable[[], Any], top: int = 30) -> str:
    profile = cProfile.Profile()
    profile.enable()
    func()
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def profile_designer(csv_path: Path, clicks: int = 3) -> None:
    from streamlit.testing.v1 import AppTest

    from bench.synthetic import TARGET
    from components.state.workspace import WORKSPACE_KEY, Workspace
    from core.data import prepare_table, read_csv
    from core.templates import default_template

    raw = read_csv(csv_path)
    dataset = prepare_table(raw, target=TARGET)
    workspace = Workspace()
    workspace.set_dataset(dataset, csv_path.name, raw_table=raw)
    workspace.spec = default_template(dataset)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.session_state[WORKSPACE_KEY] = workspace
    at.run()
    at.switch_page("pages/design.py").run()
    with StackSampler() as sampler:
        start = time.perf_counter()
        for _ in range(clicks):
            at.button(key="add_layer").click().run()
        seconds = (time.perf_counter() - start) / clicks
    print(f"{clicks} Add-layer clicks, {seconds * 1e3:.0f} ms each; inclusive share of samples:")
    print(sampler.report(top=45))


def profile_csv(csv_path: Path) -> None:
    from bench.synthetic import TARGET
    from core.data import load_data

    holder: dict[str, Any] = {}
    print(_cprofile(lambda: holder.update(dataset=load_data(csv_path, target=TARGET)), top=40))
    dataset = holder["dataset"]
    size = csv_path.stat().st_size
    frame_bytes = int(dataset.frame.memory_usage(deep=True).sum()) if dataset.frame is not None else 0
    arrays = {name: getattr(dataset, name).nbytes for name in ("x_train", "x_val", "x_test", "y_train", "y_val", "y_test")}
    print(f"file {size / 2**20:.0f} MiB; the Dataset keeps: raw frame {frame_bytes / 2**20:.0f} MiB "
          f"({frame_bytes / size:.2f}x the file), arrays {sum(arrays.values()) / 2**20:.0f} MiB "
          f"({sum(arrays.values()) / size:.2f}x; x has {dataset.input_shape[0]} float32 inputs per row)")


def csv_memory_child(path: str, target: str) -> dict[str, Any]:
    """In a fresh interpreter (bench.harness.run_child): read_csv, then prepare_table, each timed,
    with the resident size after it, the peak so far and Arrow's pool, in bytes above the
    resident size after the imports."""
    import pyarrow as pa

    from bench import harness
    from bench.csv_ingestion import _import_libraries

    _import_libraries()
    from core.data import prepare_table, read_csv

    harness.mark_baseline()
    base, pool = harness._baseline_bytes or 0, pa.default_memory_pool()
    stages: list[dict[str, Any]] = []

    def stage(name: str, start: float) -> None:
        sampler = harness._sampler
        stages.append({
            "stage": name, "seconds": time.perf_counter() - start,
            "resident": harness.current_rss_bytes() - base,
            "peak": (max(sampler.peak, harness.current_rss_bytes()) if sampler else 0) - base,
            "pool": pool.bytes_allocated(), "pool_max": pool.max_memory(),
        })

    start = time.perf_counter()
    raw = read_csv(Path(path))
    stage("read_csv", start)
    start = time.perf_counter()
    dataset = prepare_table(raw, target=target)
    stage("prepare_table", start)
    arrays = sum(getattr(dataset, n).nbytes for n in ("x_train", "x_val", "x_test", "y_train", "y_val", "y_test"))
    return {"stages": stages, "frame_bytes": int(raw.frame.memory_usage(deep=True).sum()), "array_bytes": arrays}


def profile_csv_memory(csv_path: Path) -> None:
    from bench.harness import run_child, warm_file_cache
    from bench.synthetic import TARGET

    warm_file_cache(csv_path)
    result = run_child("bench.profiling:csv_memory_child", {"path": str(csv_path), "target": TARGET})
    mib, size = 1 << 20, csv_path.stat().st_size
    print(f"file {size / mib:.0f} MiB; MiB above the resident size after the imports, fresh interpreter:")
    for s in result["stages"]:
        print(f"  {s['stage']:14s} {s['seconds']:5.2f} s  resident {s['resident'] / mib:4.0f}  peak so far "
              f"{s['peak'] / mib:4.0f}  Arrow pool {s['pool'] / mib:4.0f} (max {s['pool_max'] / mib:.0f})")
    peak = result["stages"][-1]["peak"]
    print(f"the frame holds {result['frame_bytes'] / mib:.0f} MiB, the Dataset's arrays "
          f"{result['array_bytes'] / mib:.0f} MiB; peak / file size {peak / size:.2f}x (case 3 asks for at most 3x)")


# (module, function) stages of load_data on a text CSV that text-memory reports; a name that
# no longer exists is skipped.
TEXT_STAGES = [
    ("core.data.csv_reader", "_read_parts"), ("core.data.csv_reader", "_compact_repeated_text"),
    ("core.data.tables", "_profile"), ("core.data.texts", "encode_texts"), ("core.data.texts", "split_indices"),
    ("core.data.tokens", "EncodedTexts.counts"), ("core.data.tokens", "EncodedTexts.ids"),
    ("core.data.texts", "_profile"), ("core.data.texts", "_duplicates"),
]


def text_memory_child(path: str, target: str) -> dict[str, Any]:
    import importlib

    from bench import harness
    from bench.text import _import_libraries

    _import_libraries()
    from core.data import load_data

    harness.mark_baseline()
    base, stages = harness._baseline_bytes or 0, []

    def wrapped(label: str, func: Callable) -> Callable:
        def call(*args, **kwargs):
            start = time.perf_counter()
            out = func(*args, **kwargs)
            now = harness.current_rss_bytes()
            stages.append({"stage": label, "seconds": time.perf_counter() - start, "resident": now - base,
                           "peak": max(harness._sampler.peak, now) - base})
            return out
        return call

    for module_name, name in TEXT_STAGES:
        owner = importlib.import_module(module_name)
        *outer, attr = name.split(".")
        for part in outer:
            owner = getattr(owner, part)
        if hasattr(owner, attr):
            setattr(owner, attr, wrapped(f"{module_name.rsplit('.', 1)[-1]}.{name}", getattr(owner, attr)))
    start = time.perf_counter()
    dataset = load_data(path, target=target)
    stages.append({"stage": "load_data (all)", "seconds": time.perf_counter() - start,
                   "resident": harness.current_rss_bytes() - base, "peak": harness._sampler.peak - base})
    arrays = sum(getattr(dataset, n).nbytes for n in ("x_train", "x_val", "x_test", "y_train", "y_val", "y_test"))
    return {"stages": stages, "frame_bytes": int(dataset.frame.memory_usage(deep=True).sum()), "array_bytes": arrays}


def profile_text_memory(csv_path: Path) -> None:
    from bench.harness import run_child, warm_file_cache
    from bench.synthetic import TEXT_TARGET

    warm_file_cache(csv_path)
    result = run_child("bench.profiling:text_memory_child", {"path": str(csv_path), "target": TEXT_TARGET})
    mib, size = 1 << 20, csv_path.stat().st_size
    print(f"file {size / mib:.1f} MiB; MiB above the resident size after the imports, fresh interpreter, in the "
          "order the stages ended:")
    for s in result["stages"]:
        print(f"  {s['stage']:36s} {s['seconds']:5.2f} s  resident {s['resident'] / mib:4.0f}  "
              f"peak so far {s['peak'] / mib:4.0f}")
    peak = result["stages"][-1]["peak"]
    print(f"the frame holds {result['frame_bytes'] / mib:.0f} MiB, the Dataset's arrays "
          f"{result['array_bytes'] / mib:.0f} MiB; peak / file size {peak / size:.2f}x (case 8 asks for at most 3x)")


def profile_text(csv_path: Path) -> None:
    from bench.synthetic import TEXT_TARGET
    from bench.text import _import_libraries
    from core.data import load_data

    _import_libraries()  # pandas and pyarrow load on first use otherwise, and their imports fill the profile
    load_data(csv_path, target=TEXT_TARGET)  # the same for the modules load_data imports when called
    print(_cprofile(lambda: load_data(csv_path, target=TEXT_TARGET), top=40))


def profile_engine(rows: int) -> None:
    from bench.training_overhead import _engine_fit, _plain_fit, make_dataset, make_spec

    dataset, spec = make_dataset("mlp", rows), make_spec("mlp", 3, 256)
    _plain_fit(make_spec("mlp", 1, 256), dataset)
    with tempfile.TemporaryDirectory() as tmp:
        print("plain fit:\n" + _cprofile(lambda: print(_plain_fit(spec, dataset)), top=25))
        print("engine:\n" + _cprofile(lambda: print(_engine_fit(spec, dataset, Path(tmp), 0)), top=40))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["designer", "csv", "csv-memory", "engine", "text", "text-memory"])
    parser.add_argument("--rows", type=int, help="rows of the generated CSV (1,000,000; texts: 200,000)")
    args = parser.parse_args(argv)
    if args.case == "engine":
        profile_engine(args.rows or 1_000_000)
        return
    if args.case.startswith("text"):
        from bench.synthetic import write_text_csv

        with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
            rows = args.rows or 200_000
            csv_path = write_text_csv(Path(tmp) / f"texts_{rows}.csv", rows)
            (profile_text if args.case == "text" else profile_text_memory)(csv_path)
        return
    args.rows = args.rows or 1_000_000
    from bench.synthetic import write_table_csv

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        csv_path = write_table_csv(Path(tmp) / f"table_{args.rows}.csv", args.rows)
        profile = {"designer": profile_designer, "csv": profile_csv, "csv-memory": profile_csv_memory}[args.case]
        profile(csv_path)


if __name__ == "__main__":
    main()
