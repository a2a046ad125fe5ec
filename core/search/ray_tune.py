"""Trials on a Ray cluster through Ray Tune (`SearchSettings.ray_address`).

This module (which imports Ray) is imported only when a search asks for Ray: `ray.init` alone costs 4–6 s and about
660 MB. The space, sampler and pruner are the local search's: Optuna's sampler through Tune's
OptunaSearch (define-by-run, `SearchSpace.suggest`), the pruner as Tune's scheduler (median:
MedianStoppingRule; halving: ASHA), both from epoch 2. The dataset goes into Ray's object store
once (`tune.with_parameters`); each trial trains with core.training.trainer.train_in_process on
a worker and reports every epoch (`tune.report`); a Tune callback in the driver turns those
results into the same TrialRows and trials.json the local search writes. LayerLab's `core`
package travels to the workers with the job (`runtime_env` py_modules); the cluster needs the
same Python packages (requirements.txt). An address that cannot be reached is a UserError:
never a silent fall-back to this machine.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ray.tune import Callback
from ray.tune.stopper import Stopper

from core.errors import UserError
from core.search.ray_address import check_reachable, unreachable
from core.search.strategies import PRUNE_STARTUP_TRIALS, PRUNE_WARMUP_EPOCHS, SearchSettings, make_sampler
from core.search.trials import FAILED, SEARCH_DONE, SEARCH_STOPPED, STOPPED_BY_USER, TIME_BUDGET_SPENT, TrialRow

CORE_DIR = Path(__file__).resolve().parents[1]


def connect(address: str) -> Any:
    """ray.init on `address` (checked first), with LayerLab's core package shipped to the workers."""
    check_reachable(address)
    import logging
    import warnings

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's verbose=0 prints nothing (no experiment table)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    warnings.filterwarnings("ignore", module=r"(optuna|ray)\b")
    import optuna
    import ray

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    if ray.is_initialized():
        return ray
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False,
                 runtime_env={"py_modules": [str(CORE_DIR)], "env_vars": env}, configure_logging=True)
    except (ConnectionError, RuntimeError, TimeoutError) as err:
        raise unreachable(address, str(err).splitlines()[0] if str(err) else type(err).__name__) from None
    return ray


def tune_trial(config: dict[str, Any], job: dict[str, Any] | None = None) -> None:
    """One trial on a Ray worker: the design with `config` written in, trained, each epoch reported."""
    from ray import tune

    from core.quiet import import_keras

    keras = import_keras()
    from core.search.driver import prune_value
    from core.search.space import apply
    from core.spec import ProjectSpec
    from core.training.trainer import train_in_process

    keras.backend.clear_session()
    spec = apply(ProjectSpec.from_dict(job["base"]), config)
    run_dir = tempfile.mkdtemp(prefix="layerlab-tune-trial-")
    metric, worst = job["metric"], job["worst"]
    worst_prune = -1e30 if job["direction"] == "maximize" else 1e30

    def on_event(event: dict) -> None:
        if event["type"] == "epoch":
            logs = event["logs"]
            value = logs.get(metric)
            prune = prune_value(logs, job["direction"])
            tune.report({"score": worst if value is None else value, "epoch": event["epoch"], "logs": logs,
                         "prune_score": worst_prune if prune is None else prune, "run_dir": run_dir,
                         "pid": os.getpid(), "elapsed": event.get("elapsed")})

    try:
        result = train_in_process(spec, job["dataset"], run_dir, on_event=on_event, weights_file=job.get("weights_file"))
        ended = result.message if result.epochs_run == 0 else None
    except UserError as err:  # the design cannot be built: the trial fails, the search goes on
        ended = err.render("en")
    if ended is not None:  # nothing reported: say how it ended
        tune.report({"score": worst, "prune_score": worst_prune, "epoch": 0, "logs": {}, "run_dir": run_dir,
                     "end": ended})


def run_on_ray(folder: Any, space: Any, dataset: Any, settings: SearchSettings, log: Any) -> None:
    ray = connect(settings.ray_address)
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    from core.search.strategies import trial_budget

    mode = "max" if log.direction == "maximize" else "min"
    searcher = OptunaSearch(space=functools.partial(_define, space), metric="score", mode=mode,
                            sampler=make_sampler(settings.strategy, space, settings.seed))
    pruned: set[str] = set()
    scheduler = _scheduler(settings, pruned, mode)
    callback = _RowsCallback(folder, space, log, pruned)
    from core.training.rundir import RunDir, read_weights_file

    weights = read_weights_file(RunDir(folder.job))  # a path on this machine: Ray workers elsewhere use their cache
    job = {"base": space.base.to_dict(), "dataset": dataset, "metric": log.metric, "direction": log.direction,
           "worst": 0.0 if mode == "max" else 1e30, "weights_file": str(weights) if weights else None}
    trainable = tune.with_resources(tune.with_parameters(tune_trial, job=job), {"cpu": 1})
    storage = tempfile.mkdtemp(prefix="layerlab-tune-")
    tuner = tune.Tuner(
        trainable,
        # no metric here: the searcher scores by "score", the scheduler prunes by "prune_score"
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler,
                                    num_samples=trial_budget(settings, space), max_concurrent_trials=settings.parallel,
                                    time_budget_s=settings.time_budget_s, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=storage, name="layerlab", callbacks=[callback], verbose=0,
                                  stop=_StopFile(folder), log_to_file=False,
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
    )
    started = time.monotonic()
    try:
        tuner.fit()
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        ray.shutdown()
    if folder.stop.exists():
        log.finish(SEARCH_STOPPED, STOPPED_BY_USER)
    elif settings.time_budget_s and time.monotonic() - started >= settings.time_budget_s:
        log.finish(SEARCH_STOPPED, TIME_BUDGET_SPENT, {"seconds": f"{settings.time_budget_s:g}"})
    else:
        from core.search.driver import done_message

        log.finish(SEARCH_DONE, *done_message(log))


