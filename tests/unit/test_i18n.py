"""The translation tables: same keys in every language, same placeholders, nothing left in English,
tables in step with the source; errors and core fragments render in Chinese; the CLI's --lang."""
from __future__ import annotations

import json
import re
import string
import subprocess
import sys

import pytest

from core import i18n
from core.errors import UserError
from core.i18n import LANGUAGES, LOCALES_DIR, read_table, translate, translate_error, translate_fragment
from scripts import i18n_extract
from tests.app.i18n_texts import english_words, keras_words

ROOT = LOCALES_DIR.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def table(lang: str) -> dict[str, dict[str, str]]:
    return read_table(LOCALES_DIR / f"{lang}.json")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
@pytest.mark.parametrize("section", ["messages", "errors"])
def test_every_key_exists_in_every_language(lang, section):
    english, other = table("en")[section], table(lang)[section]
    assert english, "en.json is empty"
    assert sorted(set(english) - set(other)) == [], f"missing from {lang}.json"
    assert sorted(set(other) - set(english)) == [], f"in {lang}.json but no longer in the source"


@pytest.mark.parametrize("section", ["messages", "errors"])
def test_translations_keep_the_placeholders(section):
    english, chinese = table("en")[section], table("zh")[section]
    wrong = {key: (placeholders(english[key]), placeholders(chinese[key]))
             for key in english if key in chinese and placeholders(english[key]) != placeholders(chinese[key])}
    assert wrong == {}


def test_english_messages_are_the_identity_and_errors_their_source_templates():
    english = table("en")
    assert all(key == value for key, value in english["messages"].items())
    assert english["errors"]["spec.not_json#2"] == "The project file is not valid JSON: {reason}."


def test_no_chinese_entry_is_left_in_english():
    allowed = keras_words()
    untranslated = [key for key, value in table("zh")["messages"].items()
                    if english_words(key, allowed) and not CJK.search(value)]
    untranslated += [code for code, value in table("zh")["errors"].items() if not CJK.search(value) and value != "{message}"]
    assert untranslated == []


def test_tables_are_up_to_date_with_the_source():
    catalog = i18n_extract.extract()
    assert catalog.problems == []  # no f-string given to t(), no error without a literal template
    assert i18n_extract.english_table(catalog, table("en")["errors"]) == table("en"), (
        "locales/en.json is out of date: run scripts/i18n_extract.py and translate what it reports"
    )


def test_extractor_finds_t_calls_catalog_help_errors_and_flags_f_strings(tmp_path):
    catalog = i18n_extract.extract()
    assert "Try it with a sample" in catalog.messages  # t("…") in components/home_view.py
    assert "Input" in catalog.messages  # t(ROLE_NAMES.get(...)): a dict's values
    assert "dynamic range (8-bit weights)" in catalog.messages  # t(module-level dict[...])
    from core.catalog import LAYERS

    assert LAYERS["Dense"].help in catalog.messages
    assert catalog.variants["spec.not_json"] == [
        "The project file is not valid JSON (line {line}, column {column}: {reason}).",
        "The project file is not valid JSON: {reason}.",
    ]
    assert catalog.variants["build.needs_flat"][0].startswith("Layer {layer} ({type}): ")  # as core.shapes shows it

    source = tmp_path / "page.py"
    source.write_text('from components.i18n import N_, t\nname = "x"\nt(f"Hello {name}")\nt("Plain " "text")\n'
                      'LABELS = {"a": N_("Kept in a table")}\n')
    i18n_extract.ROOT, root = tmp_path, i18n_extract.ROOT
    try:
        found = i18n_extract.Catalog()
        i18n_extract.scan_ui_file(source, found)
    finally:
        i18n_extract.ROOT = root
    assert list(found.messages) == ["Plain text", "Kept in a table"]  # N_("…") marks a text kept in a table
    assert found.problems == ["page.py:3: t() is given an f-string; use a {placeholder} instead"]


def test_error_variants_keep_their_keys_when_code_moves():
    catalog = i18n_extract.Catalog()
    catalog.error("x.code", "Second template.", "b.py:1")
    catalog.error("x.code", "First template.", "a.py:1")
    previous = {"x.code": "First template.", "x.code#2": "Second template."}
    assert catalog.error_keys(previous) == previous
    assert catalog.error_keys({}) == {"x.code": "Second template.", "x.code#2": "First template."}


def test_a_user_error_renders_in_chinese_with_its_parameters():
    from core.spec import ProjectSpec

    with pytest.raises(UserError) as raised:
        ProjectSpec.from_json(b'{"layers": [{"type": "Dense", "units": "many"}]}')
    err = raised.value
    assert err.render("en") == str(err) and "must be a whole number" in str(err)
    assert err.render("zh") == "第 1 层（Dense）：units 必须是一个整数，现在是 \"many\"。"


def test_a_code_with_two_templates_gets_the_translation_of_its_own_template():
    assert translate_error("spec.not_json", "The project file is not valid JSON: {reason}.", "zh", reason="x") == (
        "项目文件不是有效的 JSON：x。")
    assert translate_error(
        "spec.not_json", "The project file is not valid JSON (line {line}, column {column}: {reason}).", "zh",
        line=1, column=2, reason="x") == "项目文件不是有效的 JSON（第 1 行，第 2 列：x）。"


