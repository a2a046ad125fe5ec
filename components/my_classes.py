"""The Data page's "Make my own image classes": name classes, add pictures from files or the camera
(or type texts, one example per line), see them and their counts, make them the dataset (as an
uploaded zip of class folders, or a CSV with a text column, would be) or download them as a zip of
class folders. They live in the session's Workspace (components/state/my_classes.py).

Keys: `my_classes_kind` (pictures or texts), `new_class_name`, `add_class`; per class i (in the order
added) `class_files_i` (file uploader), `class_camera_on_i` (shows the camera), `class_camera_i`
(camera input), `class_texts_i` (text area), `class_name_i` / `class_rename_i` / `class_remove_i`;
`delete_picture_<id>` per thumbnail; `use_my_classes`, `download_my_classes`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.i18n import error_text, show_error, t
from components.state.my_classes import DATASET_NAME, IMAGES, MIN_CLASSES, MIN_PICTURES_PER_CLASS, TEXTS, MyClasses
from components.state.workspace import Workspace
from core.errors import UserError

PICTURE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]
THUMBNAILS_PER_ROW = 8
THUMBNAILS_SHOWN = 48  # per class; the rest are counted
NOTES_KEY = "my_classes.notes"  # messages from the last pictures added (files that were refused)
NAME_ERROR_KEY = "my_classes.name_error"


def my_classes_section(ws: Workspace, use_dataset: Callable[..., None]) -> None:
    """Draw the section; `use_dataset(ws, dataset, source)` makes a dataset the current data (pages/data.py)."""
    mine = ws.my_classes
    with st.container(border=True, key="my_classes"):
        st.subheader(t("Make my own image classes"))
        kinds = {IMAGES: t("pictures"), TEXTS: t("texts")}
        if "my_classes_kind" not in st.session_state:
            st.session_state["my_classes_kind"] = mine.kind
        mine.kind = st.radio(t("The classes hold"), list(kinds), format_func=kinds.get, key="my_classes_kind",
                             horizontal=True)
        if mine.kind == TEXTS:
            st.caption(t("No file needed: name a class, then type or paste its examples, one per line. Each class "
                         "needs at least {n} examples to train, and you need at least {k} classes; more examples "
                         "make a better model.", n=MIN_PICTURES_PER_CLASS, k=MIN_CLASSES))
        else:
            st.caption(t("No zip needed: name a class, then add its pictures from files or with the camera (a "
                         "phone's browser works too). Each class needs at least {n} pictures to train, and you need "
                         "at least {k} classes; more pictures make a better model.", n=MIN_PICTURES_PER_CLASS,
                         k=MIN_CLASSES))
        _new_class(ws)
        for index in range(len(mine.classes)):
            _class_box(ws, index)
        for note in st.session_state.get(NOTES_KEY) or []:
            st.warning(note, icon=":material/info:")
        if mine.classes:
            _finish(ws, use_dataset)


def _new_class(ws: Workspace) -> None:
    def add() -> None:
        try:
            ws.my_classes.add_class(st.session_state.get("new_class_name", ""))
        except UserError as err:
            st.session_state[NAME_ERROR_KEY] = error_text(err)
            return
        st.session_state[NAME_ERROR_KEY] = None
        st.session_state["new_class_name"] = ""

    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input(t("New class name"), key="new_class_name", placeholder=t("for example: cat"), max_chars=60)
    right.button(t("Add class"), key="add_class", icon=":material/add:", on_click=add, width="stretch")
    if st.session_state.get(NAME_ERROR_KEY):
        st.error(st.session_state[NAME_ERROR_KEY], icon=":material/error:")


def _forget_class_widgets() -> None:
    """After a class is removed the others move up one place: their name fields start from the classes again."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(("class_name_", "class_texts_"))]:
        del st.session_state[key]


def _class_box(ws: Workspace, index: int) -> None:
    mine = ws.my_classes
    made = mine.classes[index]
    n = mine.count(index, mine.kind)
    with st.container(border=True):
        head, tools = st.columns([3, 2], vertical_alignment="center")
        if mine.kind == TEXTS:
            count = (t("{n} examples: enough to train (more is better)", n=n) if n >= MIN_PICTURES_PER_CLASS
                     else t("{n} of at least {minimum} examples", n=n, minimum=MIN_PICTURES_PER_CLASS))
        elif n >= MIN_PICTURES_PER_CLASS:
            count = t("{n} pictures: enough to train (more is better)", n=n)
        else:
            count = t("{n} of at least {minimum} pictures", n=n, minimum=MIN_PICTURES_PER_CLASS)
        head.markdown(f"**{made.name}** · {count}")
        with tools.popover(t("Rename or remove"), icon=":material/edit:"):
            _rename_or_remove(ws, index)
        if mine.kind == TEXTS:
            _texts(mine, index)
            return
        left, right = st.columns(2)
        with left:
            files = st.file_uploader(t("Pictures of {name}", name=made.name), type=PICTURE_TYPES,
                                     accept_multiple_files=True, key=f"class_files_{index}",
                                     help=t("Drop several image files at once; each is added to this class."))
            _add_new(mine, index, [(f.file_id, f.name, f) for f in files or []])
        with right:
            if st.toggle(t("Use the camera"), key=f"class_camera_on_{index}"):
                photo = st.camera_input(t("Take a picture of {name}", name=made.name), key=f"class_camera_{index}",
                                        help=t("Each picture taken is added to this class. Clear the photo to take "
                                               "the next one."))
                if photo is not None:
                    _add_new(mine, index, [(photo.file_id, f"camera_{mine.next_id + 1:04d}.jpg", photo)])
                    st.caption(t("Added. Press \"Clear photo\" to take another one."))
        _thumbnails(mine, index)


