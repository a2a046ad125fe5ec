"""Step 1, Data: pick a sample or upload a file, see what was understood, choose target, task and kinds."""
from __future__ import annotations

import dataclasses

import streamlit as st
from streamlit.logger import get_logger

from components.app_frame import require_app_frame
from components.designer import fit_design_to_data
from components.kind_views import view_for
from components.my_classes import my_classes_section
from components.uploads import UploadOnce
from components.i18n import error_text, option_labels, show_error, t, t_core
from components.state.workspace import Workspace, get_workspace
from components.workflow import dataset_label
from core import data as core_data
from core.data.dataset import FORECAST, TEXT
from core.errors import UserError
from core.sources import sample_name, sample_source

require_app_frame()  # before anything is drawn: see components.app_frame
_LOG = get_logger(__name__)  # Streamlit's logging setup: tracebacks appear in the server log

UPLOAD_TYPES = ["csv", "tsv", "txt", "zip"]  # .tsv/.txt are read as tables, like .csv
# Page-local bookkeeping (not user data): which upload was already read, and its error if any.
DATA_UPLOAD = UploadOnce("data_page.data_file")
SAMPLE_PICKED_KEY = "data_page.sample_picked"
REFUSED_KEY = "data_page.refused_changes"  # counts refused target/task/kind changes
KIND_CHOICES_KEY = "data_page.kind_choices"  # (data_version, {column: kind the user chose})
SERIES_CHOICES_KEY = "data_page.series_choices"  # (data_version, the SeriesSettings the user chose)


def _sample_label(name: str) -> str:
    return f"{name} — {t(core_data.SAMPLES[name])}"


def _current_sample(ws: Workspace) -> str | None:
    return sample_name(ws.data_source)


def _raw_table(ws: Workspace):
    """The table as read, for re-running prepare_table (samples keep theirs in dataset.frame)."""
    if ws.raw_table is None and ws.dataset is not None and ws.dataset.frame is not None:  # tables keep their frame
        frame = ws.dataset.frame
        ws.raw_table = core_data.RawTable(
            name=ws.dataset.name, frame=frame, encoding="utf-8", delimiter=",", decimal=".",
            n_bytes=int(frame.memory_usage(deep=False).sum()),
        )
    return ws.raw_table


def use_dataset(ws: Workspace, dataset, source: str, raw=None, kind_choices: dict | None = None,
                archive: bytes | None = None, series_choices=None) -> None:
    """Make `dataset` the current data, fit the design to it, and redraw the page from it.
    `archive`: the uploaded zip, kept when the data's kind reads it again on a settings change;
    `series_choices`: the SeriesSettings the user chose (the rest stays automatic)."""
    keep_archive = archive is not None and getattr(view_for(dataset), "KEEPS_UPLOAD", False)
    ws.set_dataset(dataset, source, raw_table=raw, raw_archive=archive if keep_archive else None)
    st.session_state[KIND_CHOICES_KEY] = (ws.data_version, dict(kind_choices or {}))
    st.session_state[SERIES_CHOICES_KEY] = (ws.data_version, series_choices)
    fit_design_to_data(ws)
    st.rerun()


def load_picked_sample(ws: Workspace) -> None:
    name = st.session_state.get("sample_dataset")
    if not name:
        return
    try:
        with st.spinner(t("Loading the {name} sample…", name=name)):
            dataset = core_data.load_sample(name)
    except UserError as err:
        show_error(err)
        return
    use_dataset(ws, dataset, sample_source(name))


def read_upload(ws: Workspace, uploaded) -> None:
    """Read an uploaded CSV or zip; on failure remember the error and keep the earlier dataset."""
    name = uploaded.name
    archive = None
    with st.status(t("Reading {file}…", file=name), expanded=False) as status:
        try:
            data = uploaded.getvalue()
            if name.lower().endswith(".zip"):
                status.update(label=t("Reading the files in {file}…", file=name))
                dataset, raw, archive = core_data.load_zip(data, name), None, data
            else:
                raw = core_data.read_csv(data, name)
                status.update(label=t("Working out what the columns of {file} mean…", file=name))
                dataset = prepare_uploaded_table(raw)
        except UserError as err:
            DATA_UPLOAD.failed(uploaded, error_text(err))
            status.update(label=t("{file} could not be used", file=name), state="error")
            return
        except Exception:  # a bug in LayerLab: logged in full, and the user keeps working with the earlier data
            _LOG.exception("reading the upload %r failed", name)
            DATA_UPLOAD.failed(uploaded, t(
                "LayerLab could not read {file} because of an internal error. Save the file again as CSV "
                "(or zip the image folders again) and upload it once more.", file=name))
            status.update(label=t("{file} could not be used", file=name), state="error")
            return
        status.update(label=t("{file} is ready", file=name), state="complete")
    use_dataset(ws, dataset, name, raw, archive=archive)


