"""Image augmentation: random changes to the training images, switched off for predictions.

The builder rescales pixels to 0–1 before any hidden layer, so RandomContrast is told
that range (value_range=(0, 1)).
"""
from __future__ import annotations

from core.layers.base import LayerType, Param, same_shape


def _augmentation(name: str, help: str, params: tuple[Param, ...], describe, fixed: dict | None = None) -> LayerType:
    return LayerType(
        name=name,
        help=help + " Only while training.",
        category="Augmentation",
        kinds=("images",),
        params=params,
        output_shape=same_shape,
        input_ranks=(3,),
        describe=describe,
        fixed_kwargs=fixed or {},
        training_only=True,
    )


def _factor(name: str, default: float, help: str, top: float, label: str) -> Param:
    return Param(name, "float", default, help, min=0.0, max=top, label=label)


RANDOM_FLIP = _augmentation(
    "RandomFlip", "Mirrors images at random; good for photos, not for digits or text.",
    (Param("mode", "choice", "horizontal", "Which way images may be mirrored.",
           choices=("horizontal", "vertical", "horizontal_and_vertical"), label="Flip direction"),),
    lambda p: p["mode"].replace("_", " "),
)
RANDOM_ROTATION = _augmentation(
    "RandomRotation", "Turns images by a random angle.",
    (_factor("factor", 0.05, "Largest turn as a fraction of a full circle (0.05 = 18°).", 0.5, "Largest turn"),),
    lambda p: f"up to {p['factor'] * 360:g}°",
)
RANDOM_ZOOM = _augmentation(
    "RandomZoom", "Zooms in or out at random.",
    (_factor("height_factor", 0.1, "Largest zoom as a fraction of the size (0.1 = ±10%).", 0.9, "Largest zoom"),),
    lambda p: f"±{p['height_factor'] * 100:g}%",
)
RANDOM_TRANSLATION = _augmentation(
    "RandomTranslation", "Shifts images up/down and left/right at random.",
    (
        _factor("height_factor", 0.1, "Largest vertical shift as a fraction of the height.", 0.9, "Largest vertical shift"),
        _factor("width_factor", 0.1, "Largest horizontal shift as a fraction of the width.", 0.9, "Largest horizontal shift"),
    ),
    lambda p: f"±{p['height_factor'] * 100:g}% × ±{p['width_factor'] * 100:g}%",
)
RANDOM_CONTRAST = _augmentation(
    "RandomContrast", "Changes the contrast at random.",
    (_factor("factor", 0.2, "Largest contrast change (0.2 = ±20%).", 1.0, "Largest contrast change"),),
    lambda p: f"±{p['factor'] * 100:g}%",
    fixed={"value_range": (0.0, 1.0)},
)

LAYERS = (RANDOM_FLIP, RANDOM_ROTATION, RANDOM_ZOOM, RANDOM_TRANSLATION, RANDOM_CONTRAST)
