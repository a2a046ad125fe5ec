"""ProjectSpec + Dataset -> a compiled keras.Model.

The builder adds what the data needs around the user's hidden layers: the input, the
preprocessing that belongs inside the model (Normalization adapted on the training split
for tables, Rescaling for raw 0-255 pixels) and the output head for the task, so a saved
model takes raw values and (for regression) answers in the target's own units. Only
backend-neutral Keras APIs are used, so the same code runs with KERAS_BACKEND=jax.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from core.backbones import has_backbone, is_backbone
from core.blocks import BRANCHES, RESIDUAL, is_block, keras_name, residual_shortcut
from core.catalog import LAYERS, OPTIMIZERS, KerasCall, Regularizer
from core.data.kinds import kind_of
from core.shapes import shape_report, with_data_settings


def build_model(spec: Any, dataset: Any, *, max_params: int | None = None, max_memory_bytes: int | None = None,
                weights_file: Any = None):
    """A compiled model for `spec` on `dataset`.

    Raises the shape report's first error (UserError) before any Keras object is created
    when the stack cannot work or is over the parameter / memory budget. A design starting with a
    pretrained backbone gets its ImageNet weights from `weights_file`, else Keras' cache
    (`core.backbones.resolve_weights`: `backbone.weights_missing` when neither has them); the backbone
    is frozen (phase 1 of core.training.phases).
    """
    spec = spec.validated()  # raises UserError naming the layer and key
    report = shape_report(spec, dataset, max_params=max_params, max_memory_bytes=max_memory_bytes)
    if not report.ok:
        raise report.first_error()

    import keras

    keras.utils.set_random_seed(int(spec.training["seed"]))
    inputs = keras.Input(shape=tuple(dataset.input_shape), name="input")
    if has_backbone(spec):  # the backbone's own input steps replace the kind's Rescaling
        x = backbone_block(keras, inputs, spec.layers[0], dataset, weights_file)
    else:
        x = kind_of(dataset).input_block(keras, inputs, dataset, reads_integer_codes(spec))
    x = apply_entries(keras, [with_data_settings(layer, dataset) for layer in spec.layers], x)
    outputs = kind_of(dataset).output_head(keras, inputs, x, dataset)
    model = keras.Model(inputs=inputs, outputs=outputs, name="layerlab")
    classification = dataset.task == "classification"
    # Keywords only: positionally, Keras 3 would take the metrics list as loss_weights.
    model.compile(
        optimizer=make_optimizer(keras, spec.optimizer),
        loss="sparse_categorical_crossentropy" if classification else "mse",
        metrics=["accuracy"] if classification else ["mae"],
    )
    return model


def layer_name(number: int, type_name: str) -> str:
    """Keras name of hidden layer `number` (1-based), e.g. "layer_3_conv2d"."""
    return f"layer_{number}_{type_name.lower()}"


def apply_entries(keras: Any, entries: list[dict], x: Any, prefix: tuple[int, ...] = (), root: list | None = None) -> Any:
    """The entries (layers and blocks, core.blocks) applied to `x` with the functional API."""
    root = entries if root is None else root
    for index, entry in enumerate(entries):
        path = (*prefix, index)
        if is_backbone(entry):  # the first entry, built by backbone_block (the shape report refuses it elsewhere)
            continue
        if not is_block(entry):
            call = LAYERS[entry["type"]].keras_call(entry)
            x = instantiate(keras, call, name=keras_name(path, entry["type"], root))(x)
        elif entry["type"] == RESIDUAL:
            x = _residual(keras, entry, x, path, root)
        else:
            x = _branches(keras, entry, x, path, root)
    return x


def _residual(keras: Any, entry: dict, x: Any, path: tuple[int, ...], root: list) -> Any:
    """The inner layers, plus the block's input (projected when the shapes differ), then the activation."""
    base = keras_name(path, RESIDUAL, root)
    y = apply_entries(keras, entry["layers"], x, path, root)
    shortcut = residual_shortcut(tuple(x.shape[1:]), tuple(y.shape[1:]))
    if shortcut.type == "Dense":
        x = keras.layers.Dense(shortcut.units, name=f"{base}_shortcut")(x)
    elif shortcut.type is not None:
        x = getattr(keras.layers, shortcut.type)(shortcut.units, 1, strides=shortcut.strides, padding="same",
                                                  name=f"{base}_shortcut")(x)
    y = keras.layers.Add(name=f"{base}_add")([y, x])
    return keras.layers.Activation(entry["activation"], name=f"{base}_activation")(y)


