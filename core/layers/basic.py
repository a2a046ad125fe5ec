"""Dense and the layers that keep the shape: dropout, noise, activation, normalisation."""
from __future__ import annotations

from core.layers.base import (
    LayerType, Param, Shape, activation_param, initializer_param, regularizer_params, same_shape, units_param,
)


def _dense_shape(shape: Shape, p: dict) -> Shape:
    return shape[:-1] + (p["units"],)


def _dense_params(shape: Shape, p: dict) -> int:
    return shape[-1] * p["units"] + p["units"]


def _regularised(p: dict) -> str:
    parts = [f"L1 {p['kernel_l1']:g}" if p.get("kernel_l1") else "", f"L2 {p['kernel_l2']:g}" if p.get("kernel_l2") else ""]
    return "".join(", " + x for x in parts if x)


DENSE = LayerType(
    name="Dense",
    help="A fully connected layer: every output looks at every input. The workhorse for tables.",
    category="Core",
    kinds=("table", "images", "sequence"),
    params=(units_param(64), activation_param("relu"), initializer_param(), *regularizer_params()),
    output_shape=_dense_shape,
    param_count=_dense_params,
    input_ranks=(1, 2, 3),
    describe=lambda p: f"{p['units']} units, {p['activation']}" + _regularised(p),
)

DROPOUT = LayerType(
    name="Dropout",
    help="While training, randomly switches off a fraction of the values; fights overfitting.",
    category="Regularisation",
    kinds=("table", "images", "sequence"),
    params=(Param("rate", "float", 0.2, "Fraction of values dropped while training (0.2 = 20%).", min=0.0, max=0.9,
                  label="Fraction dropped"),),
    output_shape=same_shape,
    describe=lambda p: f"rate {p['rate']:g}",
    training_only=True,
)

GAUSSIAN_NOISE = LayerType(
    name="GaussianNoise",
    help="While training, adds small random noise to the values; makes the model more robust.",
    category="Regularisation",
    kinds=("table", "images", "sequence"),
    params=(Param("stddev", "float", 0.1, "How strong the noise is (standard deviation, after normalisation).", min=0.0, max=10.0,
                  label="Noise strength"),),
    output_shape=same_shape,
    describe=lambda p: f"stddev {p['stddev']:g}",
    training_only=True,
)

ACTIVATION = LayerType(
    name="Activation",
    help="Applies a function such as relu to every value, with no weights of its own.",
    category="Core",
    kinds=("table", "images", "sequence"),
    params=(activation_param("relu"),),
    output_shape=same_shape,
    describe=lambda p: p["activation"],
)

BATCH_NORMALIZATION = LayerType(
    name="BatchNormalization",
    help="Re-centres and re-scales values using batch statistics; often speeds up training of deep models.",
    category="Normalisation",
    kinds=("table", "images", "sequence"),
    params=(Param("momentum", "float", 0.99, "How slowly the running averages follow new batches.", min=0.0, max=0.9999,
                  label="Averaging momentum"),),
    output_shape=same_shape,
    # gamma and beta learn; the moving mean and variance are statistics, not trained.
    param_count=lambda s, p: 4 * s[-1],
    non_trainable_count=lambda s, p: 2 * s[-1],
    describe=lambda p: f"momentum {p['momentum']:g}",
)

LAYER_NORMALIZATION = LayerType(
    name="LayerNormalization",
    help="Re-centres and re-scales the values of each example on its own; steady for sequences.",
    category="Normalisation",
    kinds=("table", "images", "sequence"),
    params=(Param("epsilon", "float", 0.001, "Tiny number that avoids dividing by zero.", min=1e-9, max=1.0, label="Safety constant"),),
    output_shape=same_shape,
    param_count=lambda s, p: 2 * s[-1],
    describe=lambda p: "",
)

LAYERS = (DENSE, DROPOUT, GAUSSIAN_NOISE, ACTIVATION, BATCH_NORMALIZATION, LAYER_NORMALIZATION)
