"""Plotly figures for training, evaluation and predictions (no Streamlit, no Keras here).

Every function takes plain Python/numpy data and returns a `go.Figure`, so figures are
cheap to rebuild on a rerun and easy to test. Titles and axis labels arrive already
translated from the caller.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One colour per run number, cycling; the current run is drawn on top, earlier runs faintly.
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
EARLIER_RUN_OPACITY = 0.3


@dataclass(frozen=True)
class CurveSeries:
    """The per-epoch logs of one run, labelled for the legend."""

    label: str  # e.g. "Run 2"
    history: Sequence[dict]  # one dict of Keras logs per epoch: {"loss": .., "val_loss": ..}
    colour_index: int = 0
    faint: bool = False
    fine_tune_from: int | None = None  # transfer learning: the first epoch of fine-tuning (1-based), if any


def metric_names(histories: Sequence[Sequence[dict]]) -> list[str]:
    """Base metric names ("loss", "accuracy", ...) found in any history, loss first."""
    names: list[str] = []
    for history in histories:
        for logs in history:
            for key in logs:
                base = key[4:] if key.startswith("val_") else key
                if base not in names and base not in ("learning_rate", "lr"):
                    names.append(base)
    return sorted(names, key=lambda n: (n != "loss", names.index(n)))


def training_curves(
    series: Sequence[CurveSeries],
    *,
    titles: dict[str, str],
    train_label: str,
    val_label: str,
    epoch_label: str,
    fine_tune_label: str = "fine-tuning",
) -> go.Figure:
    """One panel per metric; training solid, validation dashed; earlier runs faint.

    `titles` maps a metric name to its display title (unknown names are shown as is). A run with
    a pretrained backbone that went on to fine-tune (`CurveSeries.fine_tune_from`) gets its
    fine-tuning epochs shaded in every panel, labelled `fine_tune_label`: the curves often jump
    there (a lower learning rate, more weights learning).
    """
    names = metric_names([s.history for s in series]) or ["loss"]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[titles.get(n, n) for n in names])
    for s in series:
        colour = RUN_COLOURS[s.colour_index % len(RUN_COLOURS)]
        epochs = list(range(1, len(s.history) + 1))
        for col, name in enumerate(names, start=1):
            for key, dash, split_label in ((name, "solid", train_label), (f"val_{name}", "dash", val_label)):
                values = [_finite_or_none(logs.get(key)) for logs in s.history]
                if all(v is None for v in values):
                    continue
                fig.add_trace(
                    go.Scatter(
                        x=epochs,
                        y=values,
                        mode="lines+markers" if len(epochs) < 30 else "lines",
                        name=f"{s.label} · {split_label}",
                        legendgroup=f"{s.label}{dash}",
                        showlegend=col == 1,
                        line={"color": colour, "dash": dash, "width": 1 if s.faint else 2},
                        marker={"size": 4},
                        opacity=EARLIER_RUN_OPACITY if s.faint else 1.0,
                    ),
                    row=1,
                    col=col,
                )
            fig.update_xaxes(title_text=epoch_label, row=1, col=col)
    current = next((s for s in reversed(series) if not s.faint), None)
    if current is not None and current.fine_tune_from:
        mark_fine_tuning(fig, current.fine_tune_from, max(len(current.history), current.fine_tune_from), fine_tune_label)
    fig.update_layout(height=340, margin={"t": 40, "b": 10, "l": 10, "r": 10}, legend={"orientation": "h", "y": -0.25})
    return fig


def mark_fine_tuning(fig: go.Figure, first_epoch: int, last_epoch: int, label: str) -> None:
    """Shade epochs first_epoch..last_epoch in every panel, the label at the top of the first."""
    fig.add_vrect(x0=first_epoch - 0.5, x1=last_epoch + 0.5, row="all", col="all", fillcolor="#9467bd", opacity=0.08,
                  line_width=0, layer="below")
    fig.add_vline(x=first_epoch - 0.5, row="all", col="all", line={"color": "#9467bd", "dash": "dot", "width": 1})
    fig.add_annotation(x=first_epoch - 0.5, y=1, xref="x", yref="y domain", text=label, showarrow=False,
                       xanchor="left", yanchor="top", font={"size": 11, "color": "#9467bd"})


def _finite_or_none(value: object) -> float | None:
    """Plotly cannot draw NaN/inf sensibly: a gap says 'this value was not a number'."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else None


