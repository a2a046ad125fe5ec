"""Plotly figures of a design search (no Streamlit, no Keras here): every trial's validation
curve overlaid, and the settings against the score as parallel coordinates.

Like components/charts.py, each function takes plain data and returns a `go.Figure`; titles
and labels arrive translated from the caller.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from components.charts import RUN_COLOURS

# How a trial's line looks by its state: running and finished trials in their colour, pruned
# ones faint and dotted (stopped early by the pruner), failed ones grey.
STATE_DASH = {"pruned": "dot", "failed": "dash"}
FAINT_STATES = ("pruned", "failed")
FAINT_OPACITY = 0.35
HIGHLIGHT_WIDTH = 4


@dataclass(frozen=True)
class TrialCurve:
    label: str  # "Trial 3"
    values: Sequence[float | None]  # the validation score after each epoch
    state: str  # running | finished | pruned | failed
    colour_index: int = 0
    best: bool = False


def _finite(values: Sequence) -> list[float | None]:
    out = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            out.append(None)
            continue
        out.append(number if np.isfinite(number) else None)
    return out


def trial_curves(curves: Sequence[TrialCurve], *, score_label: str, epoch_label: str) -> go.Figure:
    """One line per trial: its validation score per epoch; the best trial drawn thickest."""
    fig = go.Figure()
    for curve in curves:
        values = _finite(curve.values)
        if not values:
            continue
        faint = curve.state in FAINT_STATES
        colour = "#999999" if curve.state == "failed" else RUN_COLOURS[curve.colour_index % len(RUN_COLOURS)]
        fig.add_trace(go.Scatter(
            x=list(range(1, len(values) + 1)), y=values, name=curve.label,
            mode="lines+markers" if len(values) < 30 else "lines",
            line={"color": colour, "dash": STATE_DASH.get(curve.state, "solid"),
                  "width": HIGHLIGHT_WIDTH if curve.best else (1 if faint else 2)},
            marker={"size": 4}, opacity=FAINT_OPACITY if faint else 1.0,
        ))
    fig.update_xaxes(title_text=epoch_label)
    fig.update_yaxes(title_text=score_label)
    fig.update_layout(height=340, margin={"t": 20, "b": 10, "l": 10, "r": 10},
                      legend={"orientation": "h", "y": -0.25})
    return fig


@dataclass(frozen=True)
class Axis:
    """One setting of the parallel-coordinates plot: its label and each trial's value."""

    label: str
    values: Sequence  # numbers, or names (an optimizer) drawn as evenly spaced ticks
    log: bool = False  # a learning rate: drawn as log10 with the real values as ticks


def settings_vs_score(axes: Sequence[Axis], scores: Sequence[float | None], *, score_label: str,
                      higher_is_better: bool = True) -> go.Figure:
    """Parallel coordinates: one line per trial through its settings, ending at its score and
    coloured by it (trials without a score are left out)."""
    keep = [i for i, s in enumerate(_finite(scores)) if s is not None]
    dimensions = [_dimension(axis, keep) for axis in axes]
    score_values = [float(scores[i]) for i in keep]
    dimensions.append({"label": score_label, "values": score_values})
    fig = go.Figure(go.Parcoords(
        line={"color": score_values, "colorscale": "Viridis" if higher_is_better else "Viridis_r",
              "showscale": True, "colorbar": {"title": {"text": score_label}}},
        dimensions=dimensions,
    ))
    fig.update_layout(height=360, margin={"t": 50, "b": 20, "l": 60, "r": 60})
    return fig


def _dimension(axis: Axis, keep: Sequence[int]) -> dict:
    values = [axis.values[i] for i in keep]
    numbers = _finite(values)
    if values and all(n is not None for n in numbers) and not any(isinstance(v, str) for v in values):
        if axis.log and all(n > 0 for n in numbers):
            logs = [float(np.log10(n)) for n in numbers]
            ticks = sorted(set(round(v) for v in logs)) or [0]
            return {"label": axis.label, "values": logs, "tickvals": ticks, "ticktext": [f"{10.0 ** v:g}" for v in ticks]}
        return {"label": axis.label, "values": numbers}
    names = sorted({str(v) for v in values})
    position = {name: k for k, name in enumerate(names)}
    return {"label": axis.label, "values": [position[str(v)] for v in values],
            "tickvals": list(range(len(names))), "ticktext": names,
            "range": [-0.5, max(len(names) - 0.5, 0.5)]}