def prepare_uploaded_table(raw):
    """A CSV as a table; one that no table model can use but that has dates (a date column and the
    numbers measured then, the usual export of a series), or a single column, as a series to forecast."""
    try:
        return core_data.prepare_table(raw)
    except UserError as as_table:
        from core.data.dates import find_date_column
        from core.data.series import prepare_series

        if len(raw.frame.columns) > 1 and find_date_column(raw.frame) is None:
            raise
        try:
            return prepare_series(raw)
        except UserError as as_series:
            # no numbers to forecast: the table's message says more; else what is wrong with the series
            raise as_table if as_series.code == "series.no_numeric_column" else as_series from None


def refused(err: UserError) -> None:
    """A change core refused: say why; the current dataset stays."""
    show_error(err)
    # The widgets still show the refused choice: the next run redraws them from the kept dataset.
    st.session_state[REFUSED_KEY] = st.session_state.get(REFUSED_KEY, 0) + 1


def reprepare(ws: Workspace, *, target: str, task: str | None, kinds: dict[str, str], **options) -> None:
    """Re-run only prepare_table on the kept table (`options`: its text settings); a refusal keeps
    the current dataset."""
    raw = _raw_table(ws)
    try:
        dataset = core_data.prepare_table(raw, target=target, task=task, kinds=kinds or None, **options)
    except UserError as err:
        refused(err)
        return
    use_dataset(ws, dataset, ws.data_source, raw, kind_choices=kinds)


def reread_archive(ws: Workspace, text_settings) -> None:
    """Read the kept zip again with other text settings; a refusal keeps the current dataset."""
    try:
        with st.spinner(t("Reading the files in {file}…", file=ws.dataset.name)):
            dataset = core_data.load_zip(ws.raw_archive, ws.dataset.name, text_settings=text_settings)
    except UserError as err:
        refused(err)
        return
    use_dataset(ws, dataset, ws.data_source, archive=ws.raw_archive)


def choose_source(ws: Workspace) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("Use a sample"))
        _mirror("sample_dataset", _current_sample(ws), str(ws.data_version))
        st.selectbox(
            t("Built-in sample"),
            options=list(core_data.SAMPLES),
            placeholder=t("Choose a sample…"),
            format_func=option_labels(core_data.SAMPLES, _sample_label),
            key="sample_dataset",
            on_change=lambda: st.session_state.update({SAMPLE_PICKED_KEY: True}),
            help=t("Small data sets that come with the app: nothing to prepare."),
        )
        if st.session_state.pop(SAMPLE_PICKED_KEY, False):
            load_picked_sample(ws)
    with right:
        st.subheader(t("Upload your own"))
        uploaded = st.file_uploader(
            t("A table (CSV, TSV or TXT), or a zip of images or of texts"),
            type=UPLOAD_TYPES,
            key="data_upload",
            help=t("Table: one row per example, one column per value, a header row; values separated by "
                   "commas, semicolons or tabs. A column of free text (messages, reviews) can be classified "
                   "as text. Zip: one folder per class with the images, or the .txt files (one text each), "
                   "inside."),
        )
        if DATA_UPLOAD.is_new(uploaded):
            read_upload(ws, uploaded)
        if DATA_UPLOAD.show_error(uploaded):
            if ws.dataset is not None:
                st.info(t("Still using the earlier data: {name}", name=dataset_label(ws.dataset.name)))


def _widget_generation(ws: Workspace) -> str:
    """Part of the keys of widgets that mirror the dataset: new data or a refused change resets them."""
    return f"{ws.data_version}.{st.session_state.get(REFUSED_KEY, 0)}"


def _mirror(key: str, value, generation: str) -> None:
    """Set a fixed-key widget to the dataset's value (before the widget is drawn) once per
    generation, and again whenever Streamlit dropped the widget's value (it does on page switches)."""
    marker = f"data_page.mirrored.{key}"
    if key not in st.session_state or st.session_state.get(marker) != generation:
        st.session_state[key] = value
        st.session_state[marker] = generation


