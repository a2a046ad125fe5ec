"""The forecast's scores (core.forecast): the naive and seasonal naive baselines against values worked
out by hand, errors per step, MAPE only where no actual value is zero, and the verdict both ways."""
from __future__ import annotations

import numpy as np
import pytest

from core import forecast
from core.data.series import Frequency, SeriesData, split_windows

VALUES = np.array([10, 12, 11, 13, 15, 14, 16, 18, 17, 19, 21, 20], dtype=np.float64)


def test_the_naive_forecast_repeats_the_last_value_before_each_origin():
    got = forecast.naive_forecasts(VALUES, np.array([4, 9]), horizon=3)
    np.testing.assert_array_equal(got, [[13, 13, 13], [17, 17, 17]])


def test_the_seasonal_naive_forecast_takes_the_same_step_one_season_earlier_never_after_the_origin():
    # season 4, origin 8: steps 8, 9, 10, 11 come from 4, 5, 6, 7; steps 12, 13 (a season on) from 4, 5 again
    got = forecast.seasonal_naive_forecasts(np.arange(100, 120, dtype=np.float64), np.array([8]), horizon=6, season=4)
    np.testing.assert_array_equal(got, [[104, 105, 106, 107, 104, 105]])
    got = forecast.seasonal_naive_forecasts(VALUES, np.array([5, 6]), horizon=2, season=4)
    np.testing.assert_array_equal(got, [[VALUES[1], VALUES[2]], [VALUES[2], VALUES[3]]])


def test_there_is_no_seasonal_naive_forecast_without_a_season_or_a_season_of_history():
    origins = np.array([3, 4])
    assert forecast.seasonal_naive_forecasts(VALUES, origins, 2, None) is None
    assert forecast.seasonal_naive_forecasts(VALUES, origins, 2, 1) is None
    assert forecast.seasonal_naive_forecasts(VALUES, origins, 2, 4) is None  # origin 3 has less than a season before it


def test_errors_overall_and_per_step_by_hand():
    predicted = np.array([[1.0, 2.0], [3.0, 5.0]])
    actual = np.array([[2.0, 2.0], [1.0, 4.0]])
    got = forecast.errors(predicted, actual)
    assert got["mae"] == pytest.approx((1 + 0 + 2 + 1) / 4)
    assert got["rmse"] == pytest.approx(np.sqrt((1 + 0 + 4 + 1) / 4))
    assert got["mae_per_step"] == pytest.approx([1.5, 0.5])
    assert got["rmse_per_step"] == pytest.approx([np.sqrt(2.5), np.sqrt(0.5)])
    assert got["mape"] == pytest.approx(100 * (0.5 + 0 + 2 + 0.25) / 4)
    assert got["mape_per_step"] == pytest.approx([100 * (0.5 + 2) / 2, 100 * 0.25 / 2])


def test_mape_is_none_when_an_actual_value_is_zero():
    got = forecast.errors(np.array([[1.0, 2.0]]), np.array([[0.0, 2.0]]))
    assert got["mape"] is None and got["mape_per_step"] is None and got["mae"] == pytest.approx(0.5)


def test_the_verdict_when_the_model_beats_both_baselines():
    assert forecast.verdict(7.7, 10.0, 8.0) == "Beats the naive forecast by 23% (MAE) and the seasonal naive forecast by 4%."


def test_the_verdict_when_the_model_beats_the_naive_forecast_but_not_the_seasonal_one():
    text = forecast.verdict(9.0, 10.0, 6.0)
    assert text.startswith("Beats the naive forecast by 10% (MAE), but not the seasonal naive forecast")
    assert "its error is 50% larger than that one's" in text and "Try a window of at least one season" in text


def test_the_verdict_when_the_model_does_not_beat_the_naive_forecast():
    assert forecast.verdict(12.0, 10.0, 9.0) == (
        "Does not beat the naive forecast (repeat the last value): its error is 20% larger (MAE). Try a longer window "
        "or a simpler network.")


def test_the_verdict_without_a_season_a_tiny_gain_a_flat_test_period_and_a_diverged_model():
    assert forecast.verdict(5.0, 10.0, None) == "Beats the naive forecast by 50% (MAE)."
    assert forecast.verdict(9.999, 10.0) == "Beats the naive forecast by less than 1% (MAE)."
    assert forecast.verdict(1.0, 0.0) == forecast.VERDICT_FLAT
    assert forecast.verdict(float("nan"), 10.0) == forecast.VERDICT_DIVERGED


def test_every_verdict_is_translated():
    from core import i18n

    assert [v for v in (*forecast.VERDICTS, forecast.LESS_THAN_ONE) if v not in i18n.CORE_FRAGMENTS] == []
    assert i18n.translate_fragment(forecast.verdict(7.7, 10.0, 8.0), "zh") == "比朴素预测好 23%（MAE），比季节性朴素预测好 4%。"
    assert i18n.translate_fragment(forecast.verdict(9.999, 10.0), "zh") == "比朴素预测好 不到 1%（MAE）。"


def test_the_scores_use_the_test_windows_origins():
    rng = np.random.default_rng(4)
    n, window, horizon, season = 120, 12, 3, 12
    values = (np.sin(2 * np.pi * np.arange(n) / season) * 10 + rng.normal(0, 1, n)).astype(np.float32)[:, None]
    series = SeriesData(target="v", inputs=[], window=window, horizon=horizon,
                        frequency=Frequency("monthly", months=1, season=season), values=values, timestamps=None,
                        val_start=84, test_start=102)
    y_test = split_windows(values, window, horizon, series.val_start, series.test_start)["y_test"].astype(np.float64)
    predicted = y_test + 1.0  # off by one everywhere
    scores = forecast.forecast_scores(predicted, y_test, series)
    assert scores["mae"] == pytest.approx(1.0) and scores["mae_per_step"] == pytest.approx([1.0] * horizon)
    origins = np.arange(series.test_start, n - horizon + 1)
    assert len(origins) == len(y_test)
    naive = np.repeat(values[origins - 1, 0, None], horizon, axis=1)
    seasonal = np.stack([values[[o + j - season for j in range(horizon)], 0] for o in origins])
    assert scores["naive_mae"] == pytest.approx(np.mean(np.abs(naive - y_test)))
    assert scores["seasonal_naive_mae"] == pytest.approx(np.mean(np.abs(seasonal - y_test)))
    assert scores["verdict"].startswith("Beats the naive forecast by")
    assert (scores["horizon"], scores["window"], scores["season"]) == (horizon, window, season)
