"""The shape report: shapes, parameters and plain-language fixes, without Keras."""
from __future__ import annotations

import subprocess
import sys
import time


from core.shapes import format_report, shape_report
from core.spec import ProjectSpec
from tests.unit.design_checks import digit_codes, sample


def _report(name_or_dataset, layers, **limits):
    dataset = sample(name_or_dataset) if isinstance(name_or_dataset, str) else name_or_dataset
    return shape_report(ProjectSpec.from_dict({"layers": layers}), dataset, **limits)


def _only_error(report):
    assert not report.ok and len(report.errors) == 1
    return report.errors[0]


def test_rows_cover_input_preprocessing_layers_and_output():
    report = _report("iris", [{"type": "Dense", "units": 8}, {"type": "Dropout"}])
    assert [(r.role, r.type, r.output_shape, r.params) for r in report.rows] == [
        ("input", "Input", (4,), 0),
        ("preprocessing", "Normalization", (4,), 9),
        ("layer", "Dense", (8,), 40),
        ("layer", "Dropout", (8,), 0),
        ("output", "Dense", (3,), 27),
    ]
    assert [r.number for r in report.rows if r.role == "layer"] == [1, 2]
    assert report.rows[2].settings == "8 units, relu"
    assert report.ok and report.total_params == 76 and report.trainable_params == 67


def test_images_are_rescaled_and_regression_has_one_output():
    assert _report("digits", [{"type": "Flatten"}]).rows[1].type == "Rescaling"
    assert _report("diabetes", []).rows[-1].output_shape == (1,)


def test_memory_estimate_grows_with_the_batch():
    small = shape_report(ProjectSpec.from_dict({"layers": [{"type": "Conv2D"}, {"type": "Flatten"}], "training": {"batch_size": 8}}), sample("digits"))
    large = shape_report(ProjectSpec.from_dict({"layers": [{"type": "Conv2D"}, {"type": "Flatten"}], "training": {"batch_size": 512}}), sample("digits"))
    assert 0 < small.memory_bytes < large.memory_bytes


def test_conv2d_on_a_table_says_to_use_dense_or_a_sequence():
    error = _only_error(_report("iris", [{"type": "Dense"}, {"type": "Conv2D"}]))
    assert error.code == "build.image_layer_on_table" and error.layer == 2
    assert str(error).startswith("Layer 2 (Conv2D): it works on images")
    assert "Dense" in str(error) and "Conv1D" in str(error)


def test_a_2d_layer_after_flatten_names_the_flatten_to_move():
    report = _report("digits", [{"type": "Conv2D"}, {"type": "Flatten"}, {"type": "MaxPooling2D"}, {"type": "Dense"}])
    error = _only_error(report)
    assert error.code == "build.image_layer_after_flatten"
    assert "Layer 3 (MaxPooling2D)" in str(error) and "layer 2 (Flatten)" in str(error)
    assert "Move this layer before layer 2" in str(error)
    assert report.rows[-2].output_shape is None  # later shapes are unknown, not guessed


def test_pooling_below_one_pixel_is_refused_with_the_fix():
    error = _only_error(_report("digits", [{"type": "MaxPooling2D"}] * 4))
    assert error.code == "build.pooling_too_small" and error.layer == 4
    assert "1×1" in str(error) and "pool_size" in str(error)


def test_a_kernel_bigger_than_the_image_is_refused():
    error = _only_error(_report("digits", [{"type": "Conv2D", "kernel_size": 9, "padding": "valid"}]))
    assert error.code == "build.input_too_small" and 'padding "same"' in str(error)


def test_lstm_without_a_sequence_says_to_add_reshape():
    error = _only_error(_report("iris", [{"type": "LSTM"}]))
    assert error.code == "build.needs_sequence"
    assert "Reshape" in str(error) and "target_shape [4, 1]" in str(error)
    assert _report("iris", [{"type": "Reshape", "target_shape": [4, 1]}, {"type": "LSTM", "units": 5}]).ok


def test_lstm_on_an_image_suggests_reading_rows():
    error = _only_error(_report("digits", [{"type": "GRU"}]))
    assert error.code == "build.sequence_layer_on_image" and "[8, 8]" in str(error)


def test_dense_straight_on_an_image_is_allowed_but_warned():
    report = _report("digits", [{"type": "Dense", "units": 4}, {"type": "Flatten"}])
    assert report.ok and report.rows[2].output_shape == (8, 8, 4)
    assert report.warnings[0].code == "build.dense_on_image"
    assert "add Flatten or GlobalAveragePooling2D first" in report.rows[2].warning


def test_an_image_reaching_the_output_asks_for_flatten():
    error = _only_error(_report("digits", [{"type": "Conv2D"}]))
    assert error.code == "build.output_needs_flat" and "layer 1 (Conv2D)" in str(error)
    assert "Flatten or GlobalAveragePooling2D" in str(error)


