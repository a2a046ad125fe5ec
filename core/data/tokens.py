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

import re
import string
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable

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
    return _PUNCTUATION.sub("", text.translate(_LOWER))


def split_tokens(text: str, tokenization: str) -> list[str]:
    """The tokens TextVectorization makes of `text` (before the sequence length cuts them)."""
    clean = standardize(text)
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
