"""Case 9: time-series forecasting (issue 20). Three parts, each against the hand-written equivalent.

windows    1,000,000 hourly rows x 5 series, window 64, horizon 12. Building the training windows
           with `core.data.series.split_windows` against a hand-written
           `numpy.lib.stride_tricks.sliding_window_view` of the same array cut at the same origins
           (both are views: microseconds, timed over many calls); and the whole `prepare_series`
           from an in-memory RawTable (as `read_csv` returns it: a datetime64 column, 5 float64
           columns, some rows and values missing) against hand-written pandas (`set_index`,
           `asfreq`, `ffill`, `to_numpy`, the same views). Each side in a fresh interpreter;
           peak resident size over the baseline (2 ms sampler) and tracemalloc's peak, both
           relative to the bytes of the series array (rows x series float32).
training   What an epoch costs feeding the windows through `core.training.window_batches.
           WindowBatches` (the engine's way: `kind.fit_data`) against numpy copies of every window
           passed to `model.fit`: 100,000 rows x 5 series, the default template, the same model,
           seed and validation; each side in its own interpreter (time of epoch 2, peak memory).
quality    Every series template trained by the engine (`train_in_process`, fixed seed) on the two
           samples, on public-domain series the team has not tuned on (bench/series_data, see
           SOURCES.md there) and on two synthetic series generated here with a fixed seed; test MAE
           (`core.evaluate.evaluate`) against the naive and seasonal naive forecasts on the same
           windows. One interpreter for all (TensorFlow starts once).

`python -m bench.series [--quick] [--parts windows,training,quality]` writes
bench/results/series.json (`series_quick.json` for --quick; re-running some parts merges them);
`python -m bench --only series` runs all three as case 9 of `make bench`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness import REPO, Context, environment, mark_baseline, median, metric, ratio, run_child

NAME = "series"
TITLE = "9. Time-series forecasting (issue 20)"
PARTS = ("windows", "training", "quality")
RESULTS = REPO / "bench" / "results"
DATA = REPO / "bench" / "series_data"

WINDOW_TIME_RATIO = 1.5  # the targets
WINDOW_MEMORY_RATIO = 2.0
SEED = 1
DEFAULT_SEEDS = 3  # the default template is trained with seeds 1..3, the others with seed 1
TEMPLATE_IDS = ["series_dense", "series_lstm", "series_gru", "series_cnn"]


# --- synthetic data -----------------------------------------------------------------------------

def wide_frame(rows: int, n_series: int = 5, seed: int = 0):
    """An hourly table as `read_csv` returns it: 'time' (datetime64[s]) and `n_series` float64 columns
    (random walks with a daily cycle); 0.1 % of the hours have no row and 0.1 % of the values are empty."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    grid = rows + rows // 1000
    hours = np.arange(grid)
    data = {}
    for k in range(n_series):
        walk = np.cumsum(rng.normal(scale=0.1, size=grid))
        values = 20 + walk + 3 * np.sin(2 * np.pi * (hours - 3 * k) / 24) + rng.normal(scale=0.2, size=grid)
        values[rng.random(grid) < 0.001] = np.nan
        data[f"s{k + 1}"] = values
    kept = np.sort(rng.choice(grid, size=rows, replace=False))
    kept[0] = 0  # the grid starts at the first hour
    stamps = np.datetime64("1900-01-01T00:00:00", "s") + hours[kept] * np.timedelta64(3600, "s")
    return pd.DataFrame({"time": stamps, **{name: v[kept] for name, v in data.items()}})


def raw_table(frame, name: str = "wide.csv"):
    from core.data.csv_reader import RawTable

    return RawTable(name=name, frame=frame, encoding="utf-8", delimiter=",", decimal=".",
                    n_bytes=int(frame.memory_usage(deep=True).sum()))