def _add_new(mine: MyClasses, index: int, uploads: list[tuple[str, str, Any]]) -> None:
    """Add the files not added before (Streamlit hands every file back on each run); remember refusals."""
    fresh = [(file_id, name, upload) for file_id, name, upload in uploads if file_id not in mine.seen_files]
    if not fresh:
        return
    notes = []
    for file_id, name, upload in fresh:
        mine.seen_files.add(file_id)
        try:
            added = mine.add_picture(index, name, upload.getvalue())
        except UserError as err:
            notes.append(error_text(err))
            continue
        if added is None:
            notes.append(t("'{file}' was not added: the same picture is already in this class.", file=name))
    st.session_state[NOTES_KEY] = notes
    st.rerun()  # the counts above were drawn before these pictures


def _texts(mine: MyClasses, index: int) -> None:
    made = mine.classes[index]
    key = f"class_texts_{index}"
    if key not in st.session_state:  # Streamlit drops widget values on page switches: the workspace keeps them
        st.session_state[key] = made.texts
    texts = st.text_area(t("Examples of {name}, one per line", name=made.name), key=key, height=150,
                         placeholder=t("Type or paste one example per line."))
    try:
        mine.set_texts(index, texts)
    except UserError as err:
        show_error(err)


def _rename_or_remove(ws: Workspace, index: int) -> None:
    mine = ws.my_classes
    key = f"class_name_{index}"
    if key not in st.session_state:
        st.session_state[key] = mine.classes[index].name

    def rename() -> None:
        try:
            mine.rename(index, st.session_state.get(key, ""))
        except UserError as err:
            st.session_state[NAME_ERROR_KEY] = error_text(err)
            st.session_state[key] = mine.classes[index].name
        else:
            st.session_state[NAME_ERROR_KEY] = None

    def remove() -> None:
        mine.remove(index)
        _forget_class_widgets()

    st.text_input(t("Class name"), key=key, max_chars=60)
    st.button(t("Rename"), key=f"class_rename_{index}", on_click=rename, icon=":material/edit:")
    st.button(t("Remove this class and its pictures"), key=f"class_remove_{index}", on_click=remove,
              icon=":material/delete:")


def _thumbnails(mine: MyClasses, index: int) -> None:
    pictures = mine.classes[index].pictures
    shown = pictures[-THUMBNAILS_SHOWN:]
    for start in range(0, len(shown), THUMBNAILS_PER_ROW):
        cols = st.columns(THUMBNAILS_PER_ROW)
        for col, picture in zip(cols, shown[start : start + THUMBNAILS_PER_ROW]):
            col.image(picture.thumbnail, width="stretch")
            col.button(t("Delete"), key=f"delete_picture_{picture.id}", icon=":material/close:", type="tertiary",
                       on_click=mine.delete_picture, args=(picture.id,))
    if len(pictures) > len(shown):
        st.caption(t("Showing the last {shown} of {n} pictures.", shown=len(shown), n=len(pictures)))


def _finish(ws: Workspace, use_dataset: Callable[..., None]) -> None:
    mine = ws.my_classes
    kind = mine.kind
    problems = []
    if len(mine.classes) < MIN_CLASSES:
        problems.append(t("Make at least {n} classes.", n=MIN_CLASSES))
    short = mine.short_classes(mine.kind)
    if short and mine.kind == TEXTS:
        problems.append(t("Each class needs at least {n} examples: {classes}.", n=MIN_PICTURES_PER_CLASS,
                          classes=", ".join(short)))
    elif short:
        problems.append(t("Each class needs at least {n} pictures: {classes}.", n=MIN_PICTURES_PER_CLASS,
                          classes=", ".join(short)))
    left, right = st.columns(2)
    clicked = left.button(t("Use my classes as the data"), key="use_my_classes", type="primary",
                          icon=":material/check:", disabled=bool(problems), width="stretch")
    right.download_button(
        t("Download my classes (zip)"), data=lambda: mine.zip_bytes(kind), file_name=f"{DATASET_NAME}.zip",
        mime="application/zip", key="download_my_classes", on_click="ignore", icon=":material/download:",
        disabled=not any(mine.count(i, kind) for i in range(len(mine.classes))), width="stretch",
        help=t("A zip with one folder per class: keep your pictures, or upload the zip again later."),
    )
    for problem in problems:
        st.caption(problem)
    if not clicked:
        return
    raw = None
    try:
        if kind == TEXTS:
            with st.spinner(t("Making the dataset from your texts…")):
                raw = mine.text_table()
                dataset = mine.text_dataset(raw)
        else:
            with st.spinner(t("Making the dataset from your pictures…")):
                dataset = mine.image_dataset()
    except UserError as err:
        show_error(err)
        return
    use_dataset(ws, dataset, DATASET_NAME, raw)  # texts keep their table: the text settings prepare it again
