"""Reading CSV files: encodings, delimiters, decimal commas, and every refusal's message."""
from __future__ import annotations

import codecs
import re

import numpy as np
import pandas as pd
import pytest

from core.data import load_data, prepare_table, read_csv
from core.errors import UserError
from tests.datafiles import csv_bytes, german_excel_wine, long_header_csv_bytes, sklearn_frame, wide_csv_bytes, write


def _refusal(data: bytes, name: str = "data.csv", **prepare) -> UserError:
    with pytest.raises(UserError) as info:
        prepare_table(read_csv(data, name), **prepare)
    return info.value


def test_semicolon_file_with_decimal_commas_reads_the_numbers():
    frame = sklearn_frame("wine")
    raw = read_csv(csv_bytes(frame, sep=";", decimal=","), "wine.csv")
    assert (raw.delimiter, raw.decimal) == (";", ",")
    assert raw.frame.shape == frame.shape
    np.testing.assert_allclose(raw.frame["alcohol"].to_numpy(), frame["alcohol"].to_numpy())
    ds = prepare_table(raw)
    assert ds.task == "classification" and ds.classes == ["class_0", "class_1", "class_2"]
    assert all(f.kind == "numeric" for f in ds.features)


def test_german_excel_file_with_thousands_separators_reads_the_numbers():
    raw = read_csv(german_excel_wine(), "wein.csv")
    assert (raw.delimiter, raw.decimal, raw.encoding) == (";", ",", "cp1252")
    np.testing.assert_array_equal(raw.frame["proline"].to_numpy(), sklearn_frame("wine")["proline"].to_numpy())
    assert raw.frame["proline"].iloc[0] == 1065.0  # "1.065", not 1.065
    ds = prepare_table(raw)
    proline = next(f for f in ds.features if f.name == "proline")
    assert proline.kind == "numeric" and not ds.warnings


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'x;y\n1.065,5;a\n735;b\n-2.000.000;c\n', [1065.5, 735.0, -2000000.0]),
        (b'x,y\n"1,065.5",a\n735,b\n"12,000",c\n', [1065.5, 735.0, 12000.0]),
        (b'x;y\n1.065,5;a\n7.35;b\n1,5;c\n', ["1.065,5", "7.35", "1,5"]),  # 7.35 breaks the pattern
    ],
)
def test_thousands_separators_count_only_when_the_whole_column_fits(data, expected):
    assert read_csv(data, "t.csv").frame["x"].tolist() == expected


def test_a_text_column_whose_cells_all_read_as_numbers_is_numeric_without_a_warning():
    # Decimal points in a decimal-comma file: the parser leaves them as text, yet each is a number.
    frame = sklearn_frame("iris")
    frame["sepal length (cm)"] = frame["sepal length (cm)"].map(str)  # written with decimal points
    ds = prepare_table(read_csv(csv_bytes(frame, sep=";", decimal=","), "iris.csv"))
    assert ds.features[0].kind == "numeric" and not ds.warnings


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(sep):
    raw = read_csv(csv_bytes(sklearn_frame("iris"), sep=sep), "iris.csv")
    assert raw.delimiter == sep and raw.frame.shape == (150, 5)


@pytest.mark.parametrize("suffix", [".tsv", ".txt"])
def test_tab_separated_files_load_as_tables(tmp_path, suffix):
    path = write(tmp_path / f"cancer{suffix}", csv_bytes(sklearn_frame("breast_cancer"), sep="\t"))
    ds = load_data(path)
    assert ds.kind == "table" and ds.classes == ["benign", "malignant"] and len(ds.features) == 30


def test_latin1_file_keeps_accented_labels():
    frame = sklearn_frame("iris")
    frame["target"] = frame["target"].map({"setosa": "sétosa", "versicolor": "versicolör", "virginica": "virginica"})
    raw = read_csv(csv_bytes(frame, encoding="latin-1"), "iris.csv")
    assert raw.encoding in ("cp1252", "latin-1")
    assert prepare_table(raw).classes == ["sétosa", "versicolör", "virginica"]


