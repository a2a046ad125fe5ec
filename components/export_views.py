"""The Export page's parts: download buttons for every file, and the TFLite variants table.

model.keras is the run's best.keras as the worker saved it. TFLite files and the variants
report are made by a helper process (core.training.tasks: this server never imports
TensorFlow) into the run's exports/ folder, once per variant, so downloads never rerun
training and a rerun of the page converts nothing again. A TFLite conversion failure is
shown as a message next to the TFLite button and leaves the .keras download untouched.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from components.evaluation_views import helper_tasks
from components.i18n import error_text, option_labels, t
from components.state.derived import computed_once
from components.state.runs import SessionRun
from components.state.workspace import Workspace
from core.errors import UserError
from core.training.rundir import RunDir
from core.training.tasks import downloadable_keras, tflite_path
from core.sizes import human_size

# What each variant is, never how big it gets: a small network's file is mostly fixed overhead,
# so the sizes are measured and shown instead of promised.
VARIANT_NAMES_EN = {
    "float32": "float32 (exact)",
    "float16": "float16 (16-bit weights)",
    "dynamic_range": "dynamic range (8-bit weights)",
    "int8": "int8 (8-bit weights and activations)",
}
VARIANT_DESCRIPTIONS_EN = {
    "float32": "The same numbers as the Keras model.",
    "float16": "Weights stored as 16-bit numbers; results practically the same.",
    "dynamic_range": "Weights stored as 8-bit integers, computed as ordinary numbers.",
    "int8": "Weights and activations as 8-bit integers (calibrated on training examples), for small devices; "
    "you feed it the same input values as the other files.",
}


def download_row(title: str, explanation: str, **button: Any) -> None:
    """One line per file: what it is on the left, its button on the right."""
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.markdown(f"**{title}**  \n{explanation}")
    with right:
        st.download_button(on_click="ignore", icon=":material/download:", width="stretch", **button)


def keras_download(ws: Workspace, run: SessionRun) -> None:
    data = downloadable_keras(run.run_dir).read_bytes()  # written once by the worker when the run ended
    download_row(
        t("Keras model"),
        t("The trained network with its preprocessing built in; load it with keras.saving.load_model. {size}", size=human_size(len(data))),
        label=t("Download model.keras"),
        data=data,
        file_name="model.keras",
        mime="application/octet-stream",
        key="download_keras",
    )


def tflite_download(ws: Workspace, run: SessionRun) -> None:
    """The TFLite file for the chosen variant, converted the first time it is chosen."""
    from core.export import TFLITE_VARIANTS

    variant = st.radio(
        t("TFLite variant"),
        TFLITE_VARIANTS,
        format_func=option_labels(TFLITE_VARIANTS, lambda v: t(VARIANT_NAMES_EN[v])),
        horizontal=True,
        key="tflite_variant",
        help=t("Some variants store the weights with fewer bits. That makes the file smaller only for a large "
               "network (a small one is mostly fixed overhead). The size of each file is measured and shown; "
               "compare the variants below to see what they cost in quality."),
    )
    path = computed_once(ws, ("tflite_file", run.id, variant), lambda: tflite_file(run, variant),
                         spinner=t("Converting the model to TFLite ({variant})…", variant=variant))
    if path is None:
        return
    result = Path(path).read_bytes()
    download_row(
        t("TFLite model ({variant})", variant=variant),
        t("For phones and small devices. {help} File size: {size}.", help=t(VARIANT_DESCRIPTIONS_EN[variant]), size=human_size(len(result))),
        label=t("Download model.tflite"),
        data=result,
        file_name=f"model_{variant}.tflite",
        mime="application/octet-stream",
        key="download_tflite",
    )


def serving_download(ws: Workspace, run: SessionRun) -> None:
    """serving.zip (made by a helper when the button is pressed: a SavedModel needs TensorFlow), how to
    run it, and an example request with this model's own inputs (core.serving: no TensorFlow here)."""
    from core.serving.package import serving_settings
    from core.serving.standalone import curl_example

    settings = computed_once(ws, ("serving_settings", run.id), lambda: serving_settings(run.dataset, run.dataset.name))
    if settings is None:
        return
    download_row(
        t("Web service"),
        t("A ready-to-run HTTP service for this model: a `TensorFlow Serving` `SavedModel` that takes raw inputs, "
          "`serve.py` (`FastAPI`), `requirements.txt`, a `Dockerfile` and a `README.md`. Made when you press the button."),
        label=t("Download serving.zip"),
        data=lambda: Path(helper_tasks().run("serving_zip", run.run_dir, name=run.dataset.name)).read_bytes(),
        file_name="serving.zip",
        mime="application/zip",
        key="download_serving",
    )
    # fenced code in markdown: commands and JSON are not words to translate
    st.markdown(t("Unzip it, then run:") + "\n```bash\npip install -r requirements.txt\npython serve.py --port 8000\n```")
    st.markdown(t("An example request with this model's inputs (the answer: one prediction per input, in order):")
                + f"\n```bash\n{curl_example(settings)}\n```")
    st.caption(t("A folder written by `python -m core train --out DIR` is served the same way with "
                 "`python -m core serve DIR`."))


