"""Translation tables for the UI and for user errors (no Streamlit here).

One plain JSON table per language, `locales/<lang>.json`:
    {"messages": {English text: translation}, "errors": {error code: translated template}}
(a code raised with several English templates has one key per template: "code", "code#2", ...).
English is the source language: en.json maps each message to itself and each error code to
its English template, so both tables have the same keys (scripts/i18n_extract.py writes
en.json from the source and reports what zh.json lacks). English lookups are the identity.

Core builds a few English pieces into rows and error parameters ("layer 3 (Dense)", "a whole
number"). They are listed in CORE_FRAGMENTS and translated back by pattern, so a Chinese
error message never carries an English fragment.
"""
from __future__ import annotations

import json
import re
import string
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = {"en": "English", "zh": "简体中文"}
SOURCE_LANG = "en"

# English pieces core builds into shape-report rows and error parameters (see the modules
# named). A {placeholder} matches any text; what it matched is translated in turn.
CORE_FRAGMENTS = (
    # core.spec: where a setting lives
    "Layer {layer} ({type})",
    "Optimizer ({name})",
    "Training settings",
    "Training",
    "no settings",
    # core.layers.base: Param.describe_type, ranges
    "{expected} or null",  # before "one of {choices}", which would swallow " or null"
    "a whole number",
    "a number",
    "true or false",
    "one of {choices}",
    "a list of whole numbers such as [8, 1]",
    "any",
    # core.shapes: rows and notice parameters
    "{n} input values",
    "{h}×{w} pixels, 1 channel",
    "{h}×{w} pixels, {channels} channels",
    "pixels 0–255 → 0–1",
    # core.backbones: a backbone's row and the preprocessing row in front of it
    "{name}, ImageNet weights, {size} px, frozen",
    "{name}, ImageNet weights, {size} px, last {n} layers fine-tuned",
    "{name}, random weights, {size} px, frozen",
    "{name}, random weights, {size} px, last {n} layers fine-tuned",
    "your model {file}, frozen",
    "your model {file}, last {n} layers fine-tuned",
    "gray copied to 3 channels, resized to {h}×{w}; {steps}",
    "gray copied to 3 channels; {steps}",
    "resized to {h}×{w}; {steps}",
    "the network scales the pixels itself",
    "pixels 0–255 → −1…1",
    "RGB → BGR, ImageNet mean subtracted",
    "your model scales the pixels itself",
    # core.backbones.check_weights_file: why a weights file does not fit ({reason})
    "it is not a weights file (.h5)",
    "it could not be read in time",
    "it holds no layer weights that LayerLab can read",
    "it has weights for {count} layers, {name} has {expected}",
    "layer {layer} has weights of shapes {have}, {name}'s layer {want_layer} needs {want}",
    "it has no weights for layer {layer}",
    "layer {layer} has weights of shapes {have} instead of {want}",
    "Embedding reads the raw codes",
    "mean 0, variance 1 (from the training split)",
    "categories one-hot encoded ({values} values)",
    "(not seen in training)",
    "numbers: mean 0, variance 1; categories one-hot encoded ({values} values)",
    "{n} classes, softmax",
    "1 value, linear, scaled to the target's units",
    "layer {n} ({type})",
    "the input",
    "Flatten or GlobalAveragePooling2D",
    "Flatten or GlobalAveragePooling1D (or switch return_sequences off)",
    # core.data.kinds.series: a series' rows (before "{units} units", which would match the output row)
    "the last {window} steps of {k} series",
    "mean 0, variance 1 per series (from the training period)",
    "{n} values ahead: {start} plus a learned change, in the series' units",
    # core.blocks: positions inside blocks ("3 › branch 2 › layer 1"; the branch form first, so the
    # part before " › layer" is never left in English), a shortcut's projection, what to move out.
    # Before the layers' key settings: "{filters} filters of {k}" would take "projection: 16" as {filters}.
    "{block} › branch {branch} › layer {layer}",
    "{block} › layer {layer}",
    "projection: {what}",
    "Flatten or global pooling",
    # core.layers: the key settings shown in each row ("32 filters 3×3, relu, same")
    "{filters} filters {k}×{k}",
    "{filters} filters of {k}",
    "{units} units",
    "all steps",
    "last step",
    "stride {n}",
    "same",  # padding "same" in a row's key settings ("16 filters 3×3, relu, same")
    "{n} codes → {m} values per code",  # Embedding (an empty input_dim: only the second part)
    "{m} values per code",
    "to [{shape}]",
    # core.blocks, core.shapes: block and shortcut rows (positions inside blocks: at the end)
    "1 layer",
    "{n} layers",
    "input added back",
    "{n} branches",
    "concatenate",
    "add",
    "shortcut: {what}",
    "identity",
    "the shortcut of layer {n} (Residual)",
    "Flatten, global pooling, Reshape or an LSTM/GRU without return_sequences",
    "Flatten, global pooling or Reshape",
    # core.data: tasks, units and file kinds named in messages
    "classification",
    "regression",
    "rows",
    "images",
    "row",
    "image",
    "a zip archive (an Excel .xlsx file is one too): save your sheet as CSV",
    "a PDF document: export the table as CSV",
    "a PNG image",
    "a JPEG image",
    "an old Excel/Word file: save your sheet as CSV",
    "a GIF image",
    "a gzip-compressed file: decompress it first",
    # core.data.tables: why a column got its kind (the Data page's column table), load warnings
    "empty: no numbers in any row",
    "the same value ({value}) in every row, so it tells the model nothing",
    "numbers",
    "a different whole number in every row, like a row number or an id",
    "whole-number codes ({n} different values), used as categories",
    "whole numbers",
    "{reason} (some cells were text)",
    "empty: no value in any row",
    "the same value ('{value}') in every row",
    "text with {n} different values",
    "free text (sentences); used only by a text model: choose 'Classify this text'",
    "different in every row, like an id or a name",
    "too many different values ({n}) to use as categories",
    "dates or times; not used by the model (add a numeric column, such as the month, if it matters)",
    "yes/no values, used as 1/0",
    "the same yes/no value in every row",
    "chosen by you; not used by the model",
    "numbers (chosen by you)",
    "categories (chosen by you), {n} different values",
    "Column '{name}' in {file} holds numbers, but {n} cell(s) are text (first: '{value}' on line {line}). Those cells are treated as empty; fix them in the file if they matter.",
    "Column '{name}' in {file} holds {n} number(s) too large for the model (beyond ±3.4e38; first: {value} on line {line}). Those cells are treated as empty.",
    "{n} row(s) of {file} have an empty target '{target}' and were left out.",
    "The images have different sizes; all were resized to {h}×{w} pixels.",
    "{n} file(s) that are not images were ignored.",
    "There are many images, so they were made smaller ({h}×{w}) to fit in memory.",
    # core.data.images / archive: why a file was skipped, why an image cannot be used
    "a zip inside the zip; nested archives are not opened",
    "not a PNG, JPEG, BMP, GIF or WebP image (judged by its content)",
    "not inside a class folder",
    "a symbolic link; links are not followed",
    "password-protected; zip without a password",
    "damaged inside the zip ({error})",
    "too many pixels (a possible decompression bomb)",
    "cannot be decoded as {fmt} ({error})",
    "too many pixels ({w}×{h}, a possible decompression bomb)",
    "too many pixels for its file size ({w}×{h} in {n} bytes, a possible decompression bomb)",
    "the same file as {file}; only that one is used",
    "has no pixels",
    "damaged or truncated ({error})",
    # core.data.texts, tokens, kinds.text, archive_data, text_files: text data (tests/unit/test_i18n.py
    # checks that every reason, label and note template of those modules is listed here)
    "words (split at spaces)",
    "single characters",
    "single characters and pairs of neighbouring characters",
    "the text the model reads",
    "not used: a text model reads only the column '{column}'",
    "texts",
    "vocabulary size",
    "sequence length",
    "texts: up to {n} words each",
    "texts: up to {n} characters each",
    "{n} tokens → ids",
    "{n} tokens → present or not",
    "TextVectorization + multi-hot",
    "{n} empty text(s) were left out: {sources}.",
    "{n} text(s) have more than {length} tokens and were cut to their first {length} tokens (the longest has "
    "{longest}). Raise the sequence length to use more of each text.",
    "{n} text(s) repeat an earlier one (for example '{example}'). They are kept; a copy in the test split makes "
    "the test score look better than it is.",
    "{n} file(s) that are not .txt files were ignored.",
    "{names}: longer than the {n} tokens the model reads; only the beginning was used.",
    "{names}: none of its words were in the training texts, so the answer is a guess.",
    " ('{file}': {reason})",  # text.no_files: the first skipped file and why
    "{n} file(s) were not UTF-8 and were read as {encoding}.",
    "{file} is not saved as UTF-8; it was read as {encoding}. If the texts look wrong, save it again as CSV UTF-8.",
    "{n} text(s) are longer than {limit} characters; only the first {limit} characters of each were read.",
    "{n} file(s) were not UTF-8: {details}.",
    "{n} read as {encoding}",
    "binary data, not text (it contains NUL bytes)",
    "binary data, not text (it has many control characters)",
    "text in an encoding LayerLab cannot recognise; save it as UTF-8",
    "damaged UTF-16 or UTF-32 text (it has a byte-order mark but cannot be read); save it as UTF-8",
    "binary data, not text (it looks like a WebP image)",
    "binary data, not text (it looks like a PDF document)",
    "binary data, not text (it looks like a PNG image)",
    "binary data, not text (it looks like a JPEG image)",
    "binary data, not text (it looks like a GIF image)",
    "binary data, not text (it looks like a zip archive, such as a Word .docx file)",
    "binary data, not text (it looks like an old Word or Excel document)",
    "binary data, not text (it looks like a program)",
    "binary data, not text (it looks like a gzip-compressed file)",
    "binary data, not text (it looks like a compressed archive)",
    "formatted text (an RTF document), not plain text; save it as plain text (.txt)",
    "Big5 (Traditional Chinese)",
    "Big5-HKSCS (Traditional Chinese)",
    "EUC-JP (Japanese)",
    "EUC-KR (Korean)",
    "GB18030 (Chinese)",
    "GB2312 (Chinese)",
    "GBK (Chinese)",
    "ISO-2022-JP (Japanese)",
    "KOI8-R (Russian)",
    "Latin-1 (Western European)",
    "Shift-JIS (Japanese)",
    "Windows-1250 (Central European)",
    "Windows-1251 (Cyrillic)",
    "Windows-1252 (Western European)",
    "Windows-1253 (Greek)",
    "Windows-1254 (Turkish)",
    "Windows-1255 (Hebrew)",
    "Windows-1256 (Arabic)",
    # core.data.series, core.data.dates: what reading a time series tells the page, and the words its
    # messages are built from (tests/unit/test_data_series.py checks that series.NOTES and dates.NOTES are here)
    "There is no date column, so the row order is taken as time: each row is one step.",
    "{n} row(s) without a date in '{column}' were left out (the first: row {row}).",
    "{n} row(s) that are not data (such as '{value}' in row {row}: a total, or the header again) were left out.",
    "{n} empty row(s) were skipped.",
    "{n} row(s) at the end have no numbers and no date (such as '{value}' in row {row}); they were left out.",
    "The rows were not in date order; they were sorted by '{column}'.",
    "{n} row(s) repeat another row exactly (the same time and values, such as {stamp}); each was kept once.",
    "{n} rows share their time with another row but have other values (such as {stamp}); the values of each time "
    "were averaged.",
    "{n} row(s) fall on the same time step as another (such as {stamp}); the values of each step were averaged.",
    "The dates in '{column}' are not evenly spaced, so each row is taken as one step.",
    "The dates in '{column}' are not evenly spaced ({frequency} mostly), so each row is taken as one step.",
    "{n} time step(s) had no row (the longest gap: {gap} steps); their values were carried forward from the step "
    "before.",
    "The first {n} row(s) were left out: not every series has a value there yet, and values are only ever filled "
    "from the past.",
    "The last {n} row(s) have no value of '{column}' yet, so they were left out: the forecast starts after the last "
    "value.",
    "Empty values were carried forward from the step before: {counts}.",
    "'{column}': {n} cell(s) that are not numbers (such as '{value}' in row {row}) were treated as empty and filled "
    "from the step before.",
    "The series is short, so the model looks back {window} steps and forecasts {horizon} (the usual {usual_window} "
    "and {usual_horizon} for {frequency} data need more rows).",
    "The series is short, so the model looks back {window} steps and forecasts {horizon} (the usual {usual_window} "
    "and {usual_horizon} need more rows).",
    "The dates in '{column}' read both as day/month and as month/day; they were read day first. Choose the order on "
    "the Data page (or --date-order) if that is wrong.",
    "The dates in '{column}' carry time-zone offsets; they were read as the local dates.",
    "The times in '{column}' carry time-zone offsets; they were converted to UTC, so a change to or from summer time "
    "leaves no gap and no repeated hour.",
    "minutely",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
    "every {n} days",
    "every {n} hours",
    "every {n} minutes",
    "every {n} seconds",
    "Unix seconds",
    "Unix milliseconds",
    "Excel day numbers (45322)",
    "day first",
    "month first",
    "look-back window",
    "horizon (steps ahead)",
    "dates or times",
    "yes/no values",
    "a series the model reads",
    "not used",
    "the recent rows",
    # core.forecast: the verdict next to the baselines (tests/unit/test_forecast.py checks they are here)
    "The model's forecasts are not numbers (training diverged): try a lower learning rate.",
    "The test period repeats its last value exactly, so the naive forecast cannot be beaten.",
    "Does not beat the naive forecast (repeat the last value): its error is {share} larger (MAE). Try a longer window "
    "or a simpler network.",
    "Beats the naive forecast by {gain} (MAE).",
    "Beats the naive forecast by {gain} (MAE) and the seasonal naive forecast by {seasonal_gain}.",
    "Beats the naive forecast by {gain} (MAE), but not the seasonal naive forecast (the value one season ago): its "
    "error is {share} larger than that one's. Try a window of at least one season, or a simpler network.",
    "less than 1%",
    "step {n}",
    "the value one season earlier",
    "the last value",
    # core.training: the {monitor} and {error} of a run's end message
    "validation loss",
    "training loss",
    "the computer ran out of memory — try a smaller batch size or a smaller model",
    # core.blocks.position_name: a position inside blocks ("3 › branch 2 › layer 1"). Last: any text
    # with " › layer " matches these, so every pattern that names a position around it comes first
    "{a} › branch {b}",
    "{a} › layer {b}",
)
_FRAGMENT_SET = frozenset(CORE_FRAGMENTS)
# "one of a, b or null" nests two patterns; a position two blocks deep ("Layer 1 › branch 2 › layer 1 ›
# branch 1 › layer 1 (Conv2D)") nests five; more would be a table mistake
_FRAGMENT_DEPTH = 6


