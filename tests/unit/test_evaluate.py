"""Evaluation numbers on the held-out test split make sense and match the model's own outputs."""
from __future__ import annotations

import numpy as np
import pytest

from core.build import build_model
from core.evaluate import confusion_matrix, evaluate, per_class_metrics
from core.spec import ProjectSpec
from tests.unit.trained_models import sample, trained, untrained


def test_trained_iris_accuracy_is_the_fraction_of_correct_test_predictions():
    dataset, model = sample("iris"), trained("iris")
    result = evaluate(model, dataset)
    predicted = model.predict(dataset.x_test, verbose=0).argmax(axis=1)
    assert result.n_test == len(dataset.y_test)
    assert result.accuracy == pytest.approx(np.mean(predicted == dataset.y_test))
    assert result.accuracy >= 0.8  # iris is easy: a trained model that scores less is broken
    assert result.confusion.sum() == result.n_test
    assert np.trace(result.confusion) / result.n_test == pytest.approx(result.accuracy)
    assert [c.support for c in result.per_class] == np.bincount(dataset.y_test, minlength=3).tolist()
    assert [c.name for c in result.per_class] == dataset.classes


def test_loss_is_the_cross_entropy_keras_reports():
    dataset, model = sample("iris"), trained("iris")
    keras_loss = model.evaluate(dataset.x_test, dataset.y_test, verbose=0, return_dict=True)["loss"]
    assert evaluate(model, dataset).loss == pytest.approx(keras_loss, rel=1e-4)


def test_worst_mistakes_are_wrong_and_most_confident_first():
    dataset = sample("digits")
    result = evaluate(untrained("digits"), dataset)
    assert result.accuracy < 0.5  # an untrained model guesses
    assert 0 < len(result.worst) <= 10
    confidences = [m.confidence for m in result.worst]
    assert confidences == sorted(confidences, reverse=True)
    for mistake in result.worst:
        assert mistake.true != mistake.predicted
        assert mistake.true == dataset.classes[dataset.y_test[mistake.index]]
        assert mistake.source == dataset.files_test[mistake.index]  # the image file to look at


def test_table_mistakes_show_the_row_values():
    dataset = sample("iris")
    result = evaluate(untrained("iris"), dataset)
    assert result.worst
    first = result.worst[0]
    assert first.source == f"test row {first.index + 1}"
    assert list(first.inputs) == dataset.preprocessor.input_names
    assert list(first.inputs.values()) == pytest.approx(dataset.x_test[first.index].tolist())


def test_table_mistakes_name_categories_not_positions(tmp_path):
    from core.data import load_data
    from tests.datafiles import sklearn_frame

    frame = sklearn_frame("iris")
    frame.insert(0, "colour", np.random.default_rng(0).choice(["red", "green", "blue"], len(frame)))
    path = tmp_path / "iris_colour.csv"
    frame.to_csv(path, index=False)
    dataset = load_data(path)
    spec = ProjectSpec.from_dict({"task": "classification", "layers": [{"type": "Dense", "units": 4}]})
    result = evaluate(build_model(spec, dataset), dataset)
    shown = {m.inputs["colour"] for m in result.worst}
    assert shown and shown <= {"red", "green", "blue"}


def test_regression_metrics_agree_with_the_residuals():
    dataset, model = sample("diabetes"), trained("diabetes")
    result = evaluate(model, dataset)
    predicted = model.predict(dataset.x_test, verbose=0).reshape(-1)
    residuals = dataset.y_test - predicted
    assert result.residuals == pytest.approx(residuals, abs=1e-3)
    assert result.mae == pytest.approx(np.mean(np.abs(residuals)), rel=1e-5)
    assert result.rmse == pytest.approx(np.sqrt(np.mean(residuals**2)), rel=1e-5)
    assert 0.0 < result.r2 < 1.0  # a trained model beats predicting the mean
    errors = [m.error for m in result.worst]
    assert errors == sorted(errors, reverse=True) and errors[0] == pytest.approx(np.max(np.abs(residuals)), rel=1e-5)
    metrics = result.metrics()
    assert set(metrics) >= {"mae", "rmse", "r2", "n_test"} and metrics["n_test"] == len(dataset.y_test)


def test_per_class_scores_on_a_hand_checked_example():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 0, 1])  # class 2 is never predicted
    matrix = confusion_matrix(y_true, predicted, 3)
    assert matrix.tolist() == [[2, 1, 0], [1, 1, 0], [0, 1, 0]]
    a, b, c = per_class_metrics(matrix, ["a", "b", "c"])
    assert (a.precision, a.recall) == pytest.approx((2 / 3, 2 / 3))
    assert (b.precision, b.recall, b.f1) == pytest.approx((1 / 3, 1 / 2, 0.4))
    assert (c.precision, c.recall, c.f1, c.support) == (0.0, 0.0, 0.0, 1)


def test_to_dict_is_json_ready():
    import json

    data = json.loads(json.dumps(evaluate(trained("iris"), sample("iris")).to_dict()))
    assert data["classes"] == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, data["confusion_matrix"])) == data["n_test"]
