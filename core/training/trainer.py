"""One training run: build the model, fit it with the RunMonitor, record the outcome.

The same code runs in a worker process (the app) and in the caller's process (the CLI,
tests). Keras is imported inside the functions, so importing this module stays cheap.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from core.data.dataset import Dataset
from core.data.kinds import kind_of
from core.training import events as ev
from core.training.outcome import OUT_OF_MEMORY, RunResult, end_message, render
from core.training.rundir import RunDir, write_json
from core.training.settings import TrainingSettings

EventSink = Callable[[dict], None]


def train_in_process(
    spec: Any,
    dataset: Dataset,
    run_dir: str | os.PathLike,
    on_event: EventSink | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    evaluate: bool = False,
    weights_file: str | os.PathLike | None = None,
) -> RunResult:
    """Train `spec` on `dataset` here and now; events go to run_dir/events.jsonl and `on_event`.

    With `evaluate`, the kept model is also measured on the test split into evaluation.json and
    converted to a float32 TFLite file before the "end" event, so a page that sees the end finds
    the results (the app's worker: core.training.tasks.write_run_results).

    Always ends with exactly one "end" event and result.json. A UserError from the builder
    and real bugs are re-raised after that; running out of memory is an outcome ("failed").
    The returned result's `model` holds the kept weights (see RunMonitor.keep_best_weights).
    A design starting with a pretrained backbone trains in phases (core.training.phases); `weights_file`
    is its ImageNet weights file when not in Keras' cache (core.backbones.resolve_weights).
    """
    import keras

    from core.build import build_model
    from core.training import phases
    from core.training.monitor import RunMonitor

    settings = TrainingSettings.from_spec(spec)
    paths = RunDir(run_dir).create()
    with ev.EventWriter(paths.events) as writer:

        def emit(event: dict) -> None:
            writer.write(event)
            if on_event is not None:
                on_event(event)

        monitor: RunMonitor | None = None
        model = None
        try:
            if settings.seed is not None:
                keras.utils.set_random_seed(settings.seed)
            model = build_model(spec, dataset, weights_file=weights_file)
            plan = phases.plan_for(spec, settings.epochs)
            monitor = RunMonitor(
                epochs=plan.total_epochs if plan else settings.epochs,
                emit=emit,
                best_model_path=paths.best_model,
                should_stop=should_stop,
                patience=settings.early_stopping_patience,
                time_limit_s=settings.time_limit_s,
                network=model,
            )
            has_val = len(dataset.x_val) > 0
            data = kind_of(dataset).fit_data(dataset, settings.batch_size, settings.seed, settings.balance_classes)
            emit(_start_event(settings, dataset, model, has_val, data.get("class_weight"), plan))
            if plan is None:
                model.fit(**data, epochs=settings.epochs, callbacks=[monitor], verbose=0)
            else:
                phases.train_phases(model, spec, dataset, plan, data, monitor, emit)
            result = _result(monitor, settings, paths, len(dataset.x_train))
        except BaseException as err:
            result = _failure(err, monitor, model, settings, paths)
            _finish(result, emit, paths, model)
            if not _is_out_of_memory(err):
                raise
            return result
        if evaluate and result.status != ev.FAILED and paths.best_model.exists():
            _evaluate_kept_model(paths, model, dataset)
        if result.status != ev.FAILED and paths.best_model.exists() and kind_of(dataset).takes_backbone:
            _describe_for_reuse(paths, model)
        _finish(result, emit, paths, model)
        return result


def _start_event(settings: TrainingSettings, dataset: Dataset, model: Any, has_val: bool,
                 class_weight: dict[int, float] | None = None, plan: Any = None) -> dict:
    n_train = len(dataset.x_train)
    extra = {"phases": plan.start_field()} if plan is not None else {}
    return {
        "type": "start",
        "epochs": plan.total_epochs if plan is not None else settings.epochs,
        "batch_size": settings.batch_size,
        "batches": -(-n_train // settings.batch_size),
        "n_train": n_train,
        "n_val": len(dataset.x_val) if has_val else 0,
        "params": int(model.count_params()),
        "seed": settings.seed,
        "early_stopping_patience": settings.early_stopping_patience,
        "time_limit_s": settings.time_limit_s,
        # the class weights training used (balance_classes), in class order; None: unweighted
        "class_weights": [round(float(w), 6) for _, w in sorted(class_weight.items())] if class_weight else None,
        "pid": os.getpid(),
        **extra,
    }


def _result(monitor: Any, settings: TrainingSettings, paths: RunDir, n_train: int) -> RunResult:
    epochs_run = len(monitor.history)
    template, params = end_message(
        monitor.status,
        monitor.best_epoch,
        epochs=epochs_run,
        epoch=monitor.stopped_in_epoch or epochs_run,
        monitor="validation loss" if monitor.monitor_key == "val_loss" else "training loss",
        patience=settings.early_stopping_patience,
        limit=_plain_number(settings.time_limit_s),
    )
    return RunResult(
        status=monitor.status,
        message=render(template, params),
        best_epoch=monitor.best_epoch,
        epochs_run=epochs_run,
        history=monitor.history,
        elapsed=monitor.elapsed,
        best_model_path=paths.best_model,
        template=template,
        params=params,
        samples_per_s=round(n_train * epochs_run / monitor.elapsed, 1) if monitor.elapsed > 0 else None,
    )


def _failure(err: BaseException, monitor: Any, model: Any, settings: TrainingSettings, paths: RunDir) -> RunResult:
    from core.errors import UserError

    if _is_out_of_memory(err):
        error = OUT_OF_MEMORY
    elif isinstance(err, UserError):
        error = str(err)
    elif isinstance(err, KeyboardInterrupt):
        error = "interrupted"
    else:
        error = f"{type(err).__name__}: {err}"
    best_epoch = None
    if monitor is not None and model is not None:
        best_epoch = monitor.best_epoch
        try:
            monitor.keep_best_weights()  # fit did not reach on_train_end
        except Exception:  # the model may be unusable after the failure; best.keras stays as it was
            pass
    template, params = end_message(ev.FAILED, best_epoch, error=error)
    return RunResult(
        status=ev.FAILED,
        message=render(template, params),
        best_epoch=best_epoch,
        epochs_run=len(monitor.history) if monitor else 0,
        history=monitor.history if monitor else [],
        best_model_path=paths.best_model if paths.best_model.exists() else None,
        template=template,
        params=params,
    )


def _evaluate_kept_model(paths: RunDir, model: Any, dataset: Dataset) -> None:
    """evaluation.json and the float32 TFLite file for the weights best.keras holds. A bug here
    must not fail a run that trained: its traceback is kept next to the run and the page asks
    a helper instead."""
    import traceback

    from core.training.tasks import write_run_results

    try:
        write_run_results(paths, model, dataset)
    except Exception:
        paths.evaluation_error.write_text(traceback.format_exc(), encoding="utf-8")


def _describe_for_reuse(paths: RunDir, model: Any) -> None:
    """best.keras.backbone.json: what the kept model gives as the backbone of another design (read by the
    shape report without Keras). A model without layers of its own cannot be reused; nothing is written."""
    from core.backbones import write_model_info
    from core.errors import UserError

    try:
        write_model_info(paths.best_model, model)
    except UserError:
        pass


def _finish(result: RunResult, emit: EventSink, paths: RunDir, model: Any) -> None:
    result.model = model
    write_json(paths.result, result.to_json())
    emit(result.end_event())


def _is_out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError):
        return True
    # By name and message, so this holds on every Keras backend without importing TensorFlow:
    # TF raises ResourceExhaustedError, JAX an XlaRuntimeError saying RESOURCE_EXHAUSTED.
    return type(err).__name__ == "ResourceExhaustedError" or "RESOURCE_EXHAUSTED" in str(err)


def _plain_number(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


def train_job(run_dir: str | os.PathLike, *, should_stop: Callable[[], bool] | None = None) -> RunResult:
    """Train the job stored in `run_dir` (see rundir.write_job, with its backbone's weights file): the worker's entry."""
    from core.training.rundir import read_job, read_weights_file

    spec, dataset = read_job(RunDir(run_dir))
    return train_in_process(spec, dataset, Path(run_dir), should_stop=should_stop, evaluate=True,
                            weights_file=read_weights_file(RunDir(run_dir)))
