"""start_search and SearchHandle: a search seen from the Streamlit server (or any caller).

This side imports neither TensorFlow, Optuna nor Ray: `start_search` checks the space (pure
Python), writes the job into the search folder and starts the driver (core.search.driver) in
its own spawned process; the handle reads the trials.json the driver rewrites after every
change, and asks it to stop with a `stop` file.

The search folder:
    job/              the design and the dataset, once (core.training.rundir.write_job)
    search.json       the space and the settings
    trials.json       the state, the objective and one row per trial (what poll() returns)
    trials/<id>/      each trial's run folder (events.jsonl, best.keras, result.json) and project.json
    stop              present: the user asked the search to stop
"""
from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.search.strategies import SearchSettings
from core.search.trials import (
    SEARCH_DONE, SEARCH_FAILED, SEARCH_QUEUED, SEARCH_RUNNING, SEARCH_STARTING, SEARCH_STOPPED, STOPPED_BY_USER, TrialRow,
    best_row,
)

FINAL_STATES = (SEARCH_DONE, SEARCH_STOPPED, SEARCH_FAILED)


class SearchFolder:
    """Paths inside a search folder."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    job = property(lambda self: self.path / "job")
    config = property(lambda self: self.path / "search.json")
    trials = property(lambda self: self.path / "trials.json")
    stop = property(lambda self: self.path / "stop")

    def trial(self, trial_id: int) -> Path:
        return self.path / "trials" / f"{int(trial_id):04d}"

    def trial_project(self, trial_id: int) -> Path:
        return self.trial(trial_id) / "project.json"


def prepare(spec: Any, dataset: Any, space: Any, settings: SearchSettings, search_dir: str | os.PathLike, *,
            weights_file: str | os.PathLike | None = None) -> SearchFolder:
    """Check everything a user can get wrong and write the job: nothing is started yet.
    `space` is a SearchSpace or SPACE.json's object; `weights_file`: the backbone's weights when not Keras' cached file."""
    from core.search.space import SearchSpace, parse_space
    from core.training.rundir import RunDir, write_job, write_json

    settings = settings.checked()
    if settings.ray_address:  # before anything is written: an unreachable cluster loses nothing
        from core.search.ray_address import check_reachable

        check_reachable(settings.ray_address)
    # a SearchSpace is read again over `spec`: the design given is always the one searched
    space = parse_space(space.to_json() if isinstance(space, SearchSpace) else space, spec, dataset)
    if settings.epochs is not None:
        from core.spec import ProjectSpec

        data = space.base.to_dict()
        data["training"]["epochs"] = settings.epochs
        space.base = ProjectSpec.from_dict(data)
    folder = SearchFolder(search_dir)
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.stop.unlink(missing_ok=True)
    folder.trials.unlink(missing_ok=True)
    write_job(RunDir(folder.job), space.base, dataset, weights_file=weights_file)
    write_json(folder.config, {"space": space.to_json(), "settings": settings.to_json()})
    return folder


def start_search(spec: Any, dataset: Any, space: Any, settings: SearchSettings, search_dir: str | os.PathLike,
                 service: Any = None, *, weights_file: str | os.PathLike | None = None) -> SearchHandle:
    """Start a search of `space` (a SearchSpace or SPACE.json's object) over the design `spec` on
    `dataset` in its own process; returns at once. UserError for a bad space or settings.

    With `service` (the server-wide core.training.TrainingService, as in the app) the search's
    trial workers take their slots from the service's cap, shared with the runs: the search waits
    in the service's queue (state "queued") until it is granted at least one slot, and runs as
    many trial workers as it was granted (a Ray search: one slot, its driver). The slots come
    back when the driver exits (done, stopped, killed). Without one it starts at once with
    `settings.concurrency` workers. `weights_file`: the backbone's weights when not Keras' cached file
    (a session's own), written into the job."""
    folder = prepare(spec, dataset, space, settings, search_dir, weights_file=weights_file)
    handle = SearchHandle(folder.path)
    if service is None:
        handle._launch(None)
    else:
        wanted = 1 if settings.ray_address else settings.concurrency
        handle._lease = service.lease(wanted, handle._launch, stop=handle.stop)
    return handle


