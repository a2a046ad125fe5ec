"""Optuna's GridSampler for ask-and-tell searches (imports Optuna: used only by the driver)."""
from __future__ import annotations

from typing import Any

import optuna


class AskTellGridSampler(optuna.samplers.GridSampler):
    """GridSampler without its end-of-grid `study.stop()`, which Optuna allows only inside
    `study.optimize`: the driver (and Tune's OptunaSearch) ask and tell, and stop by trial budget,
    which core.search.strategies.trial_budget caps at the grid's size."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        return None
