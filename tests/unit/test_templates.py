"""Templates: valid project files that build on their data kind and train well out of the box."""
from __future__ import annotations

import numpy as np
import pytest

from core.build import build_model
from core.data.dataset import Dataset
from core.shapes import shape_report
from core.spec import ProjectSpec
from core.templates import TEMPLATES, default_template, template, templates_for
from tests.unit.design_checks import assert_report_matches_model, sample

DATA_FOR_KIND = {"table": "wine", "images": "digits", "text": "sms_spam", "series": "electrical_equipment"}


@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.id)
def test_every_template_round_trips_through_json(item):
    assert ProjectSpec.from_json(item.spec.to_json()) == item.spec
    assert item.name and item.description and item.kind in DATA_FOR_KIND


def _digits_scaled(factor: int) -> Dataset:
    """The digits sample with every pixel repeated factor × factor times (8×8 -> 32×32 for factor 4)."""
    d = sample("digits")
    grow = lambda x: x.repeat(factor, axis=1).repeat(factor, axis=2)  # noqa: E731
    return Dataset(
        name="digits scaled", kind="images", task="classification", classes=d.classes,
        x_train=grow(d.x_train), y_train=d.y_train, x_val=grow(d.x_val), y_val=d.y_val,
        x_test=grow(d.x_test), y_test=d.y_test, image_size=(8 * factor, 8 * factor), channels=d.channels,
    )


def _data_for(item):
    # Four poolings need at least 16×16 pixels; every other template fits the 8×8 digits.
    return _digits_scaled(4) if item.id == "images_cnn_large" else sample(DATA_FOR_KIND[item.kind])


@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.id)
def test_every_template_builds_and_matches_its_shape_report(item):
    dataset = _data_for(item)
    report = shape_report(item.spec, dataset)
    assert report.ok and not report.warnings
    assert_report_matches_model(report, build_model(item.spec, dataset))


def test_at_least_three_templates_per_kind_of_data():
    for kind in ("table", "images"):
        assert len([t for t in TEMPLATES if t.kind == kind]) >= 3
    assert len({t.id for t in TEMPLATES}) == len(TEMPLATES)


def test_templates_for_offers_only_the_datas_kind():
    assert {t.kind for t in templates_for(sample("iris"))} == {"table"}
    assert {t.id for t in templates_for(sample("digits"))} >= {"images_lenet", "images_vgg_small", "images_cnn_augmented"}


def test_default_template_per_kind_carries_the_task_and_is_a_fresh_copy():
    table = default_template(sample("diabetes"))
    assert table.task == "regression" and table.layers == template("table_mlp_small").spec.layers
    table.layers.clear()
    assert template("table_mlp_small").spec.layers  # editing the copy leaves the template alone
    assert default_template(sample("digits")).layers == template("images_lenet").spec.layers


def test_tiny_images_get_only_templates_that_fit():
    digits = sample("digits")
    tiny = Dataset(
        name="tiny", kind="images", task="classification", classes=digits.classes,
        x_train=digits.x_train[:, :2, :2], y_train=digits.y_train, x_val=digits.x_val[:, :2, :2], y_val=digits.y_val,
        x_test=digits.x_test[:, :2, :2], y_test=digits.y_test, image_size=(2, 2), channels=1,
    )
    fitting = templates_for(tiny)
    assert "images_lenet" not in {t.id for t in fitting}
    assert shape_report(default_template(tiny), tiny).ok