class SearchHandle:
    """A running (or finished) search. Every method returns at once except wait()."""

    def __init__(self, search_dir: str | os.PathLike, process: Any = None) -> None:
        self.folder = SearchFolder(search_dir)
        self.path = self.folder.path
        self._process = process
        self._lease: Any = None  # core.training.service.SlotLease: the slots the service granted (app)
        self._data: dict[str, Any] = {}
        self._mtime: int | None = None
        self._rows: list[TrialRow] = []

    def _launch(self, workers: int | None) -> Any:
        """Start the driver with `workers` trial workers (None: the settings' concurrency)."""
        from core.search.driver import driver_main
        from core.training.service import main_script_hidden

        ctx = multiprocessing.get_context("spawn")
        process = ctx.Process(target=driver_main, args=(str(self.path), os.getpid(), workers),
                              name="layerlab-search-driver", daemon=False)
        with main_script_hidden():
            process.start()
        self._process = process
        # The driver cannot be a daemon (it starts trial workers), and multiprocessing joins other
        # children when the server exits: end it first, so the server never waits for a search.
        atexit.register(self.kill)
        return process

    # ---- reading ---------------------------------------------------------------------------
    def poll(self) -> list[TrialRow]:
        """Every trial so far, in order (running ones with their progress)."""
        try:
            mtime = self.folder.trials.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime is not None and mtime != self._mtime:
            try:
                data = json.loads(self.folder.trials.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # replaced between stat and read: next poll
                data = None
            if data is not None:
                self._data, self._mtime = data, mtime
                self._rows = [TrialRow.from_json(t) for t in data.get("trials", [])]
        lease = self._lease
        if self._process is None and lease is not None and lease.state == "done" and self.state not in FINAL_STATES:
            from core.search.trials import SEARCH_ENDED, render

            # withdrawn from the queue (Stop, session cleanup, server shutdown), or the driver could not start
            template, params = (STOPPED_BY_USER, {}) if lease.error is None else (SEARCH_ENDED, {"reason": str(lease.error)})
            state = SEARCH_STOPPED if lease.error is None else SEARCH_FAILED
            self._data = {**self._data, "state": state, "template": template, "params": params,
                          "message": render(template, params)}
        if self._process is not None and not self._process.is_alive() and self.state not in FINAL_STATES:
            self._process.join(timeout=1)
            from core.search.trials import SEARCH_ENDED, render
            from core.training.service import exit_reason

            params = {"reason": exit_reason(self._process.exitcode)}
            self._data = {**self._data, "state": SEARCH_FAILED, "template": SEARCH_ENDED, "params": params,
                          "message": render(SEARCH_ENDED, params)}
        return list(self._rows)

    @property
    def state(self) -> str:
        """queued (waiting for a training slot), starting, running, done, stopped (by the user or the
        time budget) or failed."""
        if self._lease is not None and self._lease.state == "queued":
            return SEARCH_QUEUED
        return self._data.get("state", SEARCH_STARTING)

    @property
    def queue_position(self) -> int | None:
        """1 when the search is next for a training slot; None once it has its slots (or never queued)."""
        return self._lease.queue_position if self._lease is not None else None

    @property
    def slots(self) -> int:
        """Trial workers the service granted (0 while queued or without a service)."""
        return self._lease.slots if self._lease is not None else 0

    @property
    def metric(self) -> str | None:
        return self._data.get("metric")

    @property
    def direction(self) -> str | None:
        return self._data.get("direction")

    @property
    def message(self) -> str:
        return self._data.get("message", "")

    def describe(self, lang: str = "en") -> str:
        """The search's message in `lang` (how it ended, or the error that ended it)."""
        if self.error is not None:
            return self.error.render(lang)
        from core.search.trials import render

        template = self._data.get("template")
        return render(template, self._data.get("params") or {}, lang) if template else self.message

    @property
    def error(self) -> UserError | None:
        """The UserError that ended the search (e.g. an unreachable Ray address), else None."""
        err = self._data.get("error")
        if not err:
            return None
        return UserError(err["code"], err["template"], **err.get("params", {}))

    @property
    def running(self) -> bool:
        return self.state in (SEARCH_QUEUED, SEARCH_STARTING, SEARCH_RUNNING)

    def best(self) -> TrialRow | None:
        self.poll()
        return best_row(self._rows, self.direction or "maximize")

    def trial_spec(self, trial_id: int) -> Any:
        """The design trial `trial_id` trained ("use this design")."""
        from core.spec import ProjectSpec

        path = self.folder.trial_project(trial_id)
        if not path.exists():
            raise UserError("search.no_trial", "Trial {trial} has no design saved. Choose another trial.", trial=trial_id)
        return ProjectSpec.from_json(path.read_bytes())

    def trial_dir(self, trial_id: int) -> Path:
        """The trial's run folder (events.jsonl, best.keras, result.json)."""
        return self.folder.trial(trial_id)

    def wait(self, timeout: float | None = None, interval: float = 0.2) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.poll()
            if self.state in FINAL_STATES:
                if self._process is not None:
                    self._process.join(timeout=10)
                return self.state
            if deadline is not None and time.monotonic() >= deadline:
                return self.state
            time.sleep(interval)

    # ---- control ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the search: running trials end after their current batch, keeping their best
        epoch; no new trial starts. What finished stays. A queued search leaves the queue."""
        if self._lease is not None:
            self._lease.withdraw()
        try:
            self.folder.stop.touch()
        except OSError:
            pass

    def kill(self) -> None:
        """End the driver and its trials now (session cleanup)."""
        self.stop()
        if self._process is not None and self._process.is_alive():
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=5)


__all__ = ["SearchHandle", "start_search", "prepare", "SearchFolder", "SEARCH_RUNNING"]
