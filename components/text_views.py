"""What the Data page shows about text data (pages/data.py DATA_SECTIONS): how long the texts are
and where the sequence length cuts them, the vocabulary, the most frequent tokens, examples per
class, texts left out and repeated. Everything comes from the dataset's TextProfile (core.data.texts),
computed once when the data was read.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from components.i18n import t
from components.kind_views.text import token_unit

TOP_TOKENS_SHOWN = 20
LENGTH_BINS = 60
NAMED_SOURCES = 20  # empty texts named in the list
SPACE = "␣"  # a space token (character tokenizations) shown visibly


def shown_token(token: str) -> str:
    return token.replace(" ", SPACE) if token.strip() == "" or len(token) == 1 else token


def length_counts(lengths: np.ndarray, bins: int = LENGTH_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Texts per length bin (whole numbers of tokens): the figure carries the counts, not one
    number per text, so it stays small for a large data set."""
    lengths = np.asarray(lengths, dtype=np.int64)
    top = int(lengths.max()) + 1 if len(lengths) else 1
    width = max(1, int(np.ceil(top / bins)))
    edges = np.arange(0, top + width, width)
    counts, _ = np.histogram(lengths, bins=edges)
    return edges, counts


def length_figure(dataset: Any) -> go.Figure:
    """Tokens per text (every kept text) as a histogram, the sequence length as a line."""
    profile, text = dataset.text.profile, dataset.text
    unit = token_unit(dataset)
    edges, counts = length_counts(profile.lengths)
    fig = go.Figure()
    fig.add_bar(x=(edges[:-1] + edges[1:] - 1) / 2, y=counts, width=np.diff(edges), name=t("texts"),
                marker_color="#1f77b4", hovertemplate="%{x}: %{y}<extra></extra>")
    fig.add_vline(x=text.sequence_length, line_dash="dash", line_color="#d62728",
                  annotation_text=t("sequence length {n}", n=text.sequence_length), annotation_position="top right")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      xaxis_title=t("{unit} per text", unit=unit), yaxis_title=t("texts"), bargap=0.05)
    return fig


def lengths_section(dataset: Any) -> None:
    profile, text = dataset.text.profile, dataset.text
    st.plotly_chart(length_figure(dataset), key="text_lengths", config={"displayModeBar": False})
    lengths = np.asarray(profile.lengths)
    median = float(np.median(lengths)) if len(lengths) else 0.0
    longest = int(lengths.max()) if len(lengths) else 0
    line = t("Median {median} {unit} per text, the longest {longest}.", median=f"{median:g}", longest=f"{longest:,}",
             unit=token_unit(dataset))
    if profile.cut:
        line += " " + t("{n} texts are cut: the model reads only their first {length} tokens.",
                        n=f"{profile.cut:,}", length=f"{text.sequence_length:,}")
    else:
        line += " " + t("No text is cut: every text fits in the sequence length of {length} tokens.",
                        length=f"{text.sequence_length:,}")
    st.caption(line)


def vocabulary_section(dataset: Any) -> None:
    profile, text = dataset.text.profile, dataset.text
    cols = st.columns(3)
    cols[0].metric(t("Different tokens found"), f"{profile.vocabulary_found:,}",
                   help=t("In the training texts only: the validation and test texts must not shape the vocabulary."))
    cols[1].metric(t("Tokens kept"), f"{len(text.vocabulary):,}",
                   help=t("The most frequent tokens; any other token becomes 'unknown' (id 1)."))
    cols[2].metric(t("Sequence length"), f"{text.sequence_length:,}",
                   help=t("Tokens the model reads of each text: longer texts are cut, shorter ones padded."))
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"**{t('Most frequent tokens')}**")
        st.plotly_chart(top_tokens_figure(profile.top_tokens[:TOP_TOKENS_SHOWN]), key="top_tokens",
                        config={"displayModeBar": False})
    with right:
        examples_section(dataset)


def top_tokens_figure(top: list[tuple[str, int]]) -> go.Figure:
    tokens = [shown_token(token) for token, _ in top][::-1]  # the most frequent on top
    counts = [count for _, count in top][::-1]
    fig = go.Figure(go.Bar(x=counts, y=tokens, orientation="h", marker_color="#2ca02c"))
    fig.update_layout(height=max(240, 18 * len(tokens) + 60), margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title=t("times in the training texts"))
    fig.update_yaxes(type="category")
    return fig


def examples_section(dataset: Any) -> None:
    """A few training texts of each class."""
    examples = dataset.text.profile.examples
    st.markdown(f"**{t('Examples')}**")
    if not examples:
        st.caption(t("No examples to show."))
        return
    for label in dataset.classes:
        texts = examples.get(label, [])
        if not texts:
            continue
        with st.container(border=True):
            st.caption(t("class {label}", label=label))
            for text in texts:
                st.text(text)


def left_out_section(dataset: Any) -> None:
    """Texts left out because they were empty, and texts that repeat an earlier one."""
    profile = dataset.text.profile
    if profile.empty:
        with st.expander(t("{n} empty texts were left out", n=f"{len(profile.empty):,}")):
            shown = profile.empty[:NAMED_SOURCES]
            more = len(profile.empty) - len(shown)
            st.text(", ".join(shown) + (" " + t("and {n} more", n=more) if more > 0 else ""))
    if profile.duplicates:
        with st.expander(t("{n} texts repeat an earlier one", n=f"{profile.duplicates:,}")):
            st.caption(t("Kept for training. A copy in the test split makes the test score look better than it "
                         "is; remove repeats from the file if they are not meant to be there."))
            for text in profile.duplicate_examples:
                st.text(text)
