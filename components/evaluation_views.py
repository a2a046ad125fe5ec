"""The Evaluate page's parts: run picker, metrics, charts, worst mistakes, "try it".

This process never imports TensorFlow: the training worker writes the run's evaluation.json
and float32 TFLite file when the run ends; "Try it" runs that file in LiteRT here, or asks a
helper process (core.training.tasks) for a model without one. What was read or asked is kept in the session's
workspace.cache (keyed by run id), so a rerun of the page asks nothing again.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from components.charts import confusion_matrix_heatmap, per_class_bars, predicted_vs_actual, probability_bars, residuals_plot
from components.i18n import option_labels, t
from components.kind_views import view_for
from components.state.derived import computed_once
from components.state.runs import SessionRun, runs_with_model, sync_active_run
from components.state.training_service import get_training_service
from components.state.workspace import Workspace
from components.training_view import DATA_PAGE, TRAIN_PAGE, missing_step, status_text
from core.i18n import N_

ASKING_THE_MODEL = N_("Working… the trained model is answering.")



# --- which run ---------------------------------------------------------------------------


def trained_runs_or_explain(ws: Workspace) -> list[SessionRun]:
    """Runs with a saved model; when there are none, say what is missing and link to it."""
    sync_active_run(ws)
    runs = runs_with_model(ws)
    if runs:
        return runs
    if ws.dataset is None and not ws.runs:
        missing_step(t("There is no data yet. Pick a sample or upload your own first."), DATA_PAGE, t("Go to Data"))
    elif ws.active_run is not None:
        missing_step(t("A model is still training. Its results appear here when the run ends."), TRAIN_PAGE, t("Watch the training"))
    else:
        missing_step(t("No model has been trained yet. Train one first."), TRAIN_PAGE, t("Go to Train"))
    return []


def choose_run(ws: Workspace, runs: list[SessionRun], key: str) -> SessionRun:
    """Pick a run (default: the one chosen last, else the latest); remembered in the workspace."""
    by_number = {r.number: r for r in runs}
    remembered = ws.runs[ws.selected_run].number if ws.selected_run is not None and ws.selected_run < len(ws.runs) else None
    options = sorted(by_number, reverse=True)  # newest first
    default = remembered if remembered in by_number else options[0]
    number = st.selectbox(
        t("Model"),
        options,
        index=options.index(default),
        format_func=option_labels(options, lambda n: run_caption(by_number[n])),
        key=key,
        help=t("Each training run keeps its best model. The latest one is picked for you."),
    )
    run = by_number[number]
    ws.selected_run = ws.runs.index(run)
    if run.dataset is not ws.dataset:
        st.caption(t("This model was trained on “{name}”, loaded earlier; its results use that data.", name=run.dataset.name))
    return run


def run_caption(run: SessionRun) -> str:
    logs = run.best_logs()
    if "val_accuracy" in logs and logs["val_accuracy"] is not None:
        score = t("validation accuracy {value}", value=f"{logs['val_accuracy']:.1%}")
    elif logs.get("val_mae") is not None:  # regression: in the target's units, unlike the squared loss
        score = t("validation mean absolute error {value}", value=f"{logs['val_mae']:.4g}")
    elif logs.get("val_loss") is not None:
        score = t("validation loss {value}", value=f"{logs['val_loss']:.4g}")
    else:
        score = ""
    return t("{run} ({status}) {score}", run=run.label, status=status_text(run.status), score=score).strip()


# --- evaluation and predictions, from the worker processes ---------------------------------


def run_evaluation(ws: Workspace, run: SessionRun) -> Any:
    """The run's test-set Evaluation (None after a user error): evaluation.json as the worker
    wrote it; a run folder from an older version is evaluated by a helper first."""
    from core.training.tasks import read_evaluation

    def read_or_evaluate() -> Any:
        evaluation = read_evaluation(run.run_dir)
        if evaluation is None:
            helper_tasks().run("evaluate", run.run_dir)
            evaluation = read_evaluation(run.run_dir)
        return evaluation

    evaluation = computed_once(ws, ("evaluation", run.id), read_or_evaluate,
                               spinner=t("Measuring the model on the test data…"))
    if evaluation is not None:
        run.metrics = evaluation.metrics()  # the Train page's runs table shows them
    return evaluation


def helper_tasks() -> Any:
    """The server's TaskService (core.training.task_service): model work in a helper process."""
    return get_training_service().tasks


def predict(run: SessionRun, inputs: Any) -> Any:
    """Predictions for `inputs` (ModelInputs the data kind decoded here): the run's float32
    TFLite file in LiteRT, here (the same outputs as Keras to ~1e-7, microseconds, no
    TensorFlow), or, for a model without that file, the Keras model in a helper process.
    A UserError (bad input, helper stopped) is raised as it is."""
    from core.data.kinds import contract_for
    from core.export import run_tflite
    from core.predict import predictions_from_outputs
    from core.training.tasks import float32_tflite

    x = np.asarray(inputs.x, dtype=np.float32)
    tflite = float32_tflite(run.run_dir)
    if tflite is not None:
        outputs = run_tflite(tflite.read_bytes(), x)
    else:
        outputs = helper_tasks().run("predict", run.run_dir, x=x)
    return predictions_from_outputs(contract_for(run.dataset), inputs, outputs)


# --- results ---------------------------------------------------------------------------------


