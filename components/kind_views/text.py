"""What only text data shows: its summary line, worst mistakes with their texts, try-it with typed text.

Try it answers with the run's float32 TFLite file in LiteRT, like tables and images: that file
takes token ids, which the text contract (core.data.kinds.text, pure Python) makes from the
typed text by the training rules; no TensorFlow here.
"""
from __future__ import annotations

import re
from typing import Any

import streamlit as st

from components.evaluation_views import ASKING_THE_MODEL, csv_predictions, predict, predictions_download, show_prediction
from components.i18n import t, t_core
from components.state.derived import computed_once
from components.state.runs import SessionRun
from components.state.workspace import Workspace
from core.data.kinds import contract_for
from core.data.tokens import TOKENIZATIONS, WORDS

# The Data page keeps an uploaded zip's bytes for this kind: a change of the text settings reads it again.
KEEPS_UPLOAD = True
TRY_TEXT_KEY = "try_text"
_ROW_SOURCE = re.compile(r"row (\d+)\Z")  # a CSV text's source (core.data.texts.text_from_table)


def token_unit(dataset: Any) -> str:
    """What one token is, in the reader's words ("words" or "tokens")."""
    return t("words") if dataset.text.tokenization == WORDS else t("tokens")


def summary(dataset: Any) -> str:
    text = dataset.text
    split = t_core(TOKENIZATIONS[text.tokenization])
    if dataset.task == "classification":
        what = t("{n} texts, {k} classes", n=f"{dataset.n_rows:,}", k=len(dataset.classes))
    else:
        what = t("{n} texts to predict the number '{target}'", n=f"{dataset.n_rows:,}", target=dataset.target)
    return t("{what} · tokens: {tokenization} · vocabulary of {vocabulary} tokens · the model reads up to "
             "{length} tokens of each text",
             what=what, tokenization=split, vocabulary=f"{text.n_ids:,}", length=f"{text.sequence_length:,}")


def worst_mistakes(evaluation: Any, dataset: Any) -> None:
    if evaluation.task == "classification":
        st.caption(t("The test texts the model got most confidently wrong."))
    else:
        st.caption(t("The test texts with the largest errors."))
    for mistake in evaluation.worst:
        with st.container(border=True):
            if mistake.confidence is not None:
                line = t("true: {true} · predicted: {predicted} ({confidence})", true=mistake.true,
                         predicted=mistake.predicted, confidence=f"{mistake.confidence:.0%}")
            else:
                line = t("true: {true} · predicted: {predicted} (error {error})", true=f"{mistake.true:.4g}",
                         predicted=f"{mistake.predicted:.4g}", error=f"{mistake.error:.4g}")
            st.caption(f"{line} · {source_label(mistake.source)}")
            st.text(mistake_text(mistake, dataset))


def source_label(source: str) -> str:
    """Where a text came from: "row 12" of the CSV (in the reader's language), or the file in the zip."""
    match = _ROW_SOURCE.match(source)
    return t("row {n}", n=match.group(1)) if match else source


def mistake_text(mistake: Any, dataset: Any) -> str:
    """The mistake's text as the evaluation kept it (shortened), else the dataset's test text."""
    text = mistake.inputs.get("text") if mistake.inputs else None
    if text is None and mistake.index < len(dataset.text.test_texts):
        text = dataset.text.test_texts[mistake.index]
    return str(text or "")


def try_it(ws: Workspace, run: SessionRun) -> None:
    tab_text, tab_csv = st.tabs([t("Type a text"), t("Upload a CSV of texts")])
    with tab_text:
        _try_typed_text(ws, run)
    with tab_csv:
        _try_csv(ws, run)


def _show_warnings(predictions: Any) -> None:
    for warning in predictions.warnings:
        st.warning(t_core(warning), icon=":material/info:")


def _try_typed_text(ws: Workspace, run: SessionRun) -> None:
    dataset = run.dataset
    text = st.text_area(
        t("Text to classify") if dataset.task == "classification" else t("Text to predict from"),
        key=TRY_TEXT_KEY,
        height=120,
        placeholder=t("Type or paste a text like the training texts…"),
        help=t("Split and looked up exactly as the training texts were; the model reads up to {n} tokens of it.",
               n=f"{dataset.text.sequence_length:,}"),
    )
    clicked = st.button(t("Predict"), key="try_text_predict", type="primary", icon=":material/play_arrow:")
    key = ("try_text", run.id)
    if clicked:
        ws.cache.pop(key, None)  # the text may have changed: ask again
        ws.cache[("try_text_asked", run.id)] = text
    ask = (lambda: predict(run, contract_for(dataset).inputs_from_texts([text], [t("your text")]))) if clicked else None
    predictions = computed_once(ws, key, ask, spinner=t(ASKING_THE_MODEL), retry_button=False)
    if predictions is None:
        return
    if ws.cache.get(("try_text_asked", run.id)) != text:
        st.caption(t("The answer below is for the text as it was when Predict was pressed."))
    _show_warnings(predictions)
    show_prediction(predictions, predictions.items[0], key=f"try_text_probabilities_{run.id}")


def _try_csv(ws: Workspace, run: SessionRun) -> None:
    column = run.dataset.text.column
    label = (t("A CSV with a column '{column}' of texts (or a single column)", column=column) if column
             else t("A CSV with a single column of texts"))
    predictions = csv_predictions(ws, run, label, key="try_text_csv", types=["csv", "tsv"])
    if predictions is None:
        return
    _show_warnings(predictions)
    st.dataframe(predictions.to_frame(), hide_index=True, key=f"text_csv_predictions_{run.id}")
    predictions_download(predictions, key=f"download_text_predictions_{run.id}")


def export_notes(dataset: Any) -> None:
    """What a developer must know to use a text model outside LayerLab (the Export page)."""
    text = dataset.text
    st.info(
        t("**How a text model is fed.** model.keras takes the raw texts (strings) and splits them itself: it "
          "needs Keras with the TensorFlow backend, because its TextVectorization layer exists only in "
          "TensorFlow. The TFLite files take token ids instead, so a phone app must do the splitting: lower-case "
          "the ASCII letters A–Z, remove the ASCII punctuation, split the text into tokens ({tokenization}) as "
          "preprocessing.json says, look each token up in vocabulary.json (a token that is not there is id 1), then keep the first "
          "{length} ids and pad with 0 to that length.",
          tokenization=t_core(TOKENIZATIONS[text.tokenization]), length=f"{text.sequence_length:,}"),
        icon=":material/smartphone:",
    )
