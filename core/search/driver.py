"""The search driver: asks Optuna for settings, runs the trials, reports to trials.json.

`run_search(search_dir)` runs a prepared search folder (core.search.handle.prepare) to the end
in this process: the CLI calls it in the foreground, `start_search` in its own spawned process
(`driver_main`). Locally it keeps `SearchSettings.concurrency` trials going on a LocalExecutor (in
the app: the slots the training service granted),
reads each trial's events.jsonl, reports every epoch's validation score to the Optuna trial and
stops a trial the pruner gives up on. With `ray_address` the same space, sampler and pruner run
through Ray Tune (core.search.ray_tune). Either way every change is written to trials.json.
"""
from __future__ import annotations

import os
import time
import traceback
from typing import Any, Callable

from core.errors import UserError
from core.search.handle import SearchFolder
from core.search.strategies import SearchSettings, make_pruner, make_sampler, trial_budget
from core.search.trials import (
    DONE_BEST, DONE_SUMMARY, FAILED, FINISHED, FORMAT, PRUNED, RUNNING, SEARCH_BUG, SEARCH_DONE, SEARCH_FAILED,
    SEARCH_RUNNING, SEARCH_STOPPED, STOPPED_BY_USER, TIME_BUDGET_SPENT, TRIAL_WORKER_ENDED, TrialRow,
    best_row, objective, render,
)
from core.training import events as ev

LOOP_INTERVAL_S = 0.1


class SearchLog:
    """The search's state and rows, written to trials.json (atomically) on every change."""

    def __init__(self, folder: SearchFolder, metric: str, direction: str,
                 on_trial_end: Callable[[TrialRow], None] | None = None) -> None:
        self.folder = folder
        self.metric = metric
        self.direction = direction
        self.rows: dict[int, TrialRow] = {}
        self.state = SEARCH_RUNNING
        self.message = ""
        self.template, self.params = "", {}
        self.error: dict[str, Any] | None = None
        self.started = time.monotonic()
        self.on_trial_end = on_trial_end
        self.write()

    def add(self, row: TrialRow) -> TrialRow:
        self.rows[row.id] = row
        return row

    def ended(self, row: TrialRow) -> None:
        self.write()
        if self.on_trial_end is not None:
            self.on_trial_end(row)

    def best(self) -> TrialRow | None:
        return best_row(list(self.rows.values()), self.direction)

    def finish(self, state: str, template: str = "", params: dict[str, Any] | None = None) -> None:
        self.state, self.template, self.params = state, template, params or {}
        self.message = render(template, self.params) if template else ""
        self.write()

    def fail(self, err: UserError) -> None:
        params = {k: (v.render("en") if isinstance(v, UserError) else v) for k, v in err.params.items()}
        self.error = {"code": err.code, "template": err.template, "params": params}
        self.state, self.message = SEARCH_FAILED, err.render("en")
        self.write()

    def to_json(self) -> dict[str, Any]:
        best = self.best()
        return {
            "format": FORMAT, "state": self.state, "metric": self.metric, "direction": self.direction,
            "message": self.message, "template": self.template, "params": self.params, "error": self.error, "best": best.id if best else None,
            "elapsed": round(time.monotonic() - self.started, 2),
            "trials": [self.rows[i].to_json() for i in sorted(self.rows)],
        }

    def write(self) -> None:
        from core.training.rundir import write_json

        write_json(self.folder.trials, _strict(self.to_json()))


