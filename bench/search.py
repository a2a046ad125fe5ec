"""Design search (issue 24): parallel trials, Ray Tune, pruning, and what a search gains.

    .venv/bin/python -m bench.search [--trials 16] [--epochs 10] [--no-ray] [--no-gain] [--out bench/results/search.json]

- local parallel ÷ sequential: the same 16 random trials of the iris default design (a small MLP,
  `--epochs` each, no pruner, no early stopping) with 2 trial workers, then with 1 (target ≤ 0.65);
- Ray ÷ local: the same search through Ray Tune on a local head (`ray start --head` on 127.0.0.1,
  2 CPUs; target ≤ 1.3), with Ray's own costs apart: the head's start-up and resident size, and a
  driver's `ray.init(address=...)` time and resident growth in a fresh interpreter;
- pruning: 16 TPE trials of 30 epochs, median pruner vs none (same seed): epochs spent (target ≤
  0.6) and the best validation score (within 1 point);
- gain: `python -m core search` (default space, 8 TPE trials, median pruner) against `python -m core
  train` of the default template, both 30 epochs, on each table sample's test split (never used to
  choose).
Each search runs the real driver (core.search.driver.run_search) in this process; trials train in
spawned workers. Numbers depend on the machine's load: the result file records it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import REPO, environment

RESULT = REPO / "bench" / "results" / "search.json"
SPACE = {"optimizer.learning_rate": {"log_uniform": [1e-3, 1e-1]}, "layers.0.units": {"choice": [8, 16, 32, 64]},
         "layers.1.rate": {"uniform": [0.0, 0.5]}, "training.batch_size": {"choice": [16, 32, 64]}}
GAIN_SAMPLES = ("iris", "wine", "breast_cancer", "diabetes")


def iris_design(epochs: int) -> tuple[Any, Any]:
    from core.data import load_sample
    from core.spec import ProjectSpec
    from core.templates import default_template

    iris = load_sample("iris")
    base = default_template(iris).to_dict()
    base["training"].update(epochs=epochs, early_stopping_patience=0)
    return ProjectSpec.from_dict(base), iris


def one_search(spec: Any, dataset: Any, settings: Any) -> dict[str, Any]:
    from core.search.driver import run_search
    from core.search.handle import prepare

    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
        prepare(spec, dataset, SPACE, settings, folder)
        started = time.perf_counter()
        log = run_search(folder)
        wall = time.perf_counter() - started
        rows = list(log.rows.values())
    best = log.best()
    return {
        "wall_s": round(wall, 2), "state": log.state, "message": log.message, "trials": len(rows),
        "epochs_total": sum(r.epochs for r in rows),
        "states": {s: sum(1 for r in rows if r.state == s) for s in ("finished", "pruned", "failed")},
        "best_score": best.score if best else None, "metric": log.metric,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_rss_mb(pgid: int) -> float:
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int((proc / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return round(total / 2**20, 1)


def with_ray_head(run: Any) -> dict[str, Any]:
    """Start a local head in its own session, run `run(address, pgid)`, end the session's processes."""
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    os.environ.update({"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"})
    port, temp_dir = _free_port(), tempfile.mkdtemp(prefix="lrb")
    started = time.perf_counter()
    head = subprocess.Popen(
        [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
         f"--port={port}", "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={temp_dir}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        out = {"head_start_s": round(time.perf_counter() - started, 2)}
        time.sleep(3)
        out["head_rss_mb_idle"] = _group_rss_mb(head.pid)
        out.update(run(f"127.0.0.1:{port}", head.pid))
        return out
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(head.pid, sig)
                head.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        import shutil

        shutil.rmtree(temp_dir, ignore_errors=True)


INIT_PROBE = """
import json, sys, time
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096
before = rss(); t = time.perf_counter()
import ray
ray.init(address=sys.argv[1], logging_level=40, log_to_driver=False)
print(json.dumps({"ray_init_s": round(time.perf_counter() - t, 2), "driver_rss_growth_mb": round((rss() - before) / 2**20, 1)}))
ray.shutdown()
"""


def ray_part(spec: Any, dataset: Any, settings: Any) -> dict[str, Any]:
    from dataclasses import replace

    def run(address: str, pgid: int) -> dict[str, Any]:
        probe = subprocess.run([sys.executable, "-c", INIT_PROBE, address], capture_output=True, text=True, timeout=300)
        out: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1]) if probe.returncode == 0 else {
            "probe_error": probe.stderr[-500:]}
        out["search"] = one_search(spec, dataset, replace(settings, ray_address=address, parallel=None))
        out["head_rss_mb_after_search"] = _group_rss_mb(pgid)
        return out

    return with_ray_head(run)


