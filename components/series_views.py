"""What the pages show about a time series (pages/data.py DATA_SECTIONS["series"], the Evaluate page's
forecast plots): the series over time with its training, validation and test periods shaded, what was
found in the dates and values and how it was filled, the errors per step ahead next to the naive
forecasts, and the test period's forecasts with the forecast beyond the end of the data.

Plotly figures get plain arrays: a long series is thinned for the browser to the lowest and highest
value of each stretch (`thinned`), so a million rows do not travel to the page.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from components.i18n import t, t_core
from core.data.dataset import IGNORED
from core.data.kinds.series import future_positions, positions

MAX_POINTS = 4000  # per line drawn; longer series are thinned (lowest and highest value of each stretch)
PERIOD_COLOURS = {"train": "rgba(31, 119, 180, 0.08)", "validation": "rgba(255, 127, 14, 0.12)",
                  "test": "rgba(44, 160, 44, 0.12)"}
ACTUAL_COLOUR, MODEL_COLOUR, FUTURE_COLOUR = "#1f77b4", "#d62728", "#9467bd"
NAIVE_COLOUR, SEASONAL_COLOUR = "#7f7f7f", "#bcbd22"


def period_labels() -> dict[str, str]:
    return {"train": t("training"), "validation": t("validation"), "test": t("test")}


def thinned(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most about `max_points` points that keep the line's shape: the lowest and highest value of each
    equal stretch, in order (the first and last points always kept)."""
    n = len(y)
    if n <= max_points:
        return x, y
    size = int(np.ceil(n / (max_points // 2)))
    stretches = n // size
    body = np.asarray(y[: stretches * size], dtype=np.float64).reshape(stretches, size)
    starts = np.arange(stretches) * size
    keep = np.concatenate([[0], starts + np.nanargmin(body, axis=1), starts + np.nanargmax(body, axis=1),
                           np.arange(stretches * size, n), [n - 1]])
    keep = np.unique(keep)
    return x[keep], y[keep]


def _x_value(x: Any) -> Any:
    """A position as Plotly takes it for shapes: an ISO date string, or a number."""
    if isinstance(x, np.datetime64):
        return str(x.astype("datetime64[s]"))
    return float(x)


def _boundaries(series: Any) -> dict[str, tuple[Any, Any]]:
    """Each period's shaded span on the x axis: from its first row to the next period's first row."""
    x = positions(series)
    if series.timestamps is None:  # step numbers: half a step either side
        edges = {"train": (0.5, series.val_start + 0.5), "validation": (series.val_start + 0.5, series.test_start + 0.5),
                 "test": (series.test_start + 0.5, series.n + 0.5)}
        return edges
    return {"train": (_x_value(x[0]), _x_value(x[series.val_start])),
            "validation": (_x_value(x[series.val_start]), _x_value(x[series.test_start])),
            "test": (_x_value(x[series.test_start]), _x_value(x[-1]))}


def x_title(series: Any) -> str:
    return series.date_column if series.timestamps is not None and series.date_column else t("step")


def series_figure(dataset: Any) -> go.Figure:
    """The target (and the input series, on their own axis) over time, the three periods shaded."""
    series = dataset.series
    x = positions(series)
    fig = go.Figure()
    tx, ty = thinned(x, series.values[:, 0])
    fig.add_scatter(x=tx, y=ty, mode="lines", name=series.target, line=dict(color=ACTUAL_COLOUR, width=1.5))
    for k, name in enumerate(series.inputs, start=1):
        ix, iy = thinned(x, series.values[:, k])
        fig.add_scatter(x=ix, y=iy, mode="lines", name=name, yaxis="y2", line=dict(width=1, dash="dot"), opacity=0.7)
    labels = period_labels()
    for period, (x0, x1) in _boundaries(series).items():
        fig.add_vrect(x0=x0, x1=x1, fillcolor=PERIOD_COLOURS[period], line_width=0, layer="below",
                      annotation_text=labels[period], annotation_position="top left")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=x_title(series),
                      yaxis_title=series.target, legend=dict(orientation="h", y=-0.2), hovermode="x unified")
    if series.inputs:
        fig.update_layout(yaxis2=dict(overlaying="y", side="right", showgrid=False, title=t("input series")))
    return fig


def frequency_text(series: Any) -> str:
    return t_core(series.frequency.name)


def periods_caption(series: Any) -> str:
    labels = period_labels()
    spans = {"train": (0, series.val_start), "validation": (series.val_start, series.test_start),
             "test": (series.test_start, series.n)}
    return " · ".join(
        t("{period}: {first} – {last} ({n} steps)", period=labels[name], first=series.stamp_text(a),
          last=series.stamp_text(b - 1), n=f"{b - a:,}")
        for name, (a, b) in spans.items() if b > a
    )


def series_section(dataset: Any) -> None:
    """The chart, the periods and what each example is."""
    series = dataset.series
    st.plotly_chart(series_figure(dataset), key="series_chart", config={"scrollZoom": True})
    st.caption(periods_caption(series))
    st.caption(t("Each example is one window: the model reads {window} steps and forecasts the {horizon} after them. "
                 "The periods follow each other in time, never shuffled: validation and test forecasts are always "
                 "of later steps than anything the model learned from.", window=series.window, horizon=series.horizon))


def report_lines(dataset: Any) -> list[str]:
    """What was found in the dates and values, and what was done about it, one line each."""
    series, report = dataset.series, dataset.series.report
    lines = []
    if series.timestamps is not None:
        lines.append(t("**Steps:** {frequency}, {n} of them, from {first} to {last}.", frequency=frequency_text(series),
                       n=f"{series.n:,}", first=series.stamp_text(0), last=series.stamp_text(series.n - 1)))
    elif series.date_column:
        lines.append(t("**Steps:** the dates in '{column}' are not evenly spaced, so each of the {n} rows is one step.",
                       column=series.date_column, n=f"{series.n:,}"))
    else:
        lines.append(t("**Steps:** there is no date column, so the row order is time: each of the {n} rows is one step.",
                       n=f"{series.n:,}"))
    if series.date_column:
        order = {"day_first": t("day first"), "month_first": t("month first")}.get(series.date_order or "")
        style = t_core(series.date_style or "—")  # "Unix seconds" and the like are core's words
        lines.append(t("**Dates:** '{column}', written like {style}, read {order}.", column=series.date_column,
                       style=style, order=order) if order else
                     t("**Dates:** '{column}', written like {style}.", column=series.date_column, style=style))
        if series.date_ambiguous:
            lines.append(t("**Day or month first?** Those dates read both ways and the steps do not tell: they were "
                           "read {order}. Choose the order below if that is wrong.", order=order or t("day first")))
    if series.season:
        lines.append(t("**Season:** {n} steps. The seasonal naive forecast repeats the value one season earlier.",
                       n=series.season))
    rows = {name: int(report.get(name) or 0) for name in (
        "undated_rows", "empty_rows", "summary_rows", "footer_rows", "exact_copies", "trailing_rows_dropped")}
    if rows["undated_rows"]:
        lines.append(t("**Rows without a date:** {n}, left out.", n=f"{rows['undated_rows']:,}"))
    if rows["empty_rows"]:
        lines.append(t("**Empty rows:** {n}, skipped.", n=f"{rows['empty_rows']:,}"))
    if rows["summary_rows"]:
        lines.append(t("**Rows that are not data:** {n} (a total, or the header again), left out.",
                       n=f"{rows['summary_rows']:,}"))
    if rows["footer_rows"]:
        lines.append(t("**Notes at the end:** {n} row(s) without numbers or a date, left out.",
                       n=f"{rows['footer_rows']:,}"))
    if rows["exact_copies"]:
        lines.append(t("**Repeated rows:** {n} exact copies of another row, each kept once.",
                       n=f"{rows['exact_copies']:,}"))
    if report.get("sorted"):
        lines.append(t("**Order:** the rows were not in date order; they were sorted by date."))
    elif series.date_column:
        lines.append(t("**Order:** the rows were in date order."))
    duplicates = int(report.get("duplicate_timestamps") or 0)
    lines.append(t("**Duplicate timestamps:** {n} rows shared a timestamp; the values of each timestamp were averaged.",
                   n=f"{duplicates:,}") if duplicates else t("**Duplicate timestamps:** none."))
    if series.timestamps is not None:
        missing = int(report.get("missing_steps") or 0)
        lines.append(t("**Gaps:** {n} missing steps (the longest gap: {gap} steps) got a row, their values carried "
                       "forward from the step before.", n=f"{missing:,}", gap=f"{int(report.get('largest_gap') or 0):,}")
                     if missing else t("**Gaps:** none, every step has a row."))
    filled = {name: int(n) for name, n in (report.get("filled_values") or {}).items() if n}
    empty = {name: int(n) for name, n in (report.get("missing_values") or {}).items() if n}
    if filled:
        lines.append(t("**Empty values filled:** {counts}, each carried forward from the step before: from the past "
                       "only, never from the future.", counts=", ".join(f"'{name}' {n:,}" for name, n in filled.items())))
    elif not empty:
        lines.append(t("**Empty values:** none."))
    dropped = int(report.get("leading_rows_dropped") or 0)
    if dropped:
        lines.append(t("**Leading rows left out:** {n}: not every series had a value there yet, and nothing is filled "
                       "from the future.", n=f"{dropped:,}"))
    if rows["trailing_rows_dropped"]:
        lines.append(t("**Last rows left out:** {n}: '{column}' has no value there yet, so the forecast starts after "
                       "its last value.", n=f"{rows['trailing_rows_dropped']:,}", column=series.target))
    unused = [f.name for f in dataset.features if f.kind == IGNORED]
    if unused:
        lines.append(t("**Not used:** {columns}.", columns=", ".join(f"'{name}'" for name in unused[:20])
                       + (" …" if len(unused) > 20 else "")))
    return lines


def report_section(dataset: Any) -> None:
    st.markdown("\n".join(f"- {line}" for line in report_lines(dataset)))


# ---------------------------------------------------------------- Evaluate


def per_step_figure(forecast: dict) -> go.Figure:
    """MAE per step ahead: the model's, the naive and the seasonal naive forecasts' on the same windows."""
    steps = list(range(1, int(forecast["horizon"]) + 1))
    fig = go.Figure()
    fig.add_scatter(x=steps, y=forecast["mae_per_step"], mode="lines+markers", name=t("the model"),
                    line=dict(color=MODEL_COLOUR, width=2))
    fig.add_scatter(x=steps, y=forecast["naive_mae_per_step"], mode="lines+markers", name=t("naive forecast"),
                    line=dict(color=NAIVE_COLOUR, dash="dash"))
    if forecast.get("seasonal_naive_mae_per_step"):
        fig.add_scatter(x=steps, y=forecast["seasonal_naive_mae_per_step"], mode="lines+markers",
                        name=t("seasonal naive forecast"), line=dict(color=SEASONAL_COLOUR, dash="dot"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=t("steps ahead"),
                      yaxis_title=t("mean absolute error"), legend=dict(orientation="h", y=-0.25), yaxis_rangemode="tozero")
    fig.update_xaxes(dtick=1 if len(steps) <= 24 else None)
    return fig


def test_period_figure(dataset: Any, predicted: np.ndarray, future: list[float] | None) -> go.Figure:
    """The test period: the actual series, the model's forecasts one step ahead and `horizon` steps
    ahead (each drawn at the step it forecasts), and the forecast beyond the end of the data."""
    series = dataset.series
    start = max(0, series.test_start - series.window)
    x = positions(series, start)
    fig = go.Figure()
    ax, ay = thinned(x, series.values[start:, 0])
    fig.add_scatter(x=ax, y=ay, mode="lines", name=t("actual"), line=dict(color=ACTUAL_COLOUR, width=1.5))
    n_windows = len(predicted)
    if n_windows:
        first = positions(series, series.test_start, series.test_start + n_windows)
        fx, fy = thinned(first, np.asarray(predicted[:, 0], dtype=np.float64))
        fig.add_scatter(x=fx, y=fy, mode="lines", name=t("forecast 1 step ahead"), line=dict(color=MODEL_COLOUR, width=1.5))
        if series.horizon > 1:
            shift = series.horizon - 1
            last = positions(series, series.test_start + shift, series.test_start + shift + n_windows)
            lx, ly = thinned(last, np.asarray(predicted[:, -1], dtype=np.float64))
            fig.add_scatter(x=lx, y=ly, mode="lines", name=t("forecast {n} steps ahead", n=series.horizon),
                            line=dict(color=MODEL_COLOUR, width=1, dash="dot"), opacity=0.6)
    if future:
        fig.add_scatter(x=future_positions(series), y=future, mode="lines+markers", name=t("forecast beyond the data"),
                        line=dict(color=FUTURE_COLOUR, width=2))
    x0, x1 = _boundaries(series)["test"]
    fig.add_vrect(x0=x0, x1=x1, fillcolor=PERIOD_COLOURS["test"], line_width=0, layer="below",
                  annotation_text=t("test"), annotation_position="top left")
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=x_title(series),
                      yaxis_title=series.target, legend=dict(orientation="h", y=-0.2), hovermode="x unified")
    return fig


def forecast_figure(dataset: Any, values: list[float], history: int | None = None) -> go.Figure:
    """The latest data and the forecast that follows it."""
    series = dataset.series
    history = history or max(3 * series.horizon, series.window)
    start = max(0, series.n - history)
    x = positions(series, start)
    fig = go.Figure()
    fig.add_scatter(x=x, y=series.values[start:, 0], mode="lines", name=t("actual"), line=dict(color=ACTUAL_COLOUR))
    future = future_positions(series)
    # joined to the last actual value, so the forecast continues the line
    fig.add_scatter(x=np.concatenate([x[-1:], future]), y=[float(series.values[-1, 0]), *values], mode="lines+markers",
                    name=t("forecast"), line=dict(color=FUTURE_COLOUR, width=2))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=x_title(series),
                      yaxis_title=series.target, legend=dict(orientation="h", y=-0.25))
    return fig


def steps_figure(steps: list[str], values: list[float]) -> go.Figure:
    """A forecast on its own, by its timestamps (a forecast from uploaded rows)."""
    fig = go.Figure()
    fig.add_scatter(x=list(steps), y=list(values), mode="lines+markers", name=t("forecast"),
                    line=dict(color=FUTURE_COLOUR, width=2))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), yaxis_title=t("forecast"))
    return fig
