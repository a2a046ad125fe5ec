"""What only time series show: the summary line, the forecast's scores next to the naive forecasts with
the verdict, the test period and the forecast beyond the data (Evaluate), try-it from the latest data or
from a CSV of recent rows, and how a forecaster is fed (Export).

Forecasts come from the run's float32 TFLite file in LiteRT like the other kinds' answers
(components.evaluation_views.predict): the last window of the data (core.data.kinds.series.latest_inputs)
or the uploaded rows, put on the training grid by the run's SeriesContract; no TensorFlow here.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from components.evaluation_views import ASKING_THE_MODEL, csv_predictions, predict, predictions_download
from components.i18n import t, t_core
from components.state.derived import computed_once
from components.state.runs import SessionRun
from components.state.workspace import Workspace

# The Data page's series section draws the target itself (over time, periods shaded): no histogram of it.
OWN_TARGET_CHART = True
SHOWN_WHOLE = 48  # forecast rows shown without scrolling


def summary(dataset: Any) -> str:
    s = dataset.series
    if s.timestamps is not None:
        what = t("{n} {frequency} steps of '{target}', {first} – {last}", n=f"{s.n:,}", frequency=t_core(s.frequency.name),
                 target=s.target, first=s.stamp_text(0), last=s.stamp_text(s.n - 1))
    else:
        what = t("{n} steps of '{target}' in row order", n=f"{s.n:,}", target=s.target)
    if s.inputs:
        what += " " + t("(and {k} input series)", k=len(s.inputs))
    return t("{what} · the model reads the last {window} steps and forecasts the next {horizon}", what=what,
             window=s.window, horizon=s.horizon)


def worst_mistakes(evaluation: Any, dataset: Any) -> None:
    """A forecast has no single worst items: the errors per step ahead say where it goes wrong."""
    st.caption(t("The errors per step ahead and the test-period plot above show where the forecasts go wrong."))


# ---------------------------------------------------------------- Evaluate


def _number(value: Any) -> str:
    return "—" if value is None else f"{value:.4g}"


def beats_baselines(forecast: dict) -> bool:
    """Whether the model's MAE is below the naive one and, where there is a season, the seasonal naive one."""
    mae, naive, seasonal = forecast.get("mae"), forecast.get("naive_mae"), forecast.get("seasonal_naive_mae")
    if mae is None or naive is None or not mae < naive:
        return False
    return seasonal is None or mae < seasonal


def evaluation_details(ws: Workspace, evaluation: Any, run: SessionRun) -> None:
    """The verdict, MAE / RMSE / MAPE next to the naive forecasts', the error per step ahead, and the test
    period with the model's forecasts and the forecast beyond the end of the data."""
    from components import series_views

    forecast = evaluation.forecast or {}
    dataset = run.dataset
    verdict = t_core(str(forecast.get("verdict", "")))
    if beats_baselines(forecast):
        st.success(f"**{verdict}**", icon=":material/trending_up:")
    else:
        st.warning(f"**{verdict}**", icon=":material/trending_flat:")
    mape = forecast.get("mape")
    cols = st.columns(5)
    cols[0].metric(t("Mean absolute error"), _number(forecast.get("mae")),
                   help=t("On average, how far a forecast is from the actual value, in the series' units."))
    cols[1].metric(t("RMSE"), _number(forecast.get("rmse")),
                   help=t("Root mean squared error: like the mean error, but large misses count more."))
    cols[2].metric(t("MAPE"), f"{mape:.2f}%" if mape is not None else "—",
                   help=t("Mean absolute percentage error: the average error as a share of the actual value."))
    cols[3].metric(t("Naive forecast MAE"), _number(forecast.get("naive_mae")),
                   help=t("The error of repeating the last value the window saw, on the same test windows."))
    cols[4].metric(t("Seasonal naive MAE"), _number(forecast.get("seasonal_naive_mae")),
                   help=t("The error of repeating the value one season earlier, on the same test windows."))
    notes = [t("On {n} test windows, each forecasting {horizon} steps ahead.", n=f"{evaluation.n_test:,}",
               horizon=forecast.get("horizon", dataset.series.horizon))]
    if mape is None:
        notes.append(t("MAPE is not defined: some actual values are 0."))
    if forecast.get("seasonal_naive_mae") is None:
        notes.append(t("No seasonal naive forecast: the data has no season, or too little of it before the test period."))
    st.caption(" ".join(notes))
    if forecast.get("mae_per_step") and forecast.get("naive_mae_per_step"):
        st.markdown(f"**{t('Error per step ahead')}**")
        st.caption(t("How the error grows the further ahead the forecast goes, next to the naive forecasts'."))
        st.plotly_chart(series_views.per_step_figure(forecast), key="forecast_per_step", config={"displayModeBar": False})
    st.markdown(f"**{t('The test period: actual values and forecasts')}**")
    st.caption(t("Each forecast is drawn at the step it forecasts. After the end of the data: the model's forecast "
                 "from the last {window} steps.", window=dataset.series.window))
    future = latest_forecast(ws, run, retry_button=False)
    values = future.items[0].values if future is not None and future.items else None
    predicted = evaluation.predicted if evaluation.predicted is not None else []
    st.plotly_chart(series_views.test_period_figure(dataset, predicted, values), key="forecast_test_period",
                    config={"scrollZoom": True})


