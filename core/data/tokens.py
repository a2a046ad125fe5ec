"""Text into tokens and token ids, exactly as the model's Keras `TextVectorization` layer does it.

The web server never imports TensorFlow, yet it must show the vocabulary, choose the sequence
length and turn a typed sentence into the ids the TFLite model takes. So the rules of
`TextVectorization(standardize="lower_and_strip_punctuation", split=..., ngrams=...)` are
written out here in plain Python, and tests/unit/test_text_tokens.py checks them against the
layer on hostile text (mixed scripts, emoji, odd spaces):
- lower case: ASCII letters only (`tf.strings.lower` without an encoding leaves "É" alone);
- punctuation: the ASCII characters in `_PUNCTUATION` are removed, nothing else ("，" stays);
- words: split at runs of ASCII whitespace (space, tab, CR, LF, VT, FF) — not at U+3000 or
  a no-break space, which `tf.strings.split` keeps inside a word;
- characters: every code point is a token (spaces too); bigrams: then every pair of neighbours
  joined by one space, after all the single characters (`tf.strings.ngrams` order);
- ids: 0 is padding, 1 an unknown token, then the vocabulary in order; a text is cut or padded
  to the sequence length;
- a token ending in a NUL character is never in the vocabulary (so it is an unknown token):
  the layer stores its vocabulary through NumPy, which drops trailing NULs, and would refuse
  "\x00" as a second mask token "" (or turn "no\x00" into "no").
"""
from __future__ import annotations

import os
import re
import string
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

import numpy as np

WORDS, CHARACTERS, CHARACTER_BIGRAMS = "words", "characters", "character_bigrams"
TOKENIZATIONS = {  # name -> plain words (a core fragment: the app translates it)
    WORDS: "words (split at spaces)",
    CHARACTERS: "single characters",
    CHARACTER_BIGRAMS: "single characters and pairs of neighbouring characters",
}
PADDING_ID, UNKNOWN_ID = 0, 1
RESERVED_IDS = 2  # padding and unknown come before the vocabulary
MAX_VOCABULARY = 50_000  # the largest vocabulary a user may ask for (Embedding rows)
DEFAULT_MAX_VOCABULARY = 20_000  # the automatic size's cap
MAX_SEQUENCE_LENGTH = 2_000
AUTO_MAX_SEQUENCE_LENGTH = 500  # the automatic length's cap: longer texts are cut
MIN_SEQUENCE_LENGTH = 4
LENGTH_PERCENTILE = 95  # the automatic sequence length holds 95% of the training texts whole
CJK_SHARE = 0.3  # texts whose characters are at least this share Chinese/Japanese are split by character

_PUNCTUATION = re.compile(r"""[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']""")
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_SPACES = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\x0b": " ", "\x0c": " "})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_VISIBLE = re.compile(r"\S")


def standardize(text: str) -> str:
    # str.lower() is much faster than translate; on ASCII text it is the same ASCII-only lowering
    return _PUNCTUATION.sub("", text.lower() if text.isascii() else text.translate(_LOWER))


def split_tokens(text: str, tokenization: str) -> list[str]:
    """The tokens TextVectorization makes of `text` (before the sequence length cuts them)."""
    return _tokens_of_clean(standardize(text), tokenization)


def _tokens_of_clean(clean: str, tokenization: str) -> list[str]:
    if tokenization == WORDS:
        return [t for t in clean.translate(_SPACES).split(" ") if t]
    chars = list(clean)
    if tokenization == CHARACTERS:
        return chars
    return chars + [f"{a} {b}" for a, b in zip(chars, chars[1:])]


def keras_settings(tokenization: str) -> dict:
    """TextVectorization keyword arguments for a tokenization (besides vocabulary and length)."""
    return {
        "standardize": "lower_and_strip_punctuation",
        "split": "whitespace" if tokenization == WORDS else "character",
        "ngrams": (1, 2) if tokenization == CHARACTER_BIGRAMS else None,
    }


def guess_tokenization(texts: Iterable[str]) -> str:
    """Characters and pairs for Chinese and Japanese (no spaces between words), words otherwise."""
    cjk = visible = 0
    for text in texts:
        cjk += len(_CJK.findall(text))
        visible += len(_VISIBLE.findall(text))
    return CHARACTER_BIGRAMS if visible and cjk / visible >= CJK_SHARE else WORDS