def _kind_choices(ws: Workspace) -> dict[str, str]:
    """The column kinds the user chose for the current data (only those: the app decides the rest)."""
    version, choices = st.session_state.get(KIND_CHOICES_KEY) or (None, {})
    return dict(choices) if version == ws.data_version else {}


def choose_target_and_task(ws: Workspace, *, keep_kinds: dict[str, str] | None = None, forecast: bool = False,
                           **options) -> None:
    """The target column and the task; `keep_kinds` (a text dataset's text column) and `options`
    (its text settings) go into every re-preparation, so the data keeps its kind. `forecast` offers
    a forecast of the target as a third task (a table: its rows in date order, or in file order)."""
    dataset, raw = ws.dataset, _raw_table(ws)
    if raw is None:
        return
    generation = _widget_generation(ws)
    _mirror("target_column", dataset.target, generation)
    left, right = st.columns(2, gap="large")
    target = left.selectbox(
        t("Column to predict (target)"),
        options=list(raw.frame.columns),
        key="target_column",
        help=t("The model learns to predict this column from the others."),
    )
    task_names = {"classification": t("classification: pick one of a few labels"),
                  "regression": t("regression: predict a number")}
    if forecast:
        task_names[FORECAST] = t("forecast: its next values, in time order")
    task = right.radio(
        t("Kind of prediction"),
        options=list(task_names),
        index=list(task_names).index(dataset.task),
        format_func=task_names.get,
        key=f"task_{generation}",
        help=t("Decided from the target column; change it if the guess is wrong."),
    )
    if target != dataset.target:
        # A new target: the task is decided again and the columns are looked at afresh.
        reprepare(ws, target=target, task=None, kinds=dict(keep_kinds or {}), **options)
    elif task == FORECAST:
        forecast_table(ws)
    elif task != dataset.task:
        reprepare(ws, target=target, task=task, kinds=_kind_choices(ws) | (keep_kinds or {}), **options)


def show_table_dataset(ws: Workspace) -> None:
    from components import data_views  # pandas: see show_dataset

    dataset = ws.dataset
    choose_target_and_task(ws, forecast=True)
    st.subheader(t("Columns"))
    st.caption(t("What each column was understood to be. Change a kind if it is wrong."))
    changed = data_views.edit_feature_kinds(dataset, key=f"feature_kinds_{_widget_generation(ws)}")
    if changed:
        reprepare(ws, target=dataset.target, task=dataset.task, kinds=_kind_choices(ws) | changed)
    offer_text_model(ws)
    offer_forecast(ws)
    st.subheader(t("Preview"))
    data_views.table_preview(dataset.frame)


def offer_text_model(ws: Workspace) -> None:
    """A table with a column of free text (not used by a table model): offer a text model of it."""
    dataset = ws.dataset
    columns = [f.name for f in dataset.features if f.kind == TEXT]
    if not columns:
        return
    with st.container(border=True):
        if len(columns) == 1:
            column = columns[0]
            st.markdown(t("**'{column}' holds free text**, which a table model does not read. A text model reads "
                          "that column instead (and only it) to predict '{target}'.", column=column,
                          target=dataset.target))
        else:
            st.markdown(t("**Some columns hold free text**, which a table model does not read. A text model reads "
                          "one of them instead (and only it) to predict '{target}'.", target=dataset.target))
            column = st.selectbox(t("Text column"), columns, key="classify_text_column")
        if st.button(t("Classify this text") if dataset.task == "classification" else t("Predict from this text"),
                     key="classify_text", icon=":material/article:"):
            choices = {name: kind for name, kind in _kind_choices(ws).items() if kind != TEXT}
            reprepare(ws, target=dataset.target, task=dataset.task, kinds=choices | {column: TEXT})


def offer_forecast(ws: Workspace) -> None:
    """A table with a date column: offer to forecast one of its series instead (the series kind)."""
    column = computed_date_column(ws)
    if column is None:
        return
    with st.container(border=True):
        st.markdown(t("**'{column}' holds dates.** A forecasting model reads the values in date order and predicts "
                      "the next ones: the future of a series, rather than one column from the others.", column=column))
        if st.button(t("Forecast this series"), key="forecast_series", icon=":material/timeline:"):
            forecast_table(ws)


def forecast_table(ws: Workspace) -> None:
    """The table as a series to forecast: its target when that is a column of numbers (else the series
    the data suggests), in date order, or in row order without a date column."""
    from core.data.kinds.series import numeric_columns
    from core.data.series import SeriesSettings

    target = ws.dataset.target
    frame = _raw_table(ws).frame
    chosen = target if target in frame.columns and target in numeric_columns(frame[[target]]) else None
    prepare_series_again(ws, SeriesSettings(target=chosen))


