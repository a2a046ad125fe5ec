"""Translation tables for the UI and for user errors (no Streamlit here).

Tables live in `locales/<lang>.json`: {"messages": {English text: translation},
"errors": {error code: translated template}}. English is the source language, so an
English lookup is the identity.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = {"en": "English", "zh": "简体中文"}


@lru_cache(maxsize=None)
def load_table(lang: str) -> dict[str, dict[str, str]]:
    path = LOCALES_DIR / f"{lang}.json"
    if lang == "en" or not path.exists():
        return {"messages": {}, "errors": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"messages": data.get("messages", {}), "errors": data.get("errors", {})}


def _fill(template: str, params: dict) -> str:
    try:
        return template.format(**params) if params else template
    except (KeyError, IndexError, ValueError):
        return template


def translate(text: str, lang: str = "en", **params: object) -> str:
    """Render an English UI string in `lang`, filling `{named}` placeholders."""
    table = load_table(lang)["messages"]
    return _fill(table.get(text, text), params)


def translate_error(code: str, template: str, lang: str = "en", **params: object) -> str:
    table = load_table(lang)["errors"]
    return _fill(table.get(code, template), params)
