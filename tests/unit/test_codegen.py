"""train_model.py: generated from the design, it prepares data like LayerLab and actually trains."""
from __future__ import annotations

import ast
import builtins
import subprocess
import symtable
import sys
from pathlib import Path

import numpy as np
import pytest

from core.build import build_model
from core.codegen import training_script
from core.data import decode_image, load_folder, load_image_folder, load_image_zip, load_zip, prepare_table, read_csv
from core.data.samples import text_sample_file
from core.spec import ProjectSpec
from core.templates import TEMPLATES, default_template, template, templates_for
from tests.datafiles import (
    csv_bytes,
    digits_zip_entries,
    encode_image,
    german_excel_wine,
    machine_faults_frame,
    mac_and_windows_entries,
    mac_and_windows_zip_bytes,
    photos_scans_and_logos,
    survey_with_markers_frame,
    write,
    zip_bytes,
)
from tests.unit.design_checks import digit_codes
from tests.unit.trained_models import sample


def _script_namespace(source: str) -> dict:
    """The generated script's functions, without running its main()."""
    namespace = {"__name__": "train_model"}
    exec(compile(source, "train_model.py", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace


def _run(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=300, cwd=script.parent
    )


def _iris_csv(path: Path) -> Path:
    """Iris as a user's CSV: a categorical column, empty cells and a decimal comma free layout."""
    frame = sample("iris").frame.rename(columns={"target": "species"}).copy()
    frame["size"] = np.where(frame["petal length (cm)"] > 4.0, "large", "small")
    frame.loc[[3, 50, 120], "sepal width (cm)"] = np.nan
    frame.loc[[7, 99], "size"] = None
    frame.to_csv(path, index=False)
    return path


def test_the_script_prepares_sample_data_exactly_like_layerlab():
    dataset = sample("iris")
    ns = _script_namespace(training_script(default_template(dataset), dataset))
    (x_train, y_train), (x_val, _), (x_test, y_test) = ns["split"](*ns["load_data"](None))
    assert x_train == pytest.approx(dataset.x_train) and (y_train == dataset.y_train).all()
    assert x_test == pytest.approx(dataset.x_test) and (y_test == dataset.y_test).all()
    assert len(x_val) == len(dataset.x_val)


def _digits_folder(folder: Path, side: int) -> Path:
    """Digits 0, 1 and 7 as RGB PNGs of side x side pixels in class folders."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for label in (0, 1, 7):
        (folder / str(label)).mkdir(parents=True)
        for i in np.flatnonzero(digits.target == label)[:12]:
            pixels = np.round(digits.images[i] * (255 / 16)).astype(np.uint8)
            Image.fromarray(pixels, "L").convert("RGB").resize((side, side)).save(folder / str(label) / f"{i}.png")
    return folder


@pytest.mark.parametrize("template_id", [t.id for t in TEMPLATES])
def test_the_script_builds_the_same_network_as_layerlab(template_id, tmp_path):
    entry = template(template_id)
    dataset = sample({"images": "digits", "text": "sms_spam", "series": "electrical_equipment"}.get(entry.kind, "wine"))
    if template_id not in [t.id for t in templates_for(dataset)]:  # deep pooling needs more than 8x8 pixels
        dataset = load_image_folder(_digits_folder(tmp_path / "digits", side=48))
    spec = entry.fresh_spec(dataset.task)
    ns = _script_namespace(training_script(spec, dataset))
    scripted = ns["build_model"](dataset.x_train.astype("float32"), dataset.y_train)
    built = build_model(spec, dataset)
    assert scripted.count_params() == built.count_params()
    assert [type(layer).__name__ for layer in scripted.layers] == [type(layer).__name__ for layer in built.layers]
    assert scripted.output_shape == built.output_shape


def test_the_script_writes_blocks_as_functional_code_that_builds_the_same_network():
    """Residual blocks (identity and projected shortcuts), branches merged both ways, a block in a block."""
    dataset = sample("digits")
    conv = {"type": "Conv2D", "padding": "same"}
    spec = ProjectSpec.from_dict({"layers": [
        {**conv, "filters": 8},
        {"type": "Residual", "layers": [{**conv, "filters": 16}, {"type": "Branches", "branches": [
            [{**conv, "filters": 4}], []]}]},
        {"type": "MaxPooling2D"},
        {"type": "Residual", "layers": [{**conv, "filters": 8, "strides": 2}]},
        {"type": "Flatten"},
        {"type": "Branches", "merge": "add", "branches": [[{"type": "Dense", "units": 10}], [{"type": "Dense", "units": 10}]]},
    ]})
    source = training_script(spec, dataset)
    assert "def shortcut(" in source and "keras.layers.Concatenate(axis=-1" in source and "# block 2:" in source
    scripted = _script_namespace(source)["build_model"](dataset.x_train.astype("float32"), dataset.y_train)
    built = build_model(spec, dataset)
    assert [(layer.name, layer.count_params()) for layer in scripted.layers] == [
        (layer.name, layer.count_params()) for layer in built.layers]
    scripted.set_weights(built.get_weights())
    x = dataset.x_test[:8].astype("float32")
    assert np.allclose(scripted.predict(x, verbose=0), built.predict(x, verbose=0), atol=1e-6)
    assert "def shortcut(" not in training_script(template("images_lenet").fresh_spec(dataset.task), dataset)


def test_regularisation_appears_as_keras_regularizers():
    dataset = sample("iris")
    source = training_script(template("table_mlp_regularised").fresh_spec("classification"), dataset)
    assert "kernel_regularizer=keras.regularizers.L1L2(l1=0.0, l2=0.0001)" in source
    assert "kernel_l2" not in source.split("def build_model")[1]


def test_the_script_trains_on_a_csv_and_saves_a_model_that_takes_raw_rows(tmp_path):
    import keras

    csv = _iris_csv(tmp_path / "flowers.csv")
    dataset = prepare_table(read_csv(csv), target="species")
    spec = default_template(dataset)
    source = training_script(spec, dataset)
    ns = _script_namespace(source)
    raw = read_csv(csv).frame
    raw["size"] = raw["size"].astype(object)  # read_csv keeps repeated text as a Categorical
    raw.loc[0, "size"] = "enormous"  # a category the model never saw
    encoded = ns["encode"](raw)
    assert encoded == pytest.approx(dataset.preprocessor.transform(raw))  # same positions and filling
    assert encoded.shape == (150, 5) and encoded[0, -1] == -1
    scripted = ns["build_model"](dataset.x_train, dataset.y_train)  # one-hot inside, as LayerLab builds it
    assert scripted.count_params() == build_model(spec, dataset).count_params()
    assert scripted.get_layer("encoded_inputs").output.shape[-1] == 6  # 4 measurements + small/large

    script = tmp_path / "train_model.py"
    script.write_text(source, encoding="utf-8")
    done = _run(script, "--data", str(csv), "--epochs", "3", "--out", str(tmp_path / "model.keras"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "saved" in done.stdout and "test: " in done.stdout
    model = keras.saving.load_model(tmp_path / "model.keras")
    probabilities = model.predict(dataset.x_test, verbose=0)
    assert probabilities.shape == (len(dataset.x_test), 3)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(len(dataset.x_test)), abs=1e-4)


def test_the_script_trains_on_an_image_folder(tmp_path):
    import keras

    folder = _digits_folder(tmp_path / "digits", side=16)
    dataset = load_image_folder(folder)
    source = training_script(default_template(dataset), dataset)
    x, y, decoded = _script_namespace(source)["load_data"](str(folder))
    assert x.shape[1:] == dataset.input_shape and len(x) == dataset.n_rows and decoded.all()

    script = tmp_path / "train_model.py"
    script.write_text(source, encoding="utf-8")
    done = _run(script, "--data", str(folder), "--epochs", "1", "--out", str(tmp_path / "model.keras"))
    assert done.returncode == 0, done.stderr[-2000:]
    model = keras.saving.load_model(tmp_path / "model.keras")
    assert model.predict(dataset.x_test.astype("float32"), verbose=0).shape == (len(dataset.x_test), 3)


def test_the_script_reads_a_german_excel_csv_exactly_like_layerlab(tmp_path):
    # cp1252, `;`, decimal commas and thousands separators (1.065): the script once died on the encoding.
    csv = tmp_path / "wein.csv"
    csv.write_bytes(german_excel_wine())
    dataset = prepare_table(read_csv(csv))
    ns = _script_namespace(training_script(default_template(dataset), dataset))
    (x_train, y_train), (x_val, _), (x_test, y_test) = ns["split"](*ns["load_data"](str(csv)))
    assert x_train == pytest.approx(dataset.x_train) and (y_train == dataset.y_train).all()
    assert x_test == pytest.approx(dataset.x_test) and (y_test == dataset.y_test).all()
    assert len(x_val) == len(dataset.x_val)


def test_the_script_skips_mac_junk_and_broken_images_in_a_zip_like_layerlab(tmp_path):
    entries = digits_zip_entries(per_class=6)
    good_jpeg = encode_image(np.full((8, 8), 200, dtype=np.uint8), "JPEG")
    entries |= {
        "__MACOSX/my photos/zero/._img000.png": b"\x00\x05\x16\x07" + bytes(80),  # AppleDouble resource fork
        "my photos/.DS_Store": bytes(64),
        "my photos/one/broken.jpg": good_jpeg[: len(good_jpeg) // 2],  # cut off half-way
        "my photos/two/notes.txt": b"taken on holiday",
    }
    archive = tmp_path / "photos.zip"
    archive.write_bytes(zip_bytes(entries))
    dataset = load_image_zip(archive, archive.name)
    assert [f.file for f in dataset.skipped] == ["my photos/one/broken.jpg"]
    source = training_script(default_template(dataset), dataset)
    x, y, decoded = _script_namespace(source)["load_data"](str(archive))  # broken.jpg: not even its header reads
    assert len(x) == dataset.n_rows == 18 and np.bincount(y).tolist() == [6, 6, 6] and decoded.all()

    script = tmp_path / "train_model.py"
    script.write_text(source, encoding="utf-8")
    done = _run(script, "--data", str(archive), "--epochs", "1", "--out", str(tmp_path / "model.keras"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Skipped 1 file(s)" in done.stdout and "broken.jpg" in done.stdout
    assert "._img000" not in done.stdout + done.stderr and "saved" in done.stdout


def _assert_splits_like_layerlab(ns: dict, data: str, dataset) -> None:
    """The script loads `data` itself and splits it: every split holds what LayerLab's does, in its order."""
    splits = ns["split"](*ns["load_data"](data))
    expected = [(dataset.x_train, dataset.y_train), (dataset.x_val, dataset.y_val), (dataset.x_test, dataset.y_test)]
    for (x, y), (x_app, y_app) in zip(splits, expected):
        np.testing.assert_array_equal(x, x_app.astype("float32"))
        np.testing.assert_array_equal(y, y_app)


def test_the_script_balances_the_classes_with_the_weights_layerlab_trains_with(tmp_path, capsys):
    from core.data.balance import fit_class_weight

    csv = write(tmp_path / "machines.csv", csv_bytes(machine_faults_frame(180, 20)))
    dataset = prepare_table(read_csv(csv))
    spec = default_template(dataset)  # 9:1, so the default balances (core.templates.with_data_defaults)
    source = training_script(spec, dataset)
    spec.training = {**spec.training, "balance_classes": False}
    assert "BALANCE_CLASSES = False" in training_script(spec, dataset)
    assert "BALANCE_CLASSES = True" in source
    ns = _script_namespace(source)
    (train, validation, _test) = ns["split"](*ns["load_data"](str(csv)))
    assert ns["class_weights"](train[1]) == pytest.approx(fit_class_weight(dataset, True))  # 5.0 and 0.556
    ns["fit"](ns["build_model"](*train), train, validation, 1)  # class_weight and weighted validation reach Keras
    regression = sample("diabetes")
    on = ProjectSpec.from_dict({**default_template(regression).to_dict(), "training": {"balance_classes": True}})
    assert "BALANCE_CLASSES = False" in training_script(on, regression)


@pytest.mark.parametrize("target", ["score", "grade", "verdict"])
def test_the_script_reads_marker_cells_codes_and_huge_numbers_like_layerlab(target, tmp_path, capsys):
    # '?', '-', '#DIV/0!', 'missing' in a column of numbers are empty cells, '4.0' is the code 4, a 1e39
    # typo gets the fill; a target of numbers loses its marker rows, a text target keeps '?' as a class
    csv = write(tmp_path / "survey.csv", csv_bytes(survey_with_markers_frame(target=target)))
    raw = read_csv(csv)
    dataset = prepare_table(raw, target=target)
    ns = _script_namespace(training_script(default_template(dataset), dataset))
    for frame in (raw.frame, ns["read_table"](str(csv))):  # LayerLab's reading and the script's own
        encoded = ns["encode"](frame)
        np.testing.assert_array_equal(encoded, dataset.preprocessor.transform(frame))
    rating, weight = dataset.preprocessor.encodings[:2]
    assert [rating.name, weight.name] == ["rating", "weight"] and rating.categories == ["1", "2", "3", "4", "5"]
    assert encoded[40, 0] == rating.categories.index("4")  # the cell '4.0'
    assert (encoded[[1, 17], 0] == rating.categories.index(rating.fill)).all()  # '?' and '-'
    assert (encoded[[2, 9, 23, 31, 52, 60], 1] == np.float32(weight.fill)).all()  # '#DIV/0!' ... and 1e39
    assert dataset.dropped_rows == (0 if target == "verdict" else 4)
    _assert_splits_like_layerlab(ns, str(csv), dataset)
    left_out = f"Left out 4 row(s) whose target '{target}' is empty."
    assert (left_out in capsys.readouterr().out) == (target != "verdict")


@pytest.mark.parametrize("packed", ["zip", "folder"])
def test_the_script_uses_the_same_images_as_layerlab_from_mac_and_windows_folders(packed, tmp_path, capsys):
    # a decomposed and a composed 'café' are one class; copies are used once; the zip's own order and
    # a picture that fails only when decoded keep the split LayerLab made
    if packed == "zip":
        source = write(tmp_path / "drinks.zip", mac_and_windows_zip_bytes())
        dataset = load_image_zip(source, source.name)
    else:
        source = tmp_path / "upload"
        for name, data in mac_and_windows_entries():
            write(source / name, data)
        dataset = load_image_folder(source)
    assert dataset.classes == ["café", "eau", "thé"] and dataset.n_rows == 24
    assert len([s for s in dataset.skipped if "the same file as" in s.reason]) == 2
    ns = _script_namespace(training_script(default_template(dataset), dataset))
    _assert_splits_like_layerlab(ns, str(source), dataset)
    printed = capsys.readouterr().out
    assert "img900 copy.png (the same file as" in printed and "img902.png (damaged" in printed


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [(24, 32), (48, 64)], ids=["shrunk", "sensor size"])
def test_the_script_decodes_photos_scans_and_logos_to_the_same_pixels_as_layerlab(channels, size):
    # a phone photo upright (not sideways), a 16-bit scan scaled (not white), big JPEGs decoded at a reduced scale
    ns = _script_namespace(training_script(default_template(sample("digits")), sample("digits")))
    ns["IMAGE_SIZE"], ns["CHANNELS"] = size, channels
    for name, data in photos_scans_and_logos().items():
        np.testing.assert_array_equal(ns["read_image"](data), decode_image(data, size, channels), err_msg=name)


def test_a_hostile_file_name_cannot_break_out_of_the_script():
    import dataclasses

    dataset = dataclasses.replace(sample("iris"), name='C:\\New """\nimport shutil; shutil.rmtree(".")\n""".csv')
    ns = _script_namespace(training_script(default_template(dataset), dataset))
    assert ns["DEFAULT_DATA"] == dataset.name  # kept exactly, as a string literal
    assert "shutil" not in ns  # nothing from the name ran


def _name_problems(source: str, whole_script: bool = True) -> list[str]:
    """What pyflakes would say about names, from the standard library: names used but never defined,
    imports never used, local variables never read; for a whole script also functions never called."""
    tree = ast.parse(source)
    top = symtable.symtable(source, "train_model.py", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    known = defined | set(dir(builtins)) | {"__file__"}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}  # annotations too
    problems = []

    def check(table: symtable.SymbolTable) -> None:
        read_inside = {s.get_name() for child in table.get_children() for s in _symbols(child) if s.is_free()}
        for s in table.get_symbols():
            name = s.get_name()
            if s.is_referenced() and (table is top or s.is_global()) and name not in known:
                problems.append(f"{name} is undefined (in {table.get_name()})")
            if (table.get_type() == "function" and s.is_local() and (s.is_assigned() or s.is_imported())
                    and not (s.is_referenced() or s.is_parameter() or name in read_inside or name.startswith("_"))):
                problems.append(f"{name} is assigned but never used (in {table.get_name()})")
        for child in table.get_children():
            check(child)

    check(top)
    future = {a.name for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__" for a in n.names}
    problems += [f"{s.get_name()} is imported but never used" for s in top.get_symbols()
                 if s.is_imported() and s.get_name() not in read | future]
    if whole_script:
        problems += [f"{n.name}() is never called" for n in tree.body if isinstance(n, ast.FunctionDef) and n.name not in read]
    return problems


def _symbols(table: symtable.SymbolTable):
    yield from table.get_symbols()
    for child in table.get_children():
        yield from _symbols(child)


def test_the_name_check_finds_what_a_linter_would():
    source = (
        "import os\nimport sys\n\n"
        "def used(path):\n    unused = 1\n    return sys.argv, lambda: missing + path\n\n"
        "def forgotten():\n    pass\n\n"
        "used(None)\n"
    )
    assert sorted(_name_problems(source)) == [
        "forgotten() is never called", "missing is undefined (in lambda)", "os is imported but never used",
        "unused is assigned but never used (in used)",
    ]


_TEMPLATE_FILES = sorted(p for p in (Path(__file__).parents[2] / "core" / "script_templates").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", _TEMPLATE_FILES, ids=lambda p: p.name)
def test_each_script_template_is_python_a_linter_accepts(path):
    source = path.read_text(encoding="utf-8")
    compile(source, str(path), "exec")
    assert _name_problems(source, whole_script=False) == []


@pytest.mark.parametrize("data", ["iris", "diabetes", "digits", "flowers.csv", "digit codes", "sms_spam", "messages.zip",
                                  "electrical_equipment"])
def test_every_generated_script_uses_every_name_it_defines_and_defines_every_name_it_uses(data, tmp_path):
    if data == "flowers.csv":  # a categorical column: the one-hot input block
        dataset = prepare_table(read_csv(_iris_csv(tmp_path / data)), target="species")
    elif data == "messages.zip":  # texts from class folders: no CSV columns
        dataset = load_zip(write(tmp_path / data, zip_bytes(_message_files(per_class=20))))
    else:
        dataset = digit_codes() if data == "digit codes" else sample(data)
    specs = [t.fresh_spec(dataset.task) for t in TEMPLATES if t.kind == dataset.kind]
    if data == "digit codes":  # Embedding first: the inputs reach it as they are
        embedding = [{"type": "Embedding", "input_dim": 17, "output_dim": 3}, {"type": "GlobalAveragePooling1D"}]
        specs = [ProjectSpec.from_dict({"task": "classification", "layers": embedding})]
    for spec in specs:
        source = training_script(spec, dataset)
        compile(source, "train_model.py", "exec")
        assert _name_problems(source) == [], [layer["type"] for layer in spec.layers]


# ---- Texts -----------------------------------------------------------------------------------
def _sms_frame():
    return read_csv(text_sample_file("sms_spam")).frame


def _message_files(per_class: int) -> dict[str, bytes]:
    """SMS texts as .txt files in class folders, as a user zips them: a byte-order mark, UTF-16, a
    file of punctuation only (an empty text), macOS junk, a note that is not a .txt file."""
    frame = _sms_frame()
    files = {}
    for label in ("ham", "spam"):
        for k, text in enumerate(frame.loc[frame["label"] == label, "text"].head(per_class)):
            files[f"messages/{label}/{k:03d}.txt"] = str(text).encode("utf-8")
    files |= {
        "messages/ham/with bom.txt": "\ufeffSee you at home, I\u2019ll bring the café crème".encode("utf-8"),
        "messages/spam/utf16.txt": "WINNER!! Claim your free prize now\r\nCall 0800 123".encode("utf-16"),
        "messages/ham/dots.txt": b" ... !!! ",
        "__MACOSX/messages/ham/._000.txt": b"\x00\x05\x16\x07" + bytes(60),
        "messages/.DS_Store": bytes(32),
        "messages/readme.md": b"spam and ham from the SMS corpus",
    }
    return files


def _assert_texts_split_like_layerlab(ns: dict, data: str, dataset) -> None:
    """The script's texts in each split, tokenised by LayerLab, are LayerLab's token ids, in its order."""
    splits = ns["split"](*ns["load_data"](data))
    expected = [(dataset.x_train, dataset.y_train), (dataset.x_val, dataset.y_val), (dataset.x_test, dataset.y_test)]
    for (texts, y), (x_app, y_app) in zip(splits, expected):
        np.testing.assert_array_equal(dataset.text.ids(list(texts)), x_app)
        np.testing.assert_array_equal(y, y_app)
        assert y.dtype == y_app.dtype


def _user_sms_csv(path: Path) -> Path:
    """The SMS sample as a user's export: semicolons, a byte-order mark, two rows without a label and
    three texts with nothing in them (empty, punctuation only, spaces)."""
    frame = _sms_frame().astype(object)
    frame.loc[[5, 700], "label"] = None
    frame.loc[[3, 400, 1000], "text"] = [None, "?!... :-)", "   "]
    return write(path, frame.to_csv(index=False, sep=";").encode("utf-8-sig"))


def _sms_ratings_csv(path: Path) -> Path:
    """Texts with a number to predict (regression), two of them empty."""
    frame = _sms_frame().head(300)
    frame["stars"] = np.arange(300) % 5 + 1.5
    frame.loc[[3, 9], "stars"] = np.nan
    return write(path, frame[["text", "stars"]].to_csv(index=False).encode("utf-8"))


@pytest.mark.parametrize("source", ["csv", "regression csv", "zip", "folder"])
def test_the_script_reads_texts_exactly_like_layerlab(source, tmp_path, capsys):
    if source.endswith("csv"):
        regression = source == "regression csv"
        data = (_sms_ratings_csv if regression else _user_sms_csv)(tmp_path / "messages.csv")
        target = "stars" if regression else "label"
        dataset = prepare_table(read_csv(data), target=target, data_kind="text", text_column="text")
        assert dataset.dropped_rows == 2 and dataset.task == ("regression" if regression else "classification")
    elif source == "zip":
        data = write(tmp_path / "messages.zip", zip_bytes(_message_files(per_class=25)))
        dataset = load_zip(data)
    else:
        data = tmp_path / "messages"
        for name, content in _message_files(per_class=25).items():
            write(tmp_path / name, content)
        dataset = load_folder(data)
    ns = _script_namespace(training_script(default_template(dataset), dataset))
    _assert_texts_split_like_layerlab(ns, str(data), dataset)
    printed = capsys.readouterr().out
    if source == "csv":
        assert "Left out 2 row(s) whose target 'label' is empty." in printed and "Left out 3 empty text(s)." in printed
    elif source == "regression csv":
        assert "Left out 2 row(s) whose target 'stars' is empty." in printed
    else:
        assert dataset.n_rows == 52 and "Left out 1 empty text(s)." in printed and "Skipped" not in printed


def _assert_takes_raw_strings(path: Path) -> None:
    import keras

    model = keras.saving.load_model(path, safe_mode=True)
    probabilities = model.predict(np.array(["free prize", "see you"], dtype=object), verbose=0)
    assert probabilities.shape == (2, 2)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(2), abs=1e-4)


def test_the_script_trains_on_the_sms_csv_and_saves_a_model_that_takes_raw_strings(tmp_path):
    dataset = sample("sms_spam")
    source = training_script(default_template(dataset), dataset)
    assert 'DEFAULT_DATA = "sms_spam.csv"' in source and "scikit-learn" not in source.split('"""')[1]
    write(tmp_path / "sms_spam.csv", text_sample_file("sms_spam").read_bytes())
    script = write(tmp_path / "train_model.py", source.encode("utf-8"))
    done = _run(script, "--epochs", "2", "--out", "model.keras")  # --data: the sample's file name
    assert done.returncode == 0, done.stderr[-2000:]
    assert "900 training, 192 validation, 192 test texts" in done.stdout and "test: " in done.stdout
    _assert_takes_raw_strings(tmp_path / "model.keras")


def test_the_script_trains_a_multi_hot_design_on_a_zip_of_txt_files(tmp_path):
    archive = write(tmp_path / "messages.zip", zip_bytes(_message_files(per_class=25)))
    dataset = load_zip(archive)
    spec = template("text_multi_hot").fresh_spec(dataset.task)
    source = training_script(spec, dataset)
    assert 'keras.ops.one_hot(ids, VOCABULARY_SIZE, dtype="bool")' in source and "TARGET = None" in source
    legacy = zip_bytes({**_message_files(per_class=25), "messages/spam/old.txt": "Gratis! Café prize".encode("cp1252")})
    script = write(tmp_path / "train_model.py", source.encode("utf-8"))
    done = _run(script, "--data", str(write(archive, legacy)), "--epochs", "1", "--out", "model.keras")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Skipped 1 file(s)" in done.stdout and "messages/spam/old.txt (not UTF-8" in done.stdout
    assert "._000" not in done.stdout + done.stderr and "saved model.keras" in done.stdout
    _assert_takes_raw_strings(tmp_path / "model.keras")
