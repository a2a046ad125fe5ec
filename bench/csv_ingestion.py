"""Case 3: CSV ingestion. A 1,000,000-row x 20-column CSV to a training-ready Dataset.

Ours: `core.data.load_data(path, target=...)` (read, detect kinds, split, impute, one-hot).
Reference: `pandas.read_csv(path, engine="pyarrow")` alone, which only parses.
Each run is a fresh interpreter that first imports the same libraries (pandas, pyarrow,
core.data), so the peak memory reported is what the work itself needed.
"""
from __future__ import annotations

import time
from typing import Any

from bench import synthetic
from bench.harness import Context, mark_baseline, median, metric, ratio, run_child, warm_file_cache

NAME = "csv_ingestion"
TITLE = "3. CSV ingestion"


def _import_libraries() -> None:
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401  (pandas' engine="pyarrow" imports it on first use)

    import core.data  # noqa: F401


def child_ours(path: str, target: str) -> dict[str, Any]:
    _import_libraries()
    from core.data import load_data

    mark_baseline()
    start = time.perf_counter()
    dataset = load_data(path, target=target)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": dataset.n_rows, "inputs": list(dataset.input_shape),
            "task": dataset.task, "features": len(dataset.features)}


def child_pandas(path: str) -> dict[str, Any]:
    _import_libraries()
    import pandas as pd

    mark_baseline()
    start = time.perf_counter()
    frame = pd.read_csv(path, engine="pyarrow")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": len(frame), "columns": len(frame.columns)}


def table_csv(ctx: Context) -> tuple[Any, int]:
    """The shared benchmark CSV (generated once per run; case 5 loads it too)."""
    rows = ctx.size(100_000, 1_000_000)
    if "table_csv" not in ctx.data:
        path = ctx.work / f"table_{rows}.csv"
        ctx.log(f"  generating {rows:,}-row CSV ...")
        synthetic.write_table_csv(path, rows)
        ctx.data["table_csv"] = path
    return ctx.data["table_csv"], rows


def run(ctx: Context) -> dict[str, Any]:
    path, rows = table_csv(ctx)
    warm_file_cache(path)
    file_bytes = path.stat().st_size
    repeats = ctx.size(1, 5)
    ours, pandas_runs = [], []
    for _ in range(repeats):  # alternate so drifting machine load hits both sides alike
        pandas_runs.append(run_child("bench.csv_ingestion:child_pandas", {"path": str(path)}))
        ours.append(run_child("bench.csv_ingestion:child_ours", {"path": str(path), "target": synthetic.TARGET}))
    ours_s = median(r["seconds"] for r in ours)
    pandas_s = median(r["seconds"] for r in pandas_runs)
    ours_peak = max(r["work_peak_bytes"] for r in ours)
    pandas_peak = max(r["work_peak_bytes"] for r in pandas_runs)
    return {
        "rows": rows,
        "columns": 20,
        "file_bytes": file_bytes,
        "repeats": repeats,
        "ours_seconds": ours_s,
        "pandas_seconds": pandas_s,
        "ours_peak_bytes": ours_peak,
        "pandas_peak_bytes": pandas_peak,
        "dataset": {k: ours[0][k] for k in ("rows", "inputs", "task", "features")},
        "metrics": [
            metric("time: load_data / pandas.read_csv(pyarrow)", ratio(ours_s, pandas_s), "x", at_most=1.5),
            metric("peak memory of load_data / file size", ratio(ours_peak, file_bytes), "x", at_most=3.0),
            metric("peak memory of read_csv alone / file size", ratio(pandas_peak, file_bytes), "x"),
            metric("load_data time", ours_s, "s"),
            metric("read_csv time", pandas_s, "s"),
        ],
    }