def test_reshape_must_keep_the_number_of_values():
    error = _only_error(_report("iris", [{"type": "Reshape", "target_shape": [3, 1]}]))
    assert error.code == "build.reshape_size" and "4" in str(error)
    assert _report("iris", [{"type": "Reshape", "target_shape": [2, 2]}, {"type": "Flatten"}]).ok


def test_embedding_needs_whole_number_codes_as_the_first_layer():
    assert _only_error(_report("iris", [{"type": "Embedding"}])).code == "build.embedding_needs_codes"
    assert _only_error(_report(digit_codes(), [{"type": "Dense"}, {"type": "Embedding"}])).code == "build.embedding_not_first"
    too_few = _only_error(_report(digit_codes(), [{"type": "Embedding", "input_dim": 10}, {"type": "Flatten"}]))
    assert too_few.code == "build.embedding_input_dim" and "at least 17" in str(too_few)
    report = _report(digit_codes(), [{"type": "Embedding", "input_dim": 17, "output_dim": 4}, {"type": "GlobalAveragePooling1D"}])
    assert report.ok and report.rows[1].type == "None" and report.rows[2].output_shape == (64, 4)


def test_parameter_budget_default_argument_and_environment(monkeypatch):
    huge = [{"type": "Flatten"}, {"type": "Dense", "units": 40000}, {"type": "Dense", "units": 1000}]
    error = _only_error(_report("digits", huge))
    assert error.code == "build.too_many_params" and "20,000,000" in str(error) and "layer 3 (Dense)" in str(error)
    assert not _report("iris", [{"type": "Dense", "units": 100}], max_params=500).ok
    monkeypatch.setenv("LAYERLAB_MAX_PARAMS", "100")
    assert _only_error(_report("iris", [{"type": "Dense", "units": 100}])).code == "build.too_many_params"


def test_memory_budget():
    error = _only_error(_report("digits", [{"type": "Conv2D", "filters": 512}, {"type": "Flatten"}], max_memory_bytes=10 * 1024**2))
    assert error.code == "build.too_much_memory" and "batch_size" in str(error)


def test_a_project_for_another_task_is_warned_about():
    report = shape_report(ProjectSpec.from_dict({"task": "regression", "layers": []}), sample("iris"))
    assert report.ok and report.warnings[0].code == "build.task_mismatch"


def test_invalid_settings_in_a_designer_spec_become_row_errors():
    report = shape_report(ProjectSpec(layers=[{"type": "Dense", "units": 0}, {"type": "Dense"}]), sample("iris"))
    assert report.errors[0].code == "spec.out_of_range" and "units" in report.rows[2].error


def test_report_is_fast_enough_to_recompute_on_every_edit():
    layers = [{"type": "Conv2D", "filters": 8}, {"type": "BatchNormalization"}, {"type": "Dropout"}] * 10 + [{"type": "Flatten"}]
    spec = ProjectSpec.from_dict({"layers": layers})
    dataset = sample("digits")
    start = time.perf_counter()
    for _ in range(20):
        shape_report(spec, dataset)
    assert (time.perf_counter() - start) / 20 < 0.02


def test_format_report_prints_a_table_with_totals_and_errors():
    text = format_report(_report("iris", [{"type": "Dense", "units": 8}]))
    lines = text.splitlines()
    assert lines[0].split() == ["#", "Layer", "Settings", "Output", "shape", "Parameters"]
    assert any(line.split()[:2] == ["1", "Dense"] and line.rstrip().endswith("40") for line in lines)
    assert "Total parameters: 76" in text
    assert "Error: Layer 1 (LSTM)" in format_report(_report("iris", [{"type": "LSTM"}]))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "summary", *args], capture_output=True, text=True, timeout=120)


def test_summary_command_uses_the_default_template(tmp_path):
    out = _cli("sample:digits")
    assert out.returncode == 0, out.stderr
    assert "Conv2D" in out.stdout and "(10,)" in out.stdout and "Total parameters:" in out.stdout


def test_summary_command_with_an_impossible_or_invalid_spec_exits_2(tmp_path):
    impossible = tmp_path / "impossible.json"
    impossible.write_text(ProjectSpec.from_dict({"layers": [{"type": "Conv2D"}]}).to_json())
    out = _cli("sample:iris", "--spec", str(impossible))
    assert out.returncode == 2 and "Error: Layer 1 (Conv2D)" in out.stdout and "Traceback" not in out.stderr
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"layers": [{"type": "Dense", "units": -1}]}')
    out = _cli("sample:iris", "--spec", str(invalid))
    assert out.returncode == 2 and "Layer 1 (Dense): units" in out.stderr and "Traceback" not in out.stderr
