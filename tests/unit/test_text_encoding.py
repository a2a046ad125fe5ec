"""build_text_dataset tokenises once into codes (core.data.tokens.encode_texts: pyarrow kernels for
words, split_tokens otherwise) and never keeps a list of token strings per text. Its Dataset must be
exactly what the plain per-text rules give: split_tokens, count_tokens, build_vocabulary, token_ids."""
from __future__ import annotations

import functools
import random
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

import core.data.texts as texts_module
from core.data.split import split_indices
from core.data.texts import KEPT_TEST_CHARS, MIN_TEXTS_PER_CLASS, build_text_dataset
from core.data.tokens import (
    CHARACTER_BIGRAMS, CHARACTERS, PYTHON_WHITESPACE, WORDS, TextSettings, build_vocabulary, count_tokens,
    default_sequence_length, default_vocabulary_size, encode_texts, split_tokens, token_ids,
)

HOSTILE = [
    "Hello, World!", "  héllo   WÖRLD  ", "ÉCOLE école École", "", "   ", "!!!", "\u3000", "\x1c\x1d", "a\u3000b c",
    "tab\there\nnew\rline\x0bvt\x0cff", "x\x85y\xa0z", "中文文本，很好。", "日本語のテキストです", "emoji 😀👍🏽 ok",
    "don't stop-me now (please)", "word " * 40, "  dup text ", "dup text", "dup text\t", "Ünïcödé ßtraße",
    "mixed 中文 and English", "\u2028line\u2029sep", "zero\u200bwidth", "ﬁ ligature", "İstanbul ıi", "...",
    "a-b_c.d/e:f;g<h>i?j@k[l]m^n`o{p|q}r~s'", "\\back\\slash", "NUL\x00byte", "ok ok ok",
]


def hostile_texts(n: int, seed: int = 1) -> tuple[list[str], np.ndarray]:
    rng = random.Random(seed)
    texts = [rng.choice(HOSTILE) + (" " + rng.choice(HOSTILE) if rng.random() < 0.5 else "") for _ in range(n)]
    return texts, np.arange(n) % 3


def reference(texts: list[str], y: np.ndarray, tokenization: str, settings: TextSettings, seed: int) -> dict:
    """What build_text_dataset gives, computed text by text with the plain rules."""
    token_lists = [split_tokens(t, tokenization) for t in texts]
    keep = [i for i, tokens in enumerate(token_lists) if any(t.strip() for t in tokens)]
    texts, token_lists, y = [texts[i] for i in keep], [token_lists[i] for i in keep], y[keep]
    split = split_indices(y, task="classification", classes=["a", "b", "c"], seed=seed, where="f", unit="texts",
                          min_per_class=MIN_TEXTS_PER_CLASS)
    counts = count_tokens(token_lists[i] for i in split.train)
    lengths = np.array([len(t) for t in token_lists])
    vocabulary = build_vocabulary(counts, settings.vocabulary_size or default_vocabulary_size(counts))
    length = settings.sequence_length or default_sequence_length(lengths[split.train])
    seen = Counter(t.strip() for t in texts)
    repeated = [t for t, n in seen.items() if n > 1]
    return {
        "x": [token_ids([token_lists[i] for i in part], vocabulary, length) for part in (split.train, split.val, split.test)],
        "vocabulary": vocabulary, "length": length, "lengths": lengths, "top": counts.most_common(30),
        "found": len(counts), "characters": [len(t) for t in texts],
        "test_texts": [texts[i][:KEPT_TEST_CHARS] for i in split.test],
        "duplicates": sum(seen[t] - 1 for t in repeated),
    }