def test_utf8_bom_does_not_end_up_in_the_first_column_name():
    raw = read_csv(codecs.BOM_UTF8 + csv_bytes(sklearn_frame("iris")), "iris.csv")
    assert raw.frame.columns[0] == "sepal length (cm)" and raw.encoding == "utf-8-sig"


def test_utf16_file_is_read():
    raw = read_csv(sklearn_frame("iris").to_csv(index=False).encode("utf-16"), "iris.csv")
    assert raw.encoding == "utf-16" and raw.frame.shape == (150, 5)


def test_one_column_of_sentences_is_not_split_on_commas():
    data = "comment\n" + "".join(f"good, but slow, item {i}\n" for i in range(20))
    raw = read_csv(data.encode(), "notes.csv")
    assert list(raw.frame.columns) == ["comment"] and raw.frame.iloc[0, 0] == "good, but slow, item 0"


def test_repeated_text_is_kept_compactly_and_reads_back_and_trains_the_same():
    # Categories are stored as one-byte codes (a big table's text columns took tens of MiB);
    # the cells, the empty ones and what the model is fed must not change.
    frame = sklearn_frame("iris")
    frame["size"] = np.where(frame["petal length (cm)"] > 4.0, "large", "small")
    frame.loc[[7, 99], "size"] = None
    frame["label"] = [f"flower {i}" for i in range(len(frame))]  # all different: stays plain text
    raw = read_csv(csv_bytes(frame), "iris.csv")
    assert isinstance(raw.frame["size"].dtype, pd.CategoricalDtype)
    assert not isinstance(raw.frame["label"].dtype, pd.CategoricalDtype)
    assert raw.frame["size"].isna().sum() == 2 and raw.frame["size"].iloc[0] == frame["size"].iloc[0]
    plain = read_csv(csv_bytes(frame), "iris.csv")
    plain.frame = plain.frame.astype({"size": object})
    compact, as_text = prepare_table(raw, target="target"), prepare_table(plain, target="target")
    assert [(f.name, f.kind, f.missing) for f in compact.features] == [
        (f.name, f.kind, f.missing) for f in as_text.features]
    assert (compact.x_train == as_text.x_train).all() and (compact.y_test == as_text.y_test).all()


def test_missing_values_and_infinities_are_counted_and_imputed(tmp_path):
    frame = sklearn_frame("iris")
    frame.loc[[0, 5, 60], "sepal width (cm)"] = np.nan
    text = csv_bytes(frame).decode().splitlines()
    text[11] = text[11].replace(text[11].split(",")[0], "inf", 1)
    text[12] = text[12].replace(text[12].split(",")[0], "1e999", 1)
    ds = load_data(write(tmp_path / "iris.csv", "\n".join(text).encode()))
    by_name = {f.name: f for f in ds.features}
    assert by_name["sepal width (cm)"].missing == 3
    assert by_name["sepal length (cm)"].infinite == 2
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_test).all()


def test_rows_with_an_empty_target_are_dropped_and_counted():
    frame = sklearn_frame("iris")
    frame.loc[[3, 80, 120], "target"] = np.nan
    ds = prepare_table(read_csv(csv_bytes(frame), "iris.csv"))
    assert ds.dropped_rows == 3 and ds.n_rows == 147
    assert any("3 row(s)" in w for w in ds.warnings)


def test_empty_file_is_refused():
    assert "empty" in _refusal(b"").render() and _refusal(b"  \n").code == "csv.empty"


def test_header_only_is_refused():
    err = _refusal(b"a,b,c\n")
    assert err.code == "csv.no_rows" and "no data rows" in err.render()


def test_binary_garbage_is_refused():
    err = _refusal(bytes(range(256)) * 10, "photo.csv")
    assert err.code == "csv.binary" and "photo.csv" in err.render()


def test_excel_file_is_refused_with_advice():
    err = _refusal(b"PK\x03\x04" + b"\x00" * 100, "sheet.csv")
    assert "save your sheet as CSV" in err.render()


