"""What only table data shows: its summary line, worst mistakes as rows, try-it with a form or a CSV."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from components.evaluation_views import ASKING_THE_MODEL, csv_predictions, predict, predictions_download, show_prediction
from components.i18n import t, t_core
from components.state.derived import computed_once
from components.state.runs import SessionRun
from components.state.workspace import Workspace
from core.data.kinds import contract_for
from core.data.kinds.table import USED_KINDS


def summary(dataset: Any) -> str:
    used = sum(1 for f in dataset.features if f.kind in USED_KINDS)
    if dataset.task == "classification":
        return t("{n} rows, {f} columns used to predict '{target}' ({k} classes)",
                 n=f"{dataset.n_rows:,}", f=used, target=dataset.target, k=len(dataset.classes))
    return t("{n} rows, {f} columns used to predict the number '{target}'", n=f"{dataset.n_rows:,}", f=used, target=dataset.target)


def worst_mistakes(evaluation: Any, dataset: Any) -> None:
    rows = []
    for mistake in evaluation.worst:
        row: dict[str, Any] = {t("Test row"): mistake.source, t("True"): mistake.true, t("Predicted"): mistake.predicted}
        if mistake.confidence is not None:
            row[t("Confidence")] = round(mistake.confidence, 3)
        if mistake.error is not None:
            row[t("Error")] = round(mistake.error, 4)
        row.update({name: round(value, 4) if isinstance(value, float) else t_core(value) for name, value in mistake.inputs.items()})
        rows.append(row)
    if evaluation.task == "classification":
        st.caption(t("The test rows the model got most confidently wrong, with the values the model saw."))
    else:
        st.caption(t("The test rows with the largest errors, with the values the model saw."))
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="worst_mistakes")


def try_it(ws: Workspace, run: SessionRun) -> None:
    tab_form, tab_csv = st.tabs([t("Fill in a row"), t("Upload a CSV of rows")])
    with tab_form:
        _try_row_form(ws, run)
    with tab_csv:
        _try_csv(ws, run)


def typical_values(dataset: Any) -> dict[str, Any]:
    """A sensible starting row: the median of each numeric column, the most frequent category."""
    columns = list(dataset.preprocessor.columns)
    frame = dataset.frame if isinstance(dataset.frame, pd.DataFrame) else None
    kinds = {f.name: f for f in dataset.features}
    values: dict[str, Any] = {}
    for name in columns:
        feature = kinds.get(name)
        series = frame[name].dropna() if frame is not None and name in frame.columns else pd.Series(dtype=object)
        if feature is not None and feature.kind == "categorical":
            if len(series):
                values[name] = str(series.astype(str).mode().iloc[0])
            else:
                values[name] = feature.categories[0] if feature.categories else ""
        else:
            numbers = pd.to_numeric(series, errors="coerce").dropna()
            values[name] = float(numbers.median()) if len(numbers) else 0.0
    return values


def _try_row_form(ws: Workspace, run: SessionRun) -> None:
    dataset = run.dataset
    features = {f.name: f for f in dataset.features}
    defaults = computed_once(ws, ("typical_values", run.id), lambda: typical_values(dataset))
    with st.form(key=f"try_row_{run.id}"):
        st.caption(t("Prefilled with typical values from the data. Change any of them and press Predict."))
        cols = st.columns(3)
        row: dict[str, Any] = {}
        for k, name in enumerate(dataset.preprocessor.columns):
            feature = features.get(name)
            with cols[k % 3]:
                if feature is not None and feature.kind == "categorical" and feature.categories:
                    choices = list(feature.categories)
                    default = defaults[name] if defaults[name] in choices else choices[0]
                    row[name] = st.selectbox(name, choices, index=choices.index(default), key=f"try_{run.id}_{name}")
                else:
                    row[name] = st.number_input(name, value=float(defaults[name]), format="%.4g", key=f"try_{run.id}_{name}")
        submitted = st.form_submit_button(t("Predict"), type="primary")
    key = ("try_row", run.id)
    if submitted:
        ws.cache.pop(key, None)  # the row may have changed: ask again
    ask = (lambda: predict(run, contract_for(dataset).inputs_from_frame(pd.DataFrame([row])))) if submitted else None
    # one call, so an error is shown once; pressing Predict again is the way to try again
    predictions = computed_once(ws, key, ask, spinner=t(ASKING_THE_MODEL), retry_button=False)
    if predictions is None:
        return
    show_prediction(predictions, predictions.items[0], key=f"try_row_probabilities_{run.id}")


def _try_csv(ws: Workspace, run: SessionRun) -> None:
    predictions = csv_predictions(
        ws, run, t("A CSV with the same columns as the training data (the target column may be left out)"),
        key="try_csv", types=["csv", "txt", "tsv"],
    )
    if predictions is None:
        return
    for warning in predictions.warnings:
        st.warning(warning)
    table = predictions.to_frame()
    st.dataframe(table, hide_index=True, key=f"csv_predictions_{run.id}")
    predictions_download(predictions, key=f"download_csv_predictions_{run.id}")