@dataclass(frozen=True)
class TextSettings:
    """What the user may choose about tokenising; None = decided from the data."""

    tokenization: str | None = None
    vocabulary_size: int | None = None  # tokens kept, the padding and unknown ids included (max_tokens)
    sequence_length: int | None = None

    def to_json(self) -> dict:
        return {"tokenization": self.tokenization, "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length}

    @classmethod
    def from_json(cls, data: dict | None) -> "TextSettings":
        data = data or {}
        return cls(data.get("tokenization"), data.get("vocabulary_size"), data.get("sequence_length"))

    def with_changes(self, **changes) -> "TextSettings":
        return replace(self, **changes)


@dataclass
class TextData:
    """What a text model depends on besides the arrays: the fitted tokenizer, and the test texts."""

    tokenization: str
    vocabulary: list[str]  # id 2 onwards, most frequent first (counted on the training split)
    sequence_length: int
    column: str | None = None  # the CSV's text column; None for a zip of .txt files
    settings: TextSettings = field(default_factory=TextSettings)  # what the user chose (None = automatic)
    test_texts: list[str] = field(default_factory=list)  # each test example's text (worst mistakes)
    test_sources: list[str] = field(default_factory=list)  # "row 12" or the file inside the zip
    profile: object = None  # core.data.texts.TextProfile: what the Data page shows (not sent to runs)

    @property
    def n_ids(self) -> int:
        """Embedding rows needed: padding, unknown and the vocabulary."""
        return len(self.vocabulary) + RESERVED_IDS

    def ids(self, texts: Iterable[str]) -> np.ndarray:
        return token_ids([split_tokens(t, self.tokenization) for t in texts], self.vocabulary, self.sequence_length)

    def to_json(self) -> dict:
        return {
            "tokenization": self.tokenization, "vocabulary": list(self.vocabulary),
            "sequence_length": self.sequence_length, "column": self.column, "settings": self.settings.to_json(),
            "test_texts": list(self.test_texts), "test_sources": list(self.test_sources),
        }

    @classmethod
    def from_json(cls, data: dict) -> "TextData":
        tokenization = str(data["tokenization"])
        if tokenization not in TOKENIZATIONS:
            raise ValueError(f"unknown tokenization {tokenization!r}")
        vocabulary = [str(t) for t in data["vocabulary"]]
        length = int(data["sequence_length"])
        if not 0 < length <= MAX_SEQUENCE_LENGTH or len(vocabulary) > MAX_VOCABULARY:
            raise ValueError("sequence length or vocabulary size outside what LayerLab writes")
        return cls(
            tokenization, vocabulary, length, data.get("column"), TextSettings.from_json(data.get("settings")),
            [str(t) for t in data.get("test_texts", [])], [str(t) for t in data.get("test_sources", [])],
        )


def count_tokens(token_lists: Iterable[list[str]]) -> Counter:
    counts: Counter = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    return counts


def build_vocabulary(counts: Counter, vocabulary_size: int) -> list[str]:
    """The `vocabulary_size - 2` most frequent tokens, ties in reverse order of their UTF-8 bytes:
    exactly the list `TextVectorization.adapt` makes (its `np.lexsort((tokens, counts))[::-1]`), so
    train_model.py's adapted layer gives the same ids; tokens ending in NUL left out (see the
    module's docstring)."""
    keep = max(0, vocabulary_size - RESERVED_IDS)
    ranked = sorted(((t, n) for t, n in counts.items() if not t.endswith("\x00")),
                    key=lambda item: (item[1], item[0].encode("utf-8", "surrogatepass")), reverse=True)
    return [token for token, _ in ranked[:keep]]


# What Python's str.strip() removes (every character whose isspace() is true; a test checks the
# list): a text is empty when its standardised form is only these, as `any(t.strip() ...)` judges.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
MAX_ENCODE_THREADS = 4  # words: chunks split by pyarrow at once (0.59 s -> 0.40 s for 200,000 texts on 2 cores)
ENCODE_CHUNK = 4_096  # texts tokenised at a time: bounds the temporaries (200,000 short texts, one thread:
# peak +22 MiB at 4,096, +39 MiB at 16,384, +104 MiB at 65,536, for the same speed; two threads: +38 MiB)


@dataclass
class EncodedTexts:
    """Many texts tokenised once, without keeping a string per token: each distinct token gets a
    code (the order it was first met), and each chunk of texts keeps its tokens' codes one text
    after another (uint16 while at most 65,536 distinct tokens were met, then uint32)."""

    tokens: list[str]  # code -> token
    index: dict[str, int]  # token -> code
    codes: list[np.ndarray]  # per chunk of `chunk_rows` texts
    lengths: np.ndarray  # int64: tokens per text (before any cut)
    empty: np.ndarray  # bool: no token holds anything but spaces (`not any(t.strip() ...)`)
    chunk_rows: int

    def chunk_offsets(self, chunk: int) -> np.ndarray:
        """Where each text of `chunk` starts in its codes (one more entry: the end)."""
        lengths = self.lengths[chunk * self.chunk_rows: (chunk + 1) * self.chunk_rows]
        out = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=out[1:])
        return out

    def counts(self, rows: np.ndarray) -> Counter:
        """`count_tokens` of the texts `rows` (sorted), in the same order: tokens by first appearance."""
        n_tokens = len(self.tokens)
        total = np.zeros(n_tokens, dtype=np.int64)
        never = np.iinfo(np.int64).max
        first = np.full(n_tokens, never, dtype=np.int64)  # position of each token's first appearance
        member = np.zeros(len(self.lengths), dtype=bool)
        member[rows] = True
        seen = 0
        for chunk, codes in enumerate(self.codes):
            window = slice(chunk * self.chunk_rows, (chunk + 1) * self.chunk_rows)
            part = codes[np.repeat(member[window], self.lengths[window])]
            if not len(part):
                continue
            total += np.bincount(part, minlength=n_tokens)
            distinct, where = np.unique(part, return_index=True)
            new = first[distinct] == never
            first[distinct[new]] = seen + where[new]
            seen += len(part)
        present = np.flatnonzero(total)
        order = present[np.argsort(first[present], kind="stable")]
        return Counter(dict(zip((self.tokens[i] for i in order), total[order].tolist())))

    def ids(self, rows: np.ndarray, vocabulary: list[str], length: int) -> np.ndarray:
        """`token_ids` of the texts `rows` (sorted): (len(rows), length), padded with 0; uint16 when
        every id fits (the vocabulary and the 2 reserved ids within 65,536), else int32."""
        dtype = np.uint16 if len(vocabulary) + RESERVED_IDS <= np.iinfo(np.uint16).max + 1 else np.int32
        lookup = np.full(len(self.tokens), UNKNOWN_ID, dtype=dtype)  # code -> id
        for i, token in enumerate(vocabulary, start=RESERVED_IDS):
            code = self.index.get(token)
            if code is not None:
                lookup[code] = i
        out = np.zeros((len(rows), length), dtype=dtype)
        for chunk, codes in enumerate(self.codes):
            start = chunk * self.chunk_rows
            lo, hi = np.searchsorted(rows, [start, start + self.chunk_rows])
            if lo == hi:
                continue
            starts = self.chunk_offsets(chunk)[rows[lo:hi] - start]
            kept = np.minimum(self.lengths[rows[lo:hi]], length)
            before = np.cumsum(kept) - kept
            position = np.arange(int(kept.sum())) - np.repeat(before, kept)  # within its text
            out[np.repeat(np.arange(lo, hi), kept), position] = lookup[codes[np.repeat(starts, kept) + position]]
        return out