def gain(sample: str, epochs: int, trials: int) -> dict[str, Any]:
    from core.data import load_sample
    from core.search.space import default_space
    from core.templates import default_template

    dataset = load_sample(sample)
    space = default_space(default_template(dataset), dataset)
    with tempfile.TemporaryDirectory(prefix="bench-gain-") as tmp:
        space_file = Path(tmp) / "space.json"
        space_file.write_text(json.dumps(space))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        started = time.perf_counter()
        searched = subprocess.run([sys.executable, "-m", "core", "search", f"sample:{sample}", "--space", str(space_file),
                                   "--trials", str(trials), "--strategy", "tpe", "--pruner", "median", "--epochs",
                                   str(epochs), "--out", f"{tmp}/search"], cwd=REPO, env=env, capture_output=True,
                                  text=True)
        search_s = time.perf_counter() - started
        trained = subprocess.run([sys.executable, "-m", "core", "train", f"sample:{sample}", "--epochs", str(epochs),
                                  "--out", f"{tmp}/default"], cwd=REPO, env=env, capture_output=True, text=True)
        if searched.returncode or trained.returncode:
            return {"error": (searched.stderr or trained.stderr)[-800:]}
        best = json.loads(Path(f"{tmp}/search/model/metrics.json").read_text())
        default = json.loads(Path(f"{tmp}/default/metrics.json").read_text())
        chosen = json.loads(Path(f"{tmp}/search/project.json").read_text())
    key = "accuracy" if "accuracy" in best else "mae"
    return {"metric": f"test {key}", "default": round(default[key], 4), "searched": round(best[key], 4),
            "gain": round((best[key] - default[key]) * (1 if key == "accuracy" else -1), 4),
            "search_wall_s": round(search_s, 1), "space": space,
            "best_design": {"layers": chosen["layers"], "optimizer": chosen["optimizer"],
                            "batch_size": chosen["training"]["batch_size"]}}


def main(argv: list[str] | None = None) -> int:
    from core.quiet import quiet_libraries
    from core.search.strategies import SearchSettings

    quiet_libraries()
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--no-gain", action="store_true")
    parser.add_argument("--parallel-only", action="store_true", help="only 2 trial workers vs 1 (for an idle machine)")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"environment": environment(), "trials": args.trials, "epochs": args.epochs}

    def save() -> None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results, indent=2)[-1500:], flush=True)

    spec, iris = iris_design(args.epochs)
    settings = SearchSettings(strategy="random", trials=args.trials, pruner="none", seed=1)
    results["local_sequential"] = one_search(spec, iris, SearchSettings(**{**settings.to_json(), "parallel": 1}))
    save()
    results["local_parallel_2"] = one_search(spec, iris, SearchSettings(**{**settings.to_json(), "parallel": 2}))
    results["parallel_over_sequential"] = round(results["local_parallel_2"]["wall_s"] / results["local_sequential"]["wall_s"], 3)
    save()
    if args.parallel_only:
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        save()
        return 0
    if not args.no_ray:
        results["ray"] = ray_part(spec, iris, SearchSettings(**{**settings.to_json(), "parallel": 2}))
        results["ray_over_local"] = round(results["ray"]["search"]["wall_s"] / results["local_parallel_2"]["wall_s"], 3)
        save()
    long_spec, _ = iris_design(30)
    tpe = {"strategy": "tpe", "trials": args.trials, "parallel": 2, "seed": 1}
    results["pruning_none"] = one_search(long_spec, iris, SearchSettings(**tpe, pruner="none"))
    results["pruning_median"] = one_search(long_spec, iris, SearchSettings(**tpe, pruner="median"))
    results["pruned_epochs_ratio"] = round(results["pruning_median"]["epochs_total"] / results["pruning_none"]["epochs_total"], 3)
    results["pruned_best_score_change_points"] = round(
        100 * (results["pruning_median"]["best_score"] - results["pruning_none"]["best_score"]), 2)
    save()
    if not args.no_gain:
        results["gain"] = {}
        for sample in GAIN_SAMPLES:
            results["gain"][sample] = gain(sample, 30, 8)
            save()
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
