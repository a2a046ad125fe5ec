"""A zip or a folder of class folders -> a Dataset of images or of texts, judged by its files.

Both kinds share the archive rules (core.data.archive: caps, unsafe names, zip bombs) and the
class folders (`class_folders`); a folder of mostly .txt files is a text dataset, one document
per file, anything else goes to the images reader (which says what it found instead).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from core.data.archive import ArchiveFiles, class_folders, read_folder, read_zip
from core.data.dataset import Dataset, SkippedFile
from core.data.limits import current_limits
from core.errors import UserError

TEXT_FILE_SUFFIXES = {".txt", ".text"}
IMAGE_LIKE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".ico"}


def load_zip(source: Path | str | bytes, name: str | None = None, *, image_size: tuple[int, int] | None = None,
             seed: int = 42, text_settings: Any = None) -> Dataset:
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "the uploaded zip")
    limits = current_limits()
    deadline = limits.deadline()
    found = read_zip(source, name, limits, deadline)
    return _dataset(name, found, image_size, seed, text_settings, deadline)


def load_folder(path: Path | str, *, image_size: tuple[int, int] | None = None, seed: int = 42,
                text_settings: Any = None) -> Dataset:
    limits = current_limits()
    deadline = limits.deadline()
    found = read_folder(path, limits, deadline)
    return _dataset(str(path), found, image_size, seed, text_settings, deadline)


def _suffix(path: str) -> str:
    return PurePosixPath(path).suffix.lower()


def holds_texts(found: ArchiveFiles) -> bool:
    """More .txt files than images: a text dataset."""
    suffixes = Counter(_suffix(p) for p, _ in found.files)
    texts = sum(n for s, n in suffixes.items() if s in TEXT_FILE_SUFFIXES)
    images = sum(n for s, n in suffixes.items() if s in IMAGE_LIKE_SUFFIXES)
    return texts > images


def _dataset(name: str, found: ArchiveFiles, image_size, seed: int, text_settings: Any, deadline) -> Dataset:
    if holds_texts(found):
        return build_text_archive_dataset(name, found, seed=seed, settings=text_settings)
    from core.data.images import build_image_dataset

    return build_image_dataset(name, found, image_size=image_size, seed=seed, deadline=deadline)


def _decoded_alike(files: list[tuple[bytes, str | None]]) -> list:
    """Each file's (text, encoding), or its UnreadableText. Files saved by one program share an
    encoding: the legacy encoding most files were read in is preferred for the others, so a short
    GBK text among GBK ones is not taken for Korean or Big5 (text_files.decode_text's `prefer`)."""
    from core.data.text_files import UNKNOWN_ENCODING, UnreadableText, decode_text

    def decode(data: bytes, prefer: str | None = None):
        try:
            return decode_text(data, prefer=prefer)
        except UnreadableText as err:
            return err

    read = [decode(data) if label is not None else None for data, label in files]
    legacy = Counter(r[1] for r in read if isinstance(r, tuple) and not r[1].startswith(("utf", "ascii")))
    if not legacy:
        return read
    prefer = legacy.most_common(1)[0][0]
    for k, ((data, _), r) in enumerate(zip(files, read)):
        odd = (isinstance(r, tuple) and r[1] != prefer and not r[1].startswith(("utf", "ascii"))) or (
            isinstance(r, UnreadableText) and r.reason == UNKNOWN_ENCODING)
        if odd:
            read[k] = decode(data, prefer)
    return read


def build_text_archive_dataset(name: str, found: ArchiveFiles, *, seed: int = 42, settings: Any = None) -> Dataset:
    """.txt files in class folders -> a text Dataset (one document per file)."""
    from core.data.tables import sort_labels
    from core.data.text_files import UnreadableText, text_encoding_note
    from core.data.texts import build_text_dataset

    skipped: list[SkippedFile] = list(found.skipped)
    files = [(p, d) for p, d in found.files if _suffix(p) in TEXT_FILE_SUFFIXES]
    others = len(found.files) - len(files)
    labels = class_folders([p for p, _ in files])
    texts, sources, kept_labels, encodings = [], [], [], Counter()
    decoded = _decoded_alike([(data, label) for (_, data), label in zip(files, labels)])
    for (path, _), label, read in zip(files, labels, decoded):
        if label is None:
            skipped.append(SkippedFile(path, "not inside a class folder"))
            continue
        if isinstance(read, UnreadableText):
            skipped.append(SkippedFile(path, read.reason))
            continue
        text, encoding = read
        encodings[encoding] += 1
        texts.append(text)
        sources.append(path)
        kept_labels.append(label)
    if not texts:
        example = skipped[0] if skipped else None
        raise UserError(
            "text.no_files",
            "No usable .txt file was found in {file}{why}. Put one folder per class (for example spam/ and ham/) with "
            "one .txt file per text inside, saved as UTF-8, and zip those folders.",
            file=name, why=f" ('{example.file}': {example.reason})" if example else "",
        )
    classes = sort_labels(list(set(kept_labels)))
    unread = _unreadable_classes(skipped, dict(zip((p for p, _ in files), labels)), set(classes))
    if len(classes) < 2 and unread:
        folder, example = unread[0]
        raise UserError(
            "text.one_class_unreadable",
            "{file} has readable texts of only one class ('{label}'): no .txt file in the folder '{folder}' could be "
            "read ('{example}': {reason}). Save those files as UTF-8 text and zip the folders again.",
            file=name, label=classes[0], folder=folder, example=example.file, reason=example.reason,
        )
    if len(classes) < 2:
        raise UserError(
            "text.one_class",
            "{file} has texts of only one class ('{label}'). Add at least one more class folder next to it "
            "(for example spam/ and ham/), each with its own .txt files.",
            file=name, label=classes[0],
        )
    index = {label: i for i, label in enumerate(classes)}
    y = np.array([index[label] for label in kept_labels], dtype=np.int64)
    warnings = []
    note = text_encoding_note(dict(encodings))
    if note:
        warnings.append(note)
    if others:
        warnings.append(f"{others} file(s) that are not .txt files were ignored.")
    for folder, example in unread:  # a class that vanished: none of its files could be read
        warnings.append(f"The class folder '{folder}' is left out: none of its .txt files could be read "
                        f"('{example.file}': {example.reason}).")
    return build_text_dataset(name, texts, y, task="classification", classes=classes, sources=sources,
                              settings=settings, seed=seed, skipped=skipped, warnings=warnings, unit="texts")


def _unreadable_classes(skipped: list[SkippedFile], label_of: dict[str, str | None],
                        readable: set[str]) -> list[tuple[str, SkippedFile]]:
    """(class folder, first skipped file) for the class folders none of whose .txt files could be read."""
    found: dict[str, SkippedFile] = {}
    for skipped_file in skipped:
        label = label_of.get(skipped_file.file)
        if label is not None and label not in readable:
            found.setdefault(label, skipped_file)
    return list(found.items())
