"""Time series through the pages: the Data page's chart, periods and report, the settings that prepare
the series again (and a refused one that keeps it), a dated table forecast instead, the day/month
question, the Design page's series templates, and a forecaster trained by a worker, then evaluated
against the naive forecasts, tried and exported; every series page in Chinese."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from tests.app.apptest import ROOT, errors, exceptions, new_app, open_page, workspace_with_sample
from tests.app.i18n_texts import assert_all_chinese, chinese_page
from tests.app.run_helpers import run_until_ended, workspace_with_trained_run
from tests.datafiles import meter_rows_csv, harvest_dates_csv, shop_days_csv

DATA = "pages/data.py"
# Pieces other helpers of issue 20 deliver: train_model.py for series (the Export page writes it) and
# the recent rows' reader behind SeriesContract.inputs_from_frame (Try it with a CSV).
HAS_SERIES_SCRIPT = (ROOT / "core" / "script_templates" / "series.py").exists()


def data_page_with(at, sample: str):
    open_page(at, DATA)
    at.selectbox(key="sample_dataset").set_value(sample).run()
    assert not exceptions(at) and not errors(at)
    return at


def upload(at, name: str, data: bytes):
    at.file_uploader(key="data_upload").set_value((name, data, "text/csv"))
    return at.run()


def chart_spec(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def report(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("- **Steps:**"))


@pytest.fixture(scope="module")
def trained():
    """electrical_equipment with its default design, trained 5 epochs in this process (the worker's files)."""
    ws, _model = workspace_with_trained_run("electrical_equipment", epochs=5)
    return ws


def test_a_series_sample_shows_its_periods_what_was_found_and_its_settings(app):
    at = data_page_with(app, "co2_mauna_loa")
    ws = at.session_state["workspace"]
    series = ws.dataset.series
    assert ws.dataset.kind == "series" and (series.window, series.horizon) == (26, 4)
    summary = next(m.value for m in at.markdown if "weekly steps" in m.value)
    assert summary == ("2,284 weekly steps of 'co2_ppm', 1958-03-29 – 2001-12-29 · the model reads the last 26 steps "
                       "and forecasts the next 4")
    chart = chart_spec(at, "series_chart")
    assert [shape["x0"][:10] for shape in chart["layout"]["shapes"]] == ["1958-03-29", "1988-11-12", "1995-06-10"]
    assert [a["text"] for a in chart["layout"]["annotations"]] == ["training", "validation", "test"]
    assert "class_counts" not in {c.key for c in at.get("plotly_chart")}  # no histogram of windows
    assert any(c.value.startswith("training: 1958-03-29 – 1988-11-05 (1,598 steps) · validation: ") for c in at.caption)
    found = report(at)
    assert "**Steps:** weekly, 2,284 of them, from 1958-03-29 to 2001-12-29." in found
    assert "**Season:** 52 steps." in found and "**Gaps:** none" in found
    assert "**Empty values filled:** 'co2_ppm' 59, each carried forward from the step before: from the past only" in found
    assert any("'co2_ppm' 59" in w.value for w in at.warning)  # core's note too
    assert at.selectbox(key="series_target").value == "co2_ppm" and at.multiselect(key="series_inputs").value == []
    assert (at.number_input(key="series_window").value, at.number_input(key="series_horizon").value) == (26, 4)
    assert at.selectbox(key="series_date_column").value == "date"
    assert at.selectbox(key="series_date_column").options == ["none: row order", "date"]
    assert {m.label: m.value for m in at.metric}["training examples"] == str(len(ws.dataset.x_train))


def test_window_and_horizon_prepare_the_series_again_and_a_refused_change_keeps_it(app):
    at = data_page_with(app, "electrical_equipment")
    ws = at.session_state["workspace"]
    at.number_input(key="series_window").set_value(36).run()
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.series.window == 36 and ws.dataset.x_train.shape[1:] == (36, 1)
    at.number_input(key="series_horizon").set_value(6).run()
    assert (ws.dataset.series.window, ws.dataset.series.horizon) == (36, 6) and ws.dataset.y_test.shape[1] == 6
    assert ws.spec.layers and ws.dataset.n_outputs == 6  # the untouched default design follows the data

    before = ws.dataset
    at.number_input(key="series_window").set_value(250).run()  # 250 + 3 × 6 steps: more than the 257 there are
    assert not exceptions(at)
    assert "too few for a window of 250 and a horizon of 6" in errors(at)[0] and ws.dataset is before
    at.run()
    assert at.number_input(key="series_window").value == 36  # the widget shows the kept data again

    at.button(key="series_settings_automatic").click().run()
    assert (ws.dataset.series.window, ws.dataset.series.horizon) == (24, 12)
    assert at.number_input(key="series_window").value == 24

    at.selectbox(key="series_date_column").set_value("").run()  # no dates: the row order is time
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.series.timestamps is None and ws.dataset.series.stamp_text(0) == "step 1"
    assert "**Steps:** there is no date column, so the row order is time: each of the 257 rows is one step." in report(at)


def test_a_dated_table_is_forecast_with_its_gaps_duplicates_and_empty_values_reported(app):
    at = open_page(app, DATA)
    upload(at, "shop.csv", shop_days_csv())
    ws = at.session_state["workspace"]
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.kind == "table" and ws.dataset.target == "sales"
    assert any("**'date' holds dates.**" in m.value for m in at.markdown)

    at.button(key="forecast_series").click().run()
    assert not exceptions(at) and not errors(at)
    series = ws.dataset.series
    assert ws.dataset.kind == "series" and series.target == "sales" and series.frequency.name == "daily"
    assert (series.window, series.horizon, series.season) == (28, 7, 7) and ws.raw_table is not None
    found = report(at)
    assert "**Steps:** daily, 240 of them, from 2024-01-01 to 2024-08-27." in found
    assert "**Dates:** 'date', written like 31/01/2024, read day first." in found
    assert "**Order:** the rows were not in date order; they were sorted by date." in found
    assert "**Duplicate timestamps:** 2 rows shared a timestamp; the values of each timestamp were averaged." in found
    assert "**Gaps:** 1 missing steps (the longest gap: 1 steps) got a row" in found
    assert "**Empty values filled:** 'sales' 4, each carried forward from the step before" in found
    assert "**Not used:** 'visitors', 'weekday'." in found
    assert at.selectbox(key="series_target").options == ["visitors", "sales"]

    at.multiselect(key="series_inputs").set_value(["visitors"]).run()  # another series as an input
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.series.columns == ["sales", "visitors"] and ws.dataset.x_train.shape[2] == 2
    assert len(chart_spec(at, "series_chart")["data"]) == 2
    at.number_input(key="series_window").set_value(14).run()  # the input series stays chosen
    assert ws.dataset.series.columns == ["sales", "visitors"] and ws.dataset.series.window == 14

    at.button(key="series_as_table").click().run()
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.kind == "table" and ws.dataset.target == "sales"


def test_a_series_csv_no_table_model_can_use_is_read_as_a_series_and_asks_the_day_month_order(app):
    at = open_page(app, DATA)
    upload(at, "harvests.csv", harvest_dates_csv())
    assert not exceptions(at) and not errors(at)
    ws = at.session_state["workspace"]
    series = ws.dataset.series
    assert ws.dataset.kind == "series" and series.date_ambiguous and series.date_order == "day_first"
    assert "**Day or month first?** Those dates read both ways and the steps do not tell: they were read day first." in report(at)
    assert at.radio(key="series_date_order").value == "day_first"

    at.radio(key="series_date_order").set_value("month_first").run()
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.series.date_order == "month_first" and ws.dataset.kind == "series"
    assert at.radio(key="series_date_order").value == "month_first"  # still offered: the user may go back


def test_the_report_names_every_kind_of_row_left_out():
    """Rows a spreadsheet export adds (empty rows, totals, notes at the end, copies, a target not yet
    measured) are each named once they are in the series' report."""
    ws = workspace_with_sample("electrical_equipment")
    ws.dataset.series.report.update(empty_rows=2, summary_rows=1, footer_rows=3, exact_copies=4, trailing_rows_dropped=5,
                                    undated_rows=6)
    at = new_app()
    at.session_state["workspace"] = ws
    found = report(open_page(at, DATA))
    assert "**Rows without a date:** 6, left out." in found and "**Empty rows:** 2, skipped." in found
    assert "**Rows that are not data:** 1 (a total, or the header again), left out." in found
    assert "**Notes at the end:** 3 row(s) without numbers or a date, left out." in found
    assert "**Repeated rows:** 4 exact copies of another row, each kept once." in found
    assert "**Last rows left out:** 5: 'turnover_index' has no value there yet" in found


def test_a_table_without_dates_is_forecast_in_row_order_from_the_task_choice(app):
    at = open_page(app, DATA)
    upload(at, "meter.csv", meter_rows_csv())
    ws = at.session_state["workspace"]
    assert ws.dataset.kind == "table" and ws.dataset.target == "load" and ws.dataset.task == "regression"
    assert "forecast_series" not in [b.key for b in at.button]  # offered only with a date column
    task = next(r for r in at.radio if r.key.startswith("task_"))
    assert task.options == ["classification: pick one of a few labels", "regression: predict a number",
                            "forecast: its next values, in time order"]
    task.set_value("forecast").run()
    assert not exceptions(at) and not errors(at)
    series = ws.dataset.series
    assert ws.dataset.kind == "series" and series.target == "load" and series.timestamps is None
    assert (series.window, series.horizon, series.n) == (24, 6, 300)
    assert "**Steps:** there is no date column, so the row order is time: each of the 300 rows is one step." in report(at)
    assert any("row order is taken as time" in w.value for w in at.warning)
    assert at.selectbox(key="series_date_column").options == ["none: row order"]

    upload(at, "load only.csv", meter_rows_csv(columns=("load",)))  # one column: no table model can use it
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.kind == "series" and ws.dataset.series.columns == ["load"] and ws.dataset.name == "load only.csv"


def test_the_design_page_offers_the_series_templates_the_scaling_and_the_forecast_head():
    from components.designer import layer_type_groups
    from core.templates import SERIES_TEMPLATES, templates_for

    ws = workspace_with_sample("electrical_equipment")
    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, "pages/design.py")
    assert not exceptions(at) and not errors(at)
    assert at.selectbox(key="template").options == [t.name for t in templates_for(ws.dataset)]
    assert {t.id for t in templates_for(ws.dataset)} == {t.id for t in SERIES_TEMPLATES}
    captions = [c.value for c in at.caption]
    assert "the last 24 steps of 1 series" in captions and "`(24, 1)` · no weights" in captions
    assert "mean 0, variance 1 per series (from the training period)" in captions
    assert "12 values ahead: the value one season earlier plus a learned change, in the series' units" in captions
    assert "`(12,)` · 396 params" in captions  # Dense(12) on the last Dense(32)
    suited = layer_type_groups("series")[0][1]
    assert {"LSTM", "GRU", "Conv1D", "Flatten", "Dense"} <= set(suited) and "Conv2D" not in suited

    at.selectbox(key="template").select("LSTM").run()
    assert not exceptions(at) and not errors(at) and ws.template_id == "series_lstm"


