"""UI translation: `t("English text {x}", x=1)` renders in the session's language.

English strings are the keys (gettext style); tables live in locales/<lang>.json and are
read by core.i18n, so core errors and UI text share one mechanism.
"""
from __future__ import annotations

import streamlit as st

from core.errors import UserError
from core.i18n import LANGUAGES, translate

LANG_KEY = "lang"


def current_lang() -> str:
    return st.session_state.get(LANG_KEY, "en")


def t(text: str, **params: object) -> str:
    return translate(text, current_lang(), **params)


def error_text(err: UserError) -> str:
    return err.render(current_lang())


def show_error(err: UserError) -> None:
    st.error(error_text(err), icon="⚠️")


__all__ = ["LANGUAGES", "current_lang", "error_text", "show_error", "t"]
