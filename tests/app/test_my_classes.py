"""Data page, "Make my own image classes": classes from pictures dropped per class (and the camera),
made the dataset like an uploaded zip, trained, and asked about one picture on Evaluate."""
from __future__ import annotations

import io
import zipfile

import numpy as np

from components.state.my_classes import MIN_PICTURES_PER_CLASS
from tests.app.apptest import errors, exceptions, open_page
from tests.app.run_helpers import run_until_ended

DATA = "pages/data.py"
COLOURS = {"apples": (200, 30, 30), "sky": (30, 60, 210)}


def picture(colour: tuple[int, int, int], seed: int, fmt: str = "PNG") -> bytes:
    """A small picture of one colour with noise (each one different)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 25, (24, 24, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def files_of(name: str, n: int, first_seed: int = 0) -> list[tuple[str, bytes, str]]:
    return [(f"{name}{i}.png", picture(COLOURS[name], first_seed + i), "image/png") for i in range(n)]


def add_class(at, name: str):
    at.text_input(key="new_class_name").set_value(name)
    return at.button(key="add_class").click().run()


def two_classes(app, n: int = MIN_PICTURES_PER_CLASS):
    at = open_page(app, DATA)
    for index, name in enumerate(COLOURS):
        add_class(at, name)
        at.file_uploader(key=f"class_files_{index}").set_value(files_of(name, n, first_seed=100 * index)).run()
    assert not exceptions(at) and not errors(at)
    return at


def test_classes_from_dropped_files_become_an_image_dataset_that_trains_and_predicts(app):
    at = two_classes(app)
    ws = at.session_state["workspace"]
    assert [c.name for c in ws.my_classes.classes] == ["apples", "sky"]
    assert [len(c.pictures) for c in ws.my_classes.classes] == [MIN_PICTURES_PER_CLASS] * 2
    assert at.text_input(key="new_class_name").value == ""  # ready for the next name
    assert not at.button(key="use_my_classes").disabled

    at.button(key="use_my_classes").click().run()
    assert not exceptions(at) and not errors(at)
    dataset = ws.dataset
    assert dataset.kind == "images" and dataset.classes == ["apples", "sky"] and dataset.name == "my_classes"
    assert dataset.n_rows == 2 * MIN_PICTURES_PER_CLASS and dataset.image_size == (24, 24)
    assert ws.spec is not None  # a design that fits, as after an uploaded zip

    at.switch_page("pages/train.py").run()
    at.number_input(key="epochs").set_value(3).run()
    at.button(key="start_training").click().run()
    run_until_ended(at)
    run = ws.runs[0]
    assert run.status == "finished", run.status

    at.switch_page("pages/evaluate.py").run()
    assert not exceptions(at)
    at.toggle(key=f"try_camera_on_{run.id}").set_value(True).run()
    at.camera_input(key=f"try_camera_{run.id}").set_value(
        ("image.jpg", picture(COLOURS["sky"], 999, "JPEG"), "image/jpeg")).run()
    assert not exceptions(at) and not errors(at)
    prediction = next(m.value for m in at.markdown if m.value.startswith("Prediction: **"))
    assert "apples" in prediction or "sky" in prediction


def test_the_minimum_is_stated_and_use_waits_for_it(app):
    at = open_page(app, DATA)
    assert "at least 10 pictures" in " ".join(c.value for c in at.caption)
    add_class(at, "apples")
    at.file_uploader(key="class_files_0").set_value(files_of("apples", 3)).run()
    assert at.button(key="use_my_classes").disabled
    shown = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "3 of at least 10 pictures" in shown and "Make at least 2 classes" in shown
    add_class(at, "Apples")  # the same name, whatever the case
    assert "already a class called" in errors(at)[0]
    add_class(at, "a/b")
    assert "cannot be a class name" in errors(at)[0]


def test_camera_shots_add_one_picture_each_and_files_are_added_once(app):
    at = open_page(app, DATA)
    add_class(at, "apples")
    at.toggle(key="class_camera_on_0").set_value(True).run()
    for seed in range(2):
        at.camera_input(key="class_camera_0").set_value(
            ("image.jpg", picture(COLOURS["apples"], seed, "JPEG"), "image/jpeg")).run()
    at.run()  # the last photo stays in the camera input: not added again
    ws = at.session_state["workspace"]
    assert [p.name for p in ws.my_classes.classes[0].pictures] == ["camera_0001.jpg", "camera_0002.jpg"]
    at.file_uploader(key="class_files_0").set_value(files_of("apples", 2) + [("notes.png", b"not a picture", "image/png")]).run()
    assert len(ws.my_classes.classes[0].pictures) == 4
    assert any("notes.png" in w.value for w in at.warning)
    at.run()
    assert len(ws.my_classes.classes[0].pictures) == 4
    at.file_uploader(key="class_files_0").set_value(files_of("apples", 1)).run()  # a new upload of the same file
    assert len(ws.my_classes.classes[0].pictures) == 4
    assert any("already in this class" in w.value for w in at.warning)
    first = ws.my_classes.classes[0].pictures[0].id
    at.button(key=f"delete_picture_{first}").click().run()
    assert len(ws.my_classes.classes[0].pictures) == 3 and not exceptions(at)


def test_rename_remove_and_download_as_a_zip_of_class_folders(app):
    at = two_classes(app, n=2)
    ws = at.session_state["workspace"]
    at.text_input(key="class_name_0").set_value("red apples")
    at.button(key="class_rename_0").click().run()
    assert [c.name for c in ws.my_classes.classes] == ["red apples", "sky"]
    with zipfile.ZipFile(io.BytesIO(ws.my_classes.zip_bytes())) as archive:
        names = sorted(archive.namelist())
    assert names[0] == "my_classes/red apples/apples0.png" and len(names) == 4
    assert not at.download_button(key="download_my_classes").disabled
    at.button(key="class_remove_0").click().run()
    assert [c.name for c in ws.my_classes.classes] == ["sky"] and not exceptions(at)
    assert at.text_input(key="class_name_0").value == "sky"


def test_the_session_caps_pictures_with_a_plain_message(app, monkeypatch):
    monkeypatch.setenv("LAYERLAB_MAX_IMAGES", "3")
    at = open_page(app, DATA)
    add_class(at, "apples")
    at.file_uploader(key="class_files_0").set_value(files_of("apples", 5)).run()
    ws = at.session_state["workspace"]
    assert len(ws.my_classes.classes[0].pictures) == 3
    assert any("the most this server allows" in w.value for w in at.warning)


def test_the_section_with_classes_and_the_camera_is_all_chinese():
    from components.state.workspace import Workspace
    from tests.app.i18n_texts import assert_all_chinese, chinese_page

    ws = Workspace()
    for name in COLOURS:
        made = ws.my_classes.add_class(name)
    for i, (name, data, _mime) in enumerate(files_of("apples", 3)):
        ws.my_classes.add_picture(0, name, data)
    at = chinese_page(ws, "pages/data.py")
    at.toggle(key="class_camera_on_0").set_value(True).run()
    at.camera_input(key="class_camera_0").set_value(("image.jpg", picture(COLOURS["apples"], 7, "JPEG"), "image/jpeg")).run()
    assert len(ws.my_classes.classes[0].pictures) == 4 and made.name == "sky"
    assert_all_chinese(at, ws, frozenset(COLOURS) | {"Clear", "photo"})
    at.radio(key="my_classes_kind").set_value("texts").run()
    assert not exceptions(at)
    assert_all_chinese(at, ws, frozenset(COLOURS))


def test_texts_typed_per_class_become_a_text_dataset_like_a_csv_with_a_text_column(app):
    from core import data as core_data

    at = open_page(app, DATA)
    at.radio(key="my_classes_kind").set_value("texts").run()
    lines = {"weather": [f"it will rain {i} mm tomorrow, take an umbrella" for i in range(10)],
             "sport": [f"the team scored {i} goals in the second half" for i in range(10)]}
    for index, (name, examples) in enumerate(lines.items()):
        add_class(at, name)
        at.text_area(key=f"class_texts_{index}").set_value("\n".join(examples[:-1]) + "\n\n").run()
    assert at.button(key="use_my_classes").disabled  # 9 examples each
    assert "9 of at least 10 examples" in " ".join(m.value for m in at.markdown)
    for index, examples in enumerate(lines.values()):
        at.text_area(key=f"class_texts_{index}").set_value("\n".join(examples)).run()
    at.button(key="use_my_classes").click().run()
    assert not exceptions(at) and not errors(at)
    ws = at.session_state["workspace"]
    assert ws.dataset.kind == "text" and ws.dataset.classes == ["sport", "weather"] and ws.dataset.n_rows == 20
    assert at.selectbox(key="target_column").value == "label"  # the table's settings, as after a CSV
    at.switch_page("pages/design.py").run()
    at.switch_page(DATA).run()  # the typed texts come back after a page switch
    assert at.text_area(key="class_texts_0").value == "\n".join(lines["weather"])
    again = core_data.load_zip(ws.my_classes.zip_bytes("texts"), "my_classes.zip")
    assert again.kind == "text" and again.classes == ["sport", "weather"] and again.n_rows == 20