@pytest.mark.parametrize(("name", "metric", "threshold"), [("wine", "accuracy", 0.9), ("diabetes", "r2", 0.3)])
def test_default_template_trains_well_with_its_own_settings(name, metric, threshold):
    import keras

    dataset = sample(name)
    spec = default_template(dataset)
    model = build_model(spec, dataset)
    model.fit(
        dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
        epochs=spec.training["epochs"], batch_size=spec.training["batch_size"], verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=spec.training["early_stopping_patience"], restore_best_weights=True)],
    )
    predictions = model.predict(dataset.x_test, verbose=0)
    if metric == "accuracy":
        score = float((predictions.argmax(axis=1) == dataset.y_test).mean())
    else:
        y = dataset.y_test
        score = 1 - float(((y - predictions.ravel()) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert score >= threshold
    assert np.isfinite(predictions).all()


def _draw_shapes(root, side: int, per_class: int = 60, seed: int = 0) -> None:
    """Dark circles and squares of random size, place and colour on light backgrounds, as PNG files."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    for shape in ("circle", "square"):
        folder = root / shape
        folder.mkdir()
        for i in range(per_class):
            image = Image.new("RGB", (side, side), tuple(rng.randint(180, 255) for _ in range(3)))
            r = rng.randint(side // 8, side // 4)
            cx, cy = rng.randint(r + 2, side - r - 2), rng.randint(r + 2, side - r - 2)
            draw = ImageDraw.Draw(image)
            (draw.ellipse if shape == "circle" else draw.rectangle)(
                (cx - r, cy - r, cx + r, cy + r), fill=tuple(rng.randint(0, 120) for _ in range(3)))
            image.save(folder / f"{shape}_{i}.png")


def test_large_images_default_to_a_small_cnn_that_tells_circles_from_squares(tmp_path):
    import keras

    from core.data.images import load_image_folder

    _draw_shapes(tmp_path, side=64)
    dataset = load_image_folder(tmp_path)
    assert dataset.image_size == (64, 64) and len(dataset.y_test) >= 15
    spec = default_template(dataset)
    assert spec.layers == template("images_cnn_large").spec.layers
    assert templates_for(dataset)[0].id == "images_cnn_large"  # the designer names the default by this
    report = shape_report(spec, dataset)
    # The LeNet template had 1.28 million weights on 100×100 pictures and memorised them.
    assert report.ok and report.total_params < 100_000
    model = build_model(spec, dataset)
    model.fit(
        dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
        epochs=20, batch_size=spec.training["batch_size"], verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=spec.training["early_stopping_patience"], restore_best_weights=True)],
    )
    accuracy = float((model.predict(dataset.x_test, verbose=0).argmax(axis=1) == dataset.y_test).mean())
    assert accuracy >= 0.8  # chance is 0.5; measured 1.0 on 64 and 100 px over several seeds


def test_small_images_keep_the_lenet_default():
    digits = sample("digits")
    assert templates_for(digits)[0].id == "images_lenet"
    assert "images_cnn_large" not in {t.id for t in templates_for(digits)}  # four poolings do not fit 8×8
    at_32 = templates_for(_digits_scaled(4))  # 32 px: still "small", LeNet stays first but the CNN is offered
    assert at_32[0].id == "images_lenet" and "images_cnn_large" in {t.id for t in at_32}


def _score_after_training(template_id: str, data: str, tmp_path) -> float:
    """Train a template with its own settings as the app does (core.training: the seed, early stopping,
    the best epoch's weights kept), then its test accuracy or R²."""
    from core.training.trainer import train_in_process

    dataset = sample(data)
    result = train_in_process(template(template_id).fresh_spec(dataset.task), dataset, tmp_path / data)
    predictions = result.model.predict(dataset.x_test, verbose=0)
    assert np.isfinite(predictions).all()
    if dataset.task == "classification":
        return float((predictions.argmax(axis=1) == dataset.y_test).mean())
    y = dataset.y_test
    return 1 - float(((y - predictions.ravel()) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def test_the_small_resnet_reaches_98_percent_on_the_digits(tmp_path):
    # Measured 0.993 with the template's seed 42 (20 s here); 0.993, 0.993 and 0.989 with seeds 1, 7, 123.
    assert _score_after_training("images_resnet_small", "digits", tmp_path) >= 0.98


@pytest.mark.parametrize(("data", "threshold"), [("wine", 0.9), ("diabetes", 0.3)])
def test_the_residual_network_trains_well_on_tables(data, threshold, tmp_path):
    # Measured with seed 42: wine 0.963 accuracy, diabetes R² 0.42 (the small network: 0.93, 0.46)
    assert _score_after_training("table_residual_mlp", data, tmp_path) >= threshold


def test_the_block_templates_have_their_shortcuts():
    digits = shape_report(template("images_resnet_small").spec, sample("digits"))
    shortcuts = [(row.label, row.settings) for row in digits.rows if row.role == "shortcut"]
    assert shortcuts == [("3.s", "projection: 64 filters 1×1, stride 2")]  # block 2 keeps the shape: identity
    assert digits.total_params < 100_000
    wine = shape_report(template("table_residual_mlp").spec, sample("wine"))
    assert [row.type for row in wine.rows if row.role == "block"] == ["Residual", "Residual"]
    assert not [row for row in wine.rows if row.role == "shortcut"]