def confusion_matrix_heatmap(matrix: np.ndarray, classes: Sequence[str], *, actual_label: str, predicted_label: str) -> go.Figure:
    """Rows are the true classes, columns the predictions; each cell shows its count."""
    matrix = np.asarray(matrix)
    names = [str(c) for c in classes]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            hovertemplate=f"{actual_label}: %{{y}}<br>{predicted_label}: %{{x}}<br>%{{z}}<extra></extra>",
            showscale=False,
        )
    )
    fig.update_xaxes(title_text=predicted_label, type="category", side="bottom")
    fig.update_yaxes(title_text=actual_label, type="category", autorange="reversed")
    size = max(320, min(700, 60 * len(names) + 120))
    fig.update_layout(height=size, margin={"t": 20, "b": 10, "l": 10, "r": 10})
    return fig


def per_class_bars(classes: Sequence[str], values: dict[str, Sequence[float]], *, value_label: str) -> go.Figure:
    """Grouped bars, one group per class, one bar per measure (e.g. precision, recall, F1)."""
    fig = go.Figure()
    for measure, numbers in values.items():
        fig.add_trace(go.Bar(name=measure, x=[str(c) for c in classes], y=list(numbers)))
    fig.update_layout(barmode="group", height=320, yaxis={"title": value_label, "range": [0, 1.05]}, margin={"t": 20, "b": 10})
    return fig


def predicted_vs_actual(actual: np.ndarray, predicted: np.ndarray, *, actual_label: str, predicted_label: str, ideal_label: str) -> go.Figure:
    """Each test row as a dot; dots on the diagonal are perfect predictions."""
    actual = np.asarray(actual, dtype=float).ravel()
    predicted = np.asarray(predicted, dtype=float).ravel()
    low = float(min(actual.min(initial=0.0), predicted.min(initial=0.0)))
    high = float(max(actual.max(initial=1.0), predicted.max(initial=1.0)))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=actual, y=predicted, mode="markers", name=predicted_label, marker={"size": 6, "opacity": 0.7}))
    fig.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name=ideal_label, line={"dash": "dash", "color": "grey"}))
    fig.update_layout(xaxis_title=actual_label, yaxis_title=predicted_label, height=380, margin={"t": 20, "b": 10})
    return fig


def residuals_plot(predicted: np.ndarray, residuals: np.ndarray, *, predicted_label: str, residual_label: str) -> go.Figure:
    """Error (actual − predicted) against the prediction; a good model scatters around zero."""
    fig = go.Figure(
        go.Scatter(
            x=np.asarray(predicted, dtype=float).ravel(),
            y=np.asarray(residuals, dtype=float).ravel(),
            mode="markers",
            marker={"size": 6, "opacity": 0.7},
            showlegend=False,
        )
    )
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    fig.update_layout(xaxis_title=predicted_label, yaxis_title=residual_label, height=380, margin={"t": 20, "b": 10})
    return fig


def probability_bars(classes: Sequence[str], probabilities: Sequence[float], *, probability_label: str) -> go.Figure:
    """Horizontal bars of one prediction's class probabilities, the winner highlighted."""
    probs = [float(p) for p in probabilities]
    best = int(np.argmax(probs)) if probs else -1
    colours = ["#1f77b4" if i == best else "#aec7e8" for i in range(len(probs))]
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=[str(c) for c in classes],
            orientation="h",
            marker={"color": colours},
            text=[f"{p:.1%}" for p in probs],
            textposition="auto",
        )
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title_text=probability_label)
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(height=max(160, 40 * len(probs) + 60), margin={"t": 10, "b": 10, "l": 10, "r": 10})
    return fig