def N_(text: str) -> str:
    """Mark an English text kept in a table for translation later (gettext's N_): the
    extractor collects it; whoever shows it calls t() / translate() on it."""
    return text


def read_table(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {"messages": {}, "errors": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"messages": dict(data.get("messages", {})), "errors": dict(data.get("errors", {}))}


@lru_cache(maxsize=None)
def load_table(lang: str) -> dict[str, dict[str, str]]:
    if lang == SOURCE_LANG or lang not in LANGUAGES:
        return {"messages": {}, "errors": {}}
    return read_table(LOCALES_DIR / f"{lang}.json")


def _fill(template: str, params: dict) -> str:
    try:
        return template.format(**params) if params else template
    except (KeyError, IndexError, ValueError):
        return template


def translate(text: str, lang: str = SOURCE_LANG, **params: object) -> str:
    """Render an English UI string in `lang`, filling `{named}` placeholders.

    A parameter that is exactly one of CORE_FRAGMENTS ("validation loss") is translated too;
    anything else (file names, numbers, the user's labels) stays as it is."""
    if lang == SOURCE_LANG:
        return _fill(text, params)
    table = load_table(lang)["messages"]
    if params:
        params = {key: table.get(value, value) if isinstance(value, str) and value in _FRAGMENT_SET else value
                  for key, value in params.items()}
    return _fill(table.get(text, text), params)


def translate_error(code: str, template: str, lang: str = SOURCE_LANG, **params: object) -> str:
    """A UserError's message in `lang`: the table's template for `code`, English pieces in the
    parameters translated too (a column name or a number stays as it is)."""
    if lang == SOURCE_LANG:
        return _fill(template, params)
    table = load_table(lang)["errors"]
    # a parameter may be another UserError (the problem behind this one): rendered in the same language
    translated = {key: translate_fragment(value, lang) if isinstance(value, str)
                  else value.render(lang) if isinstance(value, Exception) and hasattr(value, "render") else value
                  for key, value in params.items()}
    return _fill(table.get(error_key(code, template), template), translated)


@lru_cache(maxsize=None)
def _variant_keys() -> dict[tuple[str, str], str]:
    """(code, English template) -> "code#N", for codes raised with several templates (en.json)."""
    english = read_table(LOCALES_DIR / f"{SOURCE_LANG}.json")["errors"]
    return {(key.split("#")[0], template): key for key, template in english.items() if "#" in key}


def error_key(code: str, template: str) -> str:
    """The table key of an error: its code, or "code#N" when the code has several templates."""
    return _variant_keys().get((code, template), code)


@lru_cache(maxsize=None)
def _fragment_patterns(lang: str) -> tuple[tuple[re.Pattern, str], ...]:
    """CORE_FRAGMENTS with placeholders, as anchored regexes (a repeated name must match the same text)."""
    table = load_table(lang)["messages"]
    patterns = []
    for english in CORE_FRAGMENTS:
        if "{" not in english or english not in table:
            continue
        seen: set[str] = set()
        regex = ""
        for literal, name, _, _ in string.Formatter().parse(english):
            regex += re.escape(literal)
            if name:
                regex += f"(?P={name})" if name in seen else f"(?P<{name}>.+?)"
                seen.add(name)
        patterns.append((re.compile(regex + r"\Z", re.DOTALL), table[english]))
    return tuple(patterns)


@lru_cache(maxsize=4096)
def translate_fragment(text: str, lang: str = SOURCE_LANG, depth: int = 0) -> str:
    """An English piece built by core, in `lang`: an exact table entry, a CORE_FRAGMENTS pattern
    (its parts translated in turn), or comma-separated parts each translated; else unchanged."""
    if lang == SOURCE_LANG or not text or depth > _FRAGMENT_DEPTH:
        return text
    messages = load_table(lang)["messages"]
    if text in _FRAGMENT_SET:
        return messages.get(text, text)
    if ", " in text and depth > 0:
        # A placeholder's value that is a list of fragments ("3 read as GBK (Chinese), 1 read as ..."):
        # each item on its own, before a pattern's lazy placeholder swallows the rest of the list.
        parts = text.split(", ")
        translated = [translate_fragment(part, lang, depth + 1) for part in parts]
        if all(new != old for new, old in zip(translated, parts)):
            return "，".join(translated)
    for pattern, template in _fragment_patterns(lang):
        match = pattern.match(text)
        if match:
            parts = {k: translate_fragment(v, lang, depth + 1) for k, v in match.groupdict().items()}
            return _fill(template, parts)
    if ", " in text and depth == 0:
        parts = text.split(", ")
        translated = [translate_fragment(part, lang, depth + 1) for part in parts]
        if translated != parts:
            return "，".join(translated)
    return text
