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
from typing import Any, Sequence

import numpy as np

from core.data.dataset import Dataset, Feature, SkippedFile
from core.data.split import split_indices
from core.data.tokens import (
    ENCODE_CHUNK, MAX_SEQUENCE_LENGTH, MAX_VOCABULARY, MIN_SEQUENCE_LENGTH, RESERVED_IDS, TextData, TextSettings,
    TOKENIZATIONS, build_vocabulary, default_sequence_length, default_vocabulary_size, encode_texts, guess_tokenization,
)
from core.errors import UserError

MIN_TEXTS_PER_CLASS = 3
MAX_TEXT_CHARACTERS = 100_000  # of one text; ~50 times the longest sequence a model may read
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
    texts: Any,
    y: np.ndarray,
    *,
    task: str,
    classes: list[str],
    sources: Sequence[str],
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
    sequence length from the training split (or the user's `settings`).

    `texts` is a list of str or a pyarrow string array (a CSV column; a null is an empty text);
    `sources` names each text (any indexable sequence). The texts are tokenised once, into a
    code per token (core.data.tokens.encode_texts), not kept as lists of token strings."""
    settings = checked_settings(settings)
    warnings = list(warnings or [])
    texts, long_texts = _capped(texts)
    if long_texts:
        warnings.append(f"{long_texts} text(s) are longer than {MAX_TEXT_CHARACTERS:,} characters; only the first "
                        f"{MAX_TEXT_CHARACTERS:,} characters of each were read.")
    tokenization = settings.tokenization or guess_tokenization(_strings(texts, np.arange(min(GUESS_SAMPLE, len(texts)))))
    encoded = encode_texts(texts, tokenization)
    if encoded.empty.all() and column is None:
        raise UserError(
            "text.all_files_empty",
            "Every .txt file in {file} is empty (or holds only punctuation and spaces), so there is nothing to learn "
            "from. Put the texts into the files (one text per file), then zip the class folders again.",
            file=name,
        )
    if encoded.empty.all():
        raise UserError(
            "text.all_empty",
            "Every text in the column '{column}' of {file} is empty (or only punctuation and spaces), so there is "
            "nothing to learn from. Check that the right column holds the texts.",
            file=name, column=column,
        )
    kept = np.flatnonzero(~encoded.empty)  # positions in `texts` of the texts used, in order
    empty_sources = [sources[int(i)] for i in np.flatnonzero(encoded.empty)]
    if empty_sources:
        warnings.append(f"{len(empty_sources)} empty text(s) were left out: {_named(empty_sources)}.")
        y = y[kept]
    split = split_indices(y, task=task, classes=classes, seed=seed, where=name, unit=unit,
                          min_per_class=MIN_TEXTS_PER_CLASS)
    counts = encoded.counts(kept[split.train])
    lengths = encoded.lengths[kept]
    vocabulary = build_vocabulary(counts, settings.vocabulary_size or default_vocabulary_size(counts))
    length = settings.sequence_length or default_sequence_length(lengths[split.train])
    x_train, x_val, x_test = (encoded.ids(kept[part], vocabulary, length) for part in (split.train, split.val, split.test))
    del encoded  # the codes; the ids are what stays
    cut = int(np.count_nonzero(lengths > length))
    if cut:
        warnings.append(
            f"{cut} text(s) have more than {length} tokens and were cut to their first {length} tokens (the longest "
            f"has {int(lengths.max()):,}). Raise the sequence length to use more of each text."
        )
    profile = _profile(texts, kept, y, classes, task, split.train, counts, lengths, empty_sources)
    profile.cut = cut
    test_rows = kept[split.test]
    text = TextData(
        tokenization=tokenization, vocabulary=vocabulary, sequence_length=int(length), column=column,
        settings=settings, test_texts=[t[:KEPT_TEST_CHARS] for t in _strings(texts, test_rows)],
        test_sources=[sources[int(i)] for i in test_rows], profile=profile,
    )
    duplicates = _duplicates(texts, kept)
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


def _capped(texts: Any) -> tuple[Any, int]:
    """Texts cut to MAX_TEXT_CHARACTERS, and how many were longer. Beyond that no token can reach
    the model (the longest sequence is MAX_SEQUENCE_LENGTH tokens), and tokenising a 30 MB text
    whole took 100 times its size in memory."""
    if isinstance(texts, (list, tuple)):
        long_texts = sum(len(t) > MAX_TEXT_CHARACTERS for t in texts)
        return ([t[:MAX_TEXT_CHARACTERS] for t in texts] if long_texts else texts), long_texts
    import pyarrow.compute as pc

    long_texts = int(pc.sum(pc.greater(pc.utf8_length(texts), MAX_TEXT_CHARACTERS)).as_py() or 0)
    return (pc.utf8_slice_codeunits(texts, 0, MAX_TEXT_CHARACTERS) if long_texts else texts), long_texts


def _strings(texts: Any, rows: np.ndarray) -> list[str]:
    """texts[rows] (sorted positions) as Python strings ("" for a null)."""
    if isinstance(texts, (list, tuple)):
        return [texts[int(i)] for i in rows]
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return []
    if rows[-1] - rows[0] + 1 == len(rows):  # a run: a slice is no copy
        values = texts.slice(int(rows[0]), len(rows)).to_pylist()
    elif hasattr(texts, "chunks"):  # take within each chunk: pyarrow's take on a ChunkedArray joins the chunks first
        starts = np.cumsum([0] + [len(c) for c in texts.chunks])
        cuts = np.searchsorted(rows, starts)
        values = []
        for k, chunk in enumerate(texts.chunks):
            if cuts[k + 1] > cuts[k]:
                values += chunk.take(rows[cuts[k]: cuts[k + 1]] - starts[k]).to_pylist()
    else:
        values = texts.take(rows).to_pylist()
    return ["" if t is None else t for t in values]


def _character_counts(texts: Any, rows: np.ndarray) -> np.ndarray:
    if isinstance(texts, (list, tuple)):
        return np.fromiter((len(texts[int(i)]) for i in rows), dtype=np.int64, count=len(rows))
    import pyarrow.compute as pc

    counts = pc.utf8_length(texts).fill_null(0).to_numpy()  # code points, as len() counts
    return counts.astype(np.int64, copy=False)[rows]


def _profile(texts, kept, y, classes, task, train, counts: Counter, lengths, empty) -> TextProfile:
    examples: dict[str, list[str]] = defaultdict(list)
    if task == "classification":
        wanted = EXAMPLES_PER_CLASS * len(classes)
        found = 0
        for i in train:
            label = classes[int(y[i])]
            if len(examples[label]) < EXAMPLES_PER_CLASS:
                examples[label].append(_shortened(_strings(texts, kept[i: i + 1])[0]))
                found += 1
                if found == wanted:
                    break
    return TextProfile(
        lengths=lengths,
        characters=_character_counts(texts, kept),
        vocabulary_found=len(counts),
        top_tokens=counts.most_common(TOP_TOKENS),
        examples=dict(examples),
        empty=list(empty),
    )


def _duplicates(texts: Any, kept: np.ndarray) -> tuple[int, list[str]] | None:
    """(texts that repeat an earlier one, up to 3 of the repeated texts), comparing stripped texts.

    A hash per text first, so the texts are not all held at once; only texts whose hash repeats
    are compared as strings."""
    hashes = np.empty(len(kept), dtype=np.int64)
    for start in range(0, len(kept), ENCODE_CHUNK):
        rows = kept[start: start + ENCODE_CHUNK]
        hashes[start: start + len(rows)] = [hash(t.strip()) for t in _strings(texts, rows)]
    _, inverse, repeats = np.unique(hashes, return_inverse=True, return_counts=True)
    candidates = np.flatnonzero(repeats[inverse] > 1)
    if not len(candidates):
        return None
    seen: Counter = Counter(t.strip() for t in _strings(texts, kept[candidates]))
    repeated = [t for t, n in seen.items() if n > 1]
    if not repeated:
        return None
    return sum(seen[t] - 1 for t in repeated), [_shortened(t, 80) for t in repeated[:3]]


class _RowNames(Sequence):
    """"row 12" for each kept table row, made when asked (a list of them would cost ~70 bytes a row)."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return f"row {int(self.rows[i]) + 1}"


def _column_texts(series: Any) -> Any:
    """A text column as a pyarrow string array when it is one (no copy for pandas' Arrow-backed
    strings), else as Python strings the way they print ("" for an empty cell)."""
    import pandas as pd

    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        import pyarrow as pa

        try:
            texts = pa.array(series)
        except (pa.ArrowException, TypeError, ValueError):
            texts = None
        if texts is not None and (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
            return texts.chunk(0) if isinstance(texts, pa.ChunkedArray) and texts.num_chunks == 1 else texts
    return ["" if value is None or value != value else str(value) for value in series.tolist()]  # NaN != NaN


def text_from_table(
    raw: Any, task: str, y: np.ndarray, classes: list[str], keep: np.ndarray, *, target: str, column: str,
    features: list[Feature], settings: TextSettings | None, seed: int, warnings: list[str],
) -> Dataset:
    """A CSV's text column (rows with a target) -> a text Dataset; the other columns are not read."""
    from core.data.tables import IGNORED, TEXT, TEXT_INPUT_REASON

    from core.data.text_files import ENCODING_LABELS

    series = raw.frame[column]
    texts = _column_texts(series if len(keep) == len(series) else series.iloc[keep])  # keep: sorted row positions
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
        raw.name, texts, np.asarray(y), task=task, classes=classes, sources=_RowNames(keep),
        settings=settings, seed=seed, column=column, target=target, features=features, frame=raw.frame,
        warnings=warnings, dropped_rows=dropped, unit="rows",
    )
