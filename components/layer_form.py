"""Widgets generated from the catalog's Param entries: the designer's layer forms (inside an
st.form) and the Train page's optimizer and training settings."""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from components.i18n import t
from core.catalog import PARAM_LABELS, Param


def field_label(param: Param) -> str:
    """Plain words first, the Keras keyword in brackets ("Number of filters (filters)"): people who
    later read the generated code or a project file find the same name there."""
    if param.label in PARAM_LABELS:
        plain = t(PARAM_LABELS[param.label])
    else:  # a block's setting (core.blocks.BLOCK_PARAMS; scripts/i18n_extract.py lists their labels)
        plain = t(param.label) if param.label else param.name
    same = plain.casefold() == param.name.replace("_", " ").casefold()
    return plain if same else f"{plain} ({param.name})"


def _float_step(value: float | None, param: Param) -> float:
    """A step one decimal below the value's size: 0.001 -> 0.0001, 0.2 -> 0.01 (0 -> 0.0001)."""
    size = abs(value or param.default or 0.0)
    return 10.0 ** (math.floor(math.log10(size)) - 1) if size else 0.0001


def _clamped(value: Any, param: Param) -> Any:
    """A stored value outside the catalog's range (an older project file) would crash the widget."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return param.default if value is not None else None
    if param.min is not None and value < param.min:
        return param.min
    if param.max is not None and value > param.max:
        return param.max
    return value


def _number(param: Param, value: Any, key: str, disabled: bool, empty_hint: bool) -> Any:
    is_int = param.type == "int"
    cast = int if is_int else float
    value = _clamped(value, param)
    value = cast(value) if value is not None else None
    step = 1 if is_int else _float_step(value, param)
    if param.optional:
        # Streamlit turns an emptied field back into its default, so an optional field's default
        # stays empty; the stored value is put in through session state when the widget has none.
        if key not in st.session_state:
            st.session_state[key] = value
        value = None
    kwargs: dict[str, Any] = {
        "min_value": cast(param.min) if param.min is not None else None,
        "max_value": cast(param.max) if param.max is not None else None,
        "value": value,
        "step": step,
        "key": key,
        "help": t(param.help) + (" " + t("Leave empty for automatic.") if param.optional and empty_hint else ""),
        "disabled": disabled,
    }
    if not is_int:
        kwargs["format"] = "%g"
    return st.number_input(field_label(param), **kwargs)


def _int_list(param: Param, value: Any, key: str, disabled: bool) -> Any:
    text = st.text_input(
        field_label(param),
        value=", ".join(str(v) for v in (value or [])),
        key=key,
        disabled=disabled,
        help=t(param.help) + " " + t("Whole numbers separated by commas, for example 8, 1."),
    )
    try:
        return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        return text  # not numbers: core.spec's check names the setting and what it expects


def param_input(param: Param, value: Any, key: str, *, disabled: bool = False, empty_hint: bool = True) -> Any:
    """One widget for one setting, pre-filled with `value`, limited to the catalog's range or choices.

    `empty_hint`: an optional number's help ends with "Leave empty for automatic." (off where
    empty means something else, such as no time limit)."""
    if param.type == "bool":
        return st.checkbox(field_label(param), value=bool(value), key=key, help=t(param.help), disabled=disabled)
    if param.type == "choice":
        choices = list(param.choices)
        return st.selectbox(field_label(param), choices, index=choices.index(value) if value in choices else 0,
                            key=key, help=t(param.help), disabled=disabled)
    if param.type == "int_tuple":
        return _int_list(param, value, key, disabled)
    return _number(param, value, key, disabled, empty_hint)


def param_inputs(params: tuple[Param, ...], values: dict, key_prefix: str, columns: int = 2) -> dict[str, Any]:
    """Widgets for every setting, laid out in `columns` columns; returns {name: value}."""
    out: dict[str, Any] = {}
    if not params:
        st.caption(t("This layer has no settings."))
        return out
    cols = st.columns(columns)
    for i, param in enumerate(params):
        with cols[i % columns]:
            out[param.name] = param_input(param, values.get(param.name, param.default), f"{key_prefix}.{param.name}")
    return out
