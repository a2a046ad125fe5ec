"""core.data.tokens against Keras `TextVectorization`: the server turns a typed text into token
ids without TensorFlow, and the downloaded model does it with the layer; a user would notice any
difference as a different answer for the same text. So each tokenization is compared id for id
with the layer on hostile text, and the vocabulary counted on the training texts is compared
with what the layer's own `adapt` finds."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from core.data.tokens import (  # noqa: E402
    CHARACTER_BIGRAMS, CHARACTERS, TOKENIZATIONS, WORDS, TextData, build_vocabulary, count_tokens, guess_tokenization,
    keras_settings, split_tokens,
)
from tests.datafiles import HOSTILE_TEXTS  # noqa: E402

# texts the vocabulary never saw: their tokens are unknown (id 1)
UNSEEN = ["brand new words ÉTÉ", "完全不同的句子", "🦄🦄 unicorn", "\t\t", "Ünïcödé ＮＥＷ"]
LENGTHS = (1, 7, 64)


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def _layer(keras, tokenization: str, vocabulary: list[str], length: int | None = None, output_mode: str = "int"):
    return keras.layers.TextVectorization(
        **keras_settings(tokenization), max_tokens=len(vocabulary) + 2, output_mode=output_mode,
        output_sequence_length=length, vocabulary=vocabulary,
    )


def _vocabulary(texts: list[str], tokenization: str, size: int = 50_000) -> list[str]:
    return build_vocabulary(count_tokens(split_tokens(t, tokenization) for t in texts), size)


@pytest.mark.parametrize("tokenization", list(TOKENIZATIONS))
def test_token_ids_equal_the_keras_layers(keras, tokenization):
    # the vocabulary from half of the texts, cut short: the other half has unknown tokens
    vocabulary = _vocabulary(HOSTILE_TEXTS[::2], tokenization, size=120)
    texts = HOSTILE_TEXTS + UNSEEN
    for length in LENGTHS:
        ours = TextData(tokenization, vocabulary, length).ids(texts)
        theirs = np.asarray(_layer(keras, tokenization, vocabulary, length)(np.array(texts, dtype=object)))
        for text, mine, layer in zip(texts, ours, theirs):
            assert mine.tolist() == layer.tolist(), (tokenization, length, text)
        assert ours.dtype == np.int32 and ours.shape == (len(texts), length)


@pytest.mark.parametrize("tokenization", list(TOKENIZATIONS))
def test_the_counted_vocabulary_is_what_adapt_finds(keras, tokenization):
    texts = HOSTILE_TEXTS + UNSEEN
    counts = count_tokens(split_tokens(t, tokenization) for t in texts)
    vocabulary = build_vocabulary(counts, 50_000)

    adapted = keras.layers.TextVectorization(**keras_settings(tokenization), output_mode="int")
    adapted.adapt(np.array(texts, dtype=object))
    found = adapted.get_vocabulary()
    assert found[:2] == ["", "[UNK]"]
    assert set(found[2:]) == set(vocabulary)
    # the layer's own count of every token (output_mode "count", summed over the texts; column 0
    # counts unknown tokens, there is no padding column) == ours
    counted = np.asarray(_layer(keras, tokenization, vocabulary, output_mode="count")(np.array(texts, dtype=object)))
    assert counted.shape[1] == len(vocabulary) + 1 and counted[:, 0].sum() == 0
    assert dict(zip(vocabulary, counted.sum(axis=0)[1:].astype(int).tolist())) == dict(counts)
    # the same list in the same order, ties included: the same ids as an adapted layer
    assert found[2:] == vocabulary

    # a smaller vocabulary keeps the same tokens, the ties at the cut included
    size = 40
    cut = keras.layers.TextVectorization(**keras_settings(tokenization), max_tokens=size, output_mode="int")
    cut.adapt(np.array(texts, dtype=object))
    assert cut.get_vocabulary()[2:] == build_vocabulary(counts, size)


@pytest.mark.parametrize("tokenization", list(TOKENIZATIONS))
def test_a_nul_character_is_an_unknown_token_the_layer_accepts(keras, tokenization):
    """Keras keeps its vocabulary in a NumPy array, which drops trailing NULs: "\\x00" became a
    second mask token "" and the layer refused the vocabulary (the downloaded model could not be made)."""
    texts = ["nul\x00 inside\x00 \x00", "tail\x00", "\x00\x00 lead", "plain words"]
    vocabulary = _vocabulary(texts, tokenization)
    assert not [t for t in vocabulary if t.endswith("\x00")]
    ours = TextData(tokenization, vocabulary, 12).ids(texts)
    theirs = np.asarray(_layer(keras, tokenization, vocabulary, 12)(np.array(texts, dtype=object)))
    assert ours.tolist() == theirs.tolist()


def test_what_a_user_sees_of_the_rules():
    # ASCII letters only are lower-cased: É and the Greek or Cyrillic capitals stay as typed
    assert split_tokens("ÉCOLE École ΑΒΓ Русский", WORDS) == ["École", "École", "ΑΒΓ", "Русский"]
    # ASCII punctuation goes, full-width punctuation and U+3000 stay inside the word
    assert split_tokens("Hi, there! 你好，世界　again", WORDS) == ["hi", "there", "你好，世界　again"]
    # every code point is a character: a flag is two, a skin-toned thumb two, a ZWJ family seven
    assert len(split_tokens("🇫🇷", CHARACTERS)) == 2 and len(split_tokens("👍🏽", CHARACTERS)) == 2
    assert len(split_tokens("👨‍👩‍👧‍👦", CHARACTERS)) == 7
    # pairs come after all the single characters, joined by one space
    assert split_tokens("abc", CHARACTER_BIGRAMS) == ["a", "b", "c", "a b", "b c"]
    # 0 pads, 1 is unknown, the vocabulary starts at 2; long texts are cut
    assert TextData(WORDS, ["the", "cat"], 4).ids(["The cat sat", "cat " * 9]).tolist() == [[2, 3, 1, 0], [3, 3, 3, 3]]


def test_chinese_and_japanese_are_split_into_characters_english_and_korean_into_words():
    assert guess_tokenization(["这家酒店很干净，服务也很好。", "质量太差了"]) == CHARACTER_BIGRAMS
    assert guess_tokenization(["日本語の文章です"]) == CHARACTER_BIGRAMS
    assert guess_tokenization(["Free entry to win a prize!", "See you at 5"]) == WORDS
    assert guess_tokenization(["한국어 문장입니다"]) == WORDS  # Korean puts spaces between words
    assert guess_tokenization(["", "!!!"]) == WORDS
    mostly_english = ["Meet me at the station at 6, ok? 谢谢"] * 5
    assert guess_tokenization(mostly_english) == WORDS


def test_counts_are_whole_tokens_not_substrings():
    counts = count_tokens(split_tokens(t, WORDS) for t in ["cat cats cat", "Cat."])
    assert counts == Counter({"cat": 3, "cats": 1})
