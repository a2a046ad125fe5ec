"""`python -m bench [--quick] [--only CASE,...]`: run the benchmarks, write JSON, print a table.

Results go to bench/results/<full|quick>.json. With --only, the named cases are re-run and
merged into that file (each case keeps its own date), so one case can be re-measured
after a fix without repeating the rest.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.harness import REPO, Context, environment

CASES = [
    "training_overhead",
    "csv_ingestion",
    "image_ingestion",
    "responsiveness",
    "live_view",
    "export_tflite",
    "gpu",
    "text",
    "series",
    "quick_start",
]
RESULTS = REPO / "bench" / "results"


def _log(message: str) -> None:
    print(message, flush=True)


def _run_case(name: str, ctx: Context) -> dict[str, Any]:
    module = importlib.import_module(f"bench.{name}")
    _log(f"== {module.TITLE}")
    load = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews timings
    start = time.perf_counter()
    try:
        result = module.run(ctx)
    except Exception as err:  # one broken case must not hide the others' numbers
        tail = traceback.format_exc().strip().splitlines()[-12:]
        _log(f"  FAILED: {type(err).__name__}: {err}")
        result = {"error": "\n".join(tail), "metrics": []}
    result.update(title=module.TITLE, seconds=round(time.perf_counter() - start, 1), load_average_before=load,
                  date_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if result.get("not_run"):
        _log("  " + result["not_run"])
    for row in result["metrics"]:
        _log("  " + format_row(row))
    _log(f"  ({result['seconds']} s)")
    return result


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def format_row(row: dict[str, Any]) -> str:
    verdict = {True: "met", False: "MISSED", None: ""}[row["met"]]
    target = f" (target {row['target']}: {verdict})" if row["target"] else ""
    note = f"  [{row['note']}]" if row.get("note") else ""
    return f"{row['name']}: {format_value(row['value'])} {row['unit']}{target}{note}"


def table(results: dict[str, Any]) -> str:
    lines = ["| case | measure | value | target | met |", "|---|---|---|---|---|"]
    for name in CASES:
        case = results["cases"].get(name)
        if not case:
            continue
        if case.get("error"):
            lines.append(f"| {case['title']} | error | {case['error'].splitlines()[-1]} | | |")
        if case.get("not_run"):
            lines.append(f"| {case['title']} | not run | {case['not_run']} | | |")
        for row in case["metrics"]:
            met = {True: "yes", False: "**no**", None: ""}[row["met"]]
            lines.append(f"| {case['title']} | {row['name']} | {format_value(row['value'])} {row['unit']} "
                         f"| {row['target'] or ''} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: finishes in under 5 minutes")
    parser.add_argument("--only", help=f"comma-separated cases: {', '.join(CASES)}")
    parser.add_argument("--keep", action="store_true", help="keep the generated data folder")
    parser.add_argument("--table", action="store_true", help="only print the saved results as a Markdown table")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    out_path = RESULTS / f"{mode}.json"
    if args.table:
        print(table(json.loads(out_path.read_text())))
        return 0
    selected = args.only.split(",") if args.only else CASES
    unknown = [c for c in selected if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")

    previous = json.loads(out_path.read_text()) if args.only and out_path.exists() else {"cases": {}}
    work = Path(tempfile.mkdtemp(prefix="layerlab-bench-"))
    ctx = Context(quick=args.quick, work=work, log=_log)
    env = environment()
    started = time.perf_counter()
    _log(f"LayerLab benchmarks ({mode} mode), scratch folder {work}")
    try:
        cases = {name: _run_case(name, ctx) for name in CASES if name in selected}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results = {
        "mode": mode,
        "environment": env,
        "seconds": round(time.perf_counter() - started, 1),
        "cases": {**previous.get("cases", {}), **cases},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    _log("\n" + table(results))
    _log(f"\nwritten to {out_path.relative_to(REPO)} in {results['seconds']} s")
    return 1 if any(c.get("error") for c in cases.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
