"""`python -m core` on text data, as the README shows it: inspect and summary of a reviews CSV,
`train` writing a folder whose model.keras takes raw strings, `predict` from a CSV of texts and
from .txt files, and plain messages (exit 2, no traceback) for the wrong kind of input.

One model is trained for the whole module (2 epochs on 150 SMS messages)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.datafiles import (
    MIXED_TEXTS, digit_images, encode_image, reviews_frame, text_csv_bytes, text_sample_frame, write,
)

REPO = Path(__file__).resolve().parents[2]
NEW_TEXTS = [
    "WINNER!! You have won a FREE prize, call 09061701461 now to claim",
    "ok see you at lunch tomorrow then",
    MIXED_TEXTS[0],  # mixed scripts and emoji
    MIXED_TEXTS[1],  # line breaks inside the text
    "Free entry " * 80,  # longer than the sequence length
]
TXT_FILES = {  # file name -> (text, encoding)
    "offer.txt": ("URGENT! Your mobile won a £2,000 bonus caller prize 👍🏽 call now", "utf-8"),
    "note from mum.txt": ("Sorry, I'll call later — 中文 und Grüße", "utf-16"),
}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)


def _refused(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and done.stdout == ""
    return done.stderr.strip()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-text")


@pytest.fixture(scope="module")
def reviews_csv(folder: Path) -> Path:
    return write(folder / "reviews.csv", text_csv_bytes(reviews_frame()))


@pytest.fixture(scope="module")
def inspected(reviews_csv: Path) -> dict:
    done = run_cli("inspect", str(reviews_csv))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def numbers_and_text_csv(folder: Path) -> Path:
    frame = reviews_frame()
    frame.insert(1, "length", frame["text"].str.len())
    return write(folder / "messages with length.csv", text_csv_bytes(frame[["text", "length", "label"]]))


@pytest.fixture(scope="module")
def model_folder(folder: Path, reviews_csv: Path) -> Path:
    out = folder / "spam model"
    done = run_cli("train", str(reviews_csv), "--target", "label", "--out", str(out), "--epochs", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def inputs(folder: Path) -> list[Path]:
    table = write(folder / "new texts.csv", pd.DataFrame({"text": NEW_TEXTS}).to_csv(index=False).encode())
    return [table] + [write(folder / name, text.encode(encoding)) for name, (text, encoding) in TXT_FILES.items()]


FRESH_PROCESS = """\
import json, sys
import numpy as np, keras
model = keras.saving.load_model(sys.argv[1], safe_mode=True)
texts = json.loads(sys.stdin.read())
print(json.dumps(model.predict(np.array(texts, dtype=object), verbose=0).tolist()))
"""


@pytest.fixture(scope="module")
def answers(model_folder: Path, inputs: list[Path]) -> tuple[list[tuple[str, str, float]], list[list[float]]]:
    """At the same time (two processes): `core predict DIR texts.csv a.txt b.txt` -> (source, label,
    probability) per line, and plain Keras in a fresh process loading model.keras (safe mode) and
    classifying the same texts as strings -> probabilities."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    cli = subprocess.Popen([sys.executable, "-m", "core", "predict", str(model_folder), *map(str, inputs)], cwd=REPO,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fresh = subprocess.Popen([sys.executable, "-c", FRESH_PROCESS, str(model_folder / "model.keras")],
                             cwd=model_folder, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    texts = NEW_TEXTS + [text for text, _ in TXT_FILES.values()]
    fresh_out, fresh_err = fresh.communicate(json.dumps(texts), timeout=300)
    cli_out, cli_err = cli.communicate(timeout=300)
    assert cli.returncode == 0, cli_err[-3000:]
    assert fresh.returncode == 0, fresh_err[-3000:]
    lines = cli_out.strip().splitlines()
    parsed = [re.fullmatch(r"(.+): (ham|spam) \((\d+\.\d)%\)", line) for line in lines]
    assert all(parsed), lines
    return [(m[1], m[2], float(m[3]) / 100) for m in parsed], json.loads(fresh_out.strip().splitlines()[-1])


def test_inspect_finds_the_text_column_without_being_told(inspected):
    info = inspected  # no --kind, no --text-column
    assert (info["kind"], info["target"], info["text_column"], info["tokenization"]) == ("text", "label", "text", "words")
    assert info["classes"] == ["ham", "spam"] and info["n_texts"] == 150
    assert info["sequence_length"] >= 4 and info["vocabulary_size"] > 100