def tflite_file(run: SessionRun, variant: str) -> Path:
    """The variant's file in the run's exports/ folder: float32 is made by the training worker
    when the run ends; any other is converted by a helper the first time it is asked for."""
    made = tflite_path(RunDir(run.run_dir), variant)
    return made if made.exists() else Path(helper_tasks().run("tflite", run.run_dir, variant=variant))


def tflite_table(ws: Workspace, run: SessionRun) -> None:
    """Size, test score and largest difference from Keras per variant, measured on request."""
    key = ("tflite_report", run.id)
    st.markdown(f"**{t('Compare the TFLite variants')}**")
    if key not in ws.cache:
        st.caption(t("Converts every variant and runs it on the test data (takes a few seconds)."))
        if not st.button(t("Measure the variants"), key="measure_tflite", icon=":material/speed:"):
            return
    report = computed_once(ws, key, lambda: helper_tasks().run("tflite_report", run.run_dir), spinner=t("Converting and testing every variant…"))
    if report is not None:
        st.dataframe(variants_frame(report, run.dataset.task), hide_index=True, key="tflite_variants")


def variants_frame(report: list[dict], task: str) -> pd.DataFrame:
    score_key, score_label = ("accuracy", t("Test accuracy")) if task == "classification" else ("mae", t("Test mean absolute error"))
    rows = []
    for row in report:
        score = row.get(score_key)
        rows.append(
            {
                t("File"): "model.keras" if row["variant"] == "keras" else t(VARIANT_NAMES_EN.get(row["variant"], row["variant"])),
                t("Size"): human_size(row["size_bytes"]) if row.get("size_bytes") else "—",
                score_label: (f"{score:.1%}" if task == "classification" else f"{score:.4g}") if score is not None else "—",
                t("Largest difference from Keras"): f"{row['max_abs_diff']:.2g}" if row.get("max_abs_diff") is not None else "—",
                t("Problem"): row.get("error") or "",
            }
        )
    return pd.DataFrame(rows)


def json_and_code_downloads(ws: Workspace, run: SessionRun) -> None:
    from core.export import labels_json, preprocessing_json

    download_row(
        "labels.json",
        t("What the model's outputs mean: the class names in output order, or the predicted column."),
        label=t("Download labels.json"),
        data=computed_once(ws, ("labels_json", run.id), lambda: labels_json(run.dataset)),
        file_name="labels.json",
        mime="application/json",
        key="download_labels",
    )
    download_row(
        "preprocessing.json",
        t("How to turn raw values or images into the model's input."),
        label=t("Download preprocessing.json"),
        data=computed_once(ws, ("preprocessing_json", run.id), lambda: preprocessing_json(run.dataset)),
        file_name="preprocessing.json",
        mime="application/json",
        key="download_preprocessing",
    )
    side_files_downloads(ws, run)
    script = _training_script(ws, run)
    if script is not None:
        download_row(
            "train_model.py",
            t("A standalone Python script that builds and trains the same network with plain Keras."),
            label=t("Download train_model.py"),
            data=script,
            file_name="train_model.py",
            mime="text/x-python",
            key="download_script",
        )
    project_download(run.project, t("The design and training settings of this model; open it on the Design page to continue."))


# What each extra file of a kind of data is for (core.export.side_files names them).
SIDE_FILE_HELP_EN = {
    "vocabulary.json": "The tokens the model knows, in id order: a phone app looks each token of a text up here.",
}


def side_files_downloads(ws: Workspace, run: SessionRun) -> None:
    """Files a kind of data adds next to the model (text: vocabulary.json)."""
    from core.export import side_files

    files = computed_once(ws, ("side_files", run.id), lambda: side_files(run.dataset))
    for number, (name, data) in enumerate(sorted((files or {}).items())):
        download_row(
            name,
            t(SIDE_FILE_HELP_EN[name]) if name in SIDE_FILE_HELP_EN else "",
            label=t("Download {file}", file=name),
            data=data,
            file_name=name,
            mime="application/json" if name.endswith(".json") else "application/octet-stream",
            key=f"download_side_{name.replace('.', '_')}",
        )


def kind_notes(run: SessionRun) -> None:
    """What a kind of data's files need that the others do not say (text: how the files are fed)."""
    from components.kind_views import view_for

    notes = getattr(view_for(run.dataset), "export_notes", None)
    if notes is not None:
        notes(run.dataset)


def _training_script(ws: Workspace, run: SessionRun) -> str | None:
    from core.codegen import training_script

    key = ("training_script", run.id)
    if key not in ws.cache:
        try:
            ws.cache[key] = training_script(run.project, run.dataset)
        except UserError as err:
            st.warning(error_text(err), icon=":material/warning:")
            return None
    return ws.cache[key]


def project_download(spec: Any, explanation: str) -> None:
    download_row(
        "project.json",
        explanation,
        label=t("Download project.json"),
        data=spec.to_json(),
        file_name="project.json",
        mime="application/json",
        key="download_project",
    )