def test_ragged_row_names_the_line():
    lines = csv_bytes(sklearn_frame("iris")).decode().splitlines()
    lines[7] += ",9.9"
    err = _refusal("\n".join(lines).encode(), "iris.csv")
    assert err.code == "csv.ragged"
    assert "Line 8 of iris.csv has 6 values but the header has 5 columns" in err.render()


def test_blank_header_cells_get_column_names_and_keep_their_values():
    raw = read_csv(b"a,,,b\n1,2,3,x\n4,5,6,y\n", "blanks.csv")
    assert list(raw.frame.columns) == ["a", "column 2", "column 3", "b"]
    assert raw.frame["column 3"].tolist() == [3, 6] and raw.frame["b"].tolist() == ["x", "y"]


def test_duplicate_headers_are_named():
    err = _refusal(b"width,height,width\n1,2,3\n4,5,6\n")
    assert err.code == "csv.duplicate_header" and "'width'" in err.render()


def test_mixed_column_is_numeric_with_a_warning_naming_the_cell():
    frame = sklearn_frame("iris")
    frame["petal width (cm)"] = frame["petal width (cm)"].astype(str)
    frame.loc[9, "petal width (cm)"] = "about 2"
    ds = prepare_table(read_csv(csv_bytes(frame), "iris.csv"))
    feature = next(f for f in ds.features if f.name == "petal width (cm)")
    assert feature.kind == "numeric" and feature.missing == 1
    assert any("'about 2' on line 11" in w for w in ds.warnings)


def test_infinite_target_is_refused_with_its_line():
    frame = sklearn_frame("diabetes")
    frame["target"] = frame["target"].astype(str)
    frame.loc[4, "target"] = "1e999"
    err = _refusal(csv_bytes(frame), "diabetes.csv")
    assert err.code == "table.target_infinite" and "line 6" in err.render()


