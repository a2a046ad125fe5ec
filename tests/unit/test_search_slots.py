"""The app's searches and every session's runs share the training service's cap (issue 24's fairness fix):
slot accounting with stand-in processes (nothing trains here), a queued search seen through its handle, and
a trial timed from its own start event. The real search that gives its slot to a queued run is in
test_search_run.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.data import load_sample
from core.search.driver import SearchLog, _Running, _read_events
from core.search.handle import SearchFolder, SearchHandle, start_search
from core.search.strategies import SearchSettings
from core.search.trials import STOPPED_BY_USER, TrialRow
from core.spec import ProjectSpec
from core.templates import default_template
from core.training.service import TrainingService


class Process:
    """Stands in for a search driver's process: alive until end()."""

    def __init__(self) -> None:
        self.alive = True

    def is_alive(self) -> bool:
        return self.alive

    def end(self) -> None:
        self.alive = False

    kill = end

    def join(self, timeout=None) -> None:
        pass


@pytest.fixture()
def iris():
    return load_sample("iris")


def tiny(iris) -> ProjectSpec:
    return default_template(iris)


def test_with_a_cap_of_one_a_run_waits_for_the_search_holding_the_slot(iris, tmp_path: Path) -> None:
    service = TrainingService(max_concurrent=1, keep_warm=False)
    try:
        driver, started = Process(), []
        search = service.lease(2, lambda k: started.append(k) or driver)
        assert (search.state, search.slots, started) == ("running", 1, [1])  # wanted 2, the cap is 1
        run = service.start(tiny(iris), iris, tmp_path / "run")
        other = service.lease(1, lambda k: pytest.fail("a withdrawn search must never start"))
        assert (run.state, run.queue_position, other.queue_position) == ("queued", 1, 2)
        other.withdraw()
        assert other.state == "done" and run.queue_position == 1
        driver.end()  # the search is over: its driver (and with it its trial workers) exited
        service.pump()
        assert run.state == "running" and search.state == "done" and service.slots_used == 1
        run.kill()
    finally:
        service.shutdown()


def test_two_searches_with_a_cap_of_two_get_one_worker_each_and_a_third_waits(iris, tmp_path: Path) -> None:
    service = TrainingService(max_concurrent=2, keep_warm=False)
    try:
        drivers = [Process() for _ in range(3)]
        stops = []
        a, b, c = (service.lease(2, lambda k, p=p: p, stop=lambda p=p: stops.append(p)) for p in drivers)
        assert (a.slots, b.slots, c.state, c.queue_position) == (1, 1, "queued", 1)  # never every slot to one search
        run = service.start(tiny(iris), iris, tmp_path / "run")
        assert run.queue_position == 2
        drivers[0].end()
        service.pump()
        assert (a.state, c.state, c.slots, run.queue_position) == ("done", "running", 1, 1)
        service.max_run_seconds = 1e-6  # a search past the server's hard limit is asked to stop, once
        service.pump()
        service.pump()
        assert stops == drivers[1:]
    finally:
        service.shutdown()


def test_a_search_without_a_free_slot_says_it_is_queued_and_can_be_withdrawn(iris, tmp_path: Path, monkeypatch) -> None:
    launched = []
    monkeypatch.setattr(SearchHandle, "_launch", lambda self, workers: launched.append(workers) or Process())
    service = TrainingService(max_concurrent=1, keep_warm=False)
    try:
        holder = Process()
        service.lease(1, lambda k: holder)
        space = {"layers.0.units": {"choice": [8, 16]}}
        settings = SearchSettings(strategy="grid", trials=2, parallel=2, pruner="none")
        handle = start_search(tiny(iris), iris, space, settings, tmp_path / "a", service=service)
        waiting = start_search(tiny(iris), iris, space, settings, tmp_path / "b", service=service)
        assert (handle.state, handle.queue_position, handle.running, launched) == ("queued", 1, True, [])
        waiting.stop()
        waiting.poll()
        assert (waiting.state, waiting.message, waiting.running) == ("stopped", STOPPED_BY_USER, False)
        holder.end()
        service.pump()
        assert launched == [1] and handle.slots == 1 and handle.queue_position is None
    finally:
        service.shutdown()


def test_a_trial_is_timed_from_its_own_start_event_not_its_workers_tensorflow_import(tmp_path: Path) -> None:
    class Trial:
        def report(self, value, step): pass
        def should_prune(self): return False

    events = [{"type": "start"}, {"type": "epoch", "epoch": 1, "logs": {"val_loss": 0.5, "loss": 0.6}, "elapsed": 1.25},
              {"type": "end", "status": "finished", "message": "", "elapsed": 2.5}]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    log = SearchLog(SearchFolder(tmp_path), "val_loss", "minimize")
    item = _Running(Trial(), log.add(TrialRow(1, {})), tmp_path)
    item.started = -1e9  # when the driver handed it over, long before: a worker's TensorFlow import
    assert _read_events(item, log)
    assert (item.row.seconds, item.row.epochs, item.row.score) == (2.5, 1, 0.5)
