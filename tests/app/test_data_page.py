"""Data page: samples, uploads (good and bad), what was understood, target and task changes."""
from __future__ import annotations

import io
import zipfile

from tests.app.apptest import errors, exceptions, open_page
from tests.datafiles import csv_bytes, german_excel_wine, wine_frame

DATA = "pages/data.py"


def texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def upload(at, name: str, data: bytes, mime: str = "text/csv"):
    at.file_uploader(key="data_upload").set_value((name, data, mime))
    return at.run()


def test_without_data_the_page_offers_samples_and_upload(app):
    at = open_page(app, DATA)
    assert not exceptions(at)
    assert "No data yet" in at.info[0].value
    options = " ".join(at.selectbox(key="sample_dataset").options)
    assert all(name in options for name in ("iris", "wine", "breast_cancer", "diabetes", "digits"))
    assert at.selectbox(key="sample_dataset").value is None
    assert at.file_uploader(key="data_upload") is not None
    assert not at.get("plotly_chart")


def test_picking_a_sample_shows_what_was_understood(app):
    at = open_page(app, DATA)
    at.selectbox(key="sample_dataset").set_value("wine").run()
    assert not exceptions(at)
    assert at.session_state["workspace"].dataset.name == "sample:wine"
    assert any("178 rows, 13 columns" in t and "(3 classes)" in t for t in texts(at))
    assert len(at.get("plotly_chart")) == 1  # class counts
    assert [m.label for m in at.metric] == ["training examples", "validation examples", "test examples"]
    assert sum(int(m.value) for m in at.metric) == 178
    assert at.selectbox(key="target_column").value == at.session_state["workspace"].dataset.target


def test_a_regression_sample_shows_a_number_target(app):
    at = open_page(app, DATA)
    at.selectbox(key="sample_dataset").set_value("diabetes").run()
    assert not exceptions(at)
    assert any("columns used to predict the number" in t for t in texts(at))
    assert at.radio(key=next(k for k in at.session_state if k.startswith("task_"))).value == "regression"


def test_image_sample_shows_a_grid_per_class(app):
    at = open_page(app, DATA)
    at.selectbox(key="sample_dataset").set_value("digits").run()
    assert not exceptions(at)
    assert any("images of 8×8 pixels, 10 classes" in t for t in texts(at))
    assert len(at.get("image")) == 10  # one row of images per class


def test_uploading_a_csv_then_changing_the_target_changes_the_classes(app):
    at = open_page(app, DATA)
    upload(at, "wine.csv", csv_bytes(wine_frame()))
    assert not exceptions(at) and not errors(at)
    ws = at.session_state["workspace"]
    assert ws.dataset.target == "cultivar"
    assert ws.dataset.classes == ["class_0", "class_1", "class_2"]
    assert at.selectbox(key="target_column").value == "cultivar"

    at.selectbox(key="target_column").set_value("strength").run()
    assert not exceptions(at) and not errors(at)
    ws = at.session_state["workspace"]
    assert ws.dataset.target == "strength" and ws.dataset.classes == ["light", "strong"]
    assert any("predict 'strength' (2 classes)" in t for t in texts(at))
    # The old target is now an ordinary input column.
    assert "cultivar" in [f.name for f in ws.dataset.features]


def test_task_override_turns_a_class_number_into_a_regression(app):
    frame = wine_frame().drop(columns=["strength", "cultivar"])
    # A few whole numbers: looks like class labels until the user says it is an amount.
    frame["rating"] = ((frame["alcohol"] * 2).round().astype(int) - 20).clip(3, 9)
    at = open_page(app, DATA)
    upload(at, "ratings.csv", csv_bytes(frame))
    assert at.session_state["workspace"].dataset.task == "classification"
    task = next(k for k in at.session_state if k.startswith("task_"))
    at.radio(key=task).set_value("regression").run()
    assert not exceptions(at) and not errors(at)
    assert at.session_state["workspace"].dataset.task == "regression"
    assert any("predict the number 'rating'" in t for t in texts(at))


def test_an_empty_csv_shows_an_error_and_keeps_the_earlier_data(app):
    at = open_page(app, DATA)
    at.selectbox(key="sample_dataset").set_value("iris").run()
    upload(at, "empty.csv", b"")
    assert not exceptions(at)
    assert any("empty.csv is empty" in e for e in errors(at))
    assert at.session_state["workspace"].dataset.name == "sample:iris"
    assert "Still using the earlier data: iris (sample)" in [i.value for i in at.info]
    # The error stays while the file is there (another rerun does not read it again).
    at.run()
    assert any("empty.csv is empty" in e for e in errors(at))


def test_a_zip_that_is_not_a_zip_shows_an_error_and_keeps_the_earlier_data(app):
    at = open_page(app, DATA)
    upload(at, "wine.csv", csv_bytes(wine_frame()))
    upload(at, "photos.zip", b"this is not a zip archive at all", "application/zip")
    assert not exceptions(at)
    assert errors(at) and "photos.zip" in errors(at)[0]
    assert at.session_state["workspace"].dataset.name == "wine.csv"


def test_a_tab_separated_file_is_accepted_and_read_as_a_table(app):
    at = open_page(app, DATA)
    assert {"csv", "tsv", "txt", "zip"} <= {t.lstrip(".") for t in at.file_uploader(key="data_upload").proto.type}
    upload(at, "wine.tsv", wine_frame().to_csv(index=False, sep="\t").encode())
    assert not exceptions(at) and not errors(at)
    assert at.session_state["workspace"].dataset.name == "wine.tsv"
    assert "Your data: wine.tsv" in [h.value for h in at.subheader]


def test_a_german_excel_csv_with_thousands_separators_loads(app):
    at = open_page(app, DATA)
    upload(at, "wein.csv", german_excel_wine())
    assert not exceptions(at) and not errors(at)
    dataset = at.session_state["workspace"].dataset
    assert dataset.frame["proline"].iloc[0] == 1065.0


def test_an_internal_error_on_upload_shows_a_message_and_keeps_the_earlier_views(app, monkeypatch):
    import core.data

    at = open_page(app, DATA)
    upload(at, "wine.csv", csv_bytes(wine_frame()))

    def broken(*args, **kwargs):
        raise IndexError("index 0 is out of bounds")  # what a bug in column profiling once raised

    monkeypatch.setattr(core.data, "prepare_table", broken)
    upload(at, "other.csv", csv_bytes(wine_frame().head(50)))
    assert not exceptions(at)
    assert any("could not read other.csv because of an internal error" in e for e in errors(at))
    assert "Still using the earlier data: wine.csv" in [i.value for i in at.info]
    headings = [h.value for h in at.subheader]
    assert {"Your data: wine.csv", "Columns", "Preview", "Split"} <= set(headings)


def test_an_image_zip_lists_skipped_files(app):
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(60):
            image = Image.fromarray((digits.images[i] * 16).astype("uint8"))
            png = io.BytesIO()
            image.save(png, format="PNG")
            archive.writestr(f"digits/{digits.target[i] % 3}/img{i}.png", png.getvalue())
        archive.writestr("digits/0/notes.txt", "not an image")
        archive.writestr("digits/1/broken.png", b"\x89PNG broken")
    at = open_page(app, DATA)
    upload(at, "digits.zip", buffer.getvalue(), "application/zip")
    assert not exceptions(at) and not errors(at)
    assert at.session_state["workspace"].dataset.kind == "images"
    assert len(at.get("image")) == 3
    skipped = at.dataframe[-1].value
    assert "digits/1/broken.png" in list(skipped.iloc[:, 0])


def test_a_refused_task_change_shows_why_and_keeps_the_data(app):
    at = open_page(app, DATA)
    upload(at, "wine.csv", csv_bytes(wine_frame()))
    task = next(k for k in at.session_state if k.startswith("task_"))
    at.radio(key=task).set_value("regression").run()
    assert not exceptions(at)
    assert errors(at)  # text labels cannot be predicted as a number: the message says so
    assert at.session_state["workspace"].dataset.task == "classification"
    at.run()  # the next redraw shows the kept choice again
    task = next(k for k in at.session_state if k.startswith("task_") and k != task)
    assert at.radio(key=task).value == "classification"


def test_changing_a_column_kind_prepares_the_table_again(app, monkeypatch):
    import streamlit as st

    real_editor = st.data_editor

    def user_ignores_alcohol(frame, **kwargs):
        """What the kinds table returns after the user sets 'alcohol' to ignored."""
        real_editor(frame, **kwargs)
        edited = frame.copy()
        edited.loc[edited["column"] == "alcohol", "kind"] = "ignored"
        return edited

    at = open_page(app, DATA)
    upload(at, "wine.csv", csv_bytes(wine_frame()))
    assert any("14 columns used" in t for t in texts(at))
    monkeypatch.setattr(st, "data_editor", user_ignores_alcohol)
    at.run()
    assert not exceptions(at) and not errors(at)
    features = {f.name: f for f in at.session_state["workspace"].dataset.features}
    assert features["alcohol"].kind == "ignored"
    assert any("13 columns used" in t for t in texts(at))
    # Only the column the user changed says so; the others keep the app's own reasons.
    assert [name for name, f in features.items() if "chosen by you" in f.reason] == ["alcohol"]


def test_new_data_gets_a_design_that_fits_unless_the_user_edited_it(app):
    at = open_page(app, DATA)
    at.selectbox(key="sample_dataset").set_value("iris").run()
    ws = at.session_state["workspace"]
    table_template = ws.template_id
    assert ws.spec is not None and table_template  # Train is one click away
    at.selectbox(key="sample_dataset").set_value("digits").run()
    ws = at.session_state["workspace"]
    assert ws.template_id != table_template  # the untouched table template gave way to an image one
    from core.shapes import shape_report

    assert shape_report(ws.spec, ws.dataset).ok
    ws.spec.layers = ws.spec.layers[:-1]  # the user edits the design...
    edited = list(ws.spec.layers)
    at.selectbox(key="sample_dataset").set_value("wine").run()
    assert at.session_state["workspace"].spec.layers == edited  # ...and it is kept


def test_leaving_the_page_and_coming_back_keeps_the_choices(app):
    at = open_page(app, DATA)
    upload(at, "wine.csv", csv_bytes(wine_frame()))
    at.selectbox(key="target_column").set_value("strength").run()
    at.switch_page("pages/design.py").run()
    at.switch_page(DATA).run()
    assert not exceptions(at)
    ws = at.session_state["workspace"]
    assert ws.dataset.target == "strength"
    assert at.selectbox(key="target_column").value == "strength"
    at.selectbox(key="sample_dataset").set_value("wine").run()
    at.switch_page("pages/design.py").run()
    at.switch_page(DATA).run()
    assert at.selectbox(key="sample_dataset").value == "wine"


def preview_display(at):
    """The Data page's preview table as the browser shows it (the Styler's display values)."""
    import pyarrow as pa

    shown = [d for d in at.dataframe if d.proto.arrow_data.styler.display_values]
    assert len(shown) == 1, "one preview table"
    return pa.ipc.open_stream(shown[0].proto.arrow_data.styler.display_values).read_all().to_pandas()


def test_the_preview_shows_missing_cells_empty_not_none(app):
    frame = wine_frame()
    frame.loc[0, "alcohol"] = None  # a missing number
    frame.insert(0, "note", ["dry"] * len(frame))  # first: the target stays the last column
    frame.loc[1, "note"] = None  # a missing text
    at = upload(open_page(app, DATA), "wine.csv", csv_bytes(frame))
    assert not exceptions(at) and not errors(at)
    shown = preview_display(at)
    assert shown.loc[0, "alcohol"] == "" and shown.loc[1, "note"] == ""
    assert shown.loc[1, "alcohol"] == f"{frame.loc[1, 'alcohol']:.10g}"  # numbers as written
    assert not (shown == "None").any().any() and not (shown == "nan").any().any()