def write_daily_sales(path: Path, seed: int = 7) -> Path:
    """A shop's daily units sold, 2022-2024 as a till exports it (31/01/2024): slow growth, a weekly
    pattern (Saturday the busiest, Sunday short hours), a yearly swing and a December rush, public
    holidays at about 40 %, three-day promotions every six weeks or so, Poisson-gamma noise; closed
    on 25 December and 1 January (no row), 2 % of the days lost by the till (no row) and one
    five-day outage."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    t = np.arange(len(days))
    weekly = np.array([0.85, 0.9, 0.95, 1.0, 1.15, 1.35, 0.75])[days.day_of_week]
    yearly = 1 + 0.12 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 80) / 365.25)
    december = np.where((days.month == 12) & (days.day <= 24), 1 + 0.02 * days.day.to_numpy(), 1.0)
    mean = (180 + 0.06 * t) * weekly * yearly * december
    holidays = {(1, 6), (5, 1), (8, 15), (11, 1), (12, 26)}
    on_holiday = np.array([(m, d) in holidays for m, d in zip(days.month, days.day)])
    mean = np.where(on_holiday, 0.4 * mean, mean)
    promo = np.zeros(len(days), dtype=bool)
    start = 20
    while start < len(days):
        promo[start:start + 3] = True
        start += int(rng.integers(35, 50))
    mean = np.where(promo, 1.4 * mean, mean)
    units = rng.poisson(mean * rng.gamma(25, 1 / 25, size=len(days)))
    closed = (days.month == 12) & (days.day == 25) | (days.month == 1) & (days.day == 1)
    lost = rng.random(len(days)) < 0.02
    outage = np.zeros(len(days), dtype=bool)
    outage[700:705] = True
    keep = ~(closed | lost | outage)
    frame = pd.DataFrame({"date": days[keep].strftime("%d/%m/%Y"), "units_sold": units[keep]})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def write_hourly_sensor(path: Path, seed: int = 11) -> Path:
    """A greenhouse thermometer, hourly for 120 days from 2024-03-01 ('2024-03-01 13:00'): a daily
    cycle whose size follows the day's sunshine, weather drifting over days, a slow spring warming,
    sensor noise; six outages of 3-30 hours (no rows) and 1 % of the readings empty."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    hours = pd.date_range("2024-03-01 00:00", periods=120 * 24, freq="h")
    n = len(hours)
    sun = np.repeat(np.clip(rng.normal(0.7, 0.25, size=n // 24 + 1), 0.1, 1.0), 24)[:n]
    cycle = 5 * sun * np.sin(2 * np.pi * (hours.hour.to_numpy() - 9) / 24)
    weather = np.zeros(n)
    for i in range(1, n):
        weather[i] = 0.995 * weather[i - 1] + rng.normal(scale=0.12)
    temperature = 14 + 0.04 * np.arange(n) / 24 + cycle + weather + rng.normal(scale=0.3, size=n)
    keep = np.ones(n, dtype=bool)
    for start in rng.choice(np.arange(48, n - 48), size=6, replace=False):
        keep[start:start + int(rng.integers(3, 31))] = False
    values = np.round(temperature, 2)
    values[rng.random(n) < 0.01] = np.nan
    frame = pd.DataFrame({"timestamp": hours[keep].strftime("%Y-%m-%d %H:%M"), "temperature_c": values[keep]})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


# --- windows ------------------------------------------------------------------------------------

def _baseline() -> None:
    """Give freed heap back to the system first (glibc keeps it otherwise), so that memory the work
    reuses from making its input still counts in its resident-size peak; then mark the baseline."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    mark_baseline()


def _hand_windows(values: np.ndarray, window: int, horizon: int, val_start: int, test_start: int):
    """What one would write with numpy alone: every window as a view, cut at the same origins."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = sliding_window_view(values, window, axis=0).transpose(0, 2, 1)
    y = sliding_window_view(values[:, 0], horizon)
    n = len(values)
    out = {}
    for name, (first, last) in (("train", (window, val_start - horizon)), ("val", (val_start, test_start - horizon)),
                                ("test", (test_start, n - horizon))):
        out[f"x_{name}"] = x[first - window:last - window + 1]
        out[f"y_{name}"] = y[first:last + 1]
    return out


def _per_call_seconds(fn, calls: int, rounds: int) -> float:
    """Median over `rounds` of the mean time of `calls` calls."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return median(times)


def child_windows(side: str, rows: int, window: int, horizon: int, calls: int, rounds: int) -> dict[str, Any]:
    """Build the windows of a (rows x 5) float32 array: `split_windows` or the hand-written views."""
    import tracemalloc

    from core.data.series import periods, split_windows

    values = np.ascontiguousarray(np.random.default_rng(0).normal(size=(rows, 5)).astype(np.float32))
    val_start, test_start = periods(rows, window, horizon)
    build = ((lambda: split_windows(values, window, horizon, val_start, test_start)) if side == "split_windows"
             else (lambda: _hand_windows(values, window, horizon, val_start, test_start)))
    build()  # imports and first-call costs outside the timing
    _baseline()
    tracemalloc.start()
    arrays = build()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    per_call = _per_call_seconds(build, calls, rounds)
    views = all(np.shares_memory(a, values) for a in arrays.values())
    x_bytes = sum(int(np.prod(a.shape)) * a.itemsize for k, a in arrays.items() if k.startswith("x_"))
    return {"side": side, "seconds": per_call, "tracemalloc_peak_bytes": traced_peak,
            "values_bytes": int(values.nbytes),
            "all_views": bool(views), "shapes": {k: list(a.shape) for k, a in arrays.items()},
            "copied_windows_bytes": x_bytes, "calls": calls, "rounds": rounds}


def child_prepare(side: str, rows: int, window: int, horizon: int, repeats: int) -> dict[str, Any]:
    """The whole way from an in-memory table with dates to the six window arrays."""
    import tracemalloc

    import pandas as pd  # noqa: F401

    from core.data.series import SeriesSettings, periods, prepare_series

    frame = wide_frame(rows)
    table = raw_table(frame)
    settings = SeriesSettings(target="s1", inputs=("s2", "s3", "s4", "s5"), window=window, horizon=horizon)

    def ours():
        dataset = prepare_series(table, settings)
        return dataset.series.values, {k: getattr(dataset, k) for k in
                                       ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")}

    def hand():
        grid = frame.set_index("time").asfreq("h").ffill()
        grid = grid.iloc[int(grid.notna().all(axis=1).to_numpy().argmax()):]  # leading rows still empty
        values = np.ascontiguousarray(grid[["s1", "s2", "s3", "s4", "s5"]].to_numpy(dtype=np.float32))
        val_start, test_start = periods(len(values), window, horizon)
        return values, _hand_windows(values, window, horizon, val_start, test_start)

    build = ours if side == "prepare_series" else hand
    _baseline()
    tracemalloc.start()
    start = time.perf_counter()
    values, arrays = build()
    first = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del values, arrays
    times = [first]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        values, arrays = build()
        times.append(time.perf_counter() - start)
        del values, arrays
    values, arrays = build()
    return {"side": side, "seconds": median(times), "times": times, "tracemalloc_peak_bytes": traced_peak,
            "values_bytes": int(values.nbytes), "values_shape": list(values.shape),
            "frame_bytes": int(frame.memory_usage(deep=True).sum()), "x_train_shape": list(arrays["x_train"].shape)}


def run_windows(ctx: Context) -> dict[str, Any]:
    rows = ctx.size(100_000, 1_000_000)
    window, horizon = 64, 12
    calls, rounds = ctx.size(200, 2000), ctx.size(5, 15)
    ctx.log(f"  windows: {rows:,} rows x 5 series, window {window}, horizon {horizon} ...")
    views = {s: [] for s in ("split_windows", "sliding_window_view")}
    for i in range(ctx.size(1, 2)):
        sides = ("split_windows", "sliding_window_view")
        for side in (sides if i % 2 == 0 else sides[::-1]):
            views[side].append(run_child("bench.series:child_windows", {
                "side": side, "rows": rows, "window": window, "horizon": horizon, "calls": calls, "rounds": rounds}))
    prepared = {s: [] for s in ("prepare_series", "pandas")}
    for i in range(ctx.size(1, 2)):
        for side in (("prepare_series", "pandas") if i % 2 == 0 else ("pandas", "prepare_series")):
            prepared[side].append(run_child("bench.series:child_prepare", {
                "side": side, "rows": rows, "window": window, "horizon": horizon, "repeats": ctx.size(1, 3)}))
    ours, hand = views["split_windows"], views["sliding_window_view"]
    result = {
        "rows": rows, "series": 5, "window": window, "horizon": horizon,
        "values_bytes": ours[0]["values_bytes"], "copied_windows_bytes": ours[0]["copied_windows_bytes"],
        "shapes": ours[0]["shapes"], "all_views": ours[0]["all_views"] and hand[0]["all_views"],
        "split_windows_seconds": median(r["seconds"] for r in ours),
        "sliding_window_view_seconds": median(r["seconds"] for r in hand),
        "split_windows_peak_bytes": max(r["work_peak_bytes"] for r in ours),
        "sliding_window_view_peak_bytes": max(r["work_peak_bytes"] for r in hand),
        "split_windows_tracemalloc_bytes": max(r["tracemalloc_peak_bytes"] for r in ours),
        "sliding_window_view_tracemalloc_bytes": max(r["tracemalloc_peak_bytes"] for r in hand),
        "prepare": {
            side: {"seconds": median(r["seconds"] for r in runs), "times": [t for r in runs for t in r["times"]],
                   "peak_bytes": max(r["work_peak_bytes"] for r in runs),
                   "tracemalloc_bytes": max(r["tracemalloc_peak_bytes"] for r in runs),
                   "values_bytes": runs[0]["values_bytes"], "values_shape": runs[0]["values_shape"],
                   "x_train_shape": runs[0]["x_train_shape"]}
            for side, runs in prepared.items()},
        "frame_bytes": prepared["prepare_series"][0]["frame_bytes"],
    }
    p = result["prepare"]
    mib = 2**20
    ctx.log(f"    split_windows {1e6 * result['split_windows_seconds']:.1f} us vs sliding_window_view "
            f"{1e6 * result['sliding_window_view_seconds']:.1f} us; peaks "
            f"{result['split_windows_peak_bytes'] / mib:.1f} vs "
            f"{result['sliding_window_view_peak_bytes'] / mib:.1f} MiB "
            f"for {result['values_bytes'] / mib:.1f} MiB")
    ctx.log(f"    prepare_series {p['prepare_series']['seconds']:.2f} s, {p['prepare_series']['peak_bytes'] / mib:.0f} "
            f"MiB; pandas {p['pandas']['seconds']:.2f} s, {p['pandas']['peak_bytes'] / mib:.0f} MiB")
    return result


def windows_metrics(w: dict[str, Any]) -> list[dict[str, Any]]:
    mib = 2**20
    size = f"{w['rows']:,} rows x {w['series']} series, window {w['window']}, horizon {w['horizon']}"
    p = w["prepare"]
    return [
        metric("split_windows / sliding_window_view, time to build the training windows",
               ratio(w["split_windows_seconds"], w["sliding_window_view_seconds"]), "x", at_most=WINDOW_TIME_RATIO,
               note=f"{1e6 * w['split_windows_seconds']:.1f} us vs {1e6 * w['sliding_window_view_seconds']:.1f} us; "
                    f"{size}; all six arrays views: {w['all_views']}"),
        metric("peak memory of split_windows / series array", ratio(w["split_windows_peak_bytes"], w["values_bytes"]),
               "x", at_most=WINDOW_MEMORY_RATIO,
               note=f"RSS {w['split_windows_peak_bytes'] / mib:.2f} MiB, tracemalloc "
                    f"{w['split_windows_tracemalloc_bytes'] / 1024:.1f} KiB, for {w['values_bytes'] / mib:.1f} MiB of "
                    f"series (a copy of the input windows: {w['copied_windows_bytes'] / mib:,.0f} MiB)"),
        metric("peak memory of sliding_window_view / series array",
               ratio(w["sliding_window_view_peak_bytes"], w["values_bytes"]), "x",
               note=f"RSS {w['sliding_window_view_peak_bytes'] / mib:.2f} MiB, tracemalloc "
                    f"{w['sliding_window_view_tracemalloc_bytes'] / 1024:.1f} KiB"),
        metric("prepare_series / hand-written pandas (asfreq + ffill + views), time",
               ratio(p["prepare_series"]["seconds"], p["pandas"]["seconds"]), "x",
               note=f"{p['prepare_series']['seconds']:.2f} s vs {p['pandas']['seconds']:.2f} s from an in-memory table "
                    f"({w['frame_bytes'] / mib:.0f} MiB)"),
        metric("peak memory of prepare_series / series array",
               ratio(p["prepare_series"]["peak_bytes"], p["prepare_series"]["values_bytes"]), "x",
               note=f"RSS {p['prepare_series']['peak_bytes'] / mib:.0f} MiB, tracemalloc "
                    f"{p['prepare_series']['tracemalloc_bytes'] / mib:.0f} MiB"),
        metric("peak memory of hand-written pandas / series array",
               ratio(p["pandas"]["peak_bytes"], p["pandas"]["values_bytes"]), "x",
               note=f"RSS {p['pandas']['peak_bytes'] / mib:.0f} MiB, tracemalloc "
                    f"{p['pandas']['tracemalloc_bytes'] / mib:.0f} MiB"),
    ]


# --- training: WindowBatches vs copied arrays ----------------------------------------------------

def child_training(side: str, rows: int, window: int, horizon: int, epochs: int) -> dict[str, Any]:
    """The default template fitted for `epochs` epochs on windows fed by WindowBatches or as copies."""
    import keras

    from core.build import build_model
    from core.data.kinds import kind_of
    from core.data.series import SeriesSettings, prepare_series
    from core.templates import default_template

    dataset = prepare_series(raw_table(wide_frame(rows)), SeriesSettings(
        target="s1", inputs=("s2", "s3", "s4", "s5"), window=window, horizon=horizon))
    spec = default_template(dataset)
    spec.training["seed"] = SEED
    batch = int(spec.training["batch_size"])
    keras.utils.set_random_seed(SEED)
    model = build_model(spec, dataset)
    marks: list[tuple[float, float]] = []  # (wall, CPU of all threads) at each epoch end

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            marks.append((time.perf_counter(), time.process_time()))

    _baseline()
    start = (time.perf_counter(), time.process_time())
    if side == "window_batches":
        data = kind_of(dataset).fit_data(dataset, batch, SEED)
        copied = 0
    else:
        x, y = np.array(dataset.x_train), np.array(dataset.y_train)
        xv, yv = np.array(dataset.x_val), np.array(dataset.y_val)
        copied = x.nbytes + y.nbytes + xv.nbytes + yv.nbytes
        data = {"x": x, "y": y, "batch_size": batch, "validation_data": (xv, yv), "shuffle": True}
    history = model.fit(**data, epochs=epochs, verbose=0, callbacks=[Clock()])
    epoch_s = [b[0] - a[0] for a, b in zip([start, *marks], marks)]
    epoch_cpu = [b[1] - a[1] for a, b in zip([start, *marks], marks)]
    return {"side": side, "epoch_seconds": epoch_s, "epoch_cpu_seconds": epoch_cpu, "n_train": len(dataset.x_train),
            "n_val": len(dataset.x_val), "batch_size": batch, "values_bytes": int(dataset.series.values.nbytes),
            "copied_bytes": int(copied), "loss": [float(v) for v in history.history["loss"]],
            "val_loss": [float(v) for v in history.history["val_loss"]], "backend": keras.backend.backend()}


def run_training(ctx: Context) -> dict[str, Any]:
    params = {"rows": ctx.size(20_000, 100_000), "window": 64, "horizon": 12, "epochs": 3}
    pairs = ctx.size(1, 2)
    ctx.log(f"  training: {params['rows']:,} rows x 5 series, default template, {params['epochs']} epochs, "
            f"{pairs} pairs ...")
    runs = {"window_batches": [], "arrays": []}
    for i in range(pairs):
        for side in (("window_batches", "arrays") if i % 2 == 0 else ("arrays", "window_batches")):
            runs[side].append(run_child("bench.series:child_training", {"side": side, **params}))
    out = {**params, "pairs": pairs, "runs": runs, "n_train": runs["arrays"][0]["n_train"],
           "n_val": runs["arrays"][0]["n_val"], "batch_size": runs["arrays"][0]["batch_size"],
           "values_bytes": runs["arrays"][0]["values_bytes"], "copied_bytes": runs["arrays"][0]["copied_bytes"]}
    for side, side_runs in runs.items():
        out[side] = {"first_epoch_s": median(r["epoch_seconds"][0] for r in side_runs),
                     "later_epoch_s": median(s for r in side_runs for s in r["epoch_seconds"][1:]),
                     "later_epoch_cpu_s": median(s for r in side_runs for s in r["epoch_cpu_seconds"][1:]),
                     "peak_bytes": max(r["work_peak_bytes"] for r in side_runs)}
    ctx.log(f"    epoch 2: WindowBatches {out['window_batches']['later_epoch_s']:.2f} s, arrays "
            f"{out['arrays']['later_epoch_s']:.2f} s; peaks {out['window_batches']['peak_bytes'] / 2**20:.0f} vs "
            f"{out['arrays']['peak_bytes'] / 2**20:.0f} MiB")
    return out


def training_metrics(t: dict[str, Any]) -> list[dict[str, Any]]:
    mib = 2**20
    wb, ar = t["window_batches"], t["arrays"]
    size = (f"{t['rows']:,} rows x 5 series, window {t['window']}: {t['n_train']:,} training windows, "
            f"batch {t['batch_size']}")
    return [
        metric("epoch after the first: WindowBatches / copied arrays", ratio(wb["later_epoch_s"], ar["later_epoch_s"]),
               "x", note=f"{wb['later_epoch_s']:.2f} s vs {ar['later_epoch_s']:.2f} s; {size}"),
        metric("same in CPU time (all threads; moves less with the machine's load)",
               ratio(wb["later_epoch_cpu_s"], ar["later_epoch_cpu_s"]), "x",
               note=f"{wb['later_epoch_cpu_s']:.2f} s vs {ar['later_epoch_cpu_s']:.2f} s"),
        metric("first epoch (with tracing, and the copy for arrays): WindowBatches / copied arrays",
               ratio(wb["first_epoch_s"], ar["first_epoch_s"]), "x",
               note=f"{wb['first_epoch_s']:.2f} s vs {ar['first_epoch_s']:.2f} s"),
        metric("peak memory while training with WindowBatches / series array",
               ratio(wb["peak_bytes"], t["values_bytes"]), "x",
               note=f"{wb['peak_bytes'] / mib:.0f} MiB for {t['values_bytes'] / mib:.1f} MiB of series"),
        metric("peak memory while training with copied arrays / series array",
               ratio(ar["peak_bytes"], t["values_bytes"]), "x",
               note=f"{ar['peak_bytes'] / mib:.0f} MiB (the copies alone: {t['copied_bytes'] / mib:.0f} MiB)"),
    ]


# --- quality -----------------------------------------------------------------------------------

def quality_series(work: Path) -> list[dict[str, Any]]:
    """(name, source, settings, origin) of every series: samples, public-domain files, synthetic ones."""
    sales = write_daily_sales(work / "daily_sales.csv")
    sensor = write_hourly_sensor(work / "hourly_sensor.csv")
    return [
        {"name": "electrical_equipment", "source": "sample:electrical_equipment", "origin": "sample"},
        {"name": "co2_mauna_loa", "source": "sample:co2_mauna_loa", "origin": "sample"},
        {"name": "sunspots", "source": str(DATA / "sunspots.csv"), "origin": "statsmodels"},
        {"name": "nile", "source": str(DATA / "nile.csv"), "origin": "statsmodels"},
        {"name": "elnino", "source": str(DATA / "elnino.csv"), "origin": "statsmodels"},
        {"name": "realgdp", "source": str(DATA / "macrodata.csv"), "target": "realgdp", "origin": "statsmodels"},
        {"name": "unemp", "source": str(DATA / "macrodata.csv"), "target": "unemp", "origin": "statsmodels"},
        {"name": "cpi", "source": str(DATA / "macrodata.csv"), "target": "cpi", "origin": "statsmodels"},
        {"name": "daily_sales", "source": str(sales), "origin": "synthetic"},
        {"name": "hourly_sensor", "source": str(sensor), "origin": "synthetic"},
    ]


def _load(entry: dict[str, Any]):
    from core.data import load_data
    from core.data.series import SeriesSettings

    settings = SeriesSettings(target=entry.get("target"), window=entry.get("window"), horizon=entry.get("horizon"))
    return load_data(entry["source"], series_settings=settings)


def _use_last_value_reference() -> None:
    """The experiment `--reference last`: the forecast head always starts from the last value (the naive
    forecast), never from one season earlier. Patches core.data.series for this interpreter only."""
    import core.data.series as series

    series.reference_positions = lambda window, horizon, season: [window - 1] * horizon


def _train_and_score(template_id: str, dataset: Any, seed: int, run_dir: Path) -> dict[str, Any]:
    import keras

    from core.evaluate import evaluate
    from core.templates import template
    from core.training import train_in_process

    spec = template(template_id).fresh_spec(dataset.task)
    spec.training["seed"] = seed
    keras.backend.clear_session()
    start = time.perf_counter()
    result = train_in_process(spec, dataset, run_dir)
    seconds = time.perf_counter() - start
    m = evaluate(result.model, dataset).metrics()
    return {
        "seed": seed, "mae": m["mae"], "rmse": m["rmse"], "mape": m["mape"], "naive_mae": m["naive_mae"],
        "seasonal_naive_mae": m["seasonal_naive_mae"], "mae_per_step": m["mae_per_step"],
        "vs_naive": m["mae"] / m["naive_mae"] if m["naive_mae"] else None,
        "vs_seasonal_naive": m["mae"] / m["seasonal_naive_mae"] if m["seasonal_naive_mae"] else None,
        "verdict": m["verdict"], "status": result.status, "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch, "seconds": round(seconds, 2), "params": int(result.model.count_params()),
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over seeds (the ratios averaged seed by seed), and each seed's run."""
    def mean(key: str) -> float | None:
        values = [r[key] for r in runs if r[key] is not None]
        return float(np.mean(values)) if values else None

    ratios = [r["vs_naive"] for r in runs]
    return {"mae": mean("mae"), "naive_mae": runs[0]["naive_mae"], "seasonal_naive_mae": runs[0]["seasonal_naive_mae"],
            "vs_naive": mean("vs_naive"), "vs_naive_min": min(ratios), "vs_naive_max": max(ratios),
            "vs_seasonal_naive": mean("vs_seasonal_naive"), "seeds": [r["seed"] for r in runs],
            "epochs_run": [r["epochs_run"] for r in runs], "seconds": [r["seconds"] for r in runs],
            "verdict": runs[0]["verdict"], "runs": runs}


def child_quality(entries: list[dict[str, Any]], templates: list[str], seeds: list[int], default_seeds: list[int],
                  reference: str = "auto") -> dict[str, Any]:
    """Every template on every series; the default template with `default_seeds`, the others with `seeds`."""
    import keras

    from core.templates import templates_for

    if reference == "last":
        _use_last_value_reference()
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-series-") as tmp:
        for entry in entries:
            dataset = _load(entry)
            s = dataset.series
            default = templates_for(dataset)[0].id
            row: dict[str, Any] = {
                **entry, "target": s.target, "frequency": s.frequency.name, "season": s.season, "window": s.window,
                "horizon": s.horizon, "rows": s.n, "windows": {"train": len(dataset.x_train), "val": len(dataset.x_val),
                                                               "test": len(dataset.x_test)},
                "periods": {"val_start": s.stamp_text(s.val_start), "test_start": s.stamp_text(s.test_start)},
                "default_template": default, "report": s.report, "warnings": list(dataset.warnings),
                "framing": "set" if entry.get("window") else "default", "templates": {},
            }
            for template_id in entry.get("templates", templates):
                runs = [_train_and_score(template_id, dataset, seed, Path(tmp) / f"{len(out)}-{template_id}-{seed}")
                        for seed in (default_seeds if template_id == default else seeds)]
                row["templates"][template_id] = _summary(runs)
            out.append(row)
    return {"series": out, "backend": keras.backend.backend(), "reference": reference}


def run_quality(ctx: Context, templates: list[str] | None = None, only: list[str] | None = None,
                reference: str = "auto") -> dict[str, Any]:
    templates = templates or (TEMPLATE_IDS if not ctx.quick else TEMPLATE_IDS[:1])
    seeds, default_seeds = [SEED], list(range(SEED, SEED + ctx.size(1, DEFAULT_SEEDS)))
    entries = quality_series(ctx.work)
    if only:
        entries = [e for e in entries if e["name"] in only]
    # yearly data are read as rows (whole-number years are not taken as dates): the default template
    # with the yearly defaults (window 10, horizon 3) too
    entries += [{**e, "name": f"{e['name']} (window 10, horizon 3)", "window": 10, "horizon": 3,
                 "templates": [TEMPLATE_IDS[0]]} for e in entries if e["name"] in ("sunspots", "nile")]
    ctx.log(f"  quality: {len(entries)} series x {', '.join(templates)}; seeds {seeds}, the default template "
            f"{default_seeds}{'; head reference: the last value' if reference == 'last' else ''} ...")
    result = run_child("bench.series:child_quality", {"entries": entries, "templates": templates, "seeds": seeds,
                                                      "default_seeds": default_seeds, "reference": reference},
                       timeout=3600)
    for row in result["series"]:
        parts = [f"{tid} {t['mae']:.3g} ({t['vs_naive']:.2f}x naive, {'/'.join(map(str, t['epochs_run']))} ep, "
                 f"{sum(t['seconds']):.0f} s)" for tid, t in row["templates"].items()]
        first = next(iter(row["templates"].values()))
        seasonal = f", seasonal naive {first['seasonal_naive_mae']:.3g}" if first["seasonal_naive_mae"] else ""
        ctx.log(f"    {row['name']}: naive {first['naive_mae']:.3g}{seasonal}; " + "; ".join(parts))
    return {**result, "seeds": seeds, "default_seeds": default_seeds, "templates": templates}


def quality_metrics(q: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in q["series"]:
        for tid, t in r["templates"].items():
            is_default = tid == r["default_template"] and r["framing"] == "default"
            seasonal = (f", {t['vs_seasonal_naive']:.2f}x seasonal naive ({t['seasonal_naive_mae']:.4g})"
                        if t["vs_seasonal_naive"] is not None else "")
            spread = (f" (seeds {t['vs_naive_min']:.2f}-{t['vs_naive_max']:.2f})" if len(t["seeds"]) > 1 else "")
            rows.append(metric(
                f"{r['name']}: {tid}{' (default)' if is_default else ''}, test MAE / naive MAE", t["vs_naive"], "x",
                at_most=1.0 if is_default else None,
                note=f"MAE {t['mae']:.4g}{spread} vs naive {t['naive_mae']:.4g}{seasonal}; {r['frequency']}, window "
                     f"{r['window']}, horizon {r['horizon']}, {r['windows']['test']} test windows; epochs "
                     f"{'/'.join(map(str, t['epochs_run']))}, {sum(t['seconds']):.1f} s, {len(t['seeds'])} seed(s)"))
    return rows


# --- the case ----------------------------------------------------------------------------------

def metrics_for(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    if "windows" in results:
        rows += windows_metrics(results["windows"])
    if "training" in results:
        rows += training_metrics(results["training"])
    if "quality" in results:
        rows += quality_metrics(results["quality"])
    return rows


def run_parts(ctx: Context, parts: tuple[str, ...] = PARTS, templates: list[str] | None = None,
              only: list[str] | None = None, reference: str = "auto") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        started, cpu = time.perf_counter(), _children_cpu()
        load = [round(x, 2) for x in os.getloadavg()]
        if part == "windows":
            out[part] = run_windows(ctx)
        elif part == "training":
            out[part] = run_training(ctx)
        else:
            out[part] = run_quality(ctx, templates, only, reference)
        out[part].update(seconds=round(time.perf_counter() - started, 1), cpu_seconds=round(_children_cpu() - cpu, 1),
                         load_average_before=load, date_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        ctx.log(f"  ({part}: {out[part]['seconds']} s, {out[part]['cpu_seconds']} s of CPU)")
    return out


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def save(results: dict[str, Any], mode: str, name: str = "series") -> Path:
    """Merge into bench/results/series.json (series_quick.json); each part keeps its own date."""
    path = RESULTS / (f"{name}.json" if mode == "full" else f"{name}_quick.json")
    previous = json.loads(path.read_text()) if path.exists() else {"parts": {}}
    merged = {"mode": mode, "environment": environment(), "parts": {**previous.get("parts", {}), **results}}
    merged["metrics"] = metrics_for(merged["parts"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2, default=str) + "\n")
    return path


def run(ctx: Context) -> dict[str, Any]:
    """Case 9 of `python -m bench`: all three parts (also saved to series.json)."""
    results = run_parts(ctx)
    save(results, "quick" if ctx.quick else "full")
    return {**results, "metrics": metrics_for(results)}


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import format_row

    parser = argparse.ArgumentParser(prog="python -m bench.series", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, the default template only (about a minute)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
    parser.add_argument("--templates", help=f"comma-separated template ids (default: {', '.join(TEMPLATE_IDS)})")
    parser.add_argument("--series", help="comma-separated series names for the quality part (default: all)")
    parser.add_argument("--reference", choices=("auto", "last"), default="auto",
                        help="experiment: 'last' makes the forecast head start from the last value on every series "
                             "(results go to series_reference_last.json)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data folder")
    args = parser.parse_args(argv)
    parts = tuple(p for p in args.parts.split(",") if p)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    mode = "quick" if args.quick else "full"
    work = Path(tempfile.mkdtemp(prefix="layerlab-bench-series-"))
    ctx = Context(quick=args.quick, work=work, log=lambda m: print(m, flush=True))
    print(f"LayerLab time-series benchmarks ({mode} mode), scratch folder {work}", flush=True)
    try:
        results = run_parts(ctx, parts, args.templates.split(",") if args.templates else None,
                            args.series.split(",") if args.series else None, args.reference)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    path = save(results, mode, "series" if args.reference == "auto" else "series_reference_last")
    for row in metrics_for(results):
        print("  " + format_row(row))
    print(f"written to {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