def _define(space: Any, trial: Any) -> None:
    space.suggest(trial)  # define-by-run: the values are the trial's params, nothing constant


def _scheduler(settings: SearchSettings, pruned: set[str], mode: str) -> Any:
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, MedianStoppingRule, TrialScheduler

    if settings.pruner == "median":
        base, kwargs = MedianStoppingRule, {"time_attr": "epoch", "grace_period": PRUNE_WARMUP_EPOCHS,
                                            "metric": "prune_score", "mode": mode,
                                            "min_samples_required": PRUNE_STARTUP_TRIALS}
    elif settings.pruner == "halving":
        base, kwargs = ASHAScheduler, {"time_attr": "epoch", "grace_period": PRUNE_WARMUP_EPOCHS,
                                       "metric": "prune_score", "mode": mode,
                                       "reduction_factor": 3, "max_t": 10**6}
    else:
        return FIFOScheduler()

    class Recording(base):  # type: ignore[misc, valid-type]
        """The scheduler, noting which trials it stopped (they are "pruned")."""

        def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
            decision = super().on_trial_result(tune_controller, trial, result)
            if decision == TrialScheduler.STOP:
                pruned.add(trial.trial_id)
            return decision

    return Recording(**kwargs)


class _StopFile(Stopper):
    """A Tune stopper: the whole search stops when the search folder's stop file appears."""

    def __init__(self, folder: Any) -> None:
        self.folder = folder

    def __call__(self, trial_id: str, result: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        return self.folder.stop.exists()


class _RowsCallback(Callback):
    """Tune's trial events as TrialRows in the search's trials.json."""

    def __init__(self, folder: Any, space: Any, log: Any, pruned: set[str]) -> None:
        self.folder, self.space, self.log, self.pruned = folder, space, log, pruned
        self.ids: dict[str, int] = {}
        self.losses: dict[int, list[float | None]] = {}
        self.diverged: set[int] = set()
        self.run_dirs: dict[int, str] = {}

    def _row(self, trial: Any) -> TrialRow:
        if trial.trial_id not in self.ids:
            trial_id = len(self.ids) + 1
            self.ids[trial.trial_id] = trial_id
            settings = {place: trial.config[place] for place in self.space.places if place in trial.config}
            self.log.add(TrialRow(trial_id, settings))
            self.losses[trial_id] = []
            try:
                spec = self.space.design(settings)
                self.folder.trial(trial_id).mkdir(parents=True, exist_ok=True)
                self.folder.trial_project(trial_id).write_text(spec.to_json(), encoding="utf-8")
            except (UserError, OSError):
                pass
            self.log.write()
        return self.log.rows[self.ids[trial.trial_id]]

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._row(trial)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        row = self._row(trial)
        if result.get("epoch", 0) >= 1:
            logs = result.get("logs") or {}
            # the trial's own training clock: the actor's TensorFlow import is not its time
            row.add_epoch(result["epoch"], logs, self.losses[row.id], self.log.metric, result.get("elapsed"))
            if logs.get("loss") is None:
                self.diverged.add(row.id)
        if result.get("end"):
            row.message = result["end"]
        if result.get("run_dir"):
            self.run_dirs[row.id] = result["run_dir"]
        self.log.write()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        row = self._row(trial)
        row.conclude(failed=row.id in self.diverged, pruned=trial.trial_id in self.pruned)
        self._keep_run(row)
        self.log.ended(row)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        row = self._row(trial)
        row.state = FAILED
        if not row.message:
            error = getattr(trial, "error_message", None) or ""
            row.message = (str(error).strip().splitlines() or ["The trial failed on the cluster."])[-1][:300]
        self._keep_run(row)
        self.log.ended(row)

    def _keep_run(self, row: TrialRow) -> None:
        """The trial's run folder, when it is on this machine (a local head), joins the search folder."""
        source = self.run_dirs.get(row.id)
        if not source or not Path(source).is_dir():
            return
        target = self.folder.trial(row.id)
        target.mkdir(parents=True, exist_ok=True)
        for item in Path(source).iterdir():
            if item.is_file():
                shutil.move(str(item), target / item.name)
        shutil.rmtree(source, ignore_errors=True)
