"""Strategies (Optuna samplers) and pruners, and the search's settings.

grid: every combination of `SearchSpace.grid()` (a range becomes a few points), in a shuffled
order, at most `trials` of them; random: independent draws; tpe: Optuna's model-based TPE
(the first trials are random, then it proposes where the good ones were). Pruners stop a
trial whose validation score, epoch by epoch, is behind: "median" (behind the median of the
earlier trials at the same epoch) or "halving" (successive halving: only the best third carries
on at each rung). Optuna is imported here, inside the functions: never in the Streamlit server.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.errors import UserError

STRATEGIES = ("grid", "random", "tpe")
PRUNERS = ("median", "halving", "none")
MAX_TRIALS = 1000
# A pruner never stops a trial before this many epochs, nor before this many trials have finished.
PRUNE_WARMUP_EPOCHS = 2
PRUNE_STARTUP_TRIALS = 3


@dataclass(frozen=True)
class SearchSettings:
    """How a search runs (the UI's form, the CLI's options)."""

    strategy: str = "tpe"
    trials: int = 16  # trial budget
    time_budget_s: float | None = None  # no new trial after this; running ones are stopped (keeping their best)
    pruner: str = "median"
    parallel: int | None = None  # local trials at once; None: the server's cap (core.training.service)
    epochs: int | None = None  # each trial's epochs; None: the design's
    ray_address: str | None = None  # None: this machine; else Ray Tune on that cluster
    seed: int = 0  # the sampler's seed (the trials' own seed is the design's)

    def checked(self) -> SearchSettings:
        if self.strategy not in STRATEGIES:
            raise UserError("search.bad_strategy", 'The strategy must be one of {known}, got "{value}".',
                            known=", ".join(STRATEGIES), value=str(self.strategy)[:40])
        if self.pruner not in PRUNERS:
            raise UserError("search.bad_pruner", 'The pruner must be one of {known}, got "{value}".',
                            known=", ".join(PRUNERS), value=str(self.pruner)[:40])
        if not isinstance(self.trials, int) or not 1 <= self.trials <= MAX_TRIALS:
            raise UserError("search.bad_trials", "The number of trials must be a whole number from 1 to {limit}, got "
                            "{value}.", limit=MAX_TRIALS, value=str(self.trials)[:40])
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise UserError("search.bad_time_budget", "The time budget must be a number of seconds above 0, got "
                            "{value}.", value=str(self.time_budget_s)[:40])
        if self.parallel is not None and not 1 <= self.parallel <= 64:
            raise UserError("search.bad_parallel", "Trials at once must be a whole number from 1 to 64, got {value}.",
                            value=str(self.parallel)[:40])
        return self

    @property
    def concurrency(self) -> int:
        """Local trials at once: `parallel`, else the server's cap, never above the CPU count. In the app the
        training service grants a search its slots (core.search.handle.start_search): at most this many."""
        from core.training.service import default_max_concurrent

        cap = self.parallel or default_max_concurrent()
        return max(1, min(cap, os.cpu_count() or 1, self.trials))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def make_sampler(strategy: str, space: Any, seed: int = 0) -> Any:
    import optuna

    if strategy == "grid":
        from core.search.samplers import AskTellGridSampler

        return AskTellGridSampler(space.grid(), seed=seed)
    if strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(3, len(space.dimensions) + 1)))


def make_pruner(name: str) -> Any:
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=PRUNE_STARTUP_TRIALS, n_warmup_steps=PRUNE_WARMUP_EPOCHS)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=PRUNE_WARMUP_EPOCHS, reduction_factor=3)
    return optuna.pruners.NopPruner()


def trial_budget(settings: SearchSettings, space: Any) -> int:
    """Trials to run: the budget, and for a grid at most its size (each combination once)."""
    return min(settings.trials, space.grid_size) if settings.strategy == "grid" else settings.trials
