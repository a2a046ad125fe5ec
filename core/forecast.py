"""How good is a forecast? Errors per step ahead, next to the two forecasts anyone can make.

On the same test windows: the naive forecast repeats the last value the window saw; the seasonal
naive forecast repeats the value one season earlier (a season: 12 steps for monthly data, 7 for
daily, ...). A model is only worth using if it beats them, so the verdict says so in plain words.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def naive_forecasts(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """(windows, horizon): the last value before each origin, repeated."""
    return np.repeat(values[origins - 1, None], horizon, axis=1)


def seasonal_naive_forecasts(values: np.ndarray, origins: np.ndarray, horizon: int, season: int | None) -> np.ndarray | None:
    """(windows, horizon): each step's value one season (or whole seasons) before it, never after the
    origin; None when there is no season or the data before the first origin is shorter than one."""
    if not season or season < 2 or len(origins) == 0 or int(origins.min()) < season:
        return None
    steps = np.arange(horizon)
    back = season * (steps // season + 1)  # the latest same-season step that is before the origin
    return values[origins[:, None] + steps[None, :] - back[None, :]]


def errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, Any]:
    """MAE, RMSE and MAPE (None when an actual value is zero) overall and per step ahead."""
    diff = predicted - actual
    out: dict[str, Any] = {
        "mae": float(np.mean(np.abs(diff))),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "mae_per_step": [float(v) for v in np.mean(np.abs(diff), axis=0)],
        "rmse_per_step": [float(v) for v in np.sqrt(np.mean(diff**2, axis=0))],
        "mape": None,
        "mape_per_step": None,
    }
    if actual.size and np.all(actual != 0):
        share = np.abs(diff / actual)
        out["mape"] = float(100 * np.mean(share))
        out["mape_per_step"] = [float(v) for v in 100 * np.mean(share, axis=0)]
    return out


# The verdict, in plain words (English templates; core.i18n.CORE_FRAGMENTS translates them).
VERDICT_DIVERGED = "The model's forecasts are not numbers (training diverged): try a lower learning rate."
VERDICT_FLAT = "The test period repeats its last value exactly, so the naive forecast cannot be beaten."
VERDICT_WORSE = ("Does not beat the naive forecast (repeat the last value): its error is {share} larger (MAE). Try a "
                 "longer window or a simpler network.")
VERDICT_BEATS = "Beats the naive forecast by {gain} (MAE)."
VERDICT_BEATS_BOTH = "Beats the naive forecast by {gain} (MAE) and the seasonal naive forecast by {seasonal_gain}."
VERDICT_NOT_SEASONAL = ("Beats the naive forecast by {gain} (MAE), but not the seasonal naive forecast (the value one "
                        "season ago): its error is {share} larger than that one's. Try a window of at least one season, "
                        "or a simpler network.")
VERDICTS = (VERDICT_DIVERGED, VERDICT_FLAT, VERDICT_WORSE, VERDICT_BEATS, VERDICT_BEATS_BOTH, VERDICT_NOT_SEASONAL)
LESS_THAN_ONE = "less than 1%"


def _percent(share: float) -> str:
    """23 % as "23%"; a share that rounds to 0 % as "less than 1%" (never "beats by 0%")."""
    return f"{share:.0%}" if share >= 0.005 else LESS_THAN_ONE


def verdict(mae: float, naive_mae: float, seasonal_mae: float | None = None) -> str:
    """One line in plain words: does the model beat the forecasts anyone can make?"""
    if not np.isfinite(mae):
        return VERDICT_DIVERGED
    if naive_mae <= 0:
        return VERDICT_FLAT
    gain = 1 - mae / naive_mae
    if gain <= 0:
        return VERDICT_WORSE.format(share=_percent(-gain))
    if seasonal_mae is None or seasonal_mae <= 0:
        return VERDICT_BEATS.format(gain=_percent(gain))
    seasonal_gain = 1 - mae / seasonal_mae
    if seasonal_gain > 0:
        return VERDICT_BEATS_BOTH.format(gain=_percent(gain), seasonal_gain=_percent(seasonal_gain))
    return VERDICT_NOT_SEASONAL.format(gain=_percent(gain), share=_percent(-seasonal_gain))


def forecast_scores(predicted: np.ndarray, actual: np.ndarray, series: Any) -> dict[str, Any]:
    """The model's errors and both baselines' on the test windows (predicted, actual: (windows, horizon))."""
    values = series.values[:, 0].astype(np.float64)
    origins = np.arange(series.test_start, series.n - series.horizon + 1)
    naive = naive_forecasts(values, origins, series.horizon)
    seasonal = seasonal_naive_forecasts(values, origins, series.horizon, series.season)
    model = errors(predicted, actual)
    naive_errors = errors(naive, actual)
    seasonal_errors = errors(seasonal, actual) if seasonal is not None else None
    return {
        **model,
        "horizon": series.horizon,
        "window": series.window,
        "season": series.season,
        "naive_mae": naive_errors["mae"],
        "naive_rmse": naive_errors["rmse"],
        "naive_mae_per_step": naive_errors["mae_per_step"],
        "seasonal_naive_mae": seasonal_errors["mae"] if seasonal_errors else None,
        "seasonal_naive_rmse": seasonal_errors["rmse"] if seasonal_errors else None,
        "seasonal_naive_mae_per_step": seasonal_errors["mae_per_step"] if seasonal_errors else None,
        "verdict": verdict(model["mae"], naive_errors["mae"], seasonal_errors["mae"] if seasonal_errors else None),
    }