def test_too_many_rows_is_refused_before_parsing(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_ROWS", "100")
    err = _refusal(csv_bytes(sklearn_frame("iris")), "iris.csv")
    assert err.code == "csv.too_many_rows" and "LAYERLAB_MAX_ROWS" in err.render()


def test_too_large_file_is_refused_before_reading(monkeypatch, tmp_path):
    monkeypatch.setenv("LAYERLAB_MAX_UPLOAD_BYTES", "1000")
    path = write(tmp_path / "iris.csv", csv_bytes(sklearn_frame("iris")))
    with pytest.raises(UserError) as info:
        read_csv(path, "iris.csv")
    assert info.value.code == "csv.too_large" and "1.0 KB" in info.value.render()


def test_quoted_line_breaks_and_a_trailing_delimiter_are_read():
    rows = "".join(f'{i * 0.5},"first line\nsecond line {i % 3}",{"yes" if i % 2 else "no"},\n' for i in range(30))
    raw = read_csv(("size,comment,label,\n" + rows).encode(), "notes.csv")
    assert list(raw.frame.columns) == ["size", "comment", "label"] and len(raw.frame) == 30
    assert raw.frame["comment"].iloc[1] == "first line\nsecond line 1"
    assert prepare_table(raw).classes == ["no", "yes"]


def test_excel_file_named_xlsx_gets_the_csv_advice(tmp_path):
    import zipfile

    path = tmp_path / "sales.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UserError) as info:
        load_data(path)
    assert info.value.code == "csv.binary" and "save your sheet as CSV" in info.value.render()


def test_short_row_is_refused_not_padded():
    lines = csv_bytes(sklearn_frame("iris")).decode().splitlines()
    lines[20] = lines[20].rsplit(",", 1)[0]
    err = _refusal("\n".join(lines).encode(), "iris.csv")
    assert "Line 21 of iris.csv has 4 values but the header has 5 columns" in err.render()


# A big file is parsed in parts (csv_reader.PART_BYTES); these tests cut small files into parts of
# a few rows and check the frame is the one a whole-file read gives.


def _cut_into_parts(monkeypatch, part_bytes: int) -> None:
    """Make read_csv cut every file, however small, into parts of about `part_bytes`."""
    from core.data import csv_reader

    monkeypatch.setattr(csv_reader, "PART_BYTES", part_bytes)
    monkeypatch.setattr(csv_reader, "PART_BYTES_PER_CORE", 0)
    monkeypatch.setattr(csv_reader, "ONE_PIECE_BYTES", 0)


@pytest.fixture
def read_both(monkeypatch, tmp_path):
    """read_both(data, as_path) -> (whole-file frame, frame read in parts, parts per read)."""
    from core.data import csv_reader

    def read(data: bytes, as_path: bool):
        reads, real = [], csv_reader._PartReader.__iter__

        def counting(self):
            reads.append(0)
            for part in real(self):
                reads[-1] += 1
                yield part

        monkeypatch.setattr(csv_reader._PartReader, "__iter__", counting)
        monkeypatch.setattr(csv_reader, "ONE_PIECE_BYTES", 1 << 40)
        source = write(tmp_path / "whole.csv", data) if as_path else data
        whole = read_csv(source, "t.csv").frame
        assert reads == [1]
        reads.clear()
        _cut_into_parts(monkeypatch, 100)
        source = write(tmp_path / "parts.csv", data) if as_path else data
        return whole, read_csv(source, "t.csv").frame, reads

    return read


def _no_fallback(monkeypatch):
    """Fail if pandas' parser is used instead of pyarrow's."""
    from core.data import csv_reader

    def refuse(*args):
        raise AssertionError("fell back to pandas' parser")

    monkeypatch.setattr(csv_reader, "_find_ragged_row", refuse)


@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
def test_quoted_delimiters_newlines_and_quotes_near_the_cuts_stay_in_their_cells(read_both, monkeypatch, as_path):
    _no_fallback(monkeypatch)
    rows = "".join(
        f'{i},"say ""hi"", {i}\nthen, bye",{i % 3},"{"x" * (i % 7)}"\n' if i % 3 else f"{i},plain {i},{i % 3},\n"
        for i in range(300)
    )
    whole, parts, reads = read_both(("n,note,k,pad\n" + rows).encode(), as_path)
    assert reads[0] > 20 and len(reads) == 1
    pd.testing.assert_frame_equal(parts, whole)
    assert parts["note"].iloc[1] == 'say "hi", 1\nthen, bye' and parts["note"].iloc[3] == "plain 3"
    assert parts["n"].tolist() == list(range(300))


def test_a_stray_quote_in_an_unquoted_cell_stops_the_cuts_without_changing_the_cells(read_both, monkeypatch):
    _no_fallback(monkeypatch)
    rows = "".join(f"{i},{5 + i % 2}'{i % 12}\",{i * 0.5}\n" if i == 40 else f"{i},tall {i % 4},{i * 0.5}\n"
                   for i in range(300))
    whole, parts, reads = read_both(("n,height,w\n" + rows).encode(), False)
    assert 1 < reads[0] < 20  # cut only before the stray quote
    pd.testing.assert_frame_equal(parts, whole)
    assert parts["height"].iloc[40] == "5'4\""


def test_columns_empty_in_some_parts_take_the_type_of_the_others(read_both, monkeypatch):
    _no_fallback(monkeypatch)
    lines = ["a,b,c,d,e,f"]
    for i in range(400):
        first, middle = i < 150, 200 <= i < 300
        lines.append(",".join([
            "" if first else str(i),  # empty in the first part only: numbers with NaN
            "" if middle else str(i),  # empty in a middle part only: int64 turns float64
            "" if first else f"w{i % 5}",  # text, empty at first
            "",  # empty everywhere: NaN
            "" if i > 250 else "yes" if i % 2 else "no",  # text, empty at the end
            "" if middle else f"v{i}",  # text, empty in a middle part
        ]))
    whole, parts, reads = read_both(("\n".join(lines) + "\n").encode(), False)
    assert reads[0] > 20 and len(reads) == 1
    pd.testing.assert_frame_equal(parts, whole)
    assert parts["a"].dtype == "float64" and parts["a"].isna().sum() == 150 and parts["a"].iloc[399] == 399
    assert parts["b"].isna().sum() == 100 and parts["d"].isna().all()
    assert parts["c"].iloc[150] == "w0" and parts["c"].isna().sum() == 150
    assert parts["f"].isna().sum() == 100 and parts["f"].iloc[300] == "v300"


def test_whole_numbers_in_one_part_and_fractions_in_another_are_floats(read_both, monkeypatch):
    _no_fallback(monkeypatch)
    rows = "".join(f"{i},{i + 0.25 if i >= 250 else i},{i * 0.5 if i < 50 else i},{i}\n" for i in range(300))
    whole, parts, reads = read_both(("n,late_floats,early_floats,ints\n" + rows).encode(), False)
    assert reads[0] > 20 and len(reads) == 1
    pd.testing.assert_frame_equal(parts, whole)
    assert list(parts.dtypes.astype(str)) == ["int16", "float64", "float64", "int16"]  # 0..299: int16 holds them
    assert parts["late_floats"].iloc[100] == 100.0 and parts["late_floats"].iloc[299] == 299.25


def test_text_with_more_values_in_some_parts_than_pyarrow_encodes_reads_the_same(read_both, monkeypatch):
    # pyarrow dictionary-encodes text per block up to a number of values; parts past it are plain text.
    from core.data import csv_reader

    _no_fallback(monkeypatch)
    monkeypatch.setattr(csv_reader, "DICTIONARY_MAX_PER_BLOCK", 5)
    rows = "".join(f"{i},{f'w{i % 4}' if i < 150 else f'v{i}'},k{i // 30}\n" for i in range(300))
    whole, parts, reads = read_both(("n,name,group\n" + rows).encode(), False)
    assert reads[0] > 20 and len(reads) == 1
    pd.testing.assert_frame_equal(parts, whole)
    assert not isinstance(parts["name"].dtype, pd.CategoricalDtype)  # 154 values in 300 rows: plain text
    assert parts["name"].iloc[149] == "w1" and parts["name"].iloc[150] == "v150"
    assert isinstance(parts["group"].dtype, pd.CategoricalDtype) and parts["group"].iloc[299] == "k9"


@pytest.mark.parametrize("late", ["about 7", "true"])
def test_text_only_in_a_later_part_reads_the_file_whole(read_both, late):
    rows = "".join(f"{i},{late if i == 250 else i % 9}\n" for i in range(300))
    whole, parts, reads = read_both(("n,x\n" + rows).encode(), False)
    assert reads[0] > 10 and reads[1:] == [1]  # split, then read whole
    pd.testing.assert_frame_equal(parts, whole)
    assert parts["x"].iloc[250] == late and parts["x"].iloc[3] == "3"


@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
def test_bom_crlf_and_decimal_commas_apply_to_every_part(read_both, monkeypatch, as_path):
    _no_fallback(monkeypatch)
    rows = "".join(f"{i};{i},5;{'' if i % 7 == 0 else f'-{i},25'};Köln {i % 3}\r\n" for i in range(300))
    data = codecs.BOM_UTF8 + ("id;half;neg;city\r\n" + rows).encode()
    whole, parts, reads = read_both(data, as_path)
    assert reads[0] > 20 and len(reads) == 1
    pd.testing.assert_frame_equal(parts, whole)
    assert list(parts.columns) == ["id", "half", "neg", "city"]
    assert parts["half"].iloc[3] == 3.5 and parts["neg"].iloc[8] == -8.25 and parts["city"].iloc[299] == "Köln 2"


def test_a_cp1252_file_is_cut_after_conversion(read_both, monkeypatch):
    _no_fallback(monkeypatch)
    rows = "".join(f"{i},{'Müller' if i % 2 else 'Größe'} {i % 4},{i * 0.1:.1f}\n" for i in range(300))
    whole, parts, reads = read_both(("n,name,v\n" + rows).encode("cp1252"), False)
    assert reads[0] > 20 and len(reads) == 1
    pd.testing.assert_frame_equal(parts, whole)
    assert parts["name"].iloc[1] == "Müller 1"


def test_a_file_with_carriage_return_line_ends_is_read_whole(read_both, monkeypatch):
    _no_fallback(monkeypatch)
    rows = "".join(f"{i},{i % 5}\r" for i in range(300))
    whole, parts, reads = read_both(("n,x\r" + rows).encode(), False)
    assert reads == [1]
    pd.testing.assert_frame_equal(parts, whole)
    assert len(parts) == 300


def test_ragged_row_in_a_later_part_names_its_line(read_both):
    rows = [f"{i},{i % 5}" for i in range(300)]
    rows[260] += ",9"
    with pytest.raises(UserError) as info:
        read_both(("n,x\n" + "\n".join(rows) + "\n").encode(), False)
    assert info.value.code == "csv.ragged" and "Line 262 of t.csv has 3 values" in info.value.render()


@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
def test_cuts_fall_on_row_starts_outside_quoted_values(monkeypatch, tmp_path, as_path):
    from core.data import csv_reader

    _cut_into_parts(monkeypatch, 50)
    data = "".join(f'{i},"a\nb ""{i}""\n",{i}\n' for i in range(200)).encode()
    parts = list(csv_reader._PartReader(write(tmp_path / "q.csv", data) if as_path else data))
    assert len(parts) > 50 and b"".join(bytes(part) for part, _ in parts) == data
    cuts = [offset for _, offset in parts]
    assert cuts == sorted(set(cuts)) and cuts[-1] == len(data)
    for cut in cuts:
        assert data[cut - 1 : cut] == b"\n" and data[:cut].count(b'"') % 2 == 0


def test_a_file_not_utf8_only_past_its_first_part_is_read_as_cp1252(monkeypatch):
    from core.data import csv_reader

    monkeypatch.setattr(csv_reader, "SAMPLE_BYTES", 64)
    _cut_into_parts(monkeypatch, 100)
    rows = "".join(f"{i},{'Größe' if i == 250 else 'plain'} {i % 3},{i % 2}\n" for i in range(300))
    raw = read_csv(("n,word,label\n" + rows).encode("cp1252"), "late.csv")
    assert raw.encoding == "cp1252" and raw.frame["word"].iloc[250] == "Größe 1" and len(raw.frame) == 300


def test_a_big_file_over_the_row_cap_is_refused_with_an_estimate(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_ROWS", "100")
    _cut_into_parts(monkeypatch, 200)
    rows = "".join(f"{i % 10},{i % 3}\n" for i in range(1000))  # 4 bytes a row
    err = _refusal(("x,y\n" + rows).encode(), "big.csv")
    assert err.code == "csv.too_many_rows" and "more than the 100 this server accepts" in err.render()
    estimate = int(re.search(r"about ([\d,]+) rows", err.render())[1].replace(",", ""))
    assert 900 <= estimate <= 1100  # judged from the parts read so far


def test_a_cp1252_byte_past_parts_pyarrow_gave_up_on_is_read_as_cp1252(monkeypatch):
    from core.data import csv_reader

    _cut_into_parts(monkeypatch, 100)
    monkeypatch.setattr(csv_reader, "_parse_with_arrow", lambda *args: (_ for _ in ()).throw(ValueError("gave up")))
    rows = "".join(f"{i},plain {i % 3},{i % 2}\n" for i in range(300))
    data = ("n,word,label\n" + rows).encode() + "300,café,1\n".encode("cp1252")
    raw = read_csv(data, "late.csv")
    assert raw.encoding == "cp1252" and raw.frame["word"].iloc[300] == "café" and len(raw.frame) == 301


def test_an_uncuttable_rest_over_the_row_cap_is_refused_before_it_is_parsed(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_ROWS", "100")
    _cut_into_parts(monkeypatch, 60)
    data = ("size,note\n" + "1,ok\n" * 5 + "5'11\",ok\n" + "2,ok\n" * 500).encode()  # a stray quote stops the cuts
    err = _refusal(data, "tall.csv")
    assert err.code == "csv.too_many_rows" and "more than the 100" in err.render()


def test_a_part_of_blank_lines_keeps_whole_numbers_whole(read_both):
    whole, parts, reads = read_both(b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(20)) + b"\n" * 300, False)
    assert reads[0] > 2
    pd.testing.assert_frame_equal(parts, whole)
    assert list(parts.dtypes.astype(str)) == ["int8", "int8"]


# ---- hardening, round two


@pytest.mark.parametrize("name_length", [70, 150])  # a header line of 140 KB (over csv's 128 KiB field cap) and 300 KB
def test_a_header_line_longer_than_the_sample_is_read(name_length):
    raw = read_csv(long_header_csv_bytes(2000, name_length), "long_names.csv")
    assert raw.frame.shape == (12, 2000) and raw.frame.columns[0].startswith("c0000_") and raw.delimiter == ","
    assert prepare_table(raw).classes == ["a", "b"]


def test_one_very_long_line_is_called_that(monkeypatch):
    from core.data import csv_reader

    monkeypatch.setattr(csv_reader, "LONG_LINE_BYTES", 1 << 20)  # 16 MiB in the app; a smaller file here
    for data in (b"x" * (3 << 20), b"a," * (1 << 19), b"{" + b'"key": 1, ' * 40_000 + b"}\n"):
        err = _refusal(data, "dump.csv")  # was "no data rows" or csv's "field larger than field limit"
        assert err.code == "csv.one_line" and "one very long line" in err.render()


def test_a_file_of_only_a_byte_order_mark_is_empty():
    assert _refusal(codecs.BOM_UTF8, "bom.csv").code == "csv.empty"  # was StopIteration (found by test_csv_fuzz)


def test_too_many_cells_are_refused_before_parsing_naming_rows_and_columns(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_CELLS", "100000")
    err = _refusal(wide_csv_bytes(200, 600), "wide.csv")  # 120,000 cells, far below the row and column caps
    assert err.code == "csv.too_many_cells"
    assert "200 rows × 600 columns = 120,000 values, more than the 100,000" in err.render()
    assert "LAYERLAB_MAX_CELLS" in err.render()
    assert read_csv(wide_csv_bytes(150, 600), "wide.csv").frame.shape == (150, 600)  # 90,000: within


def test_a_big_file_over_the_cell_cap_is_refused_at_its_first_parts(monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_CELLS", "30000")
    _cut_into_parts(monkeypatch, 20_000)
    err = _refusal(wide_csv_bytes(1000, 100), "wide.csv")
    assert err.code == "csv.too_many_cells" and "more than the 30,000 values" in err.render()
    estimate = int(re.search(r"about ([\d,]+) rows", err.render())[1].replace(",", ""))
    assert 800 <= estimate <= 1200  # judged from the parts read so far


def test_whole_numbers_take_the_smallest_integer_type_in_every_part(read_both, monkeypatch):
    # A wide table of ratings took 8 bytes a cell (int64): 13x the file in memory
    _no_fallback(monkeypatch)
    rows = "".join(f"{i % 5},{70_000 if i == 250 else i % 9},{-i}\n" for i in range(300))
    whole, parts, reads = read_both(("rating,late_big,negative\n" + rows).encode(), False)
    assert reads[0] > 20 and len(reads) == 1
    pd.testing.assert_frame_equal(parts, whole)
    assert list(parts.dtypes.astype(str)) == ["int8", "int32", "int16"]
    assert parts["late_big"].iloc[250] == 70_000 and parts["negative"].iloc[299] == -299


def test_a_wide_file_of_small_numbers_keeps_about_a_byte_a_cell():
    raw = read_csv(wide_csv_bytes(300, 400), "wide.csv")
    cells = 300 * 399
    assert raw.frame.drop(columns="label").memory_usage(index=False).sum() == cells  # int8: one byte each
    ds = prepare_table(raw)
    assert sum(f.kind == "categorical" for f in ds.features) == 399  # 0-9: whole-number codes
    # one float32 per cell in the arrays the model gets (a one-hot table would be ten times that)
    assert ds.x_train.nbytes + ds.x_val.nbytes + ds.x_test.nbytes == 4 * cells