def computed_date_column(ws: Workspace) -> str | None:
    """The table's date column (core.data.dates.find_date_column), found once per dataset."""
    key = ("data_page.date_column", ws.data_version)
    if key not in ws.cache:
        from core.data.dates import find_date_column

        ws.cache[key] = find_date_column(ws.dataset.frame) if ws.dataset.frame is not None else None
    return ws.cache[key]


def show_dataset(ws: Workspace) -> None:
    # Imported here, once there is data: data_views needs pandas (0.4 s and 70 MB the first
    # time in a server process), which the page without data does not.
    from components import data_views

    dataset = ws.dataset
    st.divider()
    st.subheader(t("Your data: {name}", name=dataset_label(dataset.name)))
    st.write(view_for(dataset).summary(dataset))
    for warning in dataset.warnings:
        st.warning(t_core(warning), icon=":material/info:")
    DATA_SECTIONS[dataset.kind](ws)
    if not getattr(view_for(dataset), "OWN_TARGET_CHART", False):
        st.subheader(t("Class counts") if dataset.task == "classification" else t("Target values"))
        st.plotly_chart(data_views.class_counts_figure(dataset), key="class_counts")
        data_views.imbalance_note(dataset, ws.spec)
    st.subheader(t("Split"))
    data_views.split_sizes(dataset)
    st.page_link("pages/design.py", label=t("Next: design the network"), icon=":material/arrow_forward:")


def show_image_dataset(ws: Workspace) -> None:
    from components import data_views  # pandas: see show_dataset

    st.subheader(t("Preview"))
    data_views.image_grid(ws.dataset)
    data_views.skipped_files_table(ws.dataset)


def show_text_dataset(ws: Workspace) -> None:
    from components import data_views, text_views  # pandas, Plotly: see show_dataset

    dataset = ws.dataset
    text = dataset.text
    from_table = _raw_table(ws) is not None
    if from_table:
        keep = {text.column: TEXT}
        choose_target_and_task(ws, keep_kinds=keep, text_settings=text.settings)
        st.subheader(t("Columns"))
        st.caption(t("A text model reads one column, '{column}'. Choose 'ignored' or 'categorical' for it to use "
                     "the other columns as a table instead, or 'text' for another column to read that one.",
                     column=text.column))
        changed = data_views.edit_feature_kinds(dataset, key=f"feature_kinds_{_widget_generation(ws)}")
        if changed:
            reprepare(ws, target=dataset.target, task=dataset.task, kinds=_text_kinds(ws, changed),
                      text_settings=text.settings)
    st.subheader(t("How the texts are split"))
    settings = edit_text_settings(ws)
    if settings is not None:
        if from_table:
            reprepare(ws, target=dataset.target, task=dataset.task, kinds=_kind_choices(ws) | {text.column: TEXT},
                      text_settings=settings)
        else:
            reread_archive(ws, settings)
    if text.profile is not None:
        st.subheader(t("Text lengths"))
        text_views.lengths_section(dataset)
        st.subheader(t("Vocabulary"))
        text_views.vocabulary_section(dataset)
        text_views.left_out_section(dataset)
    data_views.skipped_files_table(dataset)


def _text_kinds(ws: Workspace, changed: dict[str, str]) -> dict[str, str]:
    """The kinds for a text dataset's re-preparation: its column stays the text unless the user
    changed it, or chose another column as the text."""
    column = ws.dataset.text.column
    kinds = _kind_choices(ws) | {column: TEXT}
    if any(kind == TEXT and name != column for name, kind in changed.items()):
        kinds.pop(column)
    return kinds | changed


