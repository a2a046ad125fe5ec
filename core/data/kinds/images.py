"""The images kind: pictures in class folders (and the digits sample), raw 0-255 pixels in the arrays.

Every image is brought to one size and colour mode when it is read; the model rescales the
pixels to 0-1 itself, so an exported model takes raw pixels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.catalog import LayerProblem
from core.data.kinds import DataKind, InputContract, ModelInputs, PreprocessingStep
from core.errors import UserError

# Above this side (pixels), Flatten after two poolings feeds thousands of values into Dense: the
# LeNet template then has over a million weights and memorises a few hundred pictures (measured:
# 100×100 shapes, 50% test accuracy). The four-stage CNN with global pooling stays near 65k weights.
LARGE_IMAGE_SIDE = 32
LARGE_IMAGE_TEMPLATE = "images_cnn_large"
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods")


@dataclass
class ImageContract(InputContract):
    """An image model wants image files of any size and mode; they are brought to the training ones."""

    image_size: tuple[int, int] = (0, 0)  # (height, width)
    channels: int = 3

    kind = "images"

    def inputs_from_images(self, images: list[bytes], names: list[str] | None = None) -> ModelInputs:
        """Image files of any size and mode -> pixels at the training size and colour mode."""
        from core.data.images import decode_image

        if not images:
            raise UserError("predict.no_images", "No images were given. Choose one or more image files.")
        names = names or [f"image {k + 1}" for k in range(len(images))]
        pixels = []
        for name, data in zip(names, images):
            try:
                pixels.append(decode_image(data, self.image_size, self.channels))
            except UserError as err:
                raise UserError(
                    "predict.image_unreadable",
                    "{file} cannot be used as an image: it is {reason}. Use a PNG, JPEG, BMP, GIF or WebP image.",
                    file=name,
                    reason=err.params.get("reason", err.render()),
                ) from None
        return ModelInputs(np.stack(pixels), list(names))

    def serving_info(self) -> dict:
        return {**super().serving_info(), "format": "image_files", "signature_input": "pixels",
                "image_size": list(self.image_size), "channels": int(self.channels)}

    def inputs_from_frame(self, frame: Any) -> ModelInputs:
        raise UserError(
            "predict.needs_images",
            "This model was trained on images, so it needs image files, not table rows.",
        )

    def inputs_from_files(self, paths: list[Path]) -> ModelInputs:
        if any(path.suffix.lower() in _TABLE_SUFFIXES for path in paths):
            return self.inputs_from_frame(None)
        return self.inputs_from_images([p.read_bytes() for p in paths], [p.name for p in paths])


class ImagesKind(DataKind):
    name = "images"
    fallback_template = "images_dense"  # fits any image size
    int8_integer_only = True  # pixels 0-255 quantize exactly with one scale
    takes_backbone = True  # core.backbones: gray copied to 3 channels, resized to the backbone's size

    def describe(self, dataset: Any) -> dict:
        return {
            "n_images": dataset.n_rows,
            "image_size": list(dataset.image_size) if dataset.image_size else None,
            "channels": dataset.channels,
        }

    def input_text(self, dataset: Any) -> str:
        height, width, channels = dataset.input_shape
        return f"{height}×{width} pixels, {channels} channel{'s' if channels != 1 else ''}"

    def preprocessing_step(self, dataset: Any, reads_codes: bool) -> PreprocessingStep:
        return PreprocessingStep("Rescaling", "pixels 0–255 → 0–1", tuple(dataset.input_shape))

    def integer_code_problem(self, dataset: Any, input_dim: int) -> Any:
        return LayerProblem(
            "build.embedding_on_images",
            "Embedding reads whole-number codes from a table, but this data is images. Remove it and use Conv2D layers.",
        )

    def preferred_template(self, dataset: Any) -> str | None:
        return LARGE_IMAGE_TEMPLATE if min(dataset.input_shape[:2]) > LARGE_IMAGE_SIDE else None

    def input_block(self, keras: Any, inputs: Any, dataset: Any, reads_codes: bool) -> Any:
        return keras.layers.Rescaling(scale=1.0 / 255.0, name="rescaling")(inputs)

    def script(self, dataset: Any) -> Any:
        from core import script_templates as pieces
        from core.codegen import KindScript

        height, width, channels = (int(d) for d in dataset.input_shape)
        return KindScript(
            template="images",
            data_help="a folder (or .zip) with one sub-folder of images per class",
            packages="numpy pillow",
            settings=pieces.statements("images", "IMAGE_SIZE", "CHANNELS", values={"IMAGE_SIZE": (height, width), "CHANNELS": channels}),
            loading=pieces.statements("archives", "is_junk", "class_folders") + "\n\n\n"
            + pieces.statements("images", "IMAGE_FORMATS", "load_data"),
            shared=("archives",),
            input_block=pieces.block("images", "rescaled_inputs"),
        )

    def job_fields(self, dataset: Any) -> dict:
        return {
            "image_size": list(dataset.input_shape[:2]),
            "channels": int(dataset.input_shape[2]),
            "files_test": list(dataset.files_test),
            "skipped": [asdict(s) for s in dataset.skipped],
        }

    def from_job_fields(self, fields: dict) -> dict:
        from core.data.dataset import SkippedFile

        height, width = fields["image_size"]
        return {
            "image_size": (int(height), int(width)),
            "channels": int(fields["channels"]),
            "files_test": [str(f) for f in fields["files_test"]],
            "skipped": [SkippedFile(**s) for s in fields["skipped"]],
        }

    def contract(self, dataset: Any) -> ImageContract:
        height, width, channels = dataset.input_shape
        return ImageContract(task=dataset.task, classes=list(dataset.classes), image_size=(height, width), channels=channels)

    def contract_from_files(self, labels: dict, info: dict) -> ImageContract:
        from core.data import current_limits

        height, width = (int(v) for v in info["image_size"])
        channels = int(info["channels"])
        side = current_limits().image_side
        if not (0 < height <= side and 0 < width <= side) or channels not in (1, 3):
            raise ValueError(f"image size {height}x{width} with {channels} channels is not one LayerLab writes")
        return ImageContract(
            task=labels["task"],
            classes=[str(c) for c in labels.get("classes", [])],
            image_size=(height, width),
            channels=channels,
        )

    def preprocessing_info(self, dataset: Any) -> dict:
        height, width, channels = (int(d) for d in dataset.input_shape)
        mode = "grayscale" if channels == 1 else "RGB"
        return {
            "image_size": [height, width],
            "channels": channels,
            "color_mode": mode.lower(),
            "model_input": {
                "dtype": "float32",
                "shape": [None, height, width, channels],
                "feed": f"each image converted to {mode}, resized to {width}x{height} pixels, raw pixel values 0-255 "
                "as float32. Do not divide by 255: the model does that itself (Rescaling layer).",
            },
        }

    def mistake_source(self, dataset: Any, index: int) -> str:
        if index < len(dataset.files_test):
            return dataset.files_test[index]
        return super().mistake_source(dataset, index)
