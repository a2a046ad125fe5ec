"""Text datasets as a user brings them: a CSV with a text column (in the encodings spreadsheets
save) or a zip of .txt class folders (in the encodings editors save). What a user would notice:
the texts come back exactly as written, the right column is the target, Chinese is split into
characters, long texts are cut with a note, unusable files are named with a reason, and every
mistake is a plain message that says what to do."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data import load_data
from core.data.tokens import (
    CHARACTER_BIGRAMS, CHARACTERS, MIN_SEQUENCE_LENGTH, WORDS, TextSettings, split_tokens, standardize,
)
from core.errors import UserError
from core.training.rundir import RunDir, read_dataset, write_job
from tests.datafiles import (
    JA_REVIEWS, MIXED_TEXTS, reviews_frame, text_csv_bytes, text_sample_frame, text_zip_entries, write, zip_bytes,
    zip_of_texts,
)


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "reviews.csv", **options) -> Path:
    return write(tmp_path / name, text_csv_bytes(frame, **options))


def _refused(source, **options) -> UserError:
    with pytest.raises(UserError) as info:
        load_data(source, **options)
    return info.value


def _row(source: str) -> int:
    """'row 12' -> the frame's index 11."""
    return int(source.removeprefix("row ")) - 1


# --- CSV files ------------------------------------------------------------------------------------

ENCODINGS = {
    "utf-8": {"encoding": "utf-8"},
    "utf-8 with BOM, CRLF": {"encoding": "utf-8", "bom": True, "newline": "\r\n"},
    "utf-16, CRLF": {"encoding": "utf-16", "newline": "\r\n"},
    "cp1252, CRLF": {"encoding": "cp1252", "newline": "\r\n"},
}


@pytest.mark.parametrize("saved", list(ENCODINGS))
def test_a_label_text_csv_is_text_and_its_texts_come_back_exactly(tmp_path, saved):
    frame = reviews_frame()
    if saved.startswith("cp1252"):  # what Windows-1252 can hold: the rest became '?' when it was saved
        frame["text"] = [t.encode("cp1252", "replace").decode("cp1252") for t in frame["text"]]
    dataset = load_data(_csv(tmp_path, frame, **ENCODINGS[saved]))  # no --kind, no --text-column

    info = dataset.describe()
    assert info["kind"] == "text" and info["target"] == "label" and info["text_column"] == "text"
    assert info["classes"] == ["ham", "spam"] and info["n_texts"] == len(frame)
    # every cell read as written: quoted line breaks, CRLF inside a cell, emoji, mixed scripts
    assert dataset.frame["text"].tolist() == frame["text"].tolist()
    assert dataset.text.test_texts == [frame["text"][_row(s)] for s in dataset.text.test_sources]
    examples = [e for shown in dataset.text.profile.examples.values() for e in shown]
    assert len(examples) == 6 and set(examples) <= set(frame["text"])
    if not saved.startswith("cp1252"):
        assert set(MIXED_TEXTS) <= set(dataset.frame["text"])
    assert {f.name: f.reason for f in dataset.features}["text"] == "the text the model reads"


def test_text_then_label_also_predicts_the_label(tmp_path):
    dataset = load_data(_csv(tmp_path, reviews_frame()[["text", "label"]]))
    assert (dataset.kind, dataset.target, dataset.text.column) == ("text", "label", "text")


def test_numeric_columns_next_to_the_text_make_a_table_unless_text_is_asked_for(tmp_path):
    frame = reviews_frame()
    frame.insert(1, "length", frame["text"].str.len())
    frame.insert(2, "stars", np.random.default_rng(0).integers(1, 6, len(frame)))
    path = _csv(tmp_path, frame[["text", "length", "stars", "label"]])

    table = load_data(path)
    assert table.kind == "table" and table.text is None
    assert {f.name: f.kind for f in table.features}["text"] == "text"  # there, but not used by a table model
    for options in ({"kind": "text"}, {"text_column": "text"}, {"kinds": {"text": "text"}}):
        dataset = load_data(path, **options)
        assert (dataset.kind, dataset.target, dataset.text.column) == ("text", "label", "text"), options
        ignored = {f.name: f.reason for f in dataset.features if f.kind == "ignored"}
        assert set(ignored) == {"length", "stars"}
        assert all("text model reads only the column 'text'" in reason for reason in ignored.values())