def test_a_forecaster_trains_in_a_worker_then_beats_the_naive_forecast_and_forecasts_ahead(app, downloads):
    at = data_page_with(app, "electrical_equipment")
    at.switch_page("pages/train.py").run()
    at.number_input(key="epochs").set_value(5).run()
    at.button(key="start_training").click().run()
    run_until_ended(at)
    ws = at.session_state["workspace"]
    run = ws.runs[0]
    assert run.status == "finished", run.status
    curves = chart_spec(at, "training_curves")
    assert "Mean absolute error" in [a["text"] for a in curves["layout"]["annotations"]]

    at.switch_page("pages/evaluate.py").run()
    assert not exceptions(at) and not errors(at)
    forecast = ws.cache[("evaluation", run.id)].forecast
    assert forecast["mae"] < forecast["naive_mae"]  # measured: 2.3 against 8.5 after 5 epochs
    assert at.success[0].value == f"**{forecast['verdict']}**" and forecast["verdict"].startswith("Beats the naive")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Mean absolute error"] == f"{forecast['mae']:.4g}"
    assert metrics["Naive forecast MAE"] == f"{forecast['naive_mae']:.4g}"
    assert metrics["Seasonal naive MAE"] == f"{forecast['seasonal_naive_mae']:.4g}"
    assert metrics["MAPE"] == f"{forecast['mape']:.2f}%"
    per_step = chart_spec(at, "forecast_per_step")["data"]
    assert [d["name"] for d in per_step] == ["the model", "naive forecast", "seasonal naive forecast"]
    assert len(per_step[0]["x"]) == 12
    plot = chart_spec(at, "forecast_test_period")["data"]
    assert [d["name"] for d in plot] == ["actual", "forecast 1 step ahead", "forecast 12 steps ahead",
                                         "forecast beyond the data"]
    assert plot[3]["x"][0][:7] == "2016-06" and len(plot[3]["y"]) == 12  # the 12 months after the data

    at.button(key="series_forecast_latest").click().run()
    assert not exceptions(at) and not errors(at)
    table = at.dataframe[-1].value  # Try it's time → value table
    assert list(table["time"]) == ws.dataset.series.future_stamps() == [f"2016-{m:02d}" for m in range(6, 13)] + [
        f"2017-{m:02d}" for m in range(1, 6)]
    assert np.allclose(table["forecast"], plot[3]["y"], rtol=1e-6)  # Try it and the plot: the same forecast
    csv = pd.read_csv(io.BytesIO(downloads(at, f"download_series_forecast_{run.id}")))
    assert list(csv.columns) == ["time", "forecast"] and len(csv) == 12

    at.switch_page("pages/train.py").run()  # the runs table, with the test scores Evaluate measured
    runs_table = at.dataframe[-1].value
    assert {"Test MAE", "Test MAE, naive forecast", "Test MAE, seasonal naive"} <= set(runs_table.columns)
    assert "test_window" not in runs_table.columns and "Test MAPE (%)" in runs_table.columns