def edit_text_settings(ws: Workspace):
    """Tokenization, vocabulary size and sequence length, shown as the data has them; returns the
    new core TextSettings when the user changed one (None otherwise). A setting the user never
    changed stays automatic: decided again from the data."""
    from core.data.tokens import (
        MAX_SEQUENCE_LENGTH, MAX_VOCABULARY, MIN_SEQUENCE_LENGTH, RESERVED_IDS, TOKENIZATIONS, TextSettings,
    )

    text = ws.dataset.text
    can_change = _raw_table(ws) is not None or ws.raw_archive is not None
    shown = {
        "tokenization": text.tokenization,
        "vocabulary_size": text.settings.vocabulary_size or text.n_ids,
        "sequence_length": text.settings.sequence_length or text.sequence_length,
    }
    generation = _widget_generation(ws)
    for name, value in shown.items():
        _mirror(f"text_{name}", value, generation)
    cols = st.columns(3)
    chosen = {
        "tokenization": cols[0].selectbox(
            t("Split texts into"), list(TOKENIZATIONS), key="text_tokenization", disabled=not can_change,
            format_func=option_labels(TOKENIZATIONS, lambda name: t_core(TOKENIZATIONS[name])),
            help=t("Words suit languages written with spaces; single characters and pairs of characters suit "
                   "Chinese and Japanese, which have no spaces between words."),
        ),
        "vocabulary_size": cols[1].number_input(
            t("Vocabulary size"), min_value=RESERVED_IDS + 1, max_value=MAX_VOCABULARY, step=1000,
            key="text_vocabulary_size", disabled=not can_change,
            help=t("How many different tokens the model knows, the most frequent first (2 of them are padding and "
                   "'unknown'). A smaller vocabulary makes a smaller model; rare tokens become 'unknown'."),
        ),
        "sequence_length": cols[2].number_input(
            t("Sequence length"), min_value=MIN_SEQUENCE_LENGTH, max_value=MAX_SEQUENCE_LENGTH, step=10,
            key="text_sequence_length", disabled=not can_change,
            help=t("How many tokens of each text the model reads: longer texts are cut, shorter ones padded. "
                   "Decided so that 95% of the training texts fit whole."),
        ),
    }
    if not can_change:
        st.caption(t("Load the data again to change these settings."))
        return None
    if text.settings.to_json() != {name: None for name in shown}:
        if st.button(t("Back to automatic settings"), key="text_settings_automatic", icon=":material/restart_alt:"):
            return TextSettings()
    changes = {name: value for name, value in chosen.items() if value != shown[name]}
    return text.settings.with_changes(**changes) if changes else None


def show_series_dataset(ws: Workspace) -> None:
    from components import series_views  # pandas, Plotly: see show_dataset

    dataset = ws.dataset
    st.subheader(t("What to forecast"))
    choices = edit_series_settings(ws)
    if choices is not None:
        prepare_series_again(ws, choices)
    st.subheader(t("The series over time"))
    series_views.series_section(dataset)
    st.subheader(t("What was found in the dates and values"))
    series_views.report_section(dataset)
    offer_table_model(ws)


def _series_choices(ws: Workspace):
    """The SeriesSettings the user chose for the current data (None fields: decided from the data)."""
    from core.data.series import SeriesSettings

    version, choices = st.session_state.get(SERIES_CHOICES_KEY) or (None, None)
    return dataclasses.replace(choices) if version == ws.data_version and choices is not None else SeriesSettings()


def _series_columns(ws: Workspace) -> tuple[list[str], list[str]]:
    """The raw table's columns of numbers and of dates (looked at once per dataset)."""
    key = ("data_page.series_columns", ws.data_version)
    if key not in ws.cache:
        from core.data.kinds.series import date_columns, numeric_columns

        frame = _raw_table(ws).frame
        dates = date_columns(frame)
        ws.cache[key] = (numeric_columns(frame, exclude=set(dates)), dates)
    return ws.cache[key]


