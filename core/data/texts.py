"""Text datasets: a CSV's text column, or a zip of class folders of .txt files -> a Dataset.

The arrays hold token ids (core.data.tokens), counted and cut on the training split only;
the model that is downloaded puts Keras `TextVectorization` with the same vocabulary in front,
so it takes raw strings. Empty texts are left out and named; duplicates, texts cut to the
sequence length and other notes are reported in the dataset's warnings and its TextProfile
(what the Data page shows: lengths, vocabulary, frequent tokens, examples per class).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.dataset import Dataset, Feature, SkippedFile
from core.data.split import split_indices
from core.data.tokens import (
    MAX_SEQUENCE_LENGTH, MAX_VOCABULARY, MIN_SEQUENCE_LENGTH, RESERVED_IDS, TextData, TextSettings, TOKENIZATIONS,
    build_vocabulary, count_tokens, default_sequence_length, default_vocabulary_size, guess_tokenization,
    split_tokens, token_ids,
)
from core.errors import UserError

MIN_TEXTS_PER_CLASS = 3
EXAMPLES_PER_CLASS = 3
EXAMPLE_CHARS = 300  # an example or a worst mistake shows this much of its text
KEPT_TEST_CHARS = 2_000  # the test texts kept for the Evaluate page
TOP_TOKENS = 30
NAMED = 5  # rows or files named in a note
GUESS_SAMPLE = 2_000  # texts looked at to choose between words and characters


@dataclass
class TextProfile:
    """What a person needs to judge a text dataset (the Data page), computed once at loading."""

    lengths: np.ndarray  # tokens per text, every kept text (before cutting)
    characters: np.ndarray  # characters per text
    vocabulary_found: int  # different tokens in the training split
    top_tokens: list[tuple[str, int]]  # most frequent in the training split
    examples: dict[str, list[str]]  # class -> a few training texts (shortened)
    empty: list[str] = field(default_factory=list)  # sources of texts left out as empty
    duplicates: int = 0  # texts that repeat an earlier one
    duplicate_examples: list[str] = field(default_factory=list)
    cut: int = 0  # texts longer than the sequence length


def checked_settings(settings: TextSettings | None) -> TextSettings:
    """The user's choices, refused with a plain message when out of range."""
    settings = settings or TextSettings()
    if settings.tokenization is not None and settings.tokenization not in TOKENIZATIONS:
        raise UserError(
            "text.bad_tokenization",
            "'{value}' is not a way to split text. Choose one of: {choices}.",
            value=str(settings.tokenization), choices=", ".join(TOKENIZATIONS),
        )
    for name, value, low, high in (
        ("vocabulary size", settings.vocabulary_size, RESERVED_IDS + 1, MAX_VOCABULARY),
        ("sequence length", settings.sequence_length, MIN_SEQUENCE_LENGTH, MAX_SEQUENCE_LENGTH),
    ):
        if value is not None and (not isinstance(value, int) or not low <= value <= high):
            raise UserError(
                "text.bad_setting",
                "The {setting} must be a whole number from {low} to {high}, not {value}.",
                setting=name, low=f"{low:,}", high=f"{high:,}", value=str(value),
            )
    return settings