def as_input(texts: list[str], form: str):
    if form == "list":
        return texts
    if form == "arrow_nulls":  # a CSV's empty cells arrive as nulls
        return pa.array([t or None for t in texts], type=pa.large_string())
    if form == "chunked":  # the CSV reader hands a big column over in parts
        return pa.chunked_array([pa.array(texts[i: i + 37], type=pa.large_string()) for i in range(0, len(texts), 37)])
    if form == "cast_slice":  # offsets not starting at 0: pyarrow's ascii_lower mishandles those
        return pa.array(["pad"] + texts, type=pa.string()).slice(1).cast(pa.large_string())
    return pa.array(texts, type=pa.string())


@pytest.mark.parametrize("tokenization", [WORDS, CHARACTERS, CHARACTER_BIGRAMS])
@pytest.mark.parametrize("form", ["list", "arrow", "arrow_nulls", "chunked", "cast_slice"])
def test_the_dataset_is_the_one_the_plain_rules_give(monkeypatch, tokenization, form):
    texts, y = hostile_texts(240)
    monkeypatch.setattr(texts_module, "encode_texts", functools.partial(encode_texts, chunk_rows=16))
    monkeypatch.setattr(texts_module, "ENCODE_CHUNK", 16)
    for settings in (TextSettings(tokenization), TextSettings(tokenization, 12, 5)):
        expected = reference(texts, y, tokenization, settings, seed=7)
        ds = build_text_dataset("f", as_input(texts, form), y, task="classification", classes=["a", "b", "c"],
                                sources=[f"t{i}" for i in range(len(texts))], settings=settings, seed=7)
        for got, want in zip((ds.x_train, ds.x_val, ds.x_test), expected["x"]):
            assert got.dtype == np.uint16 and np.array_equal(got, want)
        assert ds.text.vocabulary == expected["vocabulary"] and ds.text.sequence_length == expected["length"]
        assert ds.text.test_texts == expected["test_texts"]
        profile = ds.text.profile
        assert np.array_equal(profile.lengths, expected["lengths"])
        assert profile.characters.tolist() == expected["characters"]
        assert profile.top_tokens == expected["top"] and profile.vocabulary_found == expected["found"]
        assert profile.duplicates == expected["duplicates"]
        assert len(profile.empty) == len(texts) - len(profile.lengths) > 0  # "", "   ", "!!!", "\u3000" ...


def test_lone_surrogates_take_the_plain_path():
    texts, y = hostile_texts(60)
    texts[3], texts[10] = "bad \udc80 surrogate", "\ud800 x"
    encoded = encode_texts(texts, WORDS, chunk_rows=8)
    tokens = [[encoded.tokens[c] for c in codes] for codes in _per_text(encoded)]
    assert tokens == [split_tokens(t, WORDS) for t in texts]


def _per_text(encoded) -> list[np.ndarray]:
    out = []
    for chunk, codes in enumerate(encoded.codes):
        offsets = encoded.chunk_offsets(chunk)
        out += [codes[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    return out


def test_more_than_65536_tokens_widen_the_codes_and_a_large_vocabulary_the_ids():
    texts = [" ".join(f"w{(i * 7 + k) % 90_000}" for k in range(5)) for i in range(20_000)]
    encoded = encode_texts(texts, WORDS, chunk_rows=3_000)
    assert encoded.codes[0].dtype == np.uint16 and encoded.codes[-1].dtype == np.uint32
    rows = np.arange(0, 20_000, 3)
    vocabulary = build_vocabulary(encoded.counts(rows), 50_000)
    assert encoded.counts(rows) == count_tokens(split_tokens(texts[i], WORDS) for i in rows)
    ids = encoded.ids(rows, vocabulary, 4)
    assert ids.dtype == np.uint16  # 49,998 tokens + 2 reserved ids fit
    assert np.array_equal(ids, token_ids([split_tokens(texts[i], WORDS) for i in rows], vocabulary, 4))
    wide = list(encoded.tokens[:70_000])
    assert encoded.ids(rows, wide, 4).dtype == np.int32


def test_python_whitespace_is_what_str_strip_removes():
    assert set(PYTHON_WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
