"""Benchmark data, generated at run time under a temporary folder (nothing big is committed).

The table mimics a business export: numbers (some integer-valued), three categorical text
columns, a few percent of empty cells and a yes/no target that depends on the features.
The images are scikit-learn's handwritten digits, upscaled, shifted, tinted and noised,
so every class is learnable and no two images are identical.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

N_NUMERIC = 16
CATEGORIES = {
    "color": ["red", "green", "blue", "yellow", "black"],
    "city": [f"city_{i:02d}" for i in range(12)],
    "plan": [f"plan_{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"],
}
TARGET = "churn"
MISSING_FRACTION = 0.02
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def table_columns() -> list[str]:
    return [f"x{i:02d}" for i in range(N_NUMERIC)] + list(CATEGORIES) + [TARGET]


def write_table_csv(path: Path, rows: int, seed: int = 0) -> Path:
    """A CSV of `rows` rows and 20 columns (16 numeric, 3 categorical, the target last)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(rows, N_NUMERIC)).astype(np.float64)
    numeric[:, :4] = np.round(numeric[:, :4] * 10 + 40)  # integer-valued columns such as ages
    numeric[:, 4:] = np.round(numeric[:, 4:], 3)
    codes = {name: rng.integers(0, len(values), size=rows) for name, values in CATEGORIES.items()}
    signal = numeric[:, 4] + 0.5 * numeric[:, 5] - 0.05 * (numeric[:, 0] - 40) + 0.3 * (codes["color"] == 2)
    churn = np.where(signal + rng.normal(scale=0.5, size=rows) > 0, "yes", "no")
    arrays, names = [], []
    for i in range(N_NUMERIC):
        mask = rng.random(rows) < (MISSING_FRACTION if i % 3 == 0 else 0)
        arrays.append(pa.array(numeric[:, i], mask=mask))
        names.append(f"x{i:02d}")
    for j, (name, values) in enumerate(CATEGORIES.items()):
        mask = rng.random(rows) < (MISSING_FRACTION if j == 1 else 0)
        arrays.append(pa.DictionaryArray.from_arrays(pa.array(codes[name], mask=mask), pa.array(values))
                      .cast(pa.string()))
        names.append(name)
    arrays.append(pa.array(churn))
    names.append(TARGET)
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(pa.table(arrays, names=names), str(path),
                    write_options=pacsv.WriteOptions(quoting_style="none"))
    return path


def table_arrays(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 (rows, 20), y int64 in {0, 1}): the numeric twin of the CSV, for training cases."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 20)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.3 * x[:, 2] + rng.normal(scale=0.5, size=rows) > 0).astype(np.int64)
    return x, y


def _digit_templates(size: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits (8x8, 0-16) resized to size x size, as float 0-1."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    big = np.stack([
        np.asarray(Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((size, size), Image.BILINEAR))
        for img in digits.images
    ]).astype(np.float32) / 255.0
    return big, digits.target.astype(np.int64)


def digit_images(n: int, size: int, channels: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 images (n, size, size, channels) of digits with random shifts, tints and noise, and labels."""
    rng = np.random.default_rng(seed)
    templates, labels = _digit_templates(size)
    pick = rng.integers(0, len(templates), size=n)
    images = templates[pick]
    shift = max(1, size // 10)
    for axis in (1, 2):
        offsets = rng.integers(-shift, shift + 1, size=n)
        for off in np.unique(offsets):
            rows = offsets == off
            images[rows] = np.roll(images[rows], off, axis=axis)
    images = images[..., None]
    if channels == 3:
        tint = rng.uniform(0.4, 1.0, size=(n, 1, 1, 3)).astype(np.float32)
        background = rng.uniform(0.0, 0.3, size=(n, 1, 1, 3)).astype(np.float32)
        images = background + images * (tint - background)
    images = images + rng.normal(scale=0.05, size=images.shape).astype(np.float32)
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels[pick]


def write_image_folder_and_zip(folder: Path, zip_path: Path, n: int, size: int, seed: int = 0) -> tuple[Path, Path]:
    """n PNGs (size x size RGB) in one folder per class, and the same files in a zip."""
    from PIL import Image

    images, labels = digit_images(n, size, channels=3, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i, (image, label) in enumerate(zip(images, labels)):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            relative = f"{CLASS_NAMES[label]}/{i:05d}.png"
            (folder / CLASS_NAMES[label]).mkdir(exist_ok=True)
            (folder / relative).write_bytes(buffer.getvalue())
            archive.writestr(relative, buffer.getvalue())
    return folder, zip_path


# --- Texts (issue 19) -------------------------------------------------------------------------
TEXT_TARGET = "label"
TEXT_COLUMN = "text"
TEXT_LABELS = ["billing", "delivery", "account", "praise"]
TEXT_TOPIC_SHARE = 0.25  # of each text's words come from its label's own quarter of the vocabulary


def _sms_words() -> tuple[list[str], np.ndarray]:
    """The SMS sample's words as written (case and punctuation kept) and their frequencies."""
    import csv
    from collections import Counter

    from core.data.samples import TEXT_SAMPLES_DIR

    with open(TEXT_SAMPLES_DIR / "sms_spam.csv", encoding="utf-8", newline="") as handle:
        counts = Counter(word for row in csv.DictReader(handle) for word in row["text"].split())
    words = sorted(counts)
    freq = np.array([counts[w] for w in words], dtype=np.float64)
    return words, freq / freq.sum()


def write_text_csv(path: Path, rows: int, seed: int = 0, min_words: int = 10, max_words: int = 30) -> Path:
    """A `label,text` CSV of `rows` short English texts: 10-30 words each drawn from the SMS
    sample's word frequencies (case and punctuation as written there), a quarter of them from the
    label's own share of the vocabulary, so the 4 labels are learnable. About 125 bytes a row."""
    import csv

    rng = np.random.default_rng(seed)
    words, freq = _sms_words()
    vocab = np.asarray(words, dtype=object)
    owner = rng.integers(0, len(TEXT_LABELS), size=len(words))  # each word's topic
    topic_p = [np.where(owner == k, freq, 0.0) for k in range(len(TEXT_LABELS))]
    topic_p = [p / p.sum() for p in topic_p]
    labels = rng.integers(0, len(TEXT_LABELS), size=rows)
    lengths = rng.integers(min_words, max_words + 1, size=rows)
    common = rng.choice(len(words), size=(rows, max_words), p=freq)
    topical = np.empty((rows, max_words), dtype=np.int64)
    for k in range(len(TEXT_LABELS)):
        members = np.flatnonzero(labels == k)
        topical[members] = rng.choice(len(words), size=(len(members), max_words), p=topic_p[k])
    pick = rng.random((rows, max_words)) < TEXT_TOPIC_SHARE
    ids = np.where(pick, topical, common)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([TEXT_TARGET, TEXT_COLUMN])
        for i in range(rows):
            writer.writerow([TEXT_LABELS[labels[i]], " ".join(vocab[ids[i, : lengths[i]]])])
    return path
