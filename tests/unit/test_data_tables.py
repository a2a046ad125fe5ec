"""Column kinds, target and task, the split and the preprocessor, on real scikit-learn tables."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.data import TablePreprocessor, load_data, prepare_table, read_csv
from core.errors import UserError
from tests.datafiles import csv_bytes, daily_sales_frame, sklearn_frame


def _prepare(frame: pd.DataFrame, **options):
    return prepare_table(read_csv(csv_bytes(frame), "data.csv"), **options)


def _refusal(frame: pd.DataFrame, **options) -> UserError:
    with pytest.raises(UserError) as info:
        _prepare(frame, **options)
    return info.value


def _iris_with_extras() -> pd.DataFrame:
    frame = sklearn_frame("iris")
    rng = np.random.default_rng(0)
    frame.insert(0, "id", np.arange(1000, 1150))
    frame.insert(1, "colour", rng.choice(["red", "green", "blue"], 150))
    frame.insert(2, "grade", rng.integers(1, 6, 150))
    frame.insert(3, "site", "lab A")
    frame.insert(4, "note", [f"measured by hand in the greenhouse on day {i} of the season" for i in range(150)])
    return frame


def test_column_kinds_come_with_reasons():
    ds = _prepare(_iris_with_extras())
    kinds = {f.name: f.kind for f in ds.features}
    assert kinds == {
        "id": "ignored", "colour": "categorical", "grade": "categorical", "site": "ignored", "note": "text",
        "sepal length (cm)": "numeric", "sepal width (cm)": "numeric",
        "petal length (cm)": "numeric", "petal width (cm)": "numeric",
    }
    reasons = {f.name: f.reason for f in ds.features}
    assert "every row" in reasons["id"] and "same value" in reasons["site"]
    # one model input per used column; the model one-hot encodes the two category columns itself
    assert ds.preprocessor.input_names == ["colour", "grade", "sepal length (cm)", "sepal width (cm)",
                                           "petal length (cm)", "petal width (cm)"]
    assert ds.x_train.shape[1] == 6 and ds.preprocessor.encoded_width == 3 + 5 + 4
    assert set(np.unique(ds.x_train[:, 0])) <= {0.0, 1.0, 2.0}  # positions in ["blue", "green", "red"]


def test_user_can_override_kinds_and_task():
    frame = sklearn_frame("diabetes")
    frame["target"] = (frame["target"] > 140).astype(int)
    ds = _prepare(frame, kinds={"sex": "categorical", "age": "ignored"})
    assert ds.task == "classification" and ds.classes == ["0", "1"]
    kinds = {f.name: f.kind for f in ds.features}
    assert kinds["sex"] == "categorical" and kinds["age"] == "ignored"
    assert "age" not in ds.preprocessor.columns
    assert _prepare(frame, task="regression").task == "regression"


def test_target_defaults_to_the_last_column_and_can_be_chosen():
    frame = sklearn_frame("iris")
    assert _prepare(frame).target == "target"
    ds = _prepare(frame, target="petal width (cm)")
    assert ds.task == "regression" and ds.y_train.dtype == np.float32 and ds.classes == []


def test_numeric_labels_are_kept_as_their_text():
    frame = sklearn_frame("breast_cancer")
    frame["target"] = frame["target"].map({"malignant": 0, "benign": 1})
    ds = _prepare(frame)
    assert ds.task == "classification" and ds.classes == ["0", "1"] and ds.y_train.dtype == np.int64


def test_split_is_stratified_and_repeatable():
    frame = sklearn_frame("iris")
    a, b, c = _prepare(frame, seed=1), _prepare(frame, seed=1), _prepare(frame, seed=2)
    assert np.array_equal(a.x_test, b.x_test) and not np.array_equal(a.x_test, c.x_test)
    assert a.split_sizes == {"train": 102, "validation": 24, "test": 24}
    assert np.bincount(a.y_test).tolist() == [8, 8, 8]


def test_imputation_uses_the_training_split_only():
    frame = sklearn_frame("iris")
    marker = np.arange(150) + 0.5  # tells the rows apart; empty in every 10th row
    marker[::10] = np.nan
    frame.insert(0, "marker", marker)
    ds = _prepare(frame)
    fill = ds.preprocessor.to_json()["columns"][0]["fill"]
    seen = ds.x_train[:, 0][ds.x_train[:, 0] != np.float32(fill)]
    assert fill == pytest.approx(float(np.median(seen)))
    assert fill != pytest.approx(float(np.nanmedian(marker)))
    assert np.float32(fill) in ds.x_test[:, 0] or np.float32(fill) in ds.x_val[:, 0]


def test_preprocessor_round_trips_through_json_and_handles_new_rows():
    ds = _prepare(_iris_with_extras())
    restored = TablePreprocessor.from_json(json.loads(json.dumps(ds.preprocessor.to_json())))
    rows = pd.DataFrame(
        {
            "colour": ["red", "purple", None], "grade": [2, 5, None],
            "sepal length (cm)": [5.1, float("inf"), None], "sepal width (cm)": [3.5, 3.0, 3.0],
            "petal length (cm)": [1.4, 4.0, 6.0], "petal width (cm)": [0.2, 1.3, 2.0], "extra": [1, 2, 3],
        }
    )
    x = restored.transform(rows)
    assert x.dtype == np.float32 and x.shape == (3, ds.x_train.shape[1]) and np.isfinite(x).all()
    assert x.shape[1] == len(restored.input_names) == 6
    names = restored.input_names
    columns = {c["name"]: c for c in restored.to_json()["columns"]}
    colours = columns["colour"]["categories"]
    assert x[0, names.index("colour")] == colours.index("red")
    assert x[1, names.index("colour")] == -1.0  # an unseen colour: no category (all zeros once one-hot)
    assert x[2, names.index("colour")] == colours.index(columns["colour"]["fill"])  # empty: the most frequent
    assert x[2, names.index("grade")] == columns["grade"]["categories"].index(columns["grade"]["fill"])
    fills = {name: c["fill"] for name, c in columns.items()}
    assert x[1, names.index("sepal length (cm)")] == pytest.approx(fills["sepal length (cm)"])
    with pytest.raises(UserError) as info:
        restored.transform(rows.drop(columns=["colour", "grade"]))
    assert "'colour', 'grade'" in info.value.render()


def test_single_class_target_is_refused():
    frame = sklearn_frame("iris")
    frame["target"] = "setosa"
    err = _refusal(frame)
    assert err.code == "split.one_class" and "same class (setosa)" in err.render()


def test_class_with_one_row_is_refused_naming_it():
    frame = sklearn_frame("iris")
    frame.loc[0, "target"] = "rosa"
    err = _refusal(frame)
    assert err.code == "split.class_too_small" and "'rosa' (1)" in err.render()


def test_empty_target_column_is_refused():
    frame = sklearn_frame("iris")
    frame["target"] = np.nan
    err = _refusal(frame)
    assert err.code == "table.target_empty" and "'target'" in err.render()


def test_unknown_target_lists_the_columns():
    err = _refusal(sklearn_frame("iris"), target="species")
    assert err.code == "table.unknown_target" and "sepal length (cm)" in err.render()


def test_regression_on_text_labels_is_refused_with_the_cell():
    err = _refusal(sklearn_frame("iris"), task="regression")
    assert err.code == "table.target_not_numeric" and "line 2 holds 'setosa'" in err.render()


def test_classification_of_a_continuous_target_with_too_many_values_is_refused(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_CLASSES", "50")
    err = _refusal(sklearn_frame("diabetes"), task="classification")
    assert err.code == "table.too_many_classes" and "regression" in err.render()


def test_no_usable_feature_is_refused():
    frame = pd.DataFrame({"id": range(30), "label": ["a", "b", "c"] * 10})
    err = _refusal(frame)
    assert err.code == "table.no_features" and "'id'" in err.render()


def test_load_data_reads_a_csv_path(iris_csv):
    ds = load_data(iris_csv, target="species")
    assert ds.kind == "table" and ds.classes == ["setosa", "versicolor", "virginica"]
    assert ds.x_train.dtype == np.float32 and ds.frame.shape == (150, 5)


def test_date_and_time_columns_are_ignored_with_a_reason():
    frame = sklearn_frame("iris")
    frame.insert(0, "measured", pd.date_range("2024-01-01", periods=150, freq="D").strftime("%Y-%m-%d"))
    frame.insert(1, "at", pd.date_range("2024-01-01", periods=150, freq="h").strftime("%Y-%m-%d %H:%M:%S"))
    ds = _prepare(frame)
    reasons = {f.name: (f.kind, f.reason) for f in ds.features}
    assert reasons["measured"][0] == "ignored" and "dates or times" in reasons["measured"][1]
    assert reasons["at"][0] == "ignored" and ds.x_train.shape[1] == 4


def test_a_handful_of_rows_is_refused():
    err = _refusal(sklearn_frame("iris").iloc[[0, 60, 120, 1, 61, 121]])
    assert err.code == "table.too_few_rows" and "only 6 row(s)" in err.render()


@pytest.mark.parametrize("marker", ["?", "n/a", "NA", "-", "null", "#DIV/0!", "missing"])
def test_a_rating_column_with_a_missing_marker_is_used_with_that_cell_empty(marker):
    # 1-5 ratings with one '?': was a categorical column with no categories, then KeyError
    frame = sklearn_frame("iris")
    frame.insert(0, "rating", [str(1 + i % 5) for i in range(150)])
    frame.loc[[7, 90], "rating"] = marker
    ds = _prepare(frame)
    rating = ds.features[0]
    assert rating.kind == "categorical" and rating.missing == 2 and rating.categories == ["1", "2", "3", "4", "5"]
    assert not ds.warnings  # a marker is an empty cell, not a typo to warn about
    assert set(np.unique(ds.x_train[:, 0])) == {0.0, 1.0, 2.0, 3.0, 4.0}
    # a model in use reads the marker as an empty cell too (the most frequent category), and '4.0' as 4
    rows = pd.DataFrame({"rating": [marker, "4.0"], **{c: [1.0, 1.0] for c in frame.columns[1:5]}})
    fill = ds.preprocessor.to_json()["columns"][0]["fill"]
    assert ds.preprocessor.transform(rows)[:, 0].tolist() == [rating.categories.index(fill), 3.0]


def test_markers_in_a_column_of_measurements_are_empty_cells_and_in_the_target_leave_the_row_out():
    frame = sklearn_frame("diabetes")
    frame["bmi"] = frame["bmi"].astype(str)
    frame.loc[[3, 30, 300], "bmi"] = ["?", "-", "n/a"]
    frame["target"] = frame["target"].astype(str)
    frame.loc[[5, 50], "target"] = "?"
    ds = _prepare(frame, task="regression")
    bmi = next(f for f in ds.features if f.name == "bmi")
    assert bmi.kind == "numeric" and bmi.missing == 3 and ds.dropped_rows == 2
    assert ds.warnings == ["2 row(s) of data.csv have an empty target 'target' and were left out."]


@pytest.mark.parametrize(("days", "date_format"), [(60, "%Y-%m-%d"), (12, "%Y-%m-%d"), (60, "%d.%m.%Y"), (12, "%m/%d/%Y")])
def test_repeated_dates_are_ignored_with_the_reason_never_used_as_categories(days, date_format):
    # several stores per day: 60 dates made the reader's repeated-value columns reach `.str` (AttributeError);
    # 12 dates (<= 20 different values) were silently used as 12 categories
    ds = _prepare(daily_sales_frame(days, date_format=date_format))
    date = ds.features[0]
    assert (date.name, date.kind) == ("date", "ignored") and "dates or times" in date.reason
    assert "date" not in ds.preprocessor.columns and ds.task == "classification"


def test_a_date_column_cannot_be_the_target_or_numbers_but_may_be_chosen_as_categories():
    frame = daily_sales_frame(12)
    err = _refusal(frame, target="date")
    assert err.code == "table.target_dates" and "'date'" in err.render()
    err = _refusal(frame, kinds={"date": "numeric"})
    assert err.code == "table.dates_not_numeric" and "'date'" in err.render()
    ds = _prepare(frame, kinds={"date": "categorical"})  # the user's explicit choice
    assert ds.features[0].kind == "categorical" and len(ds.features[0].categories) == 12


def test_an_empty_column_chosen_as_categorical_is_refused_plainly():
    frame = sklearn_frame("iris")
    frame.insert(0, "notes", np.nan)  # was ValueError: attempt to get argmax of an empty sequence
    err = _refusal(frame, kinds={"notes": "categorical"})
    assert err.code == "table.empty_categories" and "'notes'" in err.render() and "ignored" in err.render()


def test_numbers_beyond_float32_count_as_infinite_and_are_filled_in():
    frame = sklearn_frame("iris")
    frame["sepal length (cm)"] = frame["sepal length (cm)"].astype(object)
    frame.loc[3, "sepal length (cm)"] = "1e39"  # finite as float64, infinite once cast to the model's float32
    ds = _prepare(frame)
    sepal = ds.features[0]
    assert sepal.kind == "numeric" and sepal.infinite == 1 and sepal.missing == 0
    assert all(np.isfinite(x).all() for x in (ds.x_train, ds.x_val, ds.x_test))
    assert ds.warnings == ["Column 'sepal length (cm)' in data.csv holds 1 number(s) too large for the model (beyond "
                           "±3.4e38; first: 1e+39 on line 5). Those cells are treated as empty."]
    restored = TablePreprocessor.from_json(ds.preprocessor.to_json())
    assert np.isfinite(restored.transform(pd.DataFrame({c: [1e39] for c in frame.columns[:4]}))).all()


def test_a_number_beyond_float32_in_a_column_of_codes_is_an_empty_cell_not_a_category():
    frame = sklearn_frame("iris")
    frame.insert(0, "floor", np.arange(len(frame)) % 5 * 1.0)  # whole-number codes 0-4, read as floats
    frame.loc[7, "floor"] = 1e39
    ds = _prepare(frame)
    floor = ds.features[0]
    assert floor.kind == "categorical" and floor.categories == ["0", "1", "2", "3", "4"]  # was also '1e+39', and '0.0'...
    restored = TablePreprocessor.from_json(ds.preprocessor.to_json())
    fill = restored.encodings[0].fill
    assert restored.transform(frame.iloc[[7]])[0, 0] == floor.categories.index(fill)


def test_a_regression_target_beyond_float32_is_refused_naming_column_and_line():
    frame = sklearn_frame("diabetes")
    frame["target"] = frame["target"].astype(float)
    frame.loc[7, "target"] = 2e39
    err = _refusal(frame)
    assert err.code == "table.target_too_large"
    assert "'target'" in err.render() and "2e+39 on line 9" in err.render()


def test_a_file_whose_lines_are_quoted_whole_says_so():
    # each line is one quoted value: "only one column ('a,b,c,label')" named the wrong problem
    lines = ['"a,b,c,label"'] + [f'"{i},{i % 7},{i % 3},{"xy"[i % 2]}"' for i in range(30)]
    with pytest.raises(UserError) as info:
        prepare_table(read_csv("\n".join(lines).encode(), "quoted.csv"))
    assert info.value.code == "table.unsplit_lines"
    assert "single column ('a,b,c,label')" in info.value.render() and "quotes" in info.value.render()
