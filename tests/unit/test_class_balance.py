"""Balanced classes (issue 25): the class weights come from the training split, change the loss
as the "balanced" rule says, reach model.fit through the data kind's fit_data, and make a model
trained on a skewed table find more of the rare class."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core import data as core_data
from core.data.balance import (
    balanced_class_weights,
    fit_class_weight,
    imbalance_ratio,
    is_imbalanced,
    sample_weights,
)
from core.data.kinds import kind_of
from core.errors import UserError
from core.spec import ProjectSpec
from core.training.settings import TrainingSettings
from tests.datafiles import csv_bytes, machine_faults_frame
from tests.unit.trained_models import sample


def _faults(ok: int, faults: int):
    return core_data.prepare_table(core_data.read_csv(csv_bytes(machine_faults_frame(ok, faults)), "machines.csv"))


def test_balanced_weights_follow_n_over_classes_times_count():
    y = np.array([0] * 90 + [1] * 10)
    weights = balanced_class_weights(y, 2)
    assert weights == pytest.approx({0: 100 / (2 * 90), 1: 100 / (2 * 10)})
    # each class then weighs the same in all, and the weights still add up to the number of examples
    assert 90 * weights[0] == pytest.approx(10 * weights[1]) and sample_weights(y, weights).sum() == pytest.approx(100)
    assert balanced_class_weights(np.array([0, 1, 2, 2]), 3) == pytest.approx({0: 4 / 3, 1: 4 / 3, 2: 2 / 3})
    assert balanced_class_weights(np.array([0, 0, 2]), 3)[1] == 1.0  # a class without examples: no weight change


def test_the_weights_come_from_the_training_split_and_only_for_classification():
    dataset = _faults(180, 20)
    assert dataset.classes == ["fault", "ok"]
    counts = np.bincount(dataset.y_train)
    assert counts.tolist() == [14, 126]  # the training split of 20 faults and 180 ok (3 + 3 and 27 + 27 held out)
    weights = fit_class_weight(dataset, True)
    assert weights == pytest.approx({0: 140 / (2 * 14), 1: 140 / (2 * 126)})
    assert fit_class_weight(dataset, False) is None
    assert imbalance_ratio(dataset) == pytest.approx(9.0) and is_imbalanced(dataset)
    assert not is_imbalanced(sample("iris")) and imbalance_ratio(sample("iris")) == pytest.approx(1.0)
    regression = sample("diabetes")
    assert imbalance_ratio(regression) is None and fit_class_weight(regression, True) is None
    assert kind_of(regression).fit_data(regression, 32, 1, balance_classes=True)["class_weight"] is None


def test_fit_data_hands_model_fit_the_weights_and_weighs_validation_alike():
    dataset = _faults(180, 20)
    plain = kind_of(dataset).fit_data(dataset, 32, 1)
    assert plain["class_weight"] is None and len(plain["validation_data"]) == 2
    data = kind_of(dataset).fit_data(dataset, 32, 1, balance_classes=True)
    weights = data["class_weight"]
    assert weights == fit_class_weight(dataset, True)
    x_val, y_val, w_val = data["validation_data"]
    assert w_val.tolist() == pytest.approx([weights[int(k)] for k in y_val])


def test_a_project_file_without_the_setting_trains_unbalanced():
    """layerlab/1 and /2 files written before the setting existed load with it off."""
    for fmt in ("layerlab/1", "layerlab/2"):
        spec = ProjectSpec.from_dict({"format": fmt, "layers": [], "training": {"epochs": 3}})
        assert spec.training["balance_classes"] is False
    assert TrainingSettings.from_training({"epochs": 3}).balance_classes is False
    assert TrainingSettings.from_training({"balance_classes": True}).balance_classes is True
    spec = ProjectSpec.from_dict({"training": {"balance_classes": True}})
    assert ProjectSpec.from_json(spec.to_json()).training["balance_classes"] is True
    with pytest.raises(UserError) as refused:
        ProjectSpec.from_dict({"training": {"balance_classes": "yes"}})
    assert refused.value.params["key"] == "balance_classes"


def test_class_weights_change_the_loss_of_a_constant_predictor_as_computed_by_hand():
    """A model that always says 90 % ok, 10 % fault, on a 9:1 training split: unweighted its loss is
    the data's entropy; with balanced weights each class counts half, so the rare class's -ln(0.1)
    weighs as much as the common one's -ln(0.9)."""
    import keras

    dataset = _faults(180, 20)  # training split: 14 faults (class 0), 126 ok (class 1)
    n = len(dataset.y_train)

    def constant_model():
        model = keras.Sequential([
            keras.Input(shape=dataset.input_shape),
            keras.layers.Dense(2, kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant([math.log(0.1), math.log(0.9)])),
            keras.layers.Softmax(),
        ])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
        return model

    losses = {}
    for balance in (False, True):
        data = kind_of(dataset).fit_data(dataset, n, 0, balance_classes=balance)  # one batch: the whole split
        history = constant_model().fit(**{**data, "validation_data": None}, epochs=1, verbose=0)
        losses[balance] = history.history["loss"][0]
    assert losses[False] == pytest.approx(0.9 * -math.log(0.9) + 0.1 * -math.log(0.1), rel=1e-4)  # 0.3251
    assert losses[True] == pytest.approx(0.5 * -math.log(0.9) + 0.5 * -math.log(0.1), rel=1e-4)  # 1.2040


def test_training_with_balanced_classes_finds_more_of_the_rare_class(tmp_path):
    """On a 9:1 table of overlapping classes the plain model mostly says 'ok'; balanced, it finds
    most faults (measured: recall of 'fault' 0.20 -> 0.67 on the 15 test faults)."""
    from core.evaluate import evaluate
    from core.templates import default_template
    from core.training.trainer import train_in_process

    dataset = _faults(900, 100)
    recall, starts = {}, {}
    for balance in (False, True):
        spec = default_template(dataset)
        spec.training = {**spec.training, "epochs": 8, "balance_classes": balance}
        events = []
        result = train_in_process(spec, dataset, tmp_path / str(balance), on_event=events.append)
        starts[balance] = events[0]
        recall[balance] = {c.name: c.recall for c in evaluate(result.model, dataset).per_class}
    assert starts[False]["class_weights"] is None
    expected = fit_class_weight(dataset, True)
    assert starts[True]["class_weights"] == pytest.approx([expected[0], expected[1]], rel=1e-5)
    assert recall[True]["fault"] >= recall[False]["fault"] + 0.3, recall


def test_the_cli_balances_an_imbalanced_table_by_default_like_the_app(tmp_path, capsys):
    """The default design (core.templates.default_template) carries the data's default, so `python -m core
    summary`/`train` without --spec balance a 9:1 table as the app's designer does."""
    from core.cli import main
    from core.data import load_data
    from core.templates import default_template
    from tests.datafiles import machine_faults_frame

    path = tmp_path / "faults.csv"
    machine_faults_frame().to_csv(path, index=False)
    assert default_template(load_data(path)).training["balance_classes"] is True
    assert default_template(load_data("sample:iris")).training["balance_classes"] is False
    assert main(["summary", str(path)]) == 0
