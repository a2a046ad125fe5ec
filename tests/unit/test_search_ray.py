"""A design search through Ray Tune on a real Ray head started on 127.0.0.1 for this module (stopped by its
process group in a finally, never with `ray stop`, which would end every Ray on the machine)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from core.data import load_sample
from core.search.driver import run_search
from core.search.handle import prepare
from core.search.strategies import SearchSettings
from core.templates import default_template

RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head():
    """`ray start --head --block` on loopback in its own session; yields its address."""
    if not RAY.exists():
        pytest.skip("Ray is not installed (make ray)")
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    token = Path.home() / ".ray" / "auth_token"
    if token.exists():  # a head started while this file exists requires token authentication
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    port = free_port()
    temp_dir = tempfile.mkdtemp(prefix="lr")  # short: Ray's socket paths must fit 107 characters
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    saved = {k: os.environ.get(k) for k in env if k.startswith("RAY_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("RAY_")})  # the driver's side talks to it alike
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if head.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the Ray head did not start")
                time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        try:
            os.killpg(head.pid, signal.SIGTERM)  # the head, GCS, raylet and its workers: one session
            head.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        import shutil

        shutil.rmtree(temp_dir, ignore_errors=True)


def test_a_search_runs_through_ray_tune_on_a_local_head(ray_head: str, tmp_path: Path) -> None:
    iris = load_sample("iris")
    space = {"layers.0.units": {"choice": [8, 16]}, "optimizer.learning_rate": {"choice": [0.01, 0.05]}}
    prepare(default_template(iris), iris, space,
            SearchSettings(strategy="grid", trials=2, epochs=2, pruner="median", ray_address=ray_head), tmp_path)
    ended = []
    log = run_search(tmp_path, on_trial_end=ended.append)

    assert log.error is None and log.state == "done", log.message
    trials = json.loads((tmp_path / "trials.json").read_text())
    rows = trials["trials"]
    assert [r["id"] for r in rows] == [1, 2] and sorted(r.id for r in ended) == [1, 2]
    assert len({json.dumps(r["settings"], sort_keys=True) for r in rows}) == 2
    for row in rows:
        assert row["state"] == "finished" and row["epochs"] == 2 and len(row["curve"]) == 2
        assert 0 <= row["score"] <= 1
        # the trial's run folder came back from the (local) worker with its design
        assert {"best.keras", "events.jsonl", "result.json", "project.json"} <= {
            p.name for p in (tmp_path / "trials" / f"{row['id']:04d}").iterdir()}
    assert trials["best"] == max(rows, key=lambda r: (r["score"], -r["id"]))["id"]