def _strict(data: Any) -> Any:
    if isinstance(data, float):
        return ev.finite_or_none(data)
    if isinstance(data, dict):
        return {k: _strict(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_strict(v) for v in data]
    return data


def driver_main(search_dir: str, parent_pid: int, workers: int | None = None) -> None:
    """Process entry of a search started by start_search (`workers`: the slots the training service granted)."""
    from core.quiet import quiet_libraries
    from core.training import worker

    quiet_libraries()
    worker._exit_with_parent(parent_pid)
    run_search(search_dir, workers=workers)


def load(search_dir: str | os.PathLike) -> tuple[SearchFolder, Any, Any, Any, SearchSettings]:
    """(folder, space, base spec, dataset, settings) of a prepared search folder."""
    from core.search.space import parse_space
    from core.training.rundir import RunDir, read_job, read_json

    folder = SearchFolder(search_dir)
    config = read_json(folder.config)
    spec, dataset = read_job(RunDir(folder.job))
    settings = SearchSettings.from_json(config["settings"])
    return folder, parse_space(config["space"], spec), spec, dataset, settings


def run_search(search_dir: str | os.PathLike, *, on_trial_end: Callable[[TrialRow], None] | None = None,
               workers: int | None = None) -> SearchLog:
    """Run the prepared search in `search_dir` to its end (budget, time, stop file or every grid point).
    `workers`: local trials at once (the app's slots); None: `SearchSettings.concurrency`."""
    folder, space, spec, dataset, settings = load(search_dir)
    metric, direction = objective(dataset.task)
    log = SearchLog(folder, metric, direction, on_trial_end)
    try:
        if settings.ray_address:
            from core.search.ray_tune import run_on_ray

            run_on_ray(folder, space, dataset, settings, log)
        else:
            run_locally(folder, space, settings, log, workers or settings.concurrency)
    except UserError as err:
        log.fail(err)
    except KeyboardInterrupt:
        log.finish(SEARCH_STOPPED, STOPPED_BY_USER)
    except BaseException as err:
        log.finish(SEARCH_FAILED, SEARCH_BUG, {"error": f"{type(err).__name__}: {err}"})
        (folder.path / "driver_error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        raise
    return log


def stop_reason(folder: SearchFolder, settings: SearchSettings, started: float) -> tuple[str, dict] | None:
    """(template, params) once the search must stop: the user asked, or the time budget is spent."""
    if folder.stop.exists():
        return STOPPED_BY_USER, {}
    if settings.time_budget_s and time.monotonic() - started >= settings.time_budget_s:
        return TIME_BUDGET_SPENT, {"seconds": f"{settings.time_budget_s:g}"}
    return None


class _Running:
    """A local trial in progress: its Optuna trial, row and event reader."""

    def __init__(self, trial: Any, row: TrialRow, run_dir: Any) -> None:
        self.trial = trial
        self.row = row
        self.reader = ev.EventReader(run_dir / "events.jsonl")
        self.losses: list[float | None] = []
        self.pruned = False
        self.stop_sent = False
        self.status: str | None = None
        self.started: float | None = None  # when its start event was read (the worker had imported TensorFlow)


def new_study(space: Any, settings: SearchSettings, direction: str) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction=direction, sampler=make_sampler(settings.strategy, space, settings.seed),
                               pruner=make_pruner(settings.pruner))


def run_locally(folder: SearchFolder, space: Any, settings: SearchSettings, log: SearchLog, workers: int) -> None:
    from core.search.local import CRASHED, LocalExecutor

    study = new_study(space, settings, log.direction)
    budget = trial_budget(settings, space)
    executor = LocalExecutor(folder.job, workers)
    running: dict[int, _Running] = {}
    started, asked = time.monotonic(), 0
    reason: tuple[str, dict] | None = None
    try:
        while running or (reason is None and asked < budget):
            try:
                if reason is None and (reason := stop_reason(folder, settings, started)) is not None:
                    executor.stop_all()
                while reason is None and asked < budget and executor.free():
                    asked += 1
                    _start_trial(study.ask(), space, folder, executor, log, running, study)
                changed = False
                for trial_id, item in running.items():
                    changed |= _read_events(item, log)
                    if item.pruned and not item.stop_sent:
                        executor.stop(trial_id)
                        item.stop_sent = True
                for status, trial_id, why in executor.poll():
                    item = running.pop(trial_id)
                    _read_events(item, log)
                    _conclude(item, study, log, crashed=why if status == CRASHED else None)
                    changed = True
                if changed:
                    log.write()
                time.sleep(LOOP_INTERVAL_S)
            except KeyboardInterrupt:  # Ctrl-C in the CLI: the trials stop after their batch, kept
                if reason is not None and reason[0] == STOPPED_BY_USER:
                    raise  # a second Ctrl-C: leave now
                reason = (STOPPED_BY_USER, {})
                executor.stop_all()
    finally:
        executor.close()
    if reason is not None:
        log.finish(SEARCH_STOPPED, *reason)
    else:
        log.finish(SEARCH_DONE, *done_message(log))


def done_message(log: SearchLog) -> tuple[str, dict[str, Any]]:
    best = log.best()
    params: dict[str, Any] = {"n": len(log.rows)}
    params.update({state: sum(1 for r in log.rows.values() if r.state == state) for state in (FINISHED, PRUNED, FAILED)})
    if best is None:
        return DONE_SUMMARY, params
    return DONE_BEST, {**params, "best": best.id, "metric": log.metric, "score": f"{best.score:.4g}"}


def _start_trial(trial: Any, space: Any, folder: SearchFolder, executor: Any, log: SearchLog,
                 running: dict[int, _Running], study: Any) -> None:
    import optuna

    from core.training.rundir import RunDir

    trial_id = trial.number + 1
    settings = space.suggest(trial)
    row = log.add(TrialRow(trial_id, settings))
    run_dir = RunDir(folder.trial(trial_id)).create().clear_results()
    try:
        spec = space.design(settings)
    except UserError as err:  # e.g. too many layers once repeated
        row.state, row.message, row.template, row.params = FAILED, err.render("en"), err.template, dict(err.params)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        log.ended(row)
        return
    folder.trial_project(trial_id).write_text(spec.to_json(), encoding="utf-8")
    executor.submit(trial_id, spec, run_dir.path)
    running[trial_id] = _Running(trial, row, run_dir.path)
    log.write()


def prune_value(logs: dict[str, Any], direction: str) -> float | None:
    """What the pruner compares epoch by epoch: the validation loss (the run's own yardstick, and
    finer than an accuracy over a few validation rows, where most trials tie), signed to match
    the study's direction."""
    loss = logs.get("val_loss")
    if loss is None:
        return None
    return -loss if direction == "maximize" else loss


def _read_events(item: _Running, log: SearchLog) -> bool:
    """Take in the trial's new events; report each epoch to Optuna and stop it if pruned."""
    changed = False
    for event in item.reader.read_new():
        kind = event.get("type")
        if kind == "start":  # the trial's clock starts here: its worker's TensorFlow import is not its time
            item.started = time.monotonic()
        elif kind == "epoch":
            logs = event.get("logs", {})
            item.row.add_epoch(event["epoch"], logs, item.losses, log.metric, event.get("elapsed"))
            value = prune_value(logs, log.direction)
            if value is not None and not item.pruned and item.status is None:
                item.trial.report(value, event["epoch"])
                item.pruned = item.trial.should_prune()
            changed = True
        elif kind == "end":
            item.status = event.get("status")
            item.row.message = event.get("message", "")
            item.row.template, item.row.params = event.get("template", ""), event.get("params") or {}
            if event.get("elapsed") is not None:
                item.row.seconds = round(float(event["elapsed"]), 2)
            changed = True
    return changed


def _conclude(item: _Running, study: Any, log: SearchLog, crashed: str | None = None) -> None:
    import optuna

    row = item.row
    if item.status is None and item.started is not None:  # no end event (a crash): the time since its start event
        row.seconds = round(time.monotonic() - item.started, 2)
    lost = crashed is not None and item.status is None
    if lost:
        row.template, row.params = TRIAL_WORKER_ENDED, {"reason": crashed}
    row.conclude(failed=lost or item.status in (ev.FAILED, ev.DIVERGED), pruned=item.pruned)
    if row.state == FAILED:
        study.tell(item.trial, state=optuna.trial.TrialState.FAIL)
    elif row.state == PRUNED:
        study.tell(item.trial, state=optuna.trial.TrialState.PRUNED)
    else:
        study.tell(item.trial, row.score)
    log.ended(row)


__all__ = ["run_search", "driver_main", "SearchLog", "RUNNING"]