def _branches(keras: Any, entry: dict, x: Any, path: tuple[int, ...], root: list) -> Any:
    base = keras_name(path, BRANCHES, root)
    outputs = [apply_entries(keras, branch, x, (*path, number), root) for number, branch in enumerate(entry["branches"])]
    if entry["merge"] == "add":
        return keras.layers.Add(name=f"{base}_add")(outputs)
    return keras.layers.Concatenate(axis=-1, name=f"{base}_concatenate")(outputs)


def instantiate(keras: Any, call: KerasCall, name: str | None = None):
    """The Keras layer a catalog KerasCall describes (nested calls and regularizers included)."""
    kwargs = {key: _keras_value(keras, value) for key, value in call.kwargs.items()}
    if name:
        kwargs["name"] = name
    return getattr(keras.layers, call.class_name)(**kwargs)


def _keras_value(keras: Any, value: Any) -> Any:
    if isinstance(value, Regularizer):
        return keras.regularizers.L1L2(l1=value.l1, l2=value.l2)
    if isinstance(value, KerasCall):
        return instantiate(keras, value)
    return value


def make_optimizer(keras: Any, optimizer: dict):
    entry = OPTIMIZERS[optimizer["type"]]
    settings = {**entry.defaults(), **{k: v for k, v in optimizer.items() if k != "type"}}
    return getattr(keras.optimizers, entry.name)(**settings)


def reads_integer_codes(spec: Any) -> bool:
    """The first layer reads the data's raw whole-number codes (Embedding): no input preprocessing."""
    return (bool(spec.layers) and not is_block(spec.layers[0]) and not is_backbone(spec.layers[0]) and LAYERS[spec.layers[0]["type"]].needs_integer_codes)


def task_head(keras: Any, dataset: Any, x: Any):
    """The output for the task: softmax over the classes, or one value in the target's units."""
    if dataset.task == "classification":
        return keras.layers.Dense(len(dataset.classes), activation="softmax", name="output")(x)
    # The network learns a standardised target; the last Rescaling turns it back into real units.
    y = np.asarray(dataset.y_train, dtype="float64")
    mean, std = float(y.mean()), float(y.std())
    x = keras.layers.Dense(1, name="output_standardised")(x)
    return keras.layers.Rescaling(scale=std if std > 0 else 1.0, offset=mean, name="output")(x)


BACKBONE_LAYER = "backbone"


def backbone_block(keras: Any, inputs: Any, entry: dict, dataset: Any, weights_file: Any = None) -> Any:
    """Raw 0-255 pixels -> (gray copied to 3 channels) -> Resizing to the backbone's size -> its own input
    scaling as plain layers (no Lambda: safe-mode loading and TFLite work) -> the frozen backbone, one
    nested model layer named "backbone" whose output is its last feature map."""
    from core import backbones

    if backbones.is_model_backbone(entry):
        net = backbones.base_network(backbones.load_base_model(entry["model"]))
        height, width, channels = (int(d) for d in net.inputs[0].shape[1:])
        scaling = "model"
    else:
        info = backbones.BACKBONES[entry["name"]]
        weights = backbones.resolve_weights(entry, weights_file)
        side = backbones.backbone_size(entry)
        net = backbones.keras_backbone(info.name, side, weights)
        height, width, channels = side, side, 3
        scaling = info.preprocessing
        if weights is not None and info.function.startswith("EfficientNet"):
            scaling = "efficientnet_file"
    x = inputs
    if int(inputs.shape[-1]) == 1 and channels == 3:
        x = keras.layers.Concatenate(axis=-1, name="backbone_gray_to_rgb")([x, x, x])
    if tuple(int(d) for d in inputs.shape[1:3]) != (height, width):
        x = keras.layers.Resizing(height, width, name="backbone_resizing")(x)
    if scaling == "tf":
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="backbone_preprocessing")(x)
    elif scaling == "efficientnet_file":
        scale, offset = backbones.efficientnet_correction()
        x = keras.layers.Rescaling(scale, offset=offset, name="backbone_preprocessing")(x)
    elif scaling == "caffe":  # RGB -> BGR and the ImageNet means subtracted: a frozen 1x1 convolution
        conv = keras.layers.Conv2D(3, 1, name="backbone_preprocessing", trainable=False)
        x = conv(x)
        kernel = np.zeros((1, 1, 3, 3), dtype="float32")
        for out_channel, in_channel in enumerate((2, 1, 0)):
            kernel[0, 0, in_channel, out_channel] = 1.0
        conv.set_weights([kernel, -np.asarray(backbones.CAFFE_MEAN_BGR, dtype="float32")])
    net.trainable = False  # phase 1; BatchNormalization then runs in inference mode (Keras 3)
    return net(x)