def metric_cards(evaluation: Any) -> None:
    if evaluation.task == "classification":
        macro_f1 = evaluation.metrics().get("macro_f1")
        cols = st.columns(4)
        cols[0].metric(t("Accuracy"), f"{evaluation.accuracy:.1%}", help=t("Share of test examples classified correctly."))
        cols[1].metric(t("Average F1"), f"{macro_f1:.3f}" if macro_f1 is not None else "—", help=t("Balance of precision and recall, averaged over the classes (1 is perfect)."))
        cols[2].metric(t("Loss"), f"{evaluation.loss:.4f}", help=t("Cross-entropy on the test data: lower is better."))
        cols[3].metric(t("Test examples"), evaluation.n_test)
    else:
        cols = st.columns(4)
        cols[0].metric(t("Mean absolute error"), f"{evaluation.mae:.4g}", help=t("On average, how far a prediction is from the true value, in the target's units."))
        cols[1].metric(t("RMSE"), f"{evaluation.rmse:.4g}", help=t("Root mean squared error: like the mean error, but large misses count more."))
        cols[2].metric(t("R²"), f"{evaluation.r2:.3f}", help=t("1 is perfect; 0 is no better than always predicting the average."))
        cols[3].metric(t("Test examples"), evaluation.n_test)


def classification_details(evaluation: Any) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{t('Confusion matrix')}**")
        st.caption(t("Rows are the true classes, columns what the model predicted. The diagonal holds the correct answers."))
        fig = confusion_matrix_heatmap(evaluation.confusion, evaluation.classes, actual_label=t("True class"), predicted_label=t("Predicted class"))
        st.plotly_chart(fig, key="confusion_matrix", config={"displayModeBar": False})
    with right:
        st.markdown(f"**{t('Per class')}**")
        score = "{:.3f}".format
        table = pd.DataFrame(
            {
                t("Class"): [c.name for c in evaluation.per_class],
                t("Precision"): [score(c.precision) for c in evaluation.per_class],
                t("Recall"): [score(c.recall) for c in evaluation.per_class],
                t("F1"): [score(c.f1) for c in evaluation.per_class],
                t("Test examples"): [c.support for c in evaluation.per_class],
            }
        ).set_index(t("Class"))
        # A plain table, not st.dataframe: its columns wrap to the column's width, so every value
        # shows at once on a laptop or a projector (the grid cut Recall and F1 off at 1400 px).
        with st.container(key="per_class_table"):
            st.table(table)
        bars = per_class_bars(
            [c.name for c in evaluation.per_class],
            {t("Precision"): [c.precision for c in evaluation.per_class], t("Recall"): [c.recall for c in evaluation.per_class], t("F1"): [c.f1 for c in evaluation.per_class]},
            value_label=t("Score"),
        )
        st.plotly_chart(bars, key="per_class_bars", config={"displayModeBar": False})


def regression_details(evaluation: Any) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('Predicted vs actual')}**")
        fig = predicted_vs_actual(evaluation.y_true, evaluation.predicted, actual_label=t("Actual value"), predicted_label=t("Predicted value"), ideal_label=t("Perfect prediction"))
        st.plotly_chart(fig, key="predicted_vs_actual", config={"displayModeBar": False})
    with right:
        st.markdown(f"**{t('Errors (residuals)')}**")
        fig = residuals_plot(evaluation.predicted, evaluation.residuals, predicted_label=t("Predicted value"), residual_label=t("Actual − predicted"))
        st.plotly_chart(fig, key="residuals", config={"displayModeBar": False})


def evaluation_details(ws: Workspace, evaluation: Any, run: SessionRun) -> None:
    """The run's scores and where it goes wrong: the kind's own view when it has one (forecasts: the
    naive baselines, errors per step ahead, the test period), else the task's cards, charts and worst
    mistakes."""
    own = getattr(view_for(run.dataset), "evaluation_details", None)
    if own is not None:
        own(ws, evaluation, run)
        return
    metric_cards(evaluation)
    if evaluation.task == "classification":
        classification_details(evaluation)
    else:
        regression_details(evaluation)
    worst_mistakes(evaluation, run.dataset)


def worst_mistakes(evaluation: Any, dataset: Any) -> None:
    st.subheader(t("Worst mistakes"))
    if not evaluation.worst:
        st.success(t("No mistakes on the test data."), icon=":material/target:")
        return
    view_for(dataset).worst_mistakes(evaluation, dataset)


# --- try it --------------------------------------------------------------------------------


def try_it(ws: Workspace, run: SessionRun) -> None:
    st.subheader(t("Try it"))
    view_for(run.dataset).try_it(ws, run)


def csv_predictions(ws: Workspace, run: SessionRun, label: str, *, key: str, types: list[str]) -> Any:
    """Predictions for every row of an uploaded CSV, read by the kind's contract (the training
    columns, or a column of texts); asked once per file. None until a file is chosen or on error."""
    upload = st.file_uploader(label, type=types, key=f"{key}_{run.id}")
    if upload is None:
        return None
    from core.data import read_csv
    from core.data.kinds import contract_for

    def predict_csv() -> Any:
        frame = read_csv(upload.getvalue(), upload.name).frame
        return predict(run, contract_for(run.dataset).inputs_from_frame(frame))

    return computed_once(ws, (key, run.id, upload.file_id), predict_csv, spinner=t(ASKING_THE_MODEL))


def show_prediction(predictions: Any, item: Any, *, key: str) -> None:
    if predictions.task == "classification":
        st.markdown(t("Prediction: **{label}** ({probability})", label=item.label, probability=f"{item.probability:.1%}"))
        fig = probability_bars(list(item.probabilities), list(item.probabilities.values()), probability_label=t("Probability"))
        st.plotly_chart(fig, key=key, config={"displayModeBar": False})
    else:
        st.metric(t("Predicted value"), f"{item.value:.4g}")


def predictions_download(predictions: Any, *, key: str) -> None:
    from core.export import safe_csv_bytes

    st.download_button(
        t("Download predictions (CSV)"),
        data=safe_csv_bytes(predictions.to_frame()),
        file_name="predictions.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )
