"""Hostile and broken inputs through the pages a user would use: the Data page's uploader,
the Design page's project-file loader and the Train page.

Every refusal is a plain message naming the file (and the line, column, entry or layer)
and what to do; the session keeps working with its earlier dataset, design and runs.
docs/RELIABILITY.md lists each case and what the app does with it.
"""
from __future__ import annotations

import copy
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.app.apptest import ROOT, exceptions, new_app, open_page, workspace_with_sample
from tests.datafiles import csv_bytes, digit_images, digits_zip_entries, encode_image, sklearn_frame, zip_bytes

DATA, DESIGN, TRAIN, EVALUATE = "pages/data.py", "pages/design.py", "pages/train.py", "pages/evaluate.py"
KEPT_NOTICE = "Still using the earlier data: iris (sample)"


# --- files -------------------------------------------------------------------------------------


def iris() -> pd.DataFrame:
    return sklearn_frame("iris", "species")


def iris_csv() -> bytes:
    return csv_bytes(iris())


def iris_with(column: str, rows: list[int], value) -> bytes:
    frame = iris()
    frame[column] = frame[column].astype(object)
    frame.loc[rows, column] = value
    return csv_bytes(frame)


def edit_line(number: int, edit: Callable[[str], str]) -> bytes:
    """iris.csv with line `number` (1 = the header) changed."""
    lines = iris_csv().decode().splitlines()
    lines[number - 1] = edit(lines[number - 1])
    return ("\n".join(lines) + "\n").encode()


def accented(encoding: str) -> bytes:
    frame = iris().rename(columns={"sepal length (cm)": "longueur sépale"})
    frame["species"] = frame["species"].map({"setosa": "sétosa", "versicolor": "versicolór", "virginica": "virginíca"})
    return csv_bytes(frame, encoding=encoding)


def diabetes_with_infinite_target() -> bytes:
    frame = sklearn_frame("diabetes")
    frame.loc[7, "target"] = np.inf
    return csv_bytes(frame)


PNG = encode_image(digit_images(1, (1,))[0][1])


def digits_zip(**extra: bytes) -> bytes:
    """8 digit images in each of zero/one/two, plus `extra` entries (path -> bytes)."""
    return zip_bytes({**digits_zip_entries(per_class=8), **extra})


def with_symlink() -> bytes:
    buffer = io.BytesIO(digits_zip())
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo("my photos/one/link.png")
        link.external_attr = 0o120777 << 16  # a symbolic link to /etc/passwd
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def understated_header() -> bytes:
    """A 500 KB entry whose central directory claims 100 bytes."""
    data = bytearray(digits_zip(**{"my photos/one/liar.bmp": b"BM" + bytes(500_000)}))
    record = data.rindex(b"PK\x01\x02")
    data[record + 24 : record + 28] = (100).to_bytes(4, "little")
    return bytes(data)


def image_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def pixel_bomb() -> bytes:
    """10,000 × 10,000 pixels (100 megapixels) in a 12 KB PNG."""
    return image_bytes(Image.new("1", (10_000, 10_000)), "PNG")


def sixteen_bit_png() -> bytes:
    return image_bytes(Image.fromarray(digit_images(1, (1,))[0][1].astype(np.uint16) * 257), "PNG")


def cmyk_jpeg() -> bytes:
    return image_bytes(Image.fromarray(digit_images(1, (1,))[0][1]).convert("CMYK"), "JPEG", quality=95)


# --- the Data page -----------------------------------------------------------------------------


@dataclass
class Upload:
    file: str
    make: Callable[[], bytes]
    shows: str  # part of the message the user sees
    env: dict[str, str] = field(default_factory=dict)

    @property
    def mime(self) -> str:
        return "application/zip" if self.file.endswith(".zip") else "text/csv"


REFUSED = [
    Upload("empty.csv", lambda: b"", "empty.csv is empty. Upload a CSV file with a header row and data rows."),
    Upload("header_only.csv", lambda: b"a,b,c\n", "header_only.csv has a header row but no data rows."),
    Upload("garbage.csv", lambda: np.random.default_rng(0).bytes(4000), "garbage.csv is not a text file (it contains binary data)."),
    Upload("ragged.csv", lambda: edit_line(6, lambda line: line + ",9.9"),
           "Line 6 of ragged.csv has 6 values but the header has 5 columns."),
    Upload("short_row.csv", lambda: edit_line(9, lambda line: line.rsplit(",", 1)[0]), "Line 9 of short_row.csv has 4 values"),
    Upload("duplicate_headers.csv", lambda: edit_line(1, lambda line: line.replace("sepal width (cm)", "sepal length (cm)")),
           "duplicate_headers.csv has several columns with the same name: 'sepal length (cm)'."),
    Upload("infinite_target.csv", diabetes_with_infinite_target,
           "The target column 'target' in infinite_target.csv holds an infinite value (such as 'inf' or 1e999) on line 9."),
    Upload("one_class.csv", lambda: csv_bytes(iris().assign(species="setosa")),
           "In one_class.csv every row has the same class (setosa)."),
    Upload("tiny_class.csv", lambda: iris_with("species", [0], "unicorn"),
           "In tiny_class.csv some classes have too few rows to split into training, validation and test: 'unicorn' (1)."),
    Upload("too_many_rows.csv", iris_csv, "too_many_rows.csv has about 150 rows, more than the 100 this server accepts.",
           {"LAYERLAB_MAX_ROWS": "100"}),
    Upload("too_big.csv", iris_csv, "too_big.csv is 3.9 KB, more than the 1.0 KB this server accepts.",
           {"LAYERLAB_MAX_UPLOAD_BYTES": "1000"}),
    Upload("not_a_zip.zip", iris_csv, "not_a_zip.zip is not a zip archive (or it is damaged)."),
    Upload("slip_parent.zip", lambda: digits_zip(**{"../evil.png": PNG}),
           "slip_parent.zip contains an entry with an unsafe path ('../evil.png': it points outside the archive)."),
    Upload("slip_absolute.zip", lambda: digits_zip(**{"/tmp/evil.png": PNG}), "unsafe path ('/tmp/evil.png'"),
    Upload("slip_backslash.zip", lambda: digits_zip(**{"one\\..\\..\\evil.png": PNG}), "unsafe path ('one\\..\\..\\evil.png'"),
    Upload("bomb.zip", lambda: digits_zip(**{"my photos/one/big.bmp": b"BM" + bytes(20_000_000)}),
           "bomb.zip looks like a zip bomb: 'my photos/one/big.bmp' unpacks to more than 100 times its packed size."),
    Upload("too_big_unpacked.zip", lambda: zip_bytes(digits_zip_entries(per_class=10)),
           "too_big_unpacked.zip unpacks to more than 2.0 KB.", {"LAYERLAB_MAX_UNCOMPRESSED_BYTES": "2000"}),
    Upload("many_entries.zip", digits_zip, "many_entries.zip holds 24 entries, more than the 10 this server accepts.",
           {"LAYERLAB_MAX_ENTRIES": "10"}),
    Upload("one_class.zip", lambda: zip_bytes(digits_zip_entries(per_class=8, classes=(7,))),
           "one_class.zip has images of only one class ('seven')."),
    Upload("few_images.zip",
           lambda: zip_bytes({**digits_zip_entries(per_class=8, classes=(1, 3)), **digits_zip_entries(per_class=2, classes=(2,))}),
           "In few_images.zip some classes have too few images to split into training, validation and test: 'two' (2)."),
    Upload("images_without_folders.zip", lambda: zip_bytes({f"img{i}.png": PNG for i in range(12)}),
           "The images in images_without_folders.zip are not inside class folders."),
]


@pytest.fixture(scope="module")
def earlier():
    """A session that already has data (iris), a design and a finished run."""
    from components.state.runs import SessionRun

    ws = workspace_with_sample("iris")
    ws.runs.append(SessionRun(id="run1-earlier", number=1, spec=ws.spec.to_dict(), status="finished",
                              history=[{"loss": 1.0, "val_loss": 1.1}], run_dir=ws.run_dir("run1-earlier"),
                              project=copy.deepcopy(ws.spec), dataset=ws.dataset))
    return ws


def upload(ws, case: Upload, monkeypatch):
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, DATA)
    at.file_uploader(key="data_upload").set_value((case.file, case.make(), case.mime))
    return at.run()


def snapshot(ws) -> tuple:
    return ws.dataset, ws.data_version, json.dumps(ws.spec.to_dict()), list(ws.runs)


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.file)
def test_a_refused_upload_names_the_file_and_keeps_the_earlier_session(earlier, case, monkeypatch):
    before = snapshot(earlier)
    at = upload(earlier, case, monkeypatch)
    assert not exceptions(at)
    (message,) = [e.value for e in at.error]
    assert case.file in message and case.shows in message
    assert "Traceback" not in message and "Error:" not in message
    assert KEPT_NOTICE in [i.value for i in at.info]
    assert snapshot(earlier) == before  # the same dataset object, design and runs


def test_zip_slip_entries_write_nothing_anywhere(earlier, monkeypatch, tmp_path):
    """Images are decoded in memory: no entry of any archive is ever written to disk."""
    monkeypatch.chdir(tmp_path / ".")
    slip = {"../evil.png": PNG, "/tmp/layerlab-slip-check.png": PNG, "one\\..\\..\\evil.png": PNG}
    files_before = sorted(earlier.temp_dir.rglob("*"))
    for name, data in slip.items():
        upload(earlier, Upload("slip.zip", lambda data=data, name=name: digits_zip(**{name: data}), ""), monkeypatch)
    written = [tmp_path.parent / "evil.png", tmp_path / "evil.png", Path("/tmp/layerlab-slip-check.png"), ROOT / "evil.png", ROOT.parent / "evil.png"]
    assert [p for p in written if p.exists()] == []
    assert sorted(earlier.temp_dir.rglob("*")) == files_before


def shown_skipped(at) -> list[tuple[str, str]]:
    """The skipped-files table on the Data page: (file, reason) per row."""
    tables = [df.value for df in at.dataframe if "file" in df.value.columns]
    assert len(tables) == 1, [df.value.columns for df in at.dataframe]
    return list(tables[0].itertuples(index=False, name=None))


SKIPPED = [
    ("symlink.zip", with_symlink, "my photos/one/link.png", "a symbolic link; links are not followed"),
    ("understated.zip", understated_header, "my photos/one/liar.bmp", "damaged inside the zip (Bad CRC-32"),
    ("nested.zip", lambda: digits_zip(**{"my photos/one/inner.zip": zip_bytes({"a.png": PNG})}),
     "my photos/one/inner.zip", "a zip inside the zip; nested archives are not opened"),
    ("pixel_bomb.zip", lambda: digits_zip(**{"my photos/one/huge.png": pixel_bomb()}),
     "my photos/one/huge.png", "too many pixels (a possible decompression bomb)"),
    ("truncated.zip", lambda: digits_zip(**{"my photos/one/cut.png": PNG[: len(PNG) // 2]}),
     "my photos/one/cut.png", "damaged or truncated"),
    ("renamed.zip", lambda: digits_zip(**{"my photos/one/notes.png": b"my notes, not a picture\n" * 20}),
     "my photos/one/notes.png", "not a PNG, JPEG, BMP, GIF or WebP image (judged by its content)"),
    ("tiff.zip", lambda: digits_zip(**{"my photos/one/scan.tif": image_bytes(Image.new("L", (8, 8)), "TIFF")}),
     "my photos/one/scan.tif", "not a PNG, JPEG, BMP, GIF or WebP image"),
]


@pytest.mark.parametrize(("file", "make", "entry", "reason"), SKIPPED, ids=[s[0] for s in SKIPPED])
def test_a_bad_file_inside_a_zip_is_skipped_with_its_reason_and_the_rest_kept(file, make, entry, reason, monkeypatch):
    ws = workspace_with_sample("iris")
    at = upload(ws, Upload(file, make, ""), monkeypatch)
    assert not exceptions(at) and not at.error
    assert ws.dataset.name == file and ws.dataset.n_rows == 24  # all 24 good images
    assert "1 file was skipped" in [w.value for w in at.warning]
    ((shown_file, shown_reason),) = shown_skipped(at)
    assert shown_file == entry and shown_reason.startswith(reason)


@pytest.mark.parametrize("file,make", [("sixteen_bit.zip", sixteen_bit_png), ("cmyk.zip", cmyk_jpeg)])
def test_sixteen_bit_and_cmyk_images_are_used(file, make, monkeypatch):
    ws = workspace_with_sample("iris")
    at = upload(ws, Upload(file, lambda: digits_zip(**{"my photos/one/odd.png": make()}), ""), monkeypatch)
    assert not exceptions(at) and not at.error and not at.warning
    assert ws.dataset.name == file and ws.dataset.n_rows == 25 and not ws.dataset.skipped


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_utf16_and_latin1_files_keep_their_accents(encoding, monkeypatch):
    ws = workspace_with_sample("iris")
    at = upload(ws, Upload(f"accents-{encoding}.csv", lambda: accented(encoding), ""), monkeypatch)
    assert not exceptions(at) and not at.error
    assert ws.dataset.classes == ["sétosa", "versicolór", "virginíca"]
    assert ws.dataset.features[0].name == "longueur sépale"
    assert at.selectbox(key="target_column").value == "species"


def test_a_mixed_column_is_used_with_a_warning_naming_the_cell(monkeypatch):
    ws = workspace_with_sample("iris")
    at = upload(ws, Upload("mixed.csv", lambda: iris_with("petal width (cm)", [3, 7], "n/a?"), ""), monkeypatch)
    assert not exceptions(at) and not at.error
    assert [w.value for w in at.warning] == [
        "Column 'petal width (cm)' in mixed.csv holds numbers, but 2 cell(s) are text (first: 'n/a?' on line 5). "
        "Those cells are treated as empty; fix them in the file if they matter."
    ]
    assert ws.dataset.name == "mixed.csv"


def column_table(at) -> pd.DataFrame:
    """The Data page's table of columns (name, kind, missing values, reason)."""
    (editor,) = [e for e in at.dataframe if "missing" in e.value.columns]
    return editor.value.set_index("column")


def test_infinite_and_nan_features_count_as_missing_values_and_are_filled(monkeypatch):
    frame = iris()
    frame[["petal width (cm)", "sepal width (cm)", "petal length (cm)"]] = frame[
        ["petal width (cm)", "sepal width (cm)", "petal length (cm)"]].astype(object)
    frame.loc[3, "petal width (cm)"] = "inf"
    frame.loc[4, "sepal width (cm)"] = "1e999"
    frame.loc[5, "petal length (cm)"] = "NaN"
    ws = workspace_with_sample("iris")
    at = upload(ws, Upload("infinities.csv", lambda: csv_bytes(frame), ""), monkeypatch)
    assert not exceptions(at) and not at.error
    missing = column_table(at)["missing"].to_dict()
    assert missing == {"sepal length (cm)": 0, "sepal width (cm)": 1, "petal length (cm)": 1, "petal width (cm)": 1}
    assert np.isfinite(ws.dataset.x_train).all() and np.isfinite(ws.dataset.x_test).all()


def test_rows_with_an_empty_target_are_left_out_with_a_warning(monkeypatch):
    ws = workspace_with_sample("iris")
    at = upload(ws, Upload("nan_target.csv", lambda: iris_with("species", [3, 9], np.nan), ""), monkeypatch)
    assert not exceptions(at) and not at.error
    assert "2 row(s) of nan_target.csv have an empty target 'species' and were left out." in [w.value for w in at.warning]
    assert ws.dataset.n_rows == 148


def test_after_a_refused_upload_the_next_good_upload_is_used(monkeypatch):
    ws = workspace_with_sample("iris")
    at = upload(ws, REFUSED[2], monkeypatch)  # binary garbage
    assert at.error
    at.file_uploader(key="data_upload").set_value(("wine.csv", csv_bytes(sklearn_frame("wine", "cultivar")), "text/csv")).run()
    assert not exceptions(at) and not at.error
    assert ws.dataset.name == "wine.csv" and ws.dataset.target == "cultivar"


# --- the Design page's project file -------------------------------------------------------------

GOOD = {"format": "layerlab/1", "layers": [{"type": "Dense", "units": 8}]}


def project(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


MARKER = Path("/tmp/layerlab-project-code-ran")
PROJECTS = [
    ("malformed.json", b'{"layers": [ {"type": "Dense", ', "The project file is not valid JSON (line 1, column 32"),
    ("deep.json", b"[" * 50 + b"]" * 50, "The project file is nested 50 levels deep; a LayerLab project needs at most 14."),
    ("deep_object.json", project(optimizer={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {
        "m": {"n": 1}}}}}}}}}}}}}}), "nested 15 levels deep"),
    ("nan.json", b'{"format": "layerlab/1", "layers": [{"type": "Dropout", "rate": NaN}]}', "NaN is not a number JSON allows"),
    ("binary.json", bytes(range(256)) * 4, "The project file is not UTF-8 text."),
    ("big.json", b'{"layers": [' + b'{"type": "Dense", "units": 8},' * 10_000 + b"{}]}", "a LayerLab project is at most 256 KB"),
    ("unknown_layer.json", project(layers=[{"type": "Dense", "units": 8}, {"type": "MagicLayer"}]),
     'Layer 2: "MagicLayer" is not a layer LayerLab offers.'),
    ("lambda.json", project(layers=[{"type": "Lambda", "function": f"lambda x: __import__('os').system('touch {MARKER}')"}]),
     "Layer 1: Lambda layers run program code, so LayerLab never loads them."),
    ("tfsm.json", project(layers=[{"type": "TFSMLayer", "filepath": "/tmp/model"}]),
     "Layer 1: TFSMLayer layers run program code, so LayerLab never loads them."),
    ("config.json", project(layers=[{"type": "Dense", "units": 8, "config": {"class_name": "Lambda"}}]),
     'Layer 1 (Dense): the entry "config" is for program code or Keras internals'),
    ("module.json", project(layers=[{"type": "Dense", "units": 8, "module": "os", "class_name": "system"}]), "Layer 1 (Dense): the entry"),
    ("dunder.json", project(__reduce__="os.system"), 'the entry "__reduce__" is for program code'),
    ("out_of_range.json", project(layers=[{"type": "Dense", "units": 8}, {"type": "Dropout", "rate": 7}]),
     "Layer 2 (Dropout): rate must be between 0 and 0.9, got 7."),
    ("negative.json", project(layers=[{"type": "Dense", "units": -3}]), "Layer 1 (Dense): units must be between 1 and 65536, got -3."),
    ("learning_rate.json", project(optimizer={"type": "Adam", "learning_rate": 1e9}),
     "Optimizer (Adam): learning_rate must be between 1e-07 and 10"),
    ("epochs.json", project(training={"epochs": 10**9}), "Training settings: epochs must be between 1 and 10000, got 1000000000."),
]


def load_project(ws, file: str, data: bytes):
    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, DESIGN)
    at.file_uploader(key="load_project").set_value((file, data, "application/json"))
    return at.run()


@pytest.mark.parametrize(("file", "data", "shows"), PROJECTS, ids=[p[0] for p in PROJECTS])
def test_a_refused_project_file_says_why_and_keeps_the_design(earlier, file, data, shows):
    before = snapshot(earlier)
    at = load_project(earlier, file, data)
    assert not exceptions(at)
    (message,) = [e.value for e in at.error]
    assert shows in message
    assert "Your design was not changed." in [c.value for c in at.caption]
    assert snapshot(earlier) == before
    assert not MARKER.exists()  # nothing in a project file is ever run


def test_a_refused_project_file_is_named_in_the_message(earlier):
    at = load_project(earlier, "my-old-design.json", b"{not json")
    assert not exceptions(at)
    assert [e.value for e in at.error] == [
        "Could not load my-old-design.json. The project file is not valid JSON "
        "(line 1, column 2: Expecting property name enclosed in double quotes)."
    ]


# --- designs too big to build -----------------------------------------------------------------


def test_a_design_over_the_parameter_budget_cannot_start_training(monkeypatch):
    ws = workspace_with_sample("iris")
    huge = project(layers=[{"type": "Dense", "units": 8192}, {"type": "Dense", "units": 8192}])
    at = load_project(ws, "huge.json", huge)
    assert not exceptions(at)
    budget = "This model has 67,182,604 parameters, more than the limit of 20,000,000."
    assert any(budget in e.value for e in at.error)
    assert "Fix the problems marked above before training." in [w.value for w in at.warning]
    started = []
    monkeypatch.setattr("components.state.runs.get_training_service", lambda: started.append(1))
    at.switch_page(TRAIN).run()
    assert not exceptions(at)
    assert at.button(key="start_training").disabled and not started
    assert at.info[0].value.startswith(f"The design has an error: {budget}")


def test_a_design_over_the_memory_estimate_cannot_start_training(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_MEMORY_MB", "1")
    ws = workspace_with_sample("iris")
    at = load_project(ws, "wide.json", project(layers=[{"type": "Dense", "units": 4096}], training={"batch_size": 512}))
    assert not exceptions(at)
    assert [e.value for e in at.error] == [
        "Training this model would need about 16 MB of memory, more than the limit of 1 MB. "
        "Lower batch_size, use fewer or smaller layers, or add pooling."
    ]
    at.switch_page(TRAIN).run()
    assert at.button(key="start_training").disabled


# --- CSVs the app writes ------------------------------------------------------------------------


def test_predictions_csv_neutralises_formula_cells(downloads):
    """Class names from an uploaded file come back in predictions.csv: a spreadsheet must not run them."""
    from components.designer import default_design
    from components.state.runs import SessionRun
    from components.state.workspace import Workspace
    from core.data import prepare_table, read_csv
    from core.training import train_in_process
    from core.training.events import read_all
    from core.training.rundir import RunDir

    frame = iris()
    frame["species"] = frame["species"].map({"setosa": "=HYPERLINK(\"http://x\")", "versicolor": "+1+1", "virginica": "@SUM(A1)"})
    raw = read_csv(csv_bytes(frame), "formulas.csv")
    ws = Workspace()
    ws.set_dataset(prepare_table(raw), "formulas.csv", raw)
    ws.spec, ws.template_id = default_design(ws.dataset)
    ws.spec.training.update(epochs=1, early_stopping_patience=0)
    run_dir = ws.run_dir("run1-formulas")
    result = train_in_process(ws.spec, ws.dataset, run_dir)
    run = SessionRun(id="run1-formulas", number=1, spec=ws.spec.to_dict(), run_dir=run_dir, project=copy.deepcopy(ws.spec), dataset=ws.dataset)
    run.absorb(read_all(RunDir(run_dir).events))
    run.update_from(result)
    ws.runs.append(run)

    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, EVALUATE)
    rows = frame.drop(columns="species").head(30)
    at.file_uploader(key="try_csv_run1-formulas").set_value(("rows.csv", csv_bytes(rows), "text/csv")).run()
    assert not exceptions(at)
    written = pd.read_csv(io.BytesIO(downloads(at, "download_csv_predictions_run1-formulas")))
    assert set(written["prediction"]) <= {"'=HYPERLINK(\"http://x\")", "'+1+1", "'@SUM(A1)"}
    assert len(written) == 30 and written["probability"].between(0, 1).all()  # numbers stay numbers
