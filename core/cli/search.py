"""`python -m core search DATA --space SPACE.json --trials N --out DIR`: a design search in the foreground.

The same driver as the app's Search (core.search.driver), run in this process: trials on this
machine's worker processes, or on a Ray cluster with `--ray ADDRESS` (or RAY_ADDRESS). DIR gets
trials.json (every trial: settings, state, epochs, best validation score, curve), project.json
(the best trial's design) and model/ (what `core train --out` writes, for the best trial).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.search.trials import TrialRow


def search_to_folder(args: argparse.Namespace) -> int:
    from core.cli.io import load_cli_data, read_spec_file
    from core.cli.train import writable_folder
    from core.search.handle import prepare
    from core.search.space import read_space_text
    from core.search.strategies import SearchSettings
    from core.templates import default_template

    space_path = Path(args.space)
    if not space_path.is_file():
        raise UserError("cli.space_missing", "The search space file {file} does not exist. Check the path.",
                        file=args.space)
    space = read_space_text(space_path.read_bytes())
    settings = SearchSettings(strategy=args.strategy, trials=args.trials, time_budget_s=args.time_budget,
                              pruner=args.pruner, parallel=args.parallel, epochs=args.epochs,
                              ray_address=args.ray or os.environ.get("RAY_ADDRESS") or None).checked()
    dataset = load_cli_data(args)
    spec = read_spec_file(args.spec) or default_template(dataset)
    out = writable_folder(Path(args.out))
    with tempfile.TemporaryDirectory(prefix="layerlab-search-") as search_dir:
        prepare(spec, dataset, space, settings, search_dir)  # checks the space against the data first
        where = f"the Ray cluster at {settings.ray_address}" if settings.ray_address else \
            f"this machine, {settings.concurrency} at a time"
        print(f"Searching: up to {settings.trials} trials ({settings.strategy}) on {where}.", flush=True)
        from core.search.driver import run_search

        log = run_search(search_dir, on_trial_end=lambda row: print(trial_line(row, log_metric(search_dir)), flush=True))
        if log.error is not None:  # e.g. an unreachable Ray address: nothing was trained
            raise UserError(log.error["code"], log.error["template"], **log.error["params"])
        (out / "trials.json").write_text(json.dumps(log.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(log.message, flush=True)
        best = log.best()
        if best is None:
            raise UserError("search.nothing_finished", "No trial finished with a validation score, so there is no best "
                            "design to write. See trials.json for what happened to each trial.")
        from core.search.handle import SearchFolder

        write_best(out, SearchFolder(search_dir), best, dataset)
    print(f"Wrote trials.json, project.json (trial {best.id}) and model/ to {out}", flush=True)
    return 0


def log_metric(search_dir: str) -> str:
    try:
        return json.loads((Path(search_dir) / "trials.json").read_text(encoding="utf-8"))["metric"]
    except (OSError, ValueError, KeyError):
        return "score"


def trial_line(row: TrialRow, metric: str) -> str:
    score = "no score" if row.score is None else f"{metric} {row.score:.4f}"
    settings = ", ".join(f"{k}={_short(v)}" for k, v in row.settings.items())
    return f"Trial {row.id}: {row.state} after {row.epochs} epochs, {score}  ({settings})"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_best(out: Path, folder: Any, best: TrialRow, dataset: Any) -> None:
    """project.json and model/ for the best trial: its kept model when its run folder is on this
    machine (always, locally), else (a trial that ran on another Ray node) its design trained again here."""
    from core.cli.train import write_outputs
    from core.export import load_trained_model
    from core.quiet import import_keras
    from core.spec import ProjectSpec
    from core.training.outcome import RunResult
    from core.training.rundir import RunDir, read_json

    spec = ProjectSpec.from_json(folder.trial_project(best.id).read_bytes())
    (out / "project.json").write_text(spec.to_json(), encoding="utf-8")
    import_keras()
    paths = RunDir(folder.trial(best.id))
    model_dir = out / "model"
    model_dir.mkdir(exist_ok=True)
    data = read_json(paths.result)
    if data is not None and paths.best_model.exists():
        result = RunResult.from_json(data)
        result.model = load_trained_model(paths.best_model)
    else:
        from core.training.trainer import train_in_process

        print(f"Training trial {best.id}'s design again here for its model folder.", flush=True)
        with tempfile.TemporaryDirectory(prefix="layerlab-run-") as run_dir:
            result = train_in_process(spec, dataset, run_dir)
    write_outputs(model_dir, spec, dataset, result)