def encode_texts(texts: Any, tokenization: str, chunk_rows: int = ENCODE_CHUNK) -> EncodedTexts:
    """Tokenise `texts` (a list of str, or a pyarrow string array whose nulls count as "") once.

    The same tokens as `split_tokens` for every text. Words are split by pyarrow's compute
    kernels when the texts are (or convert to) an Arrow string array: ASCII lowering, the same
    punctuation removed with RE2, ASCII whitespace split. Those run on one thread per core, a
    chunk each, while the chunks' tokens get their codes here in order; the rest goes through
    `split_tokens`.
    """
    index: dict[str, int] = {}
    codes, lengths, empty = [], [], []
    n = len(texts)
    chunks = [(start, min(start + chunk_rows, n)) for start in range(0, n, chunk_rows)]

    def add(chunk_codes: np.ndarray, chunk_lengths: np.ndarray, chunk_empty: np.ndarray) -> None:
        narrow = len(index) <= np.iinfo(np.uint16).max + 1  # every code so far fits 16 bits
        codes.append(chunk_codes.astype(np.uint16 if narrow else np.uint32, copy=False))
        lengths.append(chunk_lengths)
        empty.append(chunk_empty)

    if tokenization == WORDS and n:
        from concurrent.futures import ThreadPoolExecutor

        def finish(first: int, last: int, future: Any) -> None:
            words = future.result()
            if words is None:  # not Arrow strings (e.g. a lone surrogate): the plain rules
                add(*_encode_python(_python_strings(texts, first, last), WORDS, index))
            else:
                add(*_codes_of_words(words, index))
            _release_arrow_memory()  # pyarrow's allocator keeps the chunk's freed buffers otherwise

        workers = max(1, min(os.cpu_count() or 1, MAX_ENCODE_THREADS))
        with ThreadPoolExecutor(workers) as pool:
            pending: deque = deque()
            for start, stop in chunks:
                pending.append((start, stop, pool.submit(_split_words_arrow, texts, start, stop)))
                if len(pending) > workers:  # at most one chunk waiting per thread
                    finish(*pending.popleft())
            while pending:
                finish(*pending.popleft())
    else:
        for start, stop in chunks:
            add(*_encode_python(_python_strings(texts, start, stop), tokenization, index))
    tokens = list(index)
    return EncodedTexts(tokens, index, codes, _joined(lengths, np.int64), _joined(empty, bool), chunk_rows)


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def _python_strings(texts: Any, start: int, stop: int) -> list[str]:
    if isinstance(texts, (list, tuple)):
        return list(texts[start:stop])
    return ["" if t is None else t for t in texts.slice(start, stop - start).to_pylist()]


