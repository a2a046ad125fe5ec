"""Design search (hyperparameter search): try variations of a design, keep the best.

- `space`: SPACE.json (which settings vary, over what) -> SearchSpace; default_space; apply.
- `strategies`: SearchSettings; grid / random / TPE samplers and median / halving pruners (Optuna).
- `trials`: TrialRow, the objective (validation score), trials.json.
- `handle`: start_search -> SearchHandle (the server's side: no TensorFlow, Optuna or Ray).
- `driver`: the search loop in its own process; `local` (worker processes on this machine) and
  `ray_tune` (Ray Tune on a cluster) run the trials.
See docs/ARCHITECTURE.md "Search". Names are imported from their modules on first use.
"""
from __future__ import annotations

from typing import Any

_EXPORTS = {
    "parse_space": "core.search.space", "default_space": "core.search.space", "apply": "core.search.space",
    "SearchSpace": "core.search.space", "Dimension": "core.search.space",
    "SearchSettings": "core.search.strategies", "STRATEGIES": "core.search.strategies", "PRUNERS": "core.search.strategies",
    "TrialRow": "core.search.trials", "objective": "core.search.trials",
    "start_search": "core.search.handle", "SearchHandle": "core.search.handle",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
