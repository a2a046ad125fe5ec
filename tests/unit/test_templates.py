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

DATA_FOR_KIND = {"table": "wine", "images": "digits"}


@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.id)
def test_every_template_round_trips_through_json(item):
    assert ProjectSpec.from_json(item.spec.to_json()) == item.spec
    assert item.name and item.description and item.kind in DATA_FOR_KIND


@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.id)
def test_every_template_builds_and_matches_its_shape_report(item):
    dataset = sample(DATA_FOR_KIND[item.kind])
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