def edit_series_settings(ws: Workspace):
    """The series to forecast, the input series, window, horizon, date column and day/month order, shown
    as the data has them; returns the new core SeriesSettings when the user changed one (None
    otherwise). What the user never changed stays automatic: decided again from the data."""
    from core.data.dates import DATE_ORDERS

    series = ws.dataset.series
    raw = _raw_table(ws)
    if raw is None:
        st.caption(t("Load the data again to change these settings."))
        return None
    numbers, dates = _series_columns(ws)
    date_column = series.date_column or ""
    targets = [c for c in numbers if c != date_column] or [series.target]
    if series.target not in targets:
        targets.insert(0, series.target)
    date_options = ["", *dict.fromkeys([*dates, *([date_column] if date_column else [])])]
    shown = {"target": series.target, "inputs": list(series.inputs), "window": series.window,
             "horizon": series.horizon, "date_column": date_column}
    generation = _widget_generation(ws)
    for name, value in shown.items():
        _mirror(f"series_{name}", value, generation)
    left, right = st.columns(2, gap="large")
    chosen = {
        "target": left.selectbox(
            t("Series to forecast"), targets, key="series_target",
            help=t("The column of numbers whose next values the model forecasts."),
        ),
        "inputs": right.multiselect(
            t("Other series the model reads"), [c for c in targets if c != series.target], key="series_inputs",
            placeholder=t("None: only the series itself"),
            help=t("Columns of numbers measured at the same steps that may help (their past values only: the model "
                   "never sees the future of any series)."),
        ),
    }
    cols = st.columns(3)
    chosen["window"] = cols[0].number_input(
        t("Look-back window (steps)"), min_value=1, max_value=max(series.n, series.window), step=1, key="series_window",
        help=t("How many past steps the model reads to make one forecast. Decided from the frequency ({frequency}): "
               "longer windows see more of the past but leave fewer examples.", frequency=t_core(series.frequency.name)),
    )
    chosen["horizon"] = cols[1].number_input(
        t("Horizon (steps ahead)"), min_value=1, max_value=max(series.n, series.horizon), step=1, key="series_horizon",
        help=t("How many steps ahead the model forecasts at once."),
    )
    labels = {name: name or t("none: row order") for name in date_options}
    chosen["date_column"] = cols[2].selectbox(
        t("Date column"), date_options, key="series_date_column", format_func=option_labels(date_options, labels.get),
        help=t("The column that says when each row was measured. Without one, the rows are taken in file order, "
               "one step each."),
    )
    choices = _series_choices(ws)
    order = None
    if series.date_ambiguous or choices.date_order is not None:
        _mirror("series_date_order", series.date_order or DATE_ORDERS[0], generation)
        order_names = {"day_first": t("day first (31/01/2024)"), "month_first": t("month first (01/31/2024)")}
        order = st.radio(
            t("The dates read both ways: which comes first?"), list(DATE_ORDERS), key="series_date_order",
            format_func=option_labels(DATE_ORDERS, order_names.get), horizontal=True,
            help=t("Every date in '{column}' is a valid date either way, and the steps do not tell which is meant.",
                   column=series.date_column),
        )
    if any(value is not None for value in (choices.window, choices.horizon, choices.date_column, choices.date_order)):
        if st.button(t("Back to automatic settings"), key="series_settings_automatic", icon=":material/restart_alt:"):
            return dataclasses.replace(choices, window=None, horizon=None, date_column=None, date_order=None)
    changed = False
    if chosen["target"] != shown["target"]:
        choices.target, changed = chosen["target"], True
        choices.inputs = tuple(c for c in (choices.inputs or ()) if c != chosen["target"]) or None
    elif list(chosen["inputs"]) != shown["inputs"]:
        choices.inputs, changed = tuple(chosen["inputs"]), True
    for name in ("window", "horizon"):
        if int(chosen[name]) != shown[name]:
            setattr(choices, name, int(chosen[name]))
            changed = True
    if chosen["date_column"] != shown["date_column"]:
        choices.date_column, choices.date_order, changed = chosen["date_column"], None, True
    elif order is not None and order != series.date_order:
        choices.date_order, changed = order, True
    return choices if changed else None


def prepare_series_again(ws: Workspace, choices) -> None:
    """Prepare the kept table as a series with the user's choices; a refusal keeps the current data."""
    from core.data.series import prepare_series

    raw = _raw_table(ws)
    try:
        with st.spinner(t("Preparing the series…")):
            dataset = prepare_series(raw, choices)
    except UserError as err:
        refused(err)
        return
    use_dataset(ws, dataset, ws.data_source, raw, series_choices=choices)


def offer_table_model(ws: Workspace) -> None:
    """A series read from a table: offer the table as it is again (one column predicted from the others)."""
    with st.expander(t("Not a forecast after all?")):
        st.caption(t("A table model predicts one column from the other columns of the same row, without the order "
                     "in time."))
        if st.button(t("Use it as a table instead"), key="series_as_table", icon=":material/table:"):
            raw = _raw_table(ws)
            try:
                dataset = core_data.prepare_table(raw)
            except UserError as err:
                refused(err)
                return
            use_dataset(ws, dataset, ws.data_source, raw)


# The part of this page that differs by kind of data (its other views: components/kind_views).
DATA_SECTIONS = {"table": show_table_dataset, "images": show_image_dataset, "text": show_text_dataset,
                 "series": show_series_dataset}


def main() -> None:
    ws = get_workspace()
    st.title(t("Data"))
    st.write(t("Choose the examples the network learns from: a built-in sample, or your own table, images or texts."))
    choose_source(ws)
    my_classes_section(ws, use_dataset)
    if ws.dataset is None:
        st.info(t("No data yet: choose a sample or upload a file above."), icon=":material/info:")
        return
    show_dataset(ws)


main()