def _shortened(text: str, limit: int = EXAMPLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _named(sources: list[str]) -> str:
    return ", ".join(sources[:NAMED]) + (f" and {len(sources) - NAMED} more" if len(sources) > NAMED else "")


def build_text_dataset(
    name: str,
    texts: list[str],
    y: np.ndarray,
    *,
    task: str,
    classes: list[str],
    sources: list[str],
    settings: TextSettings | None = None,
    seed: int = 42,
    column: str | None = None,
    target: str | None = None,
    features: list[Feature] | None = None,
    frame: Any = None,
    skipped: list[SkippedFile] | None = None,
    warnings: list[str] | None = None,
    dropped_rows: int = 0,
    unit: str = "texts",
) -> Dataset:
    """Texts with their targets -> a text Dataset: tokenised, split with `seed`, vocabulary and
    sequence length from the training split (or the user's `settings`)."""
    settings = checked_settings(settings)
    warnings = list(warnings or [])
    tokenization = settings.tokenization or guess_tokenization(texts[:GUESS_SAMPLE])
    token_lists = [split_tokens(t, tokenization) for t in texts]
    empty = [i for i, tokens in enumerate(token_lists) if not any(t.strip() for t in tokens)]
    if len(empty) == len(texts) and column is None:
        raise UserError(
            "text.all_files_empty",
            "Every .txt file in {file} is empty (or holds only punctuation and spaces), so there is nothing to learn "
            "from. Put the texts into the files (one text per file), then zip the class folders again.",
            file=name,
        )
    if len(empty) == len(texts):
        raise UserError(
            "text.all_empty",
            "Every text in the column '{column}' of {file} is empty (or only punctuation and spaces), so there is "
            "nothing to learn from. Check that the right column holds the texts.",
            file=name, column=column,
        )
    empty_sources = [sources[i] for i in empty]
    if empty:
        gone = set(empty)
        keep = [i for i in range(len(texts)) if i not in gone]
        warnings.append(f"{len(empty)} empty text(s) were left out: {_named(empty_sources)}.")
        texts, token_lists, sources = [texts[i] for i in keep], [token_lists[i] for i in keep], [sources[i] for i in keep]
        y = y[keep]
    split = split_indices(y, task=task, classes=classes, seed=seed, where=name, unit=unit,
                          min_per_class=MIN_TEXTS_PER_CLASS)
    counts = count_tokens(token_lists[i] for i in split.train)
    lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    vocabulary = build_vocabulary(counts, settings.vocabulary_size or default_vocabulary_size(counts))
    length = settings.sequence_length or default_sequence_length(lengths[split.train])
    x_train, x_val, x_test = (token_ids([token_lists[i] for i in part], vocabulary, length)
                              for part in (split.train, split.val, split.test))
    del token_lists  # the largest thing built here; the ids are what stays
    cut = int(np.count_nonzero(lengths > length))
    if cut:
        warnings.append(
            f"{cut} text(s) have more than {length} tokens and were cut to their first {length} tokens (the longest "
            f"has {int(lengths.max()):,}). Raise the sequence length to use more of each text."
        )
    profile = _profile(texts, y, classes, task, split.train, counts, lengths, empty_sources)
    profile.cut = cut
    text = TextData(
        tokenization=tokenization, vocabulary=vocabulary, sequence_length=int(length), column=column,
        settings=settings, test_texts=[texts[i][:KEPT_TEST_CHARS] for i in split.test],
        test_sources=[sources[i] for i in split.test], profile=profile,
    )
    duplicates = _duplicates(texts)
    if duplicates:
        profile.duplicates, profile.duplicate_examples = duplicates
        warnings.append(
            f"{duplicates[0]} text(s) repeat an earlier one (for example '{_shortened(duplicates[1][0], 60)}'). "
            "They are kept; a copy in the test split makes the test score look better than it is."
        )
    return Dataset(
        name=name, kind="text", task=task,
        x_train=x_train, y_train=y[split.train], x_val=x_val, y_val=y[split.val], x_test=x_test, y_test=y[split.test],
        target=target, classes=list(classes), features=list(features or []), skipped=list(skipped or []),
        frame=frame, dropped_rows=dropped_rows, warnings=warnings, text=text,
    )


def _profile(texts, y, classes, task, train, counts: Counter, lengths, empty) -> TextProfile:
    examples: dict[str, list[str]] = defaultdict(list)
    if task == "classification":
        for i in train:
            label = classes[int(y[i])]
            if len(examples[label]) < EXAMPLES_PER_CLASS:
                examples[label].append(_shortened(texts[i]))
    return TextProfile(
        lengths=lengths,
        characters=np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)),
        vocabulary_found=len(counts),
        top_tokens=counts.most_common(TOP_TOKENS),
        examples=dict(examples),
        empty=list(empty),
    )


def _duplicates(texts: list[str]) -> tuple[int, list[str]] | None:
    seen: Counter = Counter(t.strip() for t in texts)
    repeated = [t for t, n in seen.items() if n > 1]
    if not repeated:
        return None
    return sum(seen[t] - 1 for t in repeated), [_shortened(t, 80) for t in repeated[:3]]


def text_from_table(
    raw: Any, task: str, y: np.ndarray, classes: list[str], keep: np.ndarray, *, target: str, column: str,
    features: list[Feature], settings: TextSettings | None, seed: int, warnings: list[str],
) -> Dataset:
    """A CSV's text column (rows with a target) -> a text Dataset; the other columns are not read."""
    from core.data.tables import IGNORED, TEXT, TEXT_INPUT_REASON

    from core.data.text_files import ENCODING_LABELS

    series = raw.frame[column].iloc[keep]
    texts = ["" if value is None or value != value else str(value) for value in series.tolist()]  # NaN != NaN
    if raw.encoding not in ("utf-8", "utf-8-sig", "utf-16"):  # a guess: say it, so garbled texts get noticed
        warnings = [*warnings, f"{raw.name} is not saved as UTF-8; it was read as "
                    f"{ENCODING_LABELS.get(raw.encoding, raw.encoding)}. If the texts look wrong, save it again as CSV UTF-8."]
    reason = f"not used: a text model reads only the column '{column}'"
    features = [
        Feature(f.name, TEXT, TEXT_INPUT_REASON, f.missing) if f.name == column
        else Feature(f.name, IGNORED, reason if f.kind != IGNORED else f.reason, f.missing, f.infinite)
        for f in features
    ]
    dropped = len(raw.frame) - len(keep)
    return build_text_dataset(
        raw.name, texts, np.asarray(y), task=task, classes=classes, sources=[f"row {int(k) + 1}" for k in keep],
        settings=settings, seed=seed, column=column, target=target, features=features, frame=raw.frame,
        warnings=warnings, dropped_rows=dropped, unit="rows",
    )