def test_kind_text_and_text_column_make_a_table_with_numbers_a_text_dataset(numbers_and_text_csv):
    # without them it is a table (tests/unit/test_data_text.py)
    for option in (["--kind", "text"], ["--text-column", "text"]):
        done = run_cli("inspect", str(numbers_and_text_csv), *option)
        assert done.returncode == 0, done.stderr
        info = json.loads(done.stdout)
        assert (info["kind"], info["target"], info["text_column"]) == ("text", "label", "text"), option


def test_summary_shows_text_vectorization_and_an_embedding_sized_by_the_vocabulary(reviews_csv, inspected):
    vocabulary = inspected["vocabulary_size"]
    done = run_cli("summary", str(reviews_csv), "--sequence-length", "40")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[1]: line for line in done.stdout.splitlines() if line[:4].strip() in ("in", "pre", "out")
            or line[:4].strip().isdigit()}
    assert "texts: up to 40 words each" in rows["Input"] and "(40,)" in rows["Input"]
    assert f"{vocabulary:,} tokens → ids" in rows["TextVectorization"]
    # input_dim left empty in the design: taken from the vocabulary
    assert f"{vocabulary:,} codes → " in rows["Embedding"] and "(40, " in rows["Embedding"]
    assert "2 classes, softmax" in rows["Dense"] or "2 classes, softmax" in done.stdout


def test_train_writes_the_model_files_the_vocabulary_and_the_accuracy(model_folder, inspected):
    written = {p.name for p in model_folder.iterdir()}
    assert {"model.keras", "model.tflite", "vocabulary.json", "metrics.json", "labels.json", "preprocessing.json",
            "train_model.py"} <= written
    metrics = json.loads((model_folder / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and metrics["classes"] == ["ham", "spam"] and metrics["n_test"] > 0
    vocabulary = json.loads((model_folder / "vocabulary.json").read_text(encoding="utf-8"))
    info = inspected
    assert vocabulary["tokens"][:2] == ["", "[UNK]"] and len(vocabulary["tokens"]) == info["vocabulary_size"]
    assert vocabulary["tokenization"] == "words" and vocabulary["sequence_length"] == info["sequence_length"]


def test_predict_labels_texts_from_a_csv_and_from_txt_files(answers):
    predicted, _ = answers
    sources = [source for source, _, _ in predicted]
    assert sources == [f"new texts.csv row {k + 1}" for k in range(len(NEW_TEXTS))] + list(TXT_FILES)
    assert all(0.5 <= p <= 1 for _, _, p in predicted)


def test_the_downloaded_model_takes_raw_strings_in_a_fresh_process(answers):
    """model.keras loads with plain Keras (safe mode) and classifies strings: the same answers as predict."""
    predicted, probabilities = answers
    assert len(probabilities) == len(predicted)
    for (source, label, shown), row in zip(predicted, probabilities):
        assert ["ham", "spam"][max(range(2), key=row.__getitem__)] == label, source
        assert abs(max(row) - shown) <= 0.0005 + 1e-6, (source, row, shown)  # predict prints 0.1%
        assert abs(sum(row) - 1) < 1e-5


def test_an_unknown_text_column_is_a_plain_message(reviews_csv):
    err = _refused(run_cli("inspect", str(reviews_csv), "--text-column", "message"))
    assert "has no text column named 'message' besides the target. Its columns are: label, text." in err


def test_a_csv_read_as_images_is_a_plain_message(reviews_csv):
    err = _refused(run_cli("inspect", str(reviews_csv), "--kind", "images"))
    assert "reviews.csv holds table data, so it cannot be read as images. Leave out --kind" in err


def test_an_image_given_to_a_text_model_is_a_plain_message(model_folder, folder):
    photo = write(folder / "photo.png", encode_image(digit_images(1, (3,))[0][1]))
    err = _refused(run_cli("predict", str(model_folder), str(photo)))
    assert "photo.png cannot be read as text" in err and "it looks like a PNG image" in err
    assert "This model classifies texts: give .txt files saved as UTF-8, or a CSV file" in err


def test_task_decides_between_star_classes_and_a_rating_to_predict(tmp_path, capsys):
    """Stars 1-5 are five classes by default; --task regression predicts the rating as a number."""
    import json as _json

    from core.cli import main

    frame = text_sample_frame("sms_spam", 120).assign(stars=lambda f: [1 + k % 5 for k in range(len(f))])
    path = tmp_path / "rated.csv"
    path.write_bytes(text_csv_bytes(frame[["text", "stars"]]))
    assert main(["inspect", str(path)]) == 0
    assert _json.loads(capsys.readouterr().out)["task"] == "classification"
    assert main(["inspect", str(path), "--task", "regression"]) == 0
    described = _json.loads(capsys.readouterr().out)
    assert described["task"] == "regression" and described["kind"] == "text"