def test_short_texts_asked_to_be_read_as_text_keep_the_label_as_target(tmp_path):
    """With short texts ("label,text" with "good", "bad film"), the last column was the default target,
    so --text-column text was refused and --kind text predicted the texts from the labels."""
    frame = pd.DataFrame({"label": ["pos", "neg", "pos", "neg"] * 10,
                          "text": ["good", "bad film", "great film", "awful", "loved it", "boring", "fun", "dull"] * 5})
    path = _csv(tmp_path, frame)
    for options in ({"kind": "text"}, {"text_column": "text"}, {"kinds": {"text": "text"}}):
        dataset = load_data(path, **options)
        assert (dataset.target, dataset.text.column, dataset.classes) == ("label", "text", ["neg", "pos"]), options
    # a free-text column after them is not the target either
    frame["notes"] = [f"note {i}: the reviewer wrote this one on a rainy day" for i in range(len(frame))]
    with_notes = _csv(tmp_path, frame, "with notes.csv")
    for options in ({"text_column": "text"}, {"kinds": {"text": "text"}}):
        dataset = load_data(with_notes, **options)
        assert (dataset.target, dataset.text.column) == ("label", "text"), options


def test_a_one_megabyte_text_is_cut_to_the_sequence_length_and_the_note_says_so(tmp_path):
    frame = reviews_frame()
    frame.loc[5, "text"] = "spam " * 200_000  # 1 MB in one cell
    dataset = load_data(_csv(tmp_path, frame))
    length = dataset.text.sequence_length
    assert length < 100 and dataset.x_train.shape[1] == length
    note = next(w for w in dataset.warnings if "were cut" in w)
    # only its first 100,000 characters are read (20,000 words): no model reads more than 2,000 tokens
    assert f"cut to their first {length} tokens" in note and "the longest has 20,000" in note
    assert "Raise the sequence length" in note
    assert any("longer than 100,000 characters" in w for w in dataset.warnings)
    assert dataset.describe()["texts_cut"] >= 1


def test_chinese_is_split_into_characters_and_pairs_english_into_words(tmp_path):
    chinese = load_data(_csv(tmp_path, text_sample_frame("zh_reviews", 120), "zh.csv"))
    assert chinese.text.tokenization == CHARACTER_BIGRAMS
    assert chinese.describe()["classes"] == ["negative", "positive"]
    assert "好" in chinese.text.vocabulary and any(len(t) == 3 and t[1] == " " for t in chinese.text.vocabulary)
    english = load_data(_csv(tmp_path, reviews_frame(), "en.csv"))
    assert english.text.tokenization == WORDS and "free" in english.text.vocabulary


def test_vocabulary_and_sequence_length_come_from_the_training_texts(tmp_path):
    frame = reviews_frame()
    dataset = load_data(_csv(tmp_path, frame))
    text = dataset.text
    # the vocabulary holds every word of the training texts (and only those), most frequent first
    train_texts = _training_texts(dataset, frame)
    train_tokens = [t for s in train_texts for t in split_tokens(s, WORDS)]
    assert set(text.vocabulary) == set(train_tokens) and text.n_ids == len(set(train_tokens)) + 2
    assert text.vocabulary[0] == max(set(train_tokens), key=train_tokens.count)
    # 95% of the training texts fit whole
    lengths = np.array([len(split_tokens(s, WORDS)) for s in train_texts])
    assert text.sequence_length == max(MIN_SEQUENCE_LENGTH, int(np.ceil(np.percentile(lengths, 95))))
    assert 0.93 <= float(np.mean(lengths <= text.sequence_length)) < 1.0


def _training_texts(dataset, frame: pd.DataFrame) -> list[str]:
    """The training split's texts, found through their token ids (the ids of each text are unique here)."""
    ids = {tuple(row) for row in dataset.x_train.tolist()}
    return [t for t in frame["text"] if tuple(dataset.text.ids([t])[0].tolist()) in ids]


def test_the_users_settings_are_used(tmp_path):
    path = _csv(tmp_path, reviews_frame())
    dataset = load_data(path, text_settings=TextSettings(CHARACTERS, 50, 100))
    assert (dataset.text.tokenization, dataset.text.n_ids, dataset.text.sequence_length) == (CHARACTERS, 50, 100)
    assert dataset.x_train.shape[1] == 100 and int(dataset.x_train.max()) <= 49  # ids below the vocabulary size
    assert dataset.text.settings == TextSettings(CHARACTERS, 50, 100)
    words = load_data(path, text_settings=TextSettings(sequence_length=8))
    assert words.text.tokenization == WORDS and words.text.sequence_length == 8
    assert words.text.n_ids == load_data(path).text.n_ids  # the rest stays automatic