def latest_forecast(ws: Workspace, run: SessionRun, retry_button: bool = True) -> Any:
    """The model's forecast of the `horizon` steps after the data (Predictions), asked once per run."""
    from core.data.kinds.series import latest_inputs

    return computed_once(ws, ("series_latest_forecast", run.id), lambda: predict(run, latest_inputs(run.dataset)),
                         spinner=t(ASKING_THE_MODEL), retry_button=retry_button)


# ---------------------------------------------------------------- Try it


def try_it(ws: Workspace, run: SessionRun) -> None:
    tab_latest, tab_csv = st.tabs([t("From the latest data"), t("From a CSV of recent rows")])
    with tab_latest:
        _try_latest(ws, run)
    with tab_csv:
        _try_csv(ws, run)


def _try_latest(ws: Workspace, run: SessionRun) -> None:
    from components import series_views

    s = run.dataset.series
    st.caption(t("The model reads the last {window} steps of the data ({first} – {last}) and forecasts the {horizon} "
                 "after them.", window=s.window, first=s.stamp_text(s.n - s.window), last=s.stamp_text(s.n - 1),
                 horizon=s.horizon))
    asked = ("series_latest_asked", run.id)
    if st.button(t("Forecast the next {n} steps", n=s.horizon), key="series_forecast_latest", type="primary",
                 icon=":material/timeline:"):
        ws.cache[asked] = True
    if not ws.cache.get(asked):
        return
    predictions = latest_forecast(ws, run)
    if predictions is None or not predictions.items:
        return
    show_forecast(predictions, key=f"series_latest_{run.id}")
    st.plotly_chart(series_views.forecast_figure(run.dataset, predictions.items[0].values),
                    key=f"series_latest_chart_{run.id}", config={"displayModeBar": False})
    predictions_download(predictions, key=f"download_series_forecast_{run.id}")


def _try_csv(ws: Workspace, run: SessionRun) -> None:
    from components import series_views
    from core.data.kinds import contract_for

    contract = contract_for(run.dataset)
    columns = ", ".join(f"'{c}'" for c in ([contract.date_column] if contract.date_column else []) + list(contract.columns))
    label = t("A CSV of recent rows: at least the last {window} steps, with the columns {columns}", window=contract.window,
              columns=columns)
    predictions = csv_predictions(ws, run, label, key="try_series_csv", types=["csv", "tsv", "txt"])
    if predictions is None or not predictions.items:
        return
    for warning in predictions.warnings:
        st.warning(t_core(warning), icon=":material/info:")
    item = predictions.items[0]
    show_forecast(predictions, key=f"series_csv_{run.id}")
    st.plotly_chart(series_views.steps_figure(item.steps, item.values), key=f"series_csv_chart_{run.id}",
                    config={"displayModeBar": False})
    predictions_download(predictions, key=f"download_series_csv_forecast_{run.id}")


def show_forecast(predictions: Any, *, key: str) -> None:
    """Time → value, one row per step ahead (a usual horizon shown whole)."""
    table = predictions.to_frame()
    st.dataframe(table, hide_index=True, key=key, height="content" if len(table) <= SHOWN_WHOLE else "auto", column_config={
        "time": st.column_config.TextColumn(t("time")),
        "forecast": st.column_config.NumberColumn(t("forecast"), format="%.4g"),
    })


# ---------------------------------------------------------------- Export


def export_notes(dataset: Any) -> None:
    """What a developer must know to feed a forecaster outside LayerLab (the Export page)."""
    s = dataset.series
    columns = ", ".join(f"'{c}'" for c in s.columns)
    if s.timestamps is not None:
        grid = t("Put the rows in date order on the {frequency} grid ('{column}' as {style}) and carry an empty value "
                 "forward from the step before, as in training.", frequency=t_core(s.frequency.name),
                 column=s.date_column, style=s.date_style or "—")
    else:
        grid = t("The rows were taken in file order, one step each; carry an empty value forward from the row before, "
                 "as in training.")
    st.info(
        t("**How a forecaster is fed.** model.keras and the TFLite files take the last {window} steps, oldest first, "
          "as raw numbers in this column order: {columns} (shape [1, {window}, {k}], float32; the model standardises "
          "them itself). They answer the next {horizon} values of '{target}', in its own units. {grid} "
          "preprocessing.json says the window, horizon, frequency, date format and column order.",
          window=s.window, columns=columns, k=len(s.columns), horizon=s.horizon, target=s.target, grid=grid),
        icon=":material/smartphone:",
    )