def test_try_it_forecasts_from_an_uploaded_csv_of_recent_rows(trained):
    ws = trained
    run = ws.runs[0]
    recent = pd.read_csv(ROOT / "core" / "data" / "series_samples" / "electrical_equipment.csv").iloc[-40:]
    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, "pages/evaluate.py")
    at.file_uploader(key=f"try_series_csv_{run.id}").set_value(("recent.csv", recent.to_csv(index=False).encode(), "text/csv"))
    at.run()
    assert not exceptions(at) and not errors(at)
    table = at.dataframe[-1].value
    assert list(table["time"]) == ws.dataset.series.future_stamps()  # the same last rows: the same 12 months
    latest = ws.cache.get(("series_latest_forecast", run.id))
    assert np.allclose(table["forecast"], latest.items[0].values, rtol=1e-5)


def test_the_export_page_says_how_a_forecaster_is_fed(trained):
    at = new_app()
    at.session_state["workspace"] = trained
    open_page(at, "pages/export.py")
    note = at.info[0].value
    assert "take the last 24 steps, oldest first" in note and "[1, 24, 1]" in note
    assert "the next 12 values of 'turnover_index'" in note and "on the monthly grid ('month' as 1995-01)" in note
    if HAS_SERIES_SCRIPT:
        assert not exceptions(at) and not errors(at)


def test_a_series_with_gaps_and_its_design_are_all_chinese():
    from components.state.workspace import Workspace
    from core.data import read_csv
    from core.data.series import SeriesSettings, prepare_series

    raw = read_csv(shop_days_csv(), "shop.csv")
    ws = Workspace()
    ws.set_dataset(prepare_series(raw, SeriesSettings(target="sales")), "shop.csv", raw_table=raw)
    for page in (DATA, "pages/design.py"):
        at = chinese_page(ws, page)
        assert not exceptions(at), exceptions(at)
        assert_all_chinese(at, ws)


@pytest.mark.parametrize("page", ["pages/train.py", "pages/evaluate.py", "pages/export.py"])
def test_a_trained_forecaster_s_pages_are_all_chinese(trained, page):
    at = chinese_page(trained, page)
    if page == "pages/evaluate.py":
        at.button(key="series_forecast_latest").click().run()
        assert at.success and at.dataframe
    if page != "pages/export.py" or HAS_SERIES_SCRIPT:
        assert not exceptions(at), exceptions(at)
    assert_all_chinese(at, trained)
