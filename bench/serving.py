"""Serving over HTTP (issue 23): `python -m core serve` on loopback, measured from this process.

    .venv/bin/python -m bench.serving [--seconds 20] [--clients 8] [--sample breast_cancer]
                                      [--out bench/results/serving.json]

1. `python -m core train sample:NAME --epochs 5 --out TMP` (the default design).
2. `python -m core serve TMP` on a free loopback port (a real process, stopped by its PID).
3. Single rows: `--clients` threads, each with its own keep-alive connection, post one row at a
   time for `--seconds` (at most 200,000 requests): requests/s, p50 and p99 latency, and the
   server's model calls (GET /health) -> rows per model call (micro-batching at work).
4. A 1,000-row batch request, 10 times: rows/s (median), against a direct `model.predict` of the
   same 1,000 decoded rows in this process (median of 10, after one warm-up): the ratio (target
   >= 0.8). Also one row through `model.predict`, the cost a service paying one predict call per
   request would add per request.
The clients, the server and the direct model share the machine's cores.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench.harness import REPO, environment

RESULT = REPO / "bench" / "results" / "serving.json"
MAX_REQUESTS = 200_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(conn: http.client.HTTPConnection, body: bytes) -> dict:
    conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
    answer = conn.getresponse()
    data = answer.read()
    if answer.status != 200:
        raise RuntimeError(f"{answer.status}: {data[:300]!r}")
    return json.loads(data)


def _health(port: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/health")
    return json.loads(conn.getresponse().read())


def _rows(folder: Path, n: int) -> list[dict]:
    """n raw rows from the sample's test split, as JSON rows with the training column names."""
    from core.data import load_sample

    info = json.loads((folder / "preprocessing.json").read_text())
    dataset = load_sample(SAMPLE)
    names = info["input_names"]
    x = np.asarray(dataset.x_test, dtype=np.float64)
    x = np.concatenate([x] * (n // len(x) + 1))[:n]
    return [{name: float(v) for name, v in zip(names, row)} for row in x]


SAMPLE = "breast_cancer"


def main(argv: list[str] | None = None) -> int:
    global SAMPLE
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--sample", default=SAMPLE)
    p.add_argument("--out", default=str(RESULT))
    args = p.parse_args(argv)
    SAMPLE = args.sample
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result: dict = {"environment": environment(), "sample": SAMPLE, "clients": args.clients, "seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        folder = Path(tmp) / "model"
        subprocess.run([sys.executable, "-m", "core", "train", f"sample:{SAMPLE}", "--epochs", "5", "--out", str(folder)],
                       cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "core", "serve", str(folder), "--port", str(port)],
                                  cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = time.perf_counter()
            while True:
                try:
                    _health(port)
                    break
                except OSError:
                    if server.poll() is not None or time.perf_counter() - started > 180:
                        raise RuntimeError("the server did not start")
                    time.sleep(0.2)
            result["server_start_s"] = round(time.perf_counter() - started, 2)
            rows = _rows(folder, 1000)
            result["single_rows"] = _single_rows(port, rows, args.clients, args.seconds)
            result["batch"] = _batch(port, folder, rows)
        finally:
            server.terminate()
            server.wait(timeout=30)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "environment"}, indent=2))
    return 0


def _single_rows(port: int, rows: list[dict], clients: int, seconds: float) -> dict:
    bodies = [json.dumps({"rows": [row]}).encode() for row in rows[:200]]
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for body in bodies[:20]:
        _post(warm, body)
    before = _health(port)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop_at = time.perf_counter() + seconds
    count = [0]
    lock = threading.Lock()

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        j = k
        while time.perf_counter() < stop_at:
            with lock:
                if count[0] >= MAX_REQUESTS:
                    return
                count[0] += 1
            t0 = time.perf_counter()
            _post(conn, bodies[j % len(bodies)])
            latencies[k].append(time.perf_counter() - t0)
            j += clients

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    after = _health(port)
    flat = np.array([x for part in latencies for x in part])
    requests = after["requests"] - before["requests"]
    calls = after["model_calls"] - before["model_calls"]
    return {
        "requests": int(flat.size),
        "requests_per_s": round(flat.size / elapsed, 1),
        "p50_ms": round(float(np.percentile(flat, 50)) * 1000, 2),
        "p99_ms": round(float(np.percentile(flat, 99)) * 1000, 2),
        "model_calls": calls,
        "rows_per_model_call": round(requests / calls, 2) if calls else None,
    }


def _batch(port: int, folder: Path, rows: list[dict]) -> dict:
    import pandas as pd

    from core.cli.predict import load_folder_model, read_contract
    from core.quiet import import_keras

    body = json.dumps({"rows": rows}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    _post(conn, body)
    served = []
    for _ in range(10):
        t0 = time.perf_counter()
        answer = _post(conn, body)
        served.append(time.perf_counter() - t0)
    assert len(answer["predictions"]) == len(rows)
    import_keras()
    contract = read_contract(folder)
    model = load_folder_model(folder, contract)
    x = np.asarray(contract.inputs_from_frame(pd.DataFrame(rows)).x, dtype=np.float32)
    model.predict(x, verbose=0)
    direct = []
    for _ in range(10):
        t0 = time.perf_counter()
        model.predict(x, verbose=0)
        direct.append(time.perf_counter() - t0)
    one = []
    for k in range(20):
        t0 = time.perf_counter()
        model.predict(x[k:k + 1], verbose=0)
        one.append(time.perf_counter() - t0)
    served_rate = len(rows) / statistics.median(served)
    direct_rate = len(rows) / statistics.median(direct)
    return {
        "rows": len(rows),
        "request_ms_median": round(statistics.median(served) * 1000, 1),
        "rows_per_s": round(served_rate),
        "direct_predict_ms_median": round(statistics.median(direct) * 1000, 1),
        "direct_predict_rows_per_s": round(direct_rate),
        "ratio": round(served_rate / direct_rate, 2),
        "one_row_predict_ms_median": round(statistics.median(one) * 1000, 1),
    }


if __name__ == "__main__":
    raise SystemExit(main())
