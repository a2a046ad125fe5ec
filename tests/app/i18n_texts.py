"""Every text a page shows (AppTest element tree) and a test for "this is still English".

Used by test_i18n_pages: with Chinese selected, a visible text that still holds English words
(beyond Keras names, file names, units and the user's own data) was not translated.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from streamlit.testing.v1 import AppTest

# Proto fields that hold text a person reads.
TEXT_FIELDS = {"label", "help", "body", "placeholder", "options", "text", "title", "caption", "captions"}

# Words that stay English in the Chinese UI: product and format names, Keras and metric names, units.
ALLOWED_WORDS = {
    "LayerLab", "Keras", "keras", "TensorFlow", "TFLite", "LiteRT", "Python", "CSV", "JSON", "zip", "Zip", "UTF",
    "PNG", "JPEG", "BMP", "GIF", "WebP", "TSV", "TXT", "Excel", "CNN", "LeNet", "VGG", "RMSE", "MAE", "MSE", "MAPE", "F1", "R²",
    "KB", "MB", "GB", "B", "ms", "ASCII", "L1", "L2", "float32", "float16", "int8", "dynamic_range", "ETA", "softmax", "linear",
    "saving", "load_model", "he_normal", "null", "true", "false", "inf", "cm",
    "English",  # the language switch names each language in itself
    "ResNet", "Inception",  # the architectures blocks are named after
    "Ray", "TPE", "NaN",  # the design search: the cluster engine, Optuna's sampler, a loss that is not a number
}
_DROP = [
    re.compile(r":material/[a-z_]+:"),  # icons
    re.compile(r"`[^`]*`"),  # code spans: shapes, file names, settings
    re.compile(r"\b[\w.-]+\.(?:keras|tflite|json|py|csv|zip|png|jpe?g)\b"),  # file names
    re.compile(r"https?://\S+"),
    re.compile(r"\{[a-z_]*\}"),  # {placeholders} of table entries (never on a drawn page)
    re.compile(r"\b\d+(?:\.(?:b\d+|\d+|s))+\b"),  # positions inside blocks: "3.b2.1" (core.blocks.path_label)
]
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def keras_words() -> set[str]:
    """Layer, block, optimizer and setting names and their choice values (never translated)."""
    from core.catalog import LAYERS, OPTIMIZERS, TRAINING_PARAMS

    from core.data.samples import SAMPLES

    words: set[str] = set(LAYERS) | set(OPTIMIZERS) | {"Input", "Rescaling", "Normalization", "TextVectorization", "None"}
    words |= set(SAMPLES)  # sample ids name data sets, like file names
    from core.blocks import BLOCK_PARAMS, BLOCK_TYPES

    words |= set(BLOCK_TYPES)  # project-file names, like layer types ("Residual", "Branches")
    from core.backbones import BACKBONE, BACKBONES, MODEL_PARAMS, NAMED_PARAMS

    # the pretrained networks' own names, and the Keras layers LayerLab puts in front of them
    words |= {BACKBONE, *BACKBONES, "MobileNet", "ImageNet", "BatchNormalization", "Resizing", "Concatenate"}
    params = [p for entry in (*LAYERS.values(), *OPTIMIZERS.values()) for p in entry.params]
    params += [p for block in BLOCK_PARAMS.values() for p in block]
    params += [*NAMED_PARAMS, *MODEL_PARAMS]
    for param in [*params, *TRAINING_PARAMS.values()]:
        words.add(param.name)
        words.update(param.choices)
    return words


def data_words(dataset) -> set[str]:
    """The user's own data: column and class names and the data set's name stay as they are."""
    words: set[str] = set()
    names = [dataset.name, *(getattr(dataset, "classes", None) or [])]
    for attr in ("feature_names", "columns", "target"):
        value = getattr(dataset, attr, None)
        names += [value] if isinstance(value, str) else list(value or [])
    features = getattr(dataset, "features", None) or []
    names += [getattr(f, "name", f) for f in features]
    text = getattr(dataset, "text", None)  # a text dataset: its texts and tokens are the user's words too
    if text is not None:
        names += [*text.vocabulary, *text.test_texts]
        profile = getattr(text, "profile", None)
        if profile is not None:
            names += [token for token, _ in profile.top_tokens] + list(profile.duplicate_examples)
            names += [example for examples in profile.examples.values() for example in examples]
    series = getattr(dataset, "series", None)  # a series: its columns and date column
    if series is not None:
        names += [*series.columns, series.date_column or ""]
    for name in names:
        words.update(_WORD.findall(str(name)))
    return words


def english_words(text: str, allowed: set[str]) -> list[str]:
    for pattern in _DROP:
        text = pattern.sub(" ", text)
    allowed = allowed | ALLOWED_WORDS
    return [w for w in _WORD.findall(text) if len(w) > 1 and w not in allowed and w.strip("_") not in allowed]


def _proto_texts(message) -> Iterator[str]:
    for field, value in message.ListFields():
        if field.message_type is not None:
            for item in [value] if hasattr(value, "ListFields") else value:
                if hasattr(item, "ListFields"):  # not a map entry's plain value
                    yield from _proto_texts(item)
        elif field.name in TEXT_FIELDS:
            yield from [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def _chart_texts(spec: str) -> Iterator[str]:
    """Plotly: the titles of the figure and its axes, and the legend names."""
    figure = json.loads(spec)
    layout = figure.get("layout", {})
    for key, part in layout.items():
        if isinstance(part, dict) and isinstance(part.get("title"), dict):
            yield part["title"].get("text") or ""
    if isinstance(layout.get("title"), dict):
        yield layout["title"].get("text") or ""
    for annotation in layout.get("annotations", []):
        yield annotation.get("text") or ""
    for trace in figure.get("data", []):
        if trace.get("showlegend", True) is not False and trace.get("name"):
            yield trace["name"]


def _table_headers(node) -> list[str]:
    """Column headers as shown: a column_config label where one is set, else the column's name."""
    config = json.loads(node.proto.columns or "{}") if getattr(node.proto, "columns", "") else {}
    headers = []
    for column in getattr(node.value, "columns", []):
        label = (config.get(str(column)) or config.get(f"_pos:{column}") or {}).get("label")
        headers.append(str(label or column))
    return headers