def _arrow_strings(texts: Any, start: int, stop: int) -> Any:
    """texts[start:stop] as a pyarrow string or large_string array (nulls as ""), or None if they
    do not convert (e.g. a Python string with a lone surrogate) or are of another Arrow type."""
    import pyarrow as pa

    try:
        if isinstance(texts, (list, tuple)):
            part = pa.array(texts[start:stop], type=pa.large_string())
        else:
            part = texts.slice(start, stop - start)
            if not (pa.types.is_string(part.type) or pa.types.is_large_string(part.type)):
                return None
            # A fresh array whose offsets start at 0 (a small copy): pyarrow 26's ascii_lower writes
            # invalid UTF-8 for an array whose first offset is not 0, such as a cast of a slice.
            part = pa.concat_arrays(part.chunks if isinstance(part, pa.ChunkedArray) else [part])
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    return part.fill_null("") if part.null_count else part


def _release_arrow_memory() -> None:
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _split_words_arrow(texts: Any, start: int, stop: int) -> tuple | None:
    """(the chunk's distinct words, each word's index among them, tokens per text, empty texts) for
    texts[start:stop], or None when they are not Arrow strings. Runs in a worker thread."""
    import pyarrow.compute as pc

    part = _arrow_strings(texts, start, stop)
    if part is None:
        return None
    clean = pc.replace_substring_regex(pc.ascii_lower(part), _PUNCTUATION.pattern, "")
    empty = pc.equal(pc.binary_length(pc.utf8_trim(clean, characters=PYTHON_WHITESPACE)), 0)
    # Split at runs of the six ASCII spaces, as split_tokens does; trimmed first, so the only
    # empty token is that of a text with no token at all.
    trimmed = pc.ascii_trim_whitespace(clean)
    lists = pc.ascii_split_whitespace(trimmed)
    listed = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    has_tokens = pc.not_equal(pc.binary_length(trimmed), 0).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(lists)
    if not has_tokens.all():
        flat = flat.filter(np.repeat(has_tokens, listed))
    encoded = pc.dictionary_encode(flat)
    return (encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False),
            np.where(has_tokens, listed, 0), empty.to_numpy(zero_copy_only=False))


def _codes_of_words(words: tuple, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chunk's words as codes of `index` (new words get the next codes, in the chunk's order)."""
    distinct, indices, lengths, empty = words
    mapping = np.fromiter((index.setdefault(t, len(index)) for t in distinct), dtype=np.int64, count=len(distinct))
    return (mapping[indices] if len(indices) else np.zeros(0, np.int64)), lengths, empty


def _encode_python(texts: list[str], tokenization: str, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes: list[int] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    empty = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        clean = standardize(text)
        tokens = _tokens_of_clean(clean, tokenization)
        lengths[i] = len(tokens)
        empty[i] = not clean.strip()  # = `not any(t.strip() for t in tokens)`: only ASCII spaces fall between tokens
        codes.extend([index.setdefault(t, len(index)) for t in tokens])
    return np.array(codes, dtype=np.uint32), lengths, empty


def token_ids(token_lists: Iterable[list[str]], vocabulary: list[str], length: int) -> np.ndarray:
    """int32 (n, length): each text's first `length` tokens as ids, padded with 0."""
    index = {token: i for i, token in enumerate(vocabulary, start=RESERVED_IDS)}
    rows = [[index.get(t, UNKNOWN_ID) for t in tokens[:length]] for tokens in token_lists]
    out = np.zeros((len(rows), length), dtype=np.int32)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def default_vocabulary_size(counts: Counter) -> int:
    return min(len(counts) + RESERVED_IDS, DEFAULT_MAX_VOCABULARY)


def default_sequence_length(lengths: np.ndarray) -> int:
    """The 95th percentile of the training texts' token counts, within sensible bounds."""
    if not len(lengths):
        return MIN_SEQUENCE_LENGTH
    p = int(np.ceil(np.percentile(lengths, LENGTH_PERCENTILE)))
    return int(min(max(p, MIN_SEQUENCE_LENGTH), AUTO_MAX_SEQUENCE_LENGTH))
