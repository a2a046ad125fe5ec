"""Reading dated CSVs as time series (core.data.dates, core.data.series) and framing them.

The files are built as users bring them (tests/datafiles.py): spreadsheets from other locales,
the shipped samples in the styles they were published in, sensor logs with jitter and outages,
shop sales with missing, repeated and unsorted days and a total row. Each is either read
correctly (values, frequency, gaps filled from the past only, the report and notes) or refused
with a message that says what is wrong, where, and what to do. No training here.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from core.data.csv_reader import read_csv
from core.data.series import (
    Frequency,
    SeriesSettings,
    grid_stamps,
    minimum_rows,
    periods,
    prepare_series,
    recent_window,
    split_windows,
    window_views,
)
from core.errors import UserError
from tests import datafiles as files

MONTHS = pd.date_range("2015-01-01", periods=96, freq="MS")
DAYS = pd.date_range("2023-01-01", periods=120, freq="D")
HOURS = pd.date_range("2024-01-01", periods=300, freq="h")


def load(data: bytes, name: str = "series.csv", **settings):
    return prepare_series(read_csv(data, name), SeriesSettings(**settings))


def refused(data: bytes, name: str = "series.csv", **settings) -> UserError:
    with pytest.raises(UserError) as err:
        load(data, name, **settings)
    return err.value


def stamps_of(dataset) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(dataset.series.timestamps)


def target_values(dataset) -> np.ndarray:
    return dataset.series.values[:, 0].astype(np.float64)


# ---------------------------------------------------------------- date styles


STYLES = [
    # strftime style, the dates, the frequency found, the format kept for recent rows
    ("%Y-%m-%d", DAYS, "daily", "date"),
    ("%Y-%m-%d %H:%M", HOURS, "hourly", "datetime"),
    ("%d/%m/%Y", DAYS, "daily", "%d/%m/%Y"),
    ("%m/%d/%Y", DAYS, "daily", "%m/%d/%Y"),
    ("%d.%m.%Y", DAYS, "daily", "%d.%m.%Y"),
    ("%d.%m.%Y %H:%M", HOURS, "hourly", "%d.%m.%Y %H:%M"),
    ("%m/%d/%Y %I:%M %p", HOURS, "hourly", "%m/%d/%Y %I:%M %p"),
    ("%d-%b-%Y", DAYS, "daily", "%d-%b-%Y"),
    ("%b %d, %Y", DAYS, "daily", "%b %d, %Y"),
    ("%Y-%m", MONTHS, "monthly", "ISO8601"),
    ("%b %Y", MONTHS, "monthly", "%b %Y"),
    ("%B %Y", MONTHS, "monthly", "%b %Y"),  # month names are read in any length, in several languages
    ("%b-%y", MONTHS, "monthly", "%b-%y"),  # Excel's "Jan-24"
    ("%m/%Y", MONTHS, "monthly", "%m/%Y"),
    ("%Y/%m/%d", DAYS, "daily", "%Y/%m/%d"),
]


@pytest.mark.parametrize("style, stamps, frequency, fmt", STYLES, ids=[s[0] for s in STYLES])
def test_each_date_style_reads_the_dates_values_and_frequency(style, stamps, frequency, fmt):
    values = list(files.seasonal_values(len(stamps), seed=3))
    dataset = load(files.dated_csv([f"{s:{style}}" for s in stamps], {"sales": values}))
    series = dataset.series
    assert series.frequency.name == frequency and series.date_format == fmt
    assert (stamps_of(dataset) == stamps).all()
    np.testing.assert_allclose(target_values(dataset), values, rtol=1e-6)
    assert series.report["missing_steps"] == 0 and series.report["filled_values"] == {}
    assert not series.date_ambiguous


GERMAN_MONTHS = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]
FRENCH_MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
GERMAN_LONG = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
               "Dezember"]
SPANISH_MONTHS = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]


@pytest.mark.parametrize("write, fmt", [
    (lambda m: f"{GERMAN_MONTHS[m.month - 1]} {m:%y}", "%b %y"),  # German Excel's "Mär 24"
    (lambda m: f"{FRENCH_MONTHS[m.month - 1]} {m.year}", "%b %Y"),
    (lambda m: f"{m.day}-{SPANISH_MONTHS[m.month - 1]}-{m:%y}", "%d-%b-%y"),
    (lambda m: f"{m.day}. {GERMAN_MONTHS[m.month - 1]}. {m.year}", "%d. %b %Y"),
    (lambda m: f"{m.day}. {GERMAN_LONG[m.month - 1]} {m.year}", "%d. %b %Y"),
], ids=["de", "fr", "es", "de-day", "de-long"])
def test_month_names_in_other_languages(write, fmt):
    dataset = load(files.dated_csv([write(m) for m in MONTHS], {"v": list(files.seasonal_values(96))}))
    assert dataset.series.date_format == fmt and (stamps_of(dataset) == MONTHS).all()


def test_quarters_are_read_as_each_quarters_first_day():
    quarters = pd.period_range("2001Q1", periods=60, freq="Q")
    for text in (lambda p: f"{p.year}Q{p.quarter}", lambda p: f"{p.year}-Q{p.quarter}", lambda p: f"Q{p.quarter} {p.year}"):
        dataset = load(files.dated_csv([text(p) for p in quarters], {"gdp": list(files.seasonal_values(60, 4))}))
        assert dataset.series.frequency.name == "quarterly" and dataset.series.date_format == "quarter"
        assert (stamps_of(dataset) == quarters.to_timestamp()).all()
        assert dataset.series.future_stamps()[:2] == ["2016Q1", "2016Q2"]


def test_a_german_meter_export_reads_semicolons_decimal_commas_thousands_and_day_first_times():
    data, clean = files.european_meter_csv(600)
    dataset = load(data, "Zählerstand.csv", inputs=("Temperatur",))
    series = dataset.series
    assert series.target == "Verbrauch kWh" and series.inputs == ["Temperatur"]
    assert series.frequency.name == "hourly" and series.date_format == "%d.%m.%Y %H:%M"
    assert series.date_style == "31.01.2024 13:00" and series.date_order == "day_first" and not series.date_ambiguous
    assert (stamps_of(dataset) == clean.index).all()
    np.testing.assert_allclose(series.values, clean[["Verbrauch kWh", "Temperatur"]].to_numpy(), rtol=1e-6)
    assert series.values[:, 0].max() > 1000  # "1.234,5" is 1234.5, not 1.2


def test_the_co2_sample_as_published_with_whole_number_dates_reads_like_the_shipped_file():
    published = load(files.co2_yyyymmdd_csv(), "co2.csv")
    shipped = load((files.SERIES_SAMPLES / "co2_mauna_loa.csv").read_bytes(), "co2_mauna_loa.csv")
    assert published.series.date_format == "yyyymmdd" and published.series.date_style == "20240131"
    assert published.series.frequency.name == "weekly"
    assert (stamps_of(published) == stamps_of(shipped)).all()
    np.testing.assert_array_equal(published.series.values, shipped.series.values)
    assert published.series.report["filled_values"] == {"co2_ppm": 59}


def test_the_electrical_equipment_sample_with_its_published_dates():
    published = load(files.elec_equip_published_csv(), "elec_equip.csv")
    shipped = load((files.SERIES_SAMPLES / "electrical_equipment.csv").read_bytes())
    assert published.series.date_format == "%b-%d-%Y" and published.series.frequency.name == "monthly"
    np.testing.assert_array_equal(published.series.values, shipped.series.values)
    assert published.series.stamp_text(0) == "1995-01" and published.series.future_stamps()[0] == "2016-06"


def test_a_year_column_written_as_decimals_is_a_yearly_series():
    dataset = load(files.sunspots_csv(), "sunspots.csv")
    series = dataset.series
    assert series.date_column == "YEAR" and series.date_format == "year" and series.frequency.name == "yearly"
    assert (series.stamp_text(0), series.stamp_text(series.n - 1)) == ("1700", "2008")
    assert series.future_stamps() == ["2009", "2010", "2011"]


def test_years_and_excel_day_numbers_need_a_name_that_says_so_or_the_users_choice():
    values = files.seasonal_values(100)
    for name, numbers in (("count", np.arange(1990, 2090)), ("time (s)", np.arange(1990, 2090)),
                          ("time (s)", np.arange(30000, 40000, 100))):
        dataset = load(files.csv_bytes(pd.DataFrame({name: numbers, "value": values})))
        assert dataset.series.date_column is None  # a count, or seconds from a start: not years, not Excel days
    dataset = load(files.csv_bytes(pd.DataFrame({"t": np.arange(45000, 45100), "value": values})), date_column="t")
    assert dataset.series.date_format == "excel" and dataset.series.stamp_text(0) == "2023-03-15"


def test_whole_number_months_and_excel_day_numbers_in_a_named_column():
    values = list(files.seasonal_values(96))
    periods_ = pd.DataFrame({"period": MONTHS.year * 100 + MONTHS.month, "v": values})
    dataset = load(files.csv_bytes(periods_))
    assert dataset.series.date_format == "yyyymm" and (stamps_of(dataset) == MONTHS).all()
    excel = pd.DataFrame({"Date": (MONTHS - pd.Timestamp("1899-12-30")).days, "v": values})
    dataset = load(files.csv_bytes(excel))
    assert dataset.series.date_format == "excel" and (stamps_of(dataset) == MONTHS).all()


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_a_sensor_logging_every_ten_minutes_late_by_seconds_with_an_outage(unit):
    data, times = files.unix_sensor_csv(unit)
    dataset = load(data, "sensor.csv")
    series = dataset.series
    assert series.date_format == f"unix_{unit}"
    assert series.frequency.name == "every 10 minutes" and series.frequency.seconds == 600
    assert series.frequency.season == 144  # a day
    stamps = stamps_of(dataset)
    assert stamps[0] == pd.Timestamp("2024-03-01 00:00:00")  # the grid starts on the round step, not at 00:00:17
    assert (np.diff(stamps.to_numpy(dtype="datetime64[s]").astype(np.int64)) == 600).all()
    assert series.report["missing_steps"] == 18 and series.report["largest_gap"] == 18
    values = target_values(dataset)
    gap = slice(1000, 1018)
    assert (values[gap] == values[999]).all()  # carried forward from the reading before the outage
    assert values[1018] != values[999]


def test_hourly_times_with_summer_time_offsets_are_read_in_utc_without_gaps():
    dataset = load(files.dst_hourly_csv(zone_offsets=True), "load.csv")
    series = dataset.series
    assert series.frequency.name == "hourly" and series.report["missing_steps"] == 0
    assert series.report["duplicate_timestamps"] == 0
    assert stamps_of(dataset)[0] == pd.Timestamp("2024-03-25 00:00")  # written 2024-03-25T01:00:00+01:00
    assert (np.diff(stamps_of(dataset).to_numpy(dtype="datetime64[s]").astype(np.int64)) == 3600).all()
    assert any("converted to UTC" in note for note in dataset.warnings)


def test_local_times_without_offsets_fill_the_hour_summer_time_skips_from_the_hour_before():
    dataset = load(files.dst_hourly_csv(zone_offsets=False), "load.csv")
    series = dataset.series
    assert series.report["missing_steps"] == 1 and series.report["filled_values"] == {"kw": 1}
    stamps = stamps_of(dataset)
    skipped = int(np.flatnonzero(stamps == pd.Timestamp("2024-03-31 02:00"))[0])
    values = target_values(dataset)
    assert values[skipped] == values[skipped - 1]


def test_dates_written_at_local_midnight_with_offsets_stay_on_their_dates():
    days = pd.date_range("2024-03-20", periods=60, freq="D", tz="Europe/Berlin")
    dataset = load(files.dated_csv([d.isoformat() for d in days], {"v": list(files.seasonal_values(60, 7))}))
    assert dataset.series.frequency.name == "daily"
    assert (stamps_of(dataset) == days.tz_localize(None)).all()
    assert any("read as the local dates" in note for note in dataset.warnings)


def test_month_end_dates_stay_month_ends_on_the_grid_and_in_the_future():
    ends = pd.date_range("2015-01-31", periods=96, freq="ME")
    dataset = load(files.dated_csv([f"{d:%d.%m.%Y}" for d in ends], {"v": list(files.seasonal_values(96))}))
    assert dataset.series.frequency.name == "monthly" and (stamps_of(dataset) == ends).all()
    stamps = dataset.series.frequency.after(np.datetime64(ends[-1], "s"), 3, month_end=True)
    assert list(pd.DatetimeIndex(stamps)) == list(pd.date_range(ends[-1], periods=4, freq="ME")[1:])


# ---------------------------------------------------------------- day or month first


def test_day_first_monthly_dates_are_told_apart_by_their_regular_steps():
    values = list(files.seasonal_values(96))
    day_first = load(files.dated_csv([f"{m:%d/%m/%Y}" for m in MONTHS], {"v": values}))  # 01/02/2015: 1 February
    month_first = load(files.dated_csv([f"{m:%m/%d/%Y}" for m in MONTHS], {"v": values}))  # 02/01/2015: 1 February
    for dataset, order in ((day_first, "day_first"), (month_first, "month_first")):
        assert dataset.series.date_order == order and not dataset.series.date_ambiguous
        assert dataset.series.frequency.name == "monthly" and (stamps_of(dataset) == MONTHS).all()


def ambiguous_dates() -> bytes:
    """01/02/2024, 02/03/2024, ...: a month and a day apart read either way, so the data cannot tell."""
    return files.dated_csv([f"{k:02d}/{k + 1:02d}/2024" for k in range(1, 11)], {"v": list(files.seasonal_values(10))})


def test_ambiguous_dates_are_read_day_first_flagged_and_explained():
    dataset = load(ambiguous_dates())
    series = dataset.series
    assert series.date_ambiguous and series.date_order == "day_first" and series.date_format == "%d/%m/%Y"
    assert stamps_of(dataset)[0] == pd.Timestamp("2024-02-01")
    assert any("read both as day/month and as month/day" in note for note in dataset.warnings)
    from core.data.kinds.series import SeriesKind

    assert SeriesKind().describe(dataset)["date_order_ambiguous"] is True


def test_the_date_order_setting_overrides_an_ambiguous_reading():
    dataset = load(ambiguous_dates(), date_order="month_first")
    assert dataset.series.date_order == "month_first" and dataset.series.date_format == "%m/%d/%Y"
    assert stamps_of(dataset)[0] == pd.Timestamp("2024-01-02")
    assert dataset.series.date_ambiguous  # the page still offers the choice
    assert not any("read both as" in note for note in dataset.warnings)


def test_a_date_order_the_dates_cannot_have_is_refused_with_the_row():
    data = files.dated_csv([f"{d:%d/%m/%Y}" for d in DAYS], {"v": list(files.seasonal_values(120))})
    err = refused(data, date_order="month_first")
    assert err.code == "series.date_order_impossible"
    assert "row 14 has '13/01/2023'" in str(err) and "Choose the other date order" in str(err)
    assert load(data, date_order="day_first").series.date_order == "day_first"
    assert refused(data, date_order="sideways").code == "series.bad_date_order"


def test_a_day_above_twelve_late_in_the_file_decides_the_order():
    days = pd.date_range("2024-01-01", periods=400, freq="h")  # the first 200 different dates all read both ways
    dataset = load(files.dated_csv([f"{d:%d/%m/%Y %H:%M}" for d in days], {"v": list(files.seasonal_values(400, 24))}))
    assert dataset.series.date_order == "day_first" and not dataset.series.date_ambiguous
    assert (stamps_of(dataset) == days).all()


# ---------------------------------------------------------------- messy files that are read


def test_shop_sales_unsorted_with_missing_and_repeated_days_a_total_row_and_empty_rows():
    data, clean = files.shop_sales_csv()
    dataset = load(data, "sales.csv")
    series, report = dataset.series, dataset.series.report
    assert series.frequency.name == "daily" and series.date_order == "month_first"
    assert (stamps_of(dataset) == clean.index).all()
    assert report["sorted"] and report["summary_rows"] == 1 and report["empty_rows"] == 2
    assert report["exact_copies"] == 1 and report["missing_steps"] == 7 and report["largest_gap"] == 3
    values = target_values(dataset)
    present = ~clean.index.isin(clean.index[[10, 11, 57, 200, 201, 202, 333]])
    np.testing.assert_allclose(values[present], clean.to_numpy()[present], rtol=1e-6)
    for missing in (10, 11, 57, 200, 201, 202, 333):  # from the day before the gap, never the day after
        before = max(k for k in range(missing) if present[k])
        assert values[missing] == pytest.approx(clean.iloc[before])
    assert values.max() < 1000  # the total row is not a day
    text = " ".join(dataset.warnings)
    assert "'Total' in row 396" in text and "sorted by 'Date'" in text and "each was kept once" in text
    assert "7 time step(s) had no row" in text and "empty row" not in text  # empty rows at the end are no news


def test_a_few_days_with_two_different_rows_are_averaged_and_said():
    stamps = [f"{d:%Y-%m-%d}" for d in DAYS]
    values = list(files.seasonal_values(120, 7))
    data = files.dated_csv(stamps + [stamps[30]], {"v": values + [values[30] + 10]})
    dataset = load(data)
    assert target_values(dataset)[30] == pytest.approx(values[30] + 5)
    assert dataset.series.report["duplicate_timestamps"] == 2
    assert any("the values of each time were averaged" in note for note in dataset.warnings)


def test_values_are_carried_forward_from_the_past_only():
    values = [float(v) for v in files.seasonal_values(96)]
    values[40:43] = [None, None, None]  # empty cells inside the series
    data = files.dated_csv([f"{m:%Y-%m}" for k, m in enumerate(MONTHS) if k not in (60, 61)],
                           {"v": [v for k, v in enumerate(values) if k not in (60, 61)]})  # and two missing months
    dataset = load(data)
    out = target_values(dataset)
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out[40:43], values[39], rtol=1e-6)  # the month before, not after, not in between
    np.testing.assert_allclose(out[60:62], values[59], rtol=1e-6)
    assert out[43] == pytest.approx(values[43], rel=1e-6) and out[62] == pytest.approx(values[62], rel=1e-6)
    assert dataset.series.report["missing_steps"] == 2 and dataset.series.report["filled_values"] == {"v": 5}


def test_leading_empty_values_and_the_last_rows_without_a_target_are_left_out():
    values = [None] * 5 + list(files.seasonal_values(88)) + [None] * 3
    other = list(files.seasonal_values(96, seed=2))
    other[20] = None
    dataset = load(files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"w": other, "v": values}), target="v", inputs=("w",))
    series = dataset.series
    assert series.n == 88 and stamps_of(dataset)[0] == MONTHS[5] and stamps_of(dataset)[-1] == MONTHS[92]
    assert series.report["leading_rows_dropped"] == 5 and series.report["trailing_rows_dropped"] == 3
    assert series.values[15, 1] == pytest.approx(other[19])  # the input's gap, from the month before
    text = " ".join(dataset.warnings)
    assert "The first 5 row(s) were left out" in text and "The last 3 row(s) have no value of 'v' yet" in text


def test_notes_under_the_table_and_a_repeated_header_are_left_out():
    values = list(files.seasonal_values(96))
    stamps = [f"{m:%Y-%m}" for m in MONTHS]
    data = files.dated_csv(stamps[:48] + ["date"] + stamps[48:], {"v": values[:48] + ["v"] + values[48:]},
                           extra_lines=("Source: Eurostat,", "provisional figures,", ","))
    dataset = load(data, "export.csv")
    assert dataset.series.n == 96 and (stamps_of(dataset) == MONTHS).all()
    np.testing.assert_allclose(target_values(dataset), values, rtol=1e-6)
    assert dataset.series.report["footer_rows"] == 2 and dataset.series.report["summary_rows"] == 1
    text = " ".join(dataset.warnings)
    assert "'Source: Eurostat' in row 99" in text and "'date' in row 50" in text


def test_a_few_cells_that_are_not_numbers_are_empty_many_refuse_the_column():
    values = [str(v) for v in files.seasonal_values(96)]
    values[10] = "n/a"
    values[20] = "#DIV/0!"
    values[30] = "oops"
    dataset = load(files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"v": values}))
    assert target_values(dataset)[30] == pytest.approx(float(values[29]))
    assert any("'oops' in row 32" in note for note in dataset.warnings)
    values[40:60] = ["oops"] * 20
    err = refused(files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"v": values}), target="v")
    assert err.code == "series.not_numbers_at" and "row 32 has 'oops'" in str(err)


def test_irregular_timestamps_make_each_row_a_step_and_say_so():
    times = np.sort(np.random.default_rng(1).uniform(0, 86400 * 30, 500)).astype(int) + 1_700_000_000
    dataset = load(files.csv_bytes(pd.DataFrame({"time": times, "v": files.seasonal_values(500)})))
    assert dataset.series.frequency.name == "rows" and dataset.series.timestamps is None
    assert dataset.series.report["irregular"]
    assert any("not evenly spaced, so each row is taken as one step" in note for note in dataset.warnings)


def test_without_a_date_column_the_rows_are_the_steps():
    dataset = load(files.csv_bytes(pd.DataFrame({"reading": files.seasonal_values(100)})))
    assert dataset.series.date_column is None and dataset.series.timestamps is None
    assert dataset.series.future_stamps()[0] == "step 101"


# ---------------------------------------------------------------- refused, with what to do


def test_an_unparsable_date_names_its_row_and_value():
    stamps = [f"{d:%Y-%m-%d}" for d in DAYS]
    stamps[30] = "31.02.2023"
    err = refused(files.dated_csv(stamps, {"v": list(files.seasonal_values(120))}), "shop.csv")
    assert err.code == "series.bad_date"
    assert str(err) == ("Row 32 of shop.csv has '31.02.2023' in the date column 'date', which is not a date. Correct or "
                        "remove that row.")


def test_a_date_column_in_two_formats_names_the_row_that_differs():
    stamps = [f"{d:%Y-%m-%d}" for d in DAYS]
    stamps[50] = f"{DAYS[50]:%d/%m/%Y}"
    err = refused(files.dated_csv(stamps, {"v": list(files.seasonal_values(120))}), "shop.csv")
    assert err.code == "series.mixed_date_formats" and "row 52 has '20/02/2023'" in str(err)
    assert "Write every date the same way" in str(err)


def test_dates_in_no_known_style_are_refused_with_an_example_of_the_styles_that_work():
    err = refused(files.dated_csv(["soon"] * 30, {"v": list(files.seasonal_values(30))}), date_column="date")
    assert err.code == "series.unknown_date_format" and "2024-01-31" in str(err)


def test_a_constant_series_is_refused():
    err = refused(files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"v": [5.0] * 96}))
    assert err.code == "series.constant" and "same value (5)" in str(err) and "changes over time" in str(err)


def test_a_series_of_text_is_refused_with_its_row():
    err = refused(files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"level": ["high", "low"] * 48}), target="level")
    assert err.code == "series.not_numbers_at" and "row 2 has 'high'" in str(err)
    assert refused(files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"level": ["high", "low"] * 48})).code == \
        "series.no_numeric_column"


def test_a_series_too_short_for_the_window_and_horizon_says_the_minimum():
    data = files.dated_csv([f"{m:%Y-%m}" for m in MONTHS[:30]], {"v": list(files.seasonal_values(30))})
    err = refused(data, "short.csv", window=24, horizon=12)
    assert err.code == "series.too_short"
    assert f"at least {minimum_rows(24, 12)} are needed" in str(err) and "make the window or the horizon shorter" in str(err)
    assert load(data).series.window < 24  # left to LayerLab, the window is shortened instead
    assert refused(data, window=0).code == "series.bad_framing"
    assert refused(files.dated_csv(["2024-01", "2024-02", "2024-03", "2024-04"], {"v": [1.0, 2.0, 3.0, 4.0]})).code == \
        "series.too_short"


def test_the_date_column_cannot_be_the_target_and_numbers_cannot_be_the_dates():
    data = files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"v": list(files.seasonal_values(96))})
    err = refused(data, target="date")
    assert err.code == "series.target_is_dates" and "Choose a column of numbers" in str(err)
    assert refused(data, date_column="v").code == "series.numbers_not_dates"
    assert refused(data, date_column="when").code == "series.unknown_date_column"


def test_an_empty_series_is_refused():
    data = files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"v": [None] * 96, "w": list(files.seasonal_values(96))})
    err = refused(data, target="v")
    assert err.code == "series.empty_column" and "'v'" in str(err)


def test_many_rows_per_date_are_refused_as_several_series_in_one_column():
    err = refused(files.csv_bytes(files.daily_sales_frame(60)), "stores.csv", target="units")
    assert err.code == "series.duplicate_timestamps" and "Keep one item's rows, or sum them per date" in str(err)


def test_a_date_split_over_two_columns_is_refused_with_how_to_join_them():
    frame = pd.DataFrame({"Year": MONTHS.year, "Month": MONTHS.month, "Passengers": files.seasonal_values(96)})
    err = refused(files.csv_bytes(frame), "airline.csv")
    assert err.code == "series.split_date" and "'Year' and 'Month'" in str(err) and "2024-01" in str(err)
    frame = pd.DataFrame({"Datum": HOURS.strftime("%d.%m.%Y"), "Uhrzeit": HOURS.strftime("%H:%M"),
                          "kWh": files.seasonal_values(300, 24)})
    err = refused(files.csv_bytes(frame, sep=";", decimal=","), "zaehler.csv")
    assert err.code == "series.split_date" and "'Datum' and 'Uhrzeit'" in str(err)


def test_a_mistyped_far_off_date_names_its_row():
    stamps = [f"{d:%Y-%m-%d}" for d in DAYS]
    stamps[40] = "2203-02-10"
    err = refused(files.dated_csv(stamps, {"v": list(files.seasonal_values(120))}), "shop.csv")
    assert err.code == "series.far_date" and "row 42 ('2203-02-10')" in str(err)


def test_the_cli_refuses_a_bad_file_with_exit_code_2_and_the_message(tmp_path, capsys):
    from core.cli import main

    stamps = [f"{d:%Y-%m-%d}" for d in DAYS]
    stamps[30] = "soon"
    path = files.write(tmp_path / "shop.csv", files.dated_csv(stamps, {"v": list(files.seasonal_values(120))}))
    assert main(["inspect", str(path), "--task", "forecast"]) == 2
    assert "Row 32 of shop.csv has 'soon'" in capsys.readouterr().err


def test_every_message_the_page_shows_about_a_series_is_translated():
    from core import i18n
    from core.data import dates, series

    fragments = set(i18n.CORE_FRAGMENTS)
    assert [n for n in (*series.NOTES, *dates.NOTES, *series.FREQUENCY_NAMES) if n not in fragments] == []
    data, _ = files.shop_sales_csv()
    for note in load(data, "sales.csv").warnings:
        assert i18n.translate_fragment(note, "zh") != note


# ---------------------------------------------------------------- recent rows (a forecast from new data)


def test_recent_rows_are_read_like_the_training_data():
    from core.data.kinds.series import SeriesKind

    data, _ = files.european_meter_csv(600)
    dataset = load(data, "meter.csv", inputs=("Temperatur",))
    contract = SeriesKind().contract(dataset)
    frame = read_csv(data, "recent.csv").frame.iloc[-100:].reset_index(drop=True)
    x, ahead, _ = recent_window(frame, contract, Frequency(**contract.frequency), "recent.csv")
    window = dataset.series.window
    np.testing.assert_array_equal(x, dataset.series.values[-window:])
    assert ahead[:2] == ["2024-01-26 00:00", "2024-01-26 01:00"] and len(ahead) == dataset.series.horizon
    with pytest.raises(UserError) as err:
        recent_window(frame.drop(columns=["Temperatur"]), contract, Frequency(**contract.frequency), "recent.csv")
    assert err.value.code == "predict.series_columns" and "'Temperatur'" in str(err.value)
    with pytest.raises(UserError) as err:
        recent_window(frame.iloc[-10:], contract, Frequency(**contract.frequency), "recent.csv")
    assert err.value.code == "predict.series_too_few_rows" and f"at least {window}" in str(err.value)


def test_recent_rows_with_a_gap_are_filled_on_the_training_grid():
    from core.data.kinds.series import SeriesKind

    data, times = files.unix_sensor_csv("s")
    dataset = load(data, "sensor.csv")
    contract = SeriesKind().contract(dataset)
    frame = read_csv(data, "recent.csv").frame.iloc[950:1300].reset_index(drop=True)  # across the outage
    x, ahead, notes = recent_window(frame, contract, Frequency(**contract.frequency), "recent.csv")
    assert x.shape == (dataset.series.window, 1)
    assert any("had no row" in note for note in notes)
    last = pd.Timestamp(int(times[1300 - 1] // 600 * 600), unit="s")
    assert ahead[0] == f"{last + pd.Timedelta(minutes=10):%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------- the grid's timestamps


def test_month_steps_match_pandas_date_offsets_without_a_python_loop():
    monthly = Frequency("monthly", months=1)
    for start in ("2015-01-31 13:30", "2016-02-29", "2015-03-15"):
        expected = [pd.Timestamp(start) + pd.DateOffset(months=k) for k in range(300)]
        assert list(pd.DatetimeIndex(grid_stamps(np.datetime64(start), 300, monthly))) == expected
    quarterly = Frequency("quarterly", months=3)
    assert list(pd.DatetimeIndex(grid_stamps(np.datetime64("2024-01-01"), 3, quarterly))) == list(
        pd.date_range("2024-01-01", periods=3, freq="QS"))
    hourly = Frequency("hourly", seconds=3600)
    assert (pd.DatetimeIndex(grid_stamps(np.datetime64("2024-01-01"), 5, hourly)) ==
            pd.date_range("2024-01-01", periods=5, freq="h")).all()


# ---------------------------------------------------------------- windows and the chronological split


@pytest.fixture
def framed():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(200, 3)).astype(np.float32)
    window, horizon = 12, 5
    val_start, test_start = periods(len(values), window, horizon)
    return values, window, horizon, val_start, test_start


def test_windows_are_views_equal_to_explicit_copies(framed):
    values, window, horizon, val_start, test_start = framed
    arrays = split_windows(values, window, horizon, val_start, test_start)
    ranges = {"train": (window, val_start - horizon), "val": (val_start, test_start - horizon),
              "test": (test_start, len(values) - horizon)}
    for name, (first, last) in ranges.items():
        x = np.stack([values[i - window: i] for i in range(first, last + 1)])
        y = np.stack([values[i: i + horizon, 0] for i in range(first, last + 1)])
        np.testing.assert_array_equal(arrays[f"x_{name}"], x)
        np.testing.assert_array_equal(arrays[f"y_{name}"], y)
        assert np.shares_memory(arrays[f"x_{name}"], values) and np.shares_memory(arrays[f"y_{name}"], values)
    x_all, y_all = window_views(values, window, horizon)
    assert x_all.nbytes > values.nbytes and not x_all.flags.owndata  # a view: no copy however many windows


def test_no_target_crosses_into_a_later_period(framed):
    values, window, horizon, val_start, test_start = framed
    marked = np.zeros_like(values)
    marked[:, 0] = np.arange(len(values))  # each target value is its row number
    arrays = split_windows(marked, window, horizon, val_start, test_start)
    assert arrays["y_train"].max() < val_start
    assert arrays["y_val"].min() >= val_start and arrays["y_val"].max() < test_start
    assert arrays["y_test"].min() >= test_start and arrays["y_test"].max() == len(values) - 1
    assert arrays["x_train"][:, :, 0].max() < val_start - horizon  # inputs end before their targets start
    assert len(arrays["y_test"]) == len(values) - horizon - test_start + 1


def test_the_periods_keep_a_horizon_each_for_validation_and_test():
    assert periods(100, 12, 5) == (70, 85)
    assert periods(minimum_rows(12, 5), 12, 5) == (12 + 5, 12 + 10)
    assert periods(minimum_rows(12, 5) - 1, 12, 5) is None


def test_the_normalization_is_adapted_on_the_training_period_only():
    import keras

    from core.data.kinds.series import SeriesKind

    values = list(files.seasonal_values(96))
    values[70:] = [v + 1000 for v in values[70:]]  # a level shift after the training period
    dataset = load(files.dated_csv([f"{m:%Y-%m}" for m in MONTHS], {"v": values}))
    series = dataset.series
    inputs = keras.Input(shape=(series.window, 1))
    model = keras.Model(inputs, SeriesKind().input_block(keras, inputs, dataset, reads_codes=False))
    layer = next(layer for layer in model.layers if isinstance(layer, keras.layers.Normalization))
    train = series.values[: series.val_start, 0].astype(np.float64)
    assert series.val_start <= 70
    np.testing.assert_allclose(np.ravel(keras.ops.convert_to_numpy(layer.mean)), [train.mean()], rtol=1e-5)
    np.testing.assert_allclose(np.ravel(keras.ops.convert_to_numpy(layer.variance)), [train.var()], rtol=1e-4)


# ---------------------------------------------------------------- speed


def test_a_large_file_in_a_day_first_style_reads_without_a_python_call_per_row():
    rows = 200_000
    data = files.big_series_csv(rows, series=2, style="%d.%m.%Y %H:%M")
    raw = read_csv(data, "big.csv")
    start = time.perf_counter()
    dataset = prepare_series(raw, SeriesSettings(target="s0", inputs=("s1",)))
    seconds = time.perf_counter() - start
    assert dataset.series.n == rows and dataset.series.frequency.name == "minutely"
    assert seconds < 5, f"{rows:,} rows took {seconds:.1f} s"  # about 0.4 s on 2 shared cores; a loop per row: 10 s+


# ---------------------------------------------------------------- damaged files


JUNK = ["", "n/a", "Total", "soon", "31.02.2024", "2024-13-01", "1e400", "-", "#DIV/0!", "0", "2024", "Q5 2024", "é",
        "12:00", "1/1/1", "99999999999999"]


def _damaged(rng, data: bytes) -> bytes:
    """The file with a few rows deleted, repeated, shuffled, cut short or given a junk cell."""
    text = data.decode("cp1252" if data.startswith(b"Zeit") else "utf-8")
    header, *body = text.splitlines()
    sep = ";" if ";" in header else ","
    for _ in range(rng.randint(1, 5)):
        op = rng.random()
        if body and op < 0.25:
            del body[rng.randrange(len(body))]
        elif body and op < 0.4:
            body.insert(rng.randrange(len(body)), body[rng.randrange(len(body))])
        elif body and op < 0.7:
            k = rng.randrange(len(body))
            cells = body[k].split(sep)
            cells[rng.randrange(len(cells))] = rng.choice(JUNK)
            body[k] = sep.join(cells)
        elif body and op < 0.8:
            rng.shuffle(body)
        elif op < 0.9:
            body = body[: rng.randint(0, len(body))]
        else:
            body = [line for line in body if rng.random() > 0.3]
    return ("\n".join([header, *body]) + "\n").encode()


def test_damaged_series_files_are_read_sanely_or_refused_never_crash():
    import random

    rng = random.Random(20)
    bases = [files.co2_yyyymmdd_csv(), files.elec_equip_published_csv(), files.sunspots_csv(),
             files.european_meter_csv(300)[0], files.shop_sales_csv()[0], files.dst_hourly_csv(True),
             files.unix_sensor_csv("ms", 800)[0],
             files.dated_csv([f"{m:%b-%y}" for m in MONTHS], {"v": list(files.seasonal_values(96))}),
             files.dated_csv([f"{d:%d/%m/%Y}" for d in DAYS], {"v": list(files.seasonal_values(120)),
                                                               "w": list(files.seasonal_values(120, seed=3))})]
    outcomes = {"read": 0, "refused": 0}
    for case in range(60):
        data = _damaged(rng, bases[case % len(bases)])
        settings = rng.choice([{}, {"date_order": "month_first"}, {"window": 3, "horizon": 2}])
        try:
            dataset = load(data, "damaged.csv", **settings)
        except UserError:
            outcomes["refused"] += 1
            continue
        series = dataset.series
        assert not np.isnan(series.values).any(), case
        if series.timestamps is not None:
            assert (np.diff(series.timestamps.astype(np.int64)) > 0).all(), case
        assert len(series.future_stamps()) == series.horizon
        outcomes["read"] += 1
    assert outcomes["read"] > 20 and outcomes["refused"] > 5
