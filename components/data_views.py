"""What the Data page shows about a Dataset: preview, column table, class counts, images, splits."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.i18n import option_labels, t, t_core
from core.data.tables import KINDS

PREVIEW_ROWS = 10
IMAGES_PER_CLASS = 6
# How the column kinds read in the table (the cells keep core's names).
KIND_NAMES_EN = {"numeric": "numeric", "categorical": "categorical", "text": "text", "ignored": "ignored"}
GRID_COLUMNS = 2  # classes side by side in the image preview


def split_labels() -> dict[str, str]:
    return {"train": t("training"), "validation": t("validation"), "test": t("test")}


def _labels_by_split(dataset) -> dict[str, np.ndarray]:
    return {"train": dataset.y_train, "validation": dataset.y_val, "test": dataset.y_test}


def class_counts_figure(dataset) -> go.Figure:
    """Classification: examples per class, stacked by split. Regression: a histogram of the target."""
    names = split_labels()
    fig = go.Figure()
    if dataset.task == "classification":
        for split, y in _labels_by_split(dataset).items():
            counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(dataset.classes))
            fig.add_bar(x=[str(c) for c in dataset.classes], y=counts, name=names[split])
        fig.update_layout(barmode="stack", xaxis_title=t("class"), yaxis_title=t("examples"))
        fig.update_xaxes(type="category")
    else:
        for split, y in _labels_by_split(dataset).items():
            fig.add_histogram(x=np.asarray(y, dtype=float), name=names[split])
        fig.update_layout(barmode="stack", xaxis_title=dataset.target or t("target"), yaxis_title=t("examples"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), legend_title_text=t("split"))
    return fig


def imbalance_note(dataset, spec) -> None:
    """A plain flag under the class counts when the largest training class has 3× (or more) the
    examples of the smallest, saying whether the Train page's "Balance the classes" is on."""
    from core.data.balance import class_counts, imbalance_ratio, is_imbalanced

    if not is_imbalanced(dataset):
        return
    counts = class_counts(dataset.y_train, len(dataset.classes))
    present = [k for k, c in enumerate(counts) if c > 0]
    largest = str(dataset.classes[max(present, key=lambda k: counts[k])])
    smallest = str(dataset.classes[min(present, key=lambda k: counts[k])])
    ratio = f"{imbalance_ratio(dataset):.1f}"
    text = t("The largest class ({largest}) has {ratio}× the examples of the smallest ({smallest}) in the training "
             "data: a model could score well by mostly guessing {largest}.", largest=largest, ratio=ratio, smallest=smallest)
    if spec is not None and (spec.training or {}).get("balance_classes"):
        text += " " + t("**Balance the classes** is on (Train page): every class counts the same in training.")
    else:
        text += " " + t("**Balance the classes** is off: switch it on on the Train page so that every class counts "
                        "the same in training.")
    st.info(text, icon=":material/balance:")


def features_frame(dataset) -> pd.DataFrame:
    """One row per column other than the target: what the app made of it and why."""
    return pd.DataFrame(
        {
            "column": [f.name for f in dataset.features],
            "kind": [f.kind for f in dataset.features],
            "missing": [int(f.missing) + int(f.infinite) for f in dataset.features],
            "reason": [t_core(f.reason) for f in dataset.features],
        }
    )


def edit_feature_kinds(dataset, key: str) -> dict[str, str]:
    """The column table with an editable kind per column; returns the kinds the user changed."""
    frame = features_frame(dataset)
    edited = st.data_editor(
        frame,
        key=key,
        hide_index=True,
        width="stretch",
        disabled=["column", "missing", "reason"],
        column_config={
            "column": st.column_config.TextColumn(t("column")),
            "kind": st.column_config.SelectboxColumn(
                t("kind"),
                options=list(KINDS),
                format_func=option_labels(KINDS, lambda kind: t(KIND_NAMES_EN.get(kind, kind))),
                required=True,
                help=t("numeric: amounts; categorical: labels from a short list; text: free text (read only by a "
                       "text model, one column); ignored: left out"),
            ),
            "missing": st.column_config.NumberColumn(t("missing values"), help=t("Filled in before training")),
            "reason": st.column_config.TextColumn(t("why"), width="large"),
        },
    )
    return {
        name: new
        for name, old, new in zip(frame["column"], frame["kind"], edited["kind"])
        if new != old
    }


def table_preview(frame: pd.DataFrame) -> None:
    st.caption(t("The first {n} of {total} rows", n=min(PREVIEW_ROWS, len(frame)), total=len(frame)))
    # Missing cells empty (Streamlit would print "None"); numbers without padding zeros.
    preview = frame.head(PREVIEW_ROWS).style.format(lambda v: f"{v:.10g}" if isinstance(v, float) else v, na_rep="")
    st.dataframe(preview, hide_index=True, width="stretch")


def image_grid(dataset, per_class: int = IMAGES_PER_CLASS) -> None:
    """A few training images of each class, classes side by side."""
    x, y = dataset.x_train, np.asarray(dataset.y_train)
    columns = st.columns(GRID_COLUMNS, gap="large")
    for index, name in enumerate(dataset.classes):
        picks = np.flatnonzero(y == index)[:per_class]
        with columns[index % GRID_COLUMNS]:
            st.markdown(f"**{name}** · {t('{n} training images', n=int((y == index).sum()))}")
            if len(picks):
                images = [x[i][..., 0] if x[i].shape[-1] == 1 else x[i] for i in picks]
                st.image(images, width=64, clamp=True)


def skipped_files_table(dataset) -> None:
    if not dataset.skipped:
        return
    count = len(dataset.skipped)
    st.warning(t("1 file was skipped") if count == 1 else t("{n} files were skipped", n=count),
               icon=":material/folder_off:")
    st.dataframe(
        pd.DataFrame({t("file"): [s.file for s in dataset.skipped], t("reason"): [t_core(s.reason) for s in dataset.skipped]}),
        hide_index=True,
        width="stretch",
    )


def split_sizes(dataset) -> None:
    sizes = dataset.split_sizes
    names = split_labels()
    cols = st.columns(3)
    for col, (split, n) in zip(cols, sizes.items()):
        col.metric(t("{split} examples", split=names[split]), n)
    st.caption(t("The model learns from the training examples, the validation examples show progress while it "
                 "learns, and the test examples are kept aside for the final grade."))


