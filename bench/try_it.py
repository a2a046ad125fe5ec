"""Try it: a helper process against LiteRT inside the web server (the app's choice since this bench).

    .venv/bin/python -m bench.try_it [--repeats 100] [--out bench/results/try_it.json]

The same question both ways, for the iris and digits samples' default designs (trained 5
epochs): one filled-in row or one picture, answered
- by a warm helper process (core.training.task_service; the app's fallback for a run without a
  float32 file): the server sends the decoded input array through a pipe and gets the model's
  outputs back; the helper keeps the model loaded. Measured: the server's wall time per answer,
  and the helper's resident size.
- by LiteRT in the server process: the run's float32 TFLite file in `ai_edge_litert`'s
  Interpreter, created once per run, invoked per answer (the app creates one per answer:
  `create_s` more each time). Measured: the wall time per answer, and what importing LiteRT and
  creating the interpreter add to the server's resident size (in a fresh interpreter that has
  imported what the server imports), plus the one-off cost of making the float32 file (a
  conversion in a worker: seconds of CPU per run).
Both must give the same outputs (to 1e-5) as the Keras model. Each side runs in its own
interpreter so neither pays for the other's imports.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.harness import REPO, current_rss_bytes, environment

RESULT = REPO / "bench" / "results" / "try_it.json"
SAMPLES = ("iris", "digits")


def prepare(folder: Path) -> dict:
    """Train each sample's default design into a run folder as the app's worker leaves it, and
    convert its float32 TFLite file (timed)."""
    from core.data import load_sample
    from core.export import tflite_bytes
    from core.templates import default_template
    from core.training import train_in_process
    from core.training.rundir import RunDir, write_job

    out = {}
    for name in SAMPLES:
        dataset = load_sample(name)
        spec = default_template(dataset)
        spec.training.update(epochs=5, seed=1)
        run_dir = folder / name
        write_job(RunDir(run_dir), spec, dataset)
        result = train_in_process(spec, dataset, run_dir, evaluate=True)
        start = time.perf_counter()
        content = tflite_bytes(result.model, "float32", dataset)
        convert_s = time.perf_counter() - start
        (run_dir / "model_float32.tflite").write_bytes(content)
        x = np.asarray(dataset.x_test[:20], dtype=np.float32)
        np.save(run_dir / "questions.npy", x)
        np.save(run_dir / "keras_answers.npy", result.model.predict(x, verbose=0))
        out[name] = {"convert_float32_s": round(convert_s, 3)}
    return out


def _server_baseline() -> None:
    """What the web server has imported by the time someone presses Predict."""
    import pandas  # noqa: F401
    import PIL.Image  # noqa: F401
    import streamlit  # noqa: F401

    import core.data  # noqa: F401
    import core.predict  # noqa: F401


def measure_helper(folder: Path, repeats: int) -> dict:
    _server_baseline()
    from core.training.task_service import TaskService

    service = TaskService()
    out = {}
    try:
        for name in SAMPLES:
            run_dir = folder / name
            x = np.load(run_dir / "questions.npy")
            first = time.perf_counter()
            outputs = service.run("predict", run_dir, x=x[:1])
            first_s = time.perf_counter() - first
            times, worst = [], 0.0
            for i in range(repeats):
                one = x[i % len(x)][None]
                start = time.perf_counter()
                got = service.run("predict", run_dir, x=one)
                times.append(time.perf_counter() - start)
                worst = max(worst, float(np.max(np.abs(got - np.load(run_dir / "keras_answers.npy")[i % len(x)][None]))))
            helper_rss = _rss_of(service.pids()[0])
            out[name] = {"first_answer_s": round(first_s, 3), "median_s": statistics.median(times),
                         "p95_s": sorted(times)[int(0.95 * (len(times) - 1))], "max_abs_diff_vs_keras": worst,
                         "helper_rss_mb": round(helper_rss / 2**20, 1)}
            del outputs
        out["server_rss_mb"] = round(current_rss_bytes() / 2**20, 1)
    finally:
        service.shutdown()
    return out


def measure_litert(folder: Path, repeats: int) -> dict:
    _server_baseline()
    before = current_rss_bytes()
    start = time.perf_counter()
    from ai_edge_litert.interpreter import Interpreter

    out = {"import_s": round(time.perf_counter() - start, 3), "import_rss_mb": round((current_rss_bytes() - before) / 2**20, 1)}
    for name in SAMPLES:
        run_dir = folder / name
        x = np.load(run_dir / "questions.npy")
        keras_answers = np.load(run_dir / "keras_answers.npy")
        before = current_rss_bytes()
        start = time.perf_counter()
        interpreter = Interpreter(model_content=(run_dir / "model_float32.tflite").read_bytes())
        inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        interpreter.allocate_tensors()
        create_s = time.perf_counter() - start
        times, worst = [], 0.0
        for i in range(repeats):
            one = x[i % len(x)][None]
            start = time.perf_counter()
            interpreter.set_tensor(inp["index"], one)
            interpreter.invoke()
            got = interpreter.get_tensor(outp["index"])
            times.append(time.perf_counter() - start)
            worst = max(worst, float(np.max(np.abs(got - keras_answers[i % len(x)][None]))))
        out[name] = {"create_s": round(create_s, 4), "median_s": statistics.median(times),
                     "p95_s": sorted(times)[int(0.95 * (len(times) - 1))], "max_abs_diff_vs_keras": worst,
                     "interpreter_rss_mb": round((current_rss_bytes() - before) / 2**20, 1)}
    out["server_rss_mb"] = round(current_rss_bytes() / 2**20, 1)
    return out


def _rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _child(side: str, folder: str, repeats: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.try_it", "--side", side, "--folder", folder, "--repeats", str(repeats)],
                          cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--side", choices=("prepare", "helper", "litert"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        folder = Path(args.folder)
        work = {"prepare": lambda: prepare(folder), "helper": lambda: measure_helper(folder, args.repeats),
                "litert": lambda: measure_litert(folder, args.repeats)}[args.side]
        print(json.dumps(work()), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="layerlab-try-it-") as tmp:
        result = {"environment": environment(), "repeats": args.repeats,
                  "prepared": _child("prepare", tmp, args.repeats),
                  "helper": _child("helper", tmp, args.repeats),
                  "litert": _child("litert", tmp, args.repeats)}
    for name in SAMPLES:
        helper, litert = result["helper"][name], result["litert"][name]
        result[f"{name}_ratio_helper_over_litert"] = round(helper["median_s"] / litert["median_s"], 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