@pytest.mark.parametrize("settings, says", [
    (TextSettings(vocabulary_size=2), "The vocabulary size must be a whole number from 3 to 50,000, not 2"),
    (TextSettings(vocabulary_size=60_000), "from 3 to 50,000, not 60000"),
    (TextSettings(sequence_length=3), "The sequence length must be a whole number from 4 to 2,000, not 3"),
    (TextSettings(sequence_length=5_000), "from 4 to 2,000, not 5000"),
])
def test_settings_out_of_range_are_refused_with_the_range(tmp_path, settings, says):
    err = _refused(_csv(tmp_path, reviews_frame()), text_settings=settings)
    assert err.code == "text.bad_setting" and says in err.render()


def test_an_unknown_way_to_split_is_refused_with_the_choices(tmp_path):
    err = _refused(_csv(tmp_path, reviews_frame()), text_settings=TextSettings(tokenization="sentencepiece"))
    assert err.code == "text.bad_tokenization" and "words, characters, character_bigrams" in err.render()


# --- zips of .txt class folders ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def reviews_zip(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    entries, texts = text_zip_entries()
    return write(tmp_path_factory.mktemp("zip") / "my reviews.zip", zip_bytes(entries)), texts


def test_a_zip_of_txt_class_folders_in_five_encodings(reviews_zip):
    path, texts = reviews_zip
    dataset = load_data(path)
    info = dataset.describe()
    readable = texts  # every file but the empty one and the PNG
    assert info["kind"] == "text" and info["classes"] == ["negative", "positive"]  # below the top folder
    assert info["n_texts"] == len(readable) and info["text_column"] is None
    assert dataset.text.test_texts == [readable[s] for s in dataset.text.test_sources]
    # the encodings named for the user; GBK is read as its superset GB18030
    note = next(w for w in dataset.warnings if "not UTF-8" in w)
    assert "24 read as GB18030 (Chinese)" in note and "4 read as Shift-JIS (Japanese)" in note
    assert "2 read as UTF-16" in note and "1 read as Windows-1252" in note
    # the junk .txt is skipped with a reason, the empty one reported, macOS clutter not even mentioned
    assert [(s.file, s.reason) for s in dataset.skipped] == [
        ("my reviews 2024/negative/photo.txt", "binary data, not text (it looks like a PNG image)")]
    assert "1 empty text(s) were left out: my reviews 2024/negative/empty.txt." in dataset.warnings
    assert not any("MACOSX" in w or "DS_Store" in w for w in dataset.warnings)

    # no misread character anywhere: split into characters, every one is from the original texts
    characters = load_data(path, text_settings=TextSettings(tokenization=CHARACTERS))
    assert set(characters.text.vocabulary) <= set(standardize("".join(texts.values())))
    assert set(JA_REVIEWS[0]) & set(characters.text.vocabulary) or set(JA_REVIEWS[2]) & set(characters.text.vocabulary)


def test_a_zip_of_one_class_folder_says_to_add_another(tmp_path):
    sms = text_sample_frame("sms_spam", 20)
    path = write(tmp_path / "ham only.zip", zip_of_texts({f"texts/ham/{i}.txt": t for i, t in enumerate(sms["text"])}))
    err = _refused(path)
    assert err.code == "text.one_class"
    assert "only one class ('ham')" in err.render() and "Add at least one more class folder" in err.render()


def test_a_class_whose_files_cannot_be_read_is_named(tmp_path):
    sms = text_sample_frame("sms_spam", 30)
    rng = np.random.default_rng(0)
    entries = {f"texts/ham/{i}.txt": t.encode() for i, t in enumerate(sms["text"])}
    entries |= {f"texts/spam/{i}.txt": rng.integers(128, 256, 400, dtype=np.uint8).tobytes() for i in range(6)}
    err = _refused(write(tmp_path / "two classes.zip", zip_bytes(entries)))
    assert err.code == "text.one_class_unreadable"
    assert "no .txt file in the folder 'spam' could be read ('texts/spam/0.txt': text in an encoding" in err.render()
    assert "Save those files as UTF-8" in err.render()

    entries |= {f"texts/other/{i}.txt": t.encode() for i, t in enumerate(sms["text"][:10])}
    dataset = load_data(write(tmp_path / "three classes.zip", zip_bytes(entries)))
    assert dataset.classes == ["ham", "other"]
    assert any(w.startswith("The class folder 'spam' is left out: none of its .txt files could be read") for w in dataset.warnings)


