"""UI translation: `t("English text {x}", x=1)` renders in the session's language.

English strings are the keys (gettext style); tables live in locales/<lang>.json and are
read by core.i18n, so core errors and UI text share one mechanism.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

import streamlit as st

from core.errors import UserError
from core.i18n import LANGUAGES, N_, translate, translate_fragment

LANG_KEY = "lang"


def current_lang() -> str:
    return st.session_state.get(LANG_KEY, "en")


def t(text: str, **params: object) -> str:
    return translate(text, current_lang(), **params)


def option_labels(options: Iterable[Hashable], label: Callable[[Any], str]) -> Callable[[Any], str]:
    """A selectbox/radio format_func whose labels are made now, in this run's language.

    Streamlit (and AppTest) may call format_func again outside the script run, where the
    session's language is not known; an unknown option raises KeyError, like a plain lookup.
    """
    return {option: label(option) for option in options}.__getitem__


def t_core(text: str) -> str:
    """An English piece core built (a layer's key settings, a column's reason, a load warning),
    in the session's language when core.i18n.CORE_FRAGMENTS knows it; else unchanged."""
    return translate_fragment(text, current_lang())


def error_text(err: UserError) -> str:
    return err.render(current_lang())


def show_error(err: UserError) -> None:
    st.error(error_text(err), icon=":material/error:")


__all__ = ["LANGUAGES", "N_", "current_lang", "error_text", "option_labels", "show_error", "t", "t_core"]