def test_an_unknown_code_or_language_falls_back_to_english():
    assert translate_error("no.such_code", "Plain {x}.", "zh", x=1) == "Plain 1."
    assert translate("Try it with a sample", "fr") == "Try it with a sample"
    assert translate("Not in any table", "zh") == "Not in any table"


def test_core_fragments_translate_by_pattern_and_leave_user_text_alone():
    assert translate_fragment("32 filters 3×3, relu, stride 2, same", "zh") == "32 个 3×3 卷积核，relu，步长 2，保持尺寸（same）"
    assert translate_fragment("one of relu, tanh or null", "zh") == "以下之一：relu, tanh，或 null"
    assert translate_fragment("the same value ('x') in every row", "zh") == "每一行都是同一个值（“x”）"
    assert translate_fragment("sepal length (cm)", "zh") == "sepal length (cm)"
    assert translate_fragment("Data", "zh") == "Data"  # a UI word, but not a core fragment: a column may be called that
    # In t(): a parameter that is a core fragment is translated, anything else is kept.
    assert translate("{run}: {message}", "zh", run="Run 1", message="validation loss") == "Run 1：验证集损失"


def test_every_core_fragment_has_a_translation_with_its_placeholders():
    chinese = table("zh")["messages"]
    assert [f for f in i18n.CORE_FRAGMENTS if f not in chinese] == []
    assert [f for f in i18n.CORE_FRAGMENTS if placeholders(f) != placeholders(chinese[f])] == []


def test_what_core_shows_about_texts_is_listed_as_core_fragments():
    from core.data import tables, text_files, tokens

    fragments = set(i18n.CORE_FRAGMENTS)
    expected = [*tokens.TOKENIZATIONS.values(), *text_files.REASONS, text_files.NOTE_ONE, text_files.NOTE_MANY,
                text_files.NOTE_PART, tables.TEXT_INPUT_REASON, tables.FREE_TEXT_REASON,
                *(label for label in text_files.ENCODING_LABELS.values() if "(" in label)]
    assert [text for text in expected if text not in fragments] == []


def test_text_warnings_and_rows_render_in_chinese():
    from core.data.text_files import text_encoding_note

    assert translate_fragment("words (split at spaces)", "zh") == "词（按空格切分）"
    assert translate_fragment("texts: up to 31 words each", "zh") == "文本：每段最多 31 个词"
    assert translate_fragment("3679 codes → 32 values per code", "zh") == "3679 种编码 → 每种编码 32 维向量"
    cut = ("49 text(s) have more than 31 tokens and were cut to their first 31 tokens (the longest has 90). "
           "Raise the sequence length to use more of each text.")
    assert translate_fragment(cut, "zh").startswith("有 49 段文本超过 31 个词元，被截断为前 31 个词元")
    note = text_encoding_note({"gb18030": 3, "cp1252": 1, "utf-8": 9})
    assert translate_fragment(note, "zh") == "有 4 个文件不是 UTF-8 编码：3 个按 GB18030（中文） 读取，1 个按 Windows-1252（西欧语言） 读取。"


def test_cli_prints_user_errors_in_english_unless_asked_for_chinese(tmp_path):
    missing = str(tmp_path / "nope.csv")
    english = subprocess.run([sys.executable, "-m", "core", "inspect", missing], capture_output=True, text=True, cwd=ROOT)
    chinese = subprocess.run([sys.executable, "-m", "core", "--lang", "zh", "inspect", missing],
                             capture_output=True, text=True, cwd=ROOT)
    assert english.returncode == chinese.returncode == 2
    assert "does not exist" in english.stderr and not CJK.search(english.stderr)
    assert "不存在" in chinese.stderr and missing in chinese.stderr


def test_tables_are_plain_json_objects_of_strings():
    for lang in LANGUAGES:
        data = json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert set(data) == {"messages", "errors"}
        assert all(isinstance(k, str) and isinstance(v, str) for section in data.values() for k, v in section.items())


def test_positions_inside_blocks_and_shortcuts_render_in_chinese():
    """core.blocks names a position "3 › branch 2 › layer 1"; a message about it reads in Chinese order."""
    assert translate_fragment("Layer 3 › branch 2 › layer 1 (Conv2D)", "zh") == "第 3 层 › 分支 2 › 第 1 层（Conv2D）"
    assert translate_fragment("Layer 3 › layer 2 › branch 1 › layer 1 (Dense)", "zh") == (
        "第 3 层 › 第 2 层 › 分支 1 › 第 1 层（Dense）")
    assert translate_fragment("projection: 16 filters 1×1, stride 2", "zh") == "投影：16 个 1×1 卷积核，步长 2"
    assert translate_fragment("projection: 16 filters of 1", "zh") == "投影：16 个长度为 1 的卷积核"
    assert translate_fragment("projection: 64 units", "zh") == "投影：64 个单元"
    with pytest.raises(UserError) as raised:
        from core.spec import ProjectSpec

        ProjectSpec.from_dict({"layers": [{"type": "Branches", "branches": [[{"type": "Dense", "units": "x"}], []]}]})
    assert raised.value.render("zh").startswith("第 1 层 › 分支 1 › 第 1 层（Dense）：units 必须是一个整数")