def test_a_zip_whose_files_are_all_unreadable_names_one_and_why(tmp_path):
    rng = np.random.default_rng(1)
    entries = {f"texts/{label}/{i}.txt": rng.integers(128, 256, 300, dtype=np.uint8).tobytes()
               for label in ("ham", "spam") for i in range(5)}
    err = _refused(write(tmp_path / "legacy.zip", zip_bytes(entries)))
    assert err.code == "text.no_files"
    message = err.render()
    assert "No usable .txt file was found in legacy.zip ('texts/ham/0.txt': text in an encoding LayerLab cannot " \
           "recognise; save it as UTF-8)" in message
    assert "one .txt file per text inside, saved as UTF-8" in message


def test_a_zip_of_empty_texts_says_to_fill_the_files(tmp_path):
    entries = {f"texts/{label}/{i}.txt": ["", "  ", "...", "!?"][i % 4] for label in ("ham", "spam") for i in range(5)}
    err = _refused(write(tmp_path / "empty.zip", zip_of_texts(entries)))
    assert err.code == "text.all_files_empty" and "Every .txt file in empty.zip is empty" in err.render()
    assert "column" not in err.render()


# --- mistakes in a CSV ----------------------------------------------------------------------------


def test_a_csv_of_one_class_says_to_add_another(tmp_path):
    frame = reviews_frame()
    err = _refused(_csv(tmp_path, frame[frame["label"] == "ham"]))
    assert err.code == "split.one_class"
    assert "every text has the same class (ham)" in err.render() or "every row has the same class (ham)" in err.render()
    assert "add examples of another class" in err.render()


def test_a_label_column_with_thousands_of_values_is_said_not_to_be_labels(tmp_path):
    frame = text_sample_frame("sms_spam", 1_284)
    frame["label"] = [f"message {i:04d}" for i in range(len(frame))]
    err = _refused(_csv(tmp_path, frame))
    assert err.code == "table.too_many_classes"
    assert "1284 different values" in err.render() and "does not look like a column of labels" in err.render()


def test_a_column_of_empty_texts_says_to_check_the_column(tmp_path):
    frame = reviews_frame()
    frame["text"] = ["", " ", "...", "!!!"] * (len(frame) // 4) + ["?"] * (len(frame) % 4)
    err = _refused(_csv(tmp_path, frame), text_column="text", target="label")
    assert err.code == "text.all_empty"
    assert "Every text in the column 'text' of reviews.csv is empty" in err.render()
    assert "Check that the right column holds the texts" in err.render()


@pytest.mark.parametrize("rows", [150, 1_284])
def test_the_text_column_as_target_is_refused(tmp_path, rows):
    """A small file used to list its sentences as classes too small to split."""
    frame = text_sample_frame("sms_spam", rows)
    err = _refused(_csv(tmp_path, frame), target="text")
    assert err.code == "table.target_is_text"
    assert "holds free text (sentences), so it cannot be the column to predict" in err.render()
    assert "Choose the column that holds the labels" in err.render()


def test_two_columns_set_to_text_are_refused(tmp_path):
    frame = reviews_frame()
    frame["subject"] = [f"about {t[:20]} and more" for t in frame["text"]]
    err = _refused(_csv(tmp_path, frame), kinds={"text": "text", "subject": "text"}, target="label")
    assert err.code == "table.several_text_columns"
    assert "'text', 'subject' are all set to 'text'" in err.render() and "Keep 'text' for one of them" in err.render()


def test_an_unknown_text_column_lists_the_columns(tmp_path):
    err = _refused(_csv(tmp_path, reviews_frame()), text_column="message")
    assert err.code == "table.bad_text_column" and "Its columns are: label, text" in err.render()


# --- the run job ------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["csv", "zip"])
def test_the_run_job_gives_the_worker_the_same_text_dataset(tmp_path, reviews_zip, source):
    from core.shapes import shape_report
    from core.templates import templates_for

    path = reviews_zip[0] if source == "zip" else _csv(tmp_path, reviews_frame())
    dataset = load_data(path, text_settings=TextSettings(sequence_length=20))
    spec = templates_for(dataset)[0].fresh_spec(dataset.task)
    run = RunDir(tmp_path / "run")
    write_job(run, spec, dataset)
    again = read_dataset(run)

    assert again.text.to_json() == dataset.text.to_json()  # vocabulary, rules, length, settings, test texts
    for part in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, part), getattr(dataset, part), err_msg=part)
    assert again.text.ids(["Free entry to win!", "好"]).tolist() == dataset.text.ids(["Free entry to win!", "好"]).tolist()
    assert (again.target, again.classes, again.skipped, again.features) == (
        dataset.target, dataset.classes, dataset.skipped, dataset.features)
    assert shape_report(spec, again).total_params == shape_report(spec, dataset).total_params