def _nodes(node) -> Iterator:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def visible_texts(at: AppTest) -> list[str]:
    """Texts of every element on the page and in the sidebar, including chart and table headers."""
    texts: list[str] = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = getattr(node, "type", "")
        if kind == "plotly_chart":
            texts += _chart_texts(proto.spec)
        elif kind == "graphviz_chart":
            texts += [label.replace("\\n", "\n") for label in re.findall(r'label="((?:[^"\\]|\\.)*)"', proto.spec)]
        elif kind in ("dataframe", "arrow_data_frame", "table"):
            texts += _table_headers(node)
        else:
            texts += list(_proto_texts(proto))
    return [t for t in texts if t and t.strip()]


def untranslated(texts: Iterable[str], allowed: set[str]) -> list[tuple[str, list[str]]]:
    return [(text, words) for text in texts if (words := english_words(text, allowed))]


def chinese_page(ws, page: str | None):
    """An AppTest run of `page` (None: Home) in Chinese, with workspace `ws` (or none), without exceptions."""
    from components.i18n import LANG_KEY
    from tests.app.apptest import exceptions, new_app

    at = new_app()
    at.session_state[LANG_KEY] = "zh"
    if ws is not None:
        at.session_state["workspace"] = ws
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not exceptions(at), exceptions(at)
    return at


def assert_all_chinese(at, ws, user_words: frozenset[str] = frozenset()) -> None:
    """Every visible text of the run is Chinese, but for Keras names, units and the user's own data."""
    allowed = keras_words() | user_words | (data_words(ws.dataset) if ws is not None and ws.dataset is not None else set())
    texts = visible_texts(at)
    assert len(texts) > 10, texts  # the page did draw
    gaps = untranslated(texts, allowed)
    assert not gaps, "English on a Chinese page:\n" + "\n".join(f"  {text!r}: {words}" for text, words in gaps)

