"""Text data through the pages: the Data page's text views and settings, a CSV's text column,
a zip of .txt folders, the Design page's text templates, and a text model trained by a worker
then evaluated, tried and exported."""
from __future__ import annotations

import base64
import io
import json
import zipfile

import numpy as np
import pytest
import streamlit as st

from tests.app.apptest import errors, exceptions, new_app, open_page, workspace_with_sample
from tests.app.run_helpers import load_keras_bytes, run_until_ended
from tests.datafiles import messages_with_numbers_csv, text_folders_zip

DATA = "pages/data.py"


def data_page_with(at, sample: str):
    open_page(at, DATA)
    at.selectbox(key="sample_dataset").set_value(sample).run()
    assert not exceptions(at) and not errors(at)
    return at


def upload(at, name: str, data: bytes, mime: str = "text/csv"):
    at.file_uploader(key="data_upload").set_value((name, data, mime))
    return at.run()


def chart_spec(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def user_sets_kind(monkeypatch, column: str, kind: str) -> None:
    """The next run's column table returns `kind` for `column`, as if the user chose it there."""
    real_editor = st.data_editor

    def edited(frame, **kwargs):
        real_editor(frame, **kwargs)
        out = frame.copy()
        out.loc[out["column"] == column, "kind"] = kind
        monkeypatch.setattr(st, "data_editor", real_editor)  # once
        return out

    monkeypatch.setattr(st, "data_editor", edited)


def test_the_sms_sample_shows_lengths_cut_texts_vocabulary_and_examples(app):
    at = data_page_with(app, "sms_spam")
    ws = at.session_state["workspace"]
    text = ws.dataset.text
    assert ws.dataset.kind == "text"
    summary = next(m.value for m in at.markdown if " texts, 2 classes" in m.value)
    assert summary.startswith("1,284 texts, 2 classes · tokens: words (split at spaces)")
    assert f"vocabulary of {text.n_ids:,} tokens" in summary and f"up to {text.sequence_length} tokens" in summary
    assert {"text_lengths", "top_tokens", "class_counts"} <= {c.key for c in at.get("plotly_chart")}
    lengths = chart_spec(at, "text_lengths")
    counts = lengths["data"][0]["y"]
    assert sum(np.frombuffer(base64.b64decode(counts["bdata"]), dtype=counts["dtype"])) == ws.dataset.n_rows
    assert lengths["layout"]["shapes"][0]["x0"] == text.sequence_length  # the cut, drawn as a line
    cut = text.profile.cut
    assert cut > 0 and any(f"{cut} texts are cut" in c.value for c in at.caption)
    assert chart_spec(at, "top_tokens")["data"][0]["y"][-1] == text.profile.top_tokens[0][0]  # most frequent on top
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Different tokens found"] == f"{text.profile.vocabulary_found:,}"
    assert metrics["Tokens kept"] == f"{len(text.vocabulary):,}"
    shown = [x.value for x in at.text]
    assert all(example in shown for examples in text.profile.examples.values() for example in examples)
    # the settings show what the data has; the column table names the text column
    assert at.selectbox(key="text_tokenization").value == "words"
    assert at.number_input(key="text_vocabulary_size").value == text.n_ids
    assert at.number_input(key="text_sequence_length").value == text.sequence_length
    assert at.selectbox(key="target_column").value == "label"


def test_changing_the_text_settings_prepares_the_texts_again_and_back_to_automatic(app):
    at = data_page_with(app, "sms_spam")
    ws = at.session_state["workspace"]
    automatic = ws.dataset.text.sequence_length
    at.number_input(key="text_sequence_length").set_value(100).run()
    assert not exceptions(at) and not errors(at)
    text = ws.dataset.text
    assert text.sequence_length == 100 and ws.dataset.x_train.shape[1] == 100
    assert text.settings.sequence_length == 100 and text.settings.vocabulary_size is None
    assert any("No text is cut" in c.value for c in at.caption)
    assert at.number_input(key="text_sequence_length").value == 100

    at.selectbox(key="text_tokenization").set_value("characters").run()
    text = ws.dataset.text
    assert text.tokenization == "characters" and text.sequence_length == 100  # the length chosen before stays
    assert text.n_ids < 200  # characters: a small vocabulary, decided again
    assert at.number_input(key="text_vocabulary_size").value == text.n_ids

    at.button(key="text_settings_automatic").click().run()
    text = ws.dataset.text
    assert (text.tokenization, text.sequence_length) == ("words", automatic)
    assert at.number_input(key="text_sequence_length").value == automatic


def test_a_refused_change_shows_a_message_and_keeps_the_texts(app, monkeypatch):
    at = data_page_with(app, "sms_spam")
    ws = at.session_state["workspace"]
    before = ws.dataset
    at.selectbox(key="target_column").set_value("text").run()  # the texts as the column to predict
    assert not exceptions(at)
    assert "holds free text" in errors(at)[0] and ws.dataset is before
    at.run()
    assert at.selectbox(key="target_column").value == "label"  # the widget shows the kept data again

    user_sets_kind(monkeypatch, "text", "ignored")  # the only column the model could read
    at.run()
    assert not exceptions(at)
    assert "No column of sample:sms_spam can be used" in errors(at)[0] and ws.dataset is before


def test_a_table_with_a_text_column_becomes_a_text_dataset_and_back(app, monkeypatch):
    at = open_page(app, DATA)
    upload(at, "messages.csv", messages_with_numbers_csv())
    ws = at.session_state["workspace"]
    assert ws.dataset.kind == "table" and ws.dataset.target == "verdict"
    assert {f.name: f.kind for f in ws.dataset.features}["message"] == "text"
    assert any("'message' holds free text" in m.value for m in at.markdown)

    at.button(key="classify_text").click().run()
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.kind == "text" and ws.dataset.text.column == "message" and ws.dataset.target == "verdict"
    assert {f.name: f.kind for f in ws.dataset.features} == {"hour": "ignored", "links": "ignored", "message": "text"}
    assert at.number_input(key="text_sequence_length").value == ws.dataset.text.sequence_length
    at.number_input(key="text_vocabulary_size").set_value(50).run()  # the CSV's texts, prepared again
    assert ws.dataset.kind == "text" and ws.dataset.text.n_ids == 50

    user_sets_kind(monkeypatch, "message", "ignored")
    at.run()
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.kind == "table"
    assert {f.name: f.kind for f in ws.dataset.features}["message"] == "ignored"
    assert any("2 columns used to predict 'verdict'" in m.value for m in at.markdown)


def test_a_zip_of_text_folders_is_read_again_with_other_settings(app):
    entries = zipfile.ZipFile(io.BytesIO(text_folders_zip(per_class=30)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in entries.infolist():
            archive.writestr(info, entries.read(info))
        archive.writestr("messages/ham/photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # not text
    at = open_page(app, DATA)
    upload(at, "messages.zip", buffer.getvalue(), "application/zip")
    assert not exceptions(at) and not errors(at)
    ws = at.session_state["workspace"]
    assert ws.dataset.kind == "text" and ws.dataset.n_rows == 60 and ws.raw_archive is not None
    assert any("1 file was skipped" in w.value for w in at.warning)
    assert "messages/ham/photo.txt" in list(at.dataframe[-1].value.iloc[:, 0])
    assert not [key for key in at.session_state if str(key) == "target_column"]  # classes come from the folders

    at.selectbox(key="text_tokenization").set_value("character_bigrams").run()
    assert not exceptions(at) and not errors(at)
    assert ws.dataset.text.tokenization == "character_bigrams" and ws.raw_archive is not None
    assert any("single characters and pairs" in m.value for m in at.markdown)


def test_the_design_page_lists_text_templates_and_an_automatic_vocabulary():
    from core.templates import templates_for

    ws = workspace_with_sample("sms_spam")
    at = new_app()
    at.session_state["workspace"] = ws
    open_page(at, "pages/design.py")
    assert not exceptions(at) and not errors(at)
    assert at.selectbox(key="template").options == [t.name for t in templates_for(ws.dataset)]
    captions = " ".join(c.value for c in at.caption)
    assert f"texts: up to {ws.dataset.text.sequence_length} words each" in captions
    assert "Preprocessing: **TextVectorization**" in captions
    embedding = [m.value for m in at.markdown if "values per code" in m.value][0]
    assert "(number of codes: automatic, from the data)" in embedding
    assert f"`({ws.dataset.text.sequence_length}, " in " ".join(m.value for m in at.markdown)  # (length, features)


def test_a_text_model_trains_in_a_worker_then_evaluates_answers_typed_text_and_exports(
        app, downloads, tmp_path):
    at = data_page_with(app, "sms_spam")
    at.switch_page("pages/train.py").run()
    at.number_input(key="epochs").set_value(3).run()
    at.button(key="start_training").click().run()
    run_until_ended(at)
    ws = at.session_state["workspace"]
    run = ws.runs[0]
    assert run.status == "finished", run.status

    at.switch_page("pages/evaluate.py").run()
    assert not exceptions(at) and not errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Accuracy"].rstrip("%")) > 80
    assert {"confusion_matrix", "per_class_bars"} <= {c.key for c in at.get("plotly_chart")}
    assert list(at.table[0].value.index) == ["ham", "spam"]  # the per-class table
    evaluation = ws.cache[("evaluation", run.id)]
    shown = [x.value for x in at.text]
    test_texts = ws.dataset.text.test_texts
    assert evaluation.worst and all(test_texts[m.index][:200] in shown[k] or shown[k] in test_texts[m.index]
                                    for k, m in enumerate(evaluation.worst))
    assert any(c.value.startswith("true: ") and " · row " in c.value for c in at.caption)

    sentence = "WINNER!! You have won a free prize. Call now to claim it"
    at.text_area(key="try_text").input(sentence).run()
    at.button(key="try_text_predict").click().run()
    assert not exceptions(at) and not errors(at)
    answer = next(m.value for m in at.markdown if m.value.startswith("Prediction: **"))
    bars = chart_spec(at, f"try_text_probabilities_{run.id}")["data"][0]  # each class's probability
    assert bars["y"] == ["ham", "spam"] and sum(bars["x"]) == pytest.approx(1, abs=1e-5)
    at.text_area(key="try_text").input("qqqq zzzz").run()
    at.button(key="try_text_predict").click().run()
    assert any("none of its words were in the training texts" in w.value for w in at.warning)

    at.switch_page("pages/export.py").run()
    assert not exceptions(at) and not errors(at)
    note = at.info[0].value
    assert "model.keras takes the raw texts" in note and "TensorFlow backend" in note and "pad with 0" in note
    vocabulary = json.loads(downloads(at, "download_side_vocabulary_json"))
    assert vocabulary["tokens"][:2] == ["", "[UNK]"] and vocabulary["tokens"][2:] == ws.dataset.text.vocabulary
    assert downloads(at, "download_tflite")[4:8] == b"TFL3"
    script = downloads(at, "download_script").decode("utf-8")
    assert "TextVectorization(" in script and f"SEQUENCE_LENGTH = {ws.dataset.text.sequence_length}" in script
    # model.keras takes the raw text, and answers as Try it did with the TFLite file on token ids
    model = load_keras_bytes(downloads(at, "download_keras"), tmp_path)
    probabilities = model.predict(np.array([sentence], dtype=object), verbose=0)[0]
    label = ws.dataset.classes[int(np.argmax(probabilities))]
    assert answer == f"Prediction: **{label}** ({float(np.max(probabilities)):.1%})"
