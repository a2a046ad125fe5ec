"""Ready-made designs that train well out of the box, per data kind.

The first template of a kind that fits the data is the default the designer starts with.
Epochs, learning rate and patience are chosen so the defaults reach good scores on the
bundled samples within seconds on a laptop CPU.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from core.data.kinds import kind_of
from core.spec import ProjectSpec


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    kind: str  # "table" | "images" | "text" | "series"
    spec: ProjectSpec

    def suits(self, dataset: Any) -> bool:
        """Made for this kind of data (whether its stack fits this data's shapes is the shape report's call)."""
        return self.kind == dataset.kind

    def fresh_spec(self, task: str | None = None) -> ProjectSpec:
        """A copy the caller may edit, with the task filled in."""
        spec = copy.deepcopy(self.spec)
        spec.task = task
        return spec


def _template(id: str, name: str, description: str, kind: str, layers: list[dict], optimizer: dict, training: dict) -> Template:
    return Template(id, name, description, kind, ProjectSpec.from_dict({"layers": layers, "optimizer": optimizer, "training": training}))


def _conv(filters: int, strides: int = 1, activation: str = "relu") -> dict:
    return {"type": "Conv2D", "filters": filters, "kernel_size": 3, "strides": strides, "padding": "same",
            "activation": activation, "kernel_initializer": "he_normal"}


def _dense(units: int, activation: str = "relu") -> dict:
    return {"type": "Dense", "units": units, "activation": activation, "kernel_initializer": "he_normal", "kernel_l2": 0.0001}


def _residual(*layers: dict) -> dict:
    """A residual block (core.blocks): the layers, plus the block's input added back, then relu. The last
    layer is linear, so the sum is activated once, as in ResNet."""
    return {"type": "Residual", "activation": "relu", "layers": list(layers)}


POOL = {"type": "MaxPooling2D", "pool_size": 2}

TEMPLATES: list[Template] = [
    _template(
        "table_mlp_small", "Small network",
        "Two small Dense layers with a little Dropout. A good first try for most tables.",
        "table",
        [
            {"type": "Dense", "units": 32, "activation": "relu"},
            {"type": "Dropout", "rate": 0.2},
            {"type": "Dense", "units": 16, "activation": "relu"},
        ],
        {"type": "Adam", "learning_rate": 0.01},
        {"epochs": 100, "batch_size": 32, "early_stopping_patience": 15},
    ),
    _template(
        "table_mlp_regularised", "Regularised network",
        "Dense layers with L2 weight penalties and Dropout: less overfitting on small or noisy tables.",
        "table",
        [
            {"type": "Dense", "units": 64, "activation": "relu", "kernel_initializer": "he_normal", "kernel_l2": 0.0001},
            {"type": "Dropout", "rate": 0.3},
            {"type": "Dense", "units": 32, "activation": "relu", "kernel_initializer": "he_normal", "kernel_l2": 0.0001},
            {"type": "Dropout", "rate": 0.2},
        ],
        {"type": "Adam", "learning_rate": 0.005},
        {"epochs": 150, "batch_size": 32, "early_stopping_patience": 20},
    ),
    _template(
        "table_mlp_wide", "Wide network",
        "One wide Dense layer with Dropout: learns fast on tables with many columns.",
        "table",
        [{"type": "Dense", "units": 256, "activation": "relu"}, {"type": "Dropout", "rate": 0.3}],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 80, "batch_size": 32, "early_stopping_patience": 10},
    ),
    _template(
        "table_sequence_conv1d", "Columns as a sequence",
        "Reshapes each row into a sequence and slides Conv1D filters along it; for columns in a meaningful order "
        "(measurements over time, spectra).",
        "table",
        [
            {"type": "Reshape", "target_shape": [-1, 1]},
            {"type": "Conv1D", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 32, "activation": "relu"},
        ],
        {"type": "Adam", "learning_rate": 0.005},
        {"epochs": 100, "batch_size": 32, "early_stopping_patience": 15},
    ),
    _template(
        "table_residual_mlp", "Residual network",
        "Dense layers in two residual blocks: each block's input is added back to its output (a shortcut), so "
        "a deeper network still trains easily. For larger tables; on small ones the simpler networks do as well.",
        "table",
        [
            _dense(64),
            _residual(_dense(64), {"type": "Dropout", "rate": 0.3}, _dense(64, "linear")),
            _residual(_dense(64), {"type": "Dropout", "rate": 0.3}, _dense(64, "linear")),
            {"type": "Dropout", "rate": 0.2},
        ],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 100, "batch_size": 32, "early_stopping_patience": 15},
    ),
    _template(
        "images_lenet", "LeNet-style CNN",
        "Two convolution + pooling blocks, then Dense: small, fast and strong on small images such as digits.",
        "images",
        [_conv(16), POOL, _conv(32), POOL, {"type": "Flatten"}, {"type": "Dense", "units": 64, "activation": "relu"},
         {"type": "Dropout", "rate": 0.2}],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 30, "batch_size": 32, "early_stopping_patience": 6},
    ),
    _template(
        "images_cnn_large", "CNN for larger images",
        "Four convolution + pooling blocks shrink the image step by step, then global average pooling: few "
        "parameters however big the image, so it generalises from a few hundred pictures.",
        "images",
        [_conv(16), POOL, _conv(32), POOL, _conv(64), POOL, _conv(64), POOL, {"type": "GlobalAveragePooling2D"},
         {"type": "Dense", "units": 64, "activation": "relu"}, {"type": "Dropout", "rate": 0.2}],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 40, "batch_size": 32, "early_stopping_patience": 8},
    ),
    _template(
        "images_vgg_small", "Small VGG-style CNN",
        "Pairs of convolutions before each pooling, then global average pooling: more capacity, still light.",
        "images",
        [_conv(32), _conv(32), POOL, _conv(64), _conv(64), POOL, {"type": "GlobalAveragePooling2D"},
         {"type": "Dense", "units": 64, "activation": "relu"}, {"type": "Dropout", "rate": 0.3}],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 30, "batch_size": 32, "early_stopping_patience": 6},
    ),
    _template(
        "images_cnn_augmented", "CNN with augmentation",
        "Shifts and turns the training images a little at random, so the model copes with new positions. "
        "Add RandomFlip for photos (not for digits or letters).",
        "images",
        [
            {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
            {"type": "RandomRotation", "factor": 0.03},
            _conv(32), POOL, _conv(64), POOL, {"type": "Flatten"},
            {"type": "Dense", "units": 64, "activation": "relu"}, {"type": "Dropout", "rate": 0.3},
        ],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 40, "batch_size": 32, "early_stopping_patience": 8},
    ),
    _template(
        "images_dense", "Dense network on pixels",
        "Flattens the pixels into one list and uses Dense layers; works for any image size, a baseline for CNNs.",
        "images",
        [{"type": "Flatten"}, {"type": "Dense", "units": 128, "activation": "relu"}, {"type": "Dropout", "rate": 0.2}],
        {"type": "Adam", "learning_rate": 0.001},
        {"epochs": 30, "batch_size": 32, "early_stopping_patience": 6},
    ),
    _template(
        "images_resnet_small", "Small ResNet",
        "A convolution, then two residual blocks (two convolutions each, with the block's input added back); the "
        "second halves the image and doubles the filters, its shortcut a 1×1 convolution. Then global average "
        "pooling. The shortcuts let deeper CNNs train well.",
        "images",
        [
            _conv(32),
            _residual(_conv(32), _conv(32, activation="linear")),
            _residual(_conv(64, strides=2), _conv(64, activation="linear")),
            {"type": "GlobalAveragePooling2D"},
            {"type": "Dropout", "rate": 0.2},
        ],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 30, "batch_size": 32, "early_stopping_patience": 6},
    ),
]


def _embedding(output_dim: int) -> dict:  # input_dim empty: the vocabulary size, taken from the data
    return {"type": "Embedding", "output_dim": output_dim}


TEXT_TEMPLATES = [
    _template(
        "text_bag_of_embeddings", "Bag of embeddings",
        "Learns a vector per word and averages them over the text, then one Dense layer: fast, and strong on "
        "messages, reviews and titles.",
        "text",
        [_embedding(32), {"type": "GlobalAveragePooling1D"}, {"type": "Dense", "units": 32, "activation": "relu"},
         {"type": "Dropout", "rate": 0.3}],
        {"type": "Adam", "learning_rate": 0.005},
        {"epochs": 40, "batch_size": 32, "early_stopping_patience": 6},
    ),
    _template(
        "text_multi_hot", "Word presence + Dense (baseline)",
        "Marks which vocabulary words each text contains (multi-hot) and feeds that to a Dense layer: the classic "
        "bag-of-words baseline, quick to train.",
        "text",
        [{"type": "Dense", "units": 64, "activation": "relu"}, {"type": "Dropout", "rate": 0.5}],
        {"type": "Adam", "learning_rate": 0.001},
        {"epochs": 30, "batch_size": 32, "early_stopping_patience": 4},
    ),
    _template(
        "text_cnn", "1-D CNN",
        "Slides filters over groups of neighbouring words (phrases), keeps each filter's strongest match, then "
        "Dense: good when short phrases decide the class.",
        "text",
        [_embedding(64), {"type": "Conv1D", "filters": 64, "kernel_size": 5, "padding": "same", "activation": "relu"},
         {"type": "GlobalMaxPooling1D"}, {"type": "Dense", "units": 32, "activation": "relu"},
         {"type": "Dropout", "rate": 0.3}],
        {"type": "Adam", "learning_rate": 0.002},
        {"epochs": 30, "batch_size": 32, "early_stopping_patience": 5},
    ),
    _template(
        "text_bilstm", "Bidirectional LSTM",
        "Reads the text word by word in both directions and remembers what matters (the articles' model); "
        "slower to train than the others.",
        "text",
        [_embedding(32), {"type": "Bidirectional", "layer": "LSTM", "units": 32},
         {"type": "Dense", "units": 32, "activation": "relu"}, {"type": "Dropout", "rate": 0.3}],
        {"type": "Adam", "learning_rate": 0.003},
        {"epochs": 20, "batch_size": 32, "early_stopping_patience": 4},
    ),
]
TEMPLATES += TEXT_TEMPLATES


SERIES_TEMPLATES = [
    _template(
        "series_dense", "Dense on the window",
        "Flattens the look-back window and learns the change from the last value with two Dense layers: fast, and "
        "a strong simple forecaster.",
        "series",
        [{"type": "Flatten"}, {"type": "Dense", "units": 64, "activation": "relu"},
         {"type": "Dense", "units": 32, "activation": "relu"}],
        {"type": "Adam", "learning_rate": 0.001},
        {"epochs": 100, "batch_size": 32, "early_stopping_patience": 10},
    ),
    _template(
        "series_lstm", "LSTM",
        "Reads the window step by step and remembers what matters (the articles' model); slower to train.",
        "series",
        [{"type": "LSTM", "units": 32}, {"type": "Dense", "units": 32, "activation": "relu"}],
        {"type": "Adam", "learning_rate": 0.002},
        {"epochs": 60, "batch_size": 32, "early_stopping_patience": 8},
    ),
    _template(
        "series_gru", "GRU",
        "Like the LSTM with fewer weights: often as good, and quicker.",
        "series",
        [{"type": "GRU", "units": 32}, {"type": "Dense", "units": 32, "activation": "relu"}],
        {"type": "Adam", "learning_rate": 0.002},
        {"epochs": 60, "batch_size": 32, "early_stopping_patience": 8},
    ),
    _template(
        "series_cnn", "1-D CNN",
        "Slides filters along the window to find short patterns (a rise, a weekly bump), then Dense.",
        "series",
        [{"type": "Conv1D", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
         {"type": "Conv1D", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
         {"type": "Flatten"}, {"type": "Dense", "units": 32, "activation": "relu"}],
        {"type": "Adam", "learning_rate": 0.001},
        {"epochs": 80, "batch_size": 32, "early_stopping_patience": 10},
    ),
]
TEMPLATES += SERIES_TEMPLATES


def template(template_id: str) -> Template:
    return next(t for t in TEMPLATES if t.id == template_id)


def templates_for(dataset: Any) -> list[Template]:
    """Templates for this kind of data whose stack fits it (e.g. tiny images rule out deep pooling),
    the best first: the default for this data."""
    from core.shapes import shape_report

    fitting = [t for t in TEMPLATES if t.suits(dataset) and shape_report(t.spec, dataset).ok]
    preferred = kind_of(dataset).preferred_template(dataset)
    if preferred:
        fitting.sort(key=lambda t: t.id != preferred)  # stable: the rest keep their order
    return fitting


def with_data_defaults(spec: ProjectSpec, dataset: Any) -> ProjectSpec:
    """The training settings that follow the data: "balance the classes" starts on when the largest
    training class has 3× the examples of the smallest (core.data.balance), off otherwise; the
    user can switch it on the Train page (or in the project file)."""
    from core.data.balance import is_imbalanced

    return dataclasses.replace(spec, training={**spec.training, "balance_classes": is_imbalanced(dataset)})


def default_template(dataset: Any) -> ProjectSpec:
    """The design the designer starts with for this data (a fresh copy, task filled in): LeNet-style
    for small images, the four-stage CNN with global pooling above the images kind's LARGE_IMAGE_SIDE."""
    fitting = templates_for(dataset)
    chosen = fitting[0] if fitting else template(kind_of(dataset).fallback_template)
    return with_data_defaults(chosen.fresh_spec(dataset.task), dataset)