@pytest.mark.parametrize(("encoding", "language"), [("gb18030", "zh"), ("cp932", "ja")])
def test_a_chinese_or_japanese_spreadsheet_export_is_read_in_its_own_encoding(tmp_path, encoding, language):
    """Excel on a Chinese (Japanese) Windows saves CSVs as GBK (Shift-JIS): the texts must come back
    as written, split into characters, and the page says which encoding was assumed."""
    if language == "zh":
        frame = text_sample_frame("zh_reviews", 120)
    else:
        frame = pd.DataFrame({"label": ["good", "bad", "bad"] * 20,
                              "text": [f"{JA_REVIEWS[k % len(JA_REVIEWS)]}{k}" for k in range(60)]})
    dataset = load_data(_csv(tmp_path, frame, encoding=encoding))
    assert dataset.kind == "text" and dataset.text.tokenization == "character_bigrams"
    written = set(frame["text"])
    assert dataset.text.test_texts and set(dataset.text.test_texts) <= written
    assert any("is not saved as UTF-8" in w and ("Chinese" in w or "Japanese" in w) for w in dataset.warnings)


def test_a_line_separator_inside_a_text_does_not_split_the_table(tmp_path):
    """U+2028, NEL and form feeds are characters inside a text cell, not line ends."""
    frame = text_sample_frame("sms_spam", 80)
    frame.loc[::4, "text"] = frame.loc[::4, "text"] + " \u2028 next\x85line\x0cpage"
    dataset = load_data(_csv(tmp_path, frame))
    assert dataset.kind == "text" and dataset.target == "label" and dataset.classes == ["ham", "spam"]


def test_a_western_spreadsheet_in_cp1252_stays_cp1252(tmp_path):
    frame = pd.DataFrame({"name": ["Müller", "Café", "Señor", "Zoë"] * 10, "size": range(40), "kind": ["a", "b"] * 20})
    from core.data import read_csv

    raw = read_csv(_csv(tmp_path, frame, encoding="cp1252"))
    assert raw.encoding == "cp1252" and list(raw.frame["name"][:4]) == ["Müller", "Café", "Señor", "Zoë"]


def test_an_empty_file_among_texts_to_predict_is_a_note_not_a_refusal(tmp_path):
    from core.data.kinds import contract_for

    contract = contract_for(load_data("sample:sms_spam"))
    files = [write(tmp_path / "a.txt", b"Free prize! Call now"), write(tmp_path / "empty.txt", b""),
             write(tmp_path / "b.txt", "see you at lunch".encode("utf-16"))]
    inputs = contract.inputs_from_files(files)
    assert inputs.sources == ["a.txt", "empty.txt", "b.txt"] and inputs.x.shape[0] == 3
    assert any(w.startswith("empty.txt") and "guess" in w for w in inputs.warnings)
    with pytest.raises(UserError) as refused:  # nothing at all to classify
        contract.inputs_from_files([files[1]])
    assert refused.value.code == "predict.no_texts"


def test_a_huge_text_is_read_only_as_far_as_a_model_could_use_it(tmp_path):
    """A 30 MB text in one file took 100 times its size in memory to tokenise whole."""
    from core.data.texts import MAX_TEXT_CHARACTERS

    texts = {f"t/pos/{k}.txt": "good fine great " * 3 for k in range(6)} | {f"t/neg/{k}.txt": "bad awful poor " * 3 for k in range(6)}
    texts["t/pos/huge.txt"] = "word " * (MAX_TEXT_CHARACTERS // 2)  # 250,000 characters
    dataset = load_data(write(tmp_path / "huge.zip", zip_of_texts(texts)))
    assert any(f"longer than {MAX_TEXT_CHARACTERS:,} characters" in w for w in dataset.warnings)
    assert dataset.text.profile.lengths.max() == MAX_TEXT_CHARACTERS // 5
