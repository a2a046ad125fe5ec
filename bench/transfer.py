"""Transfer learning (issue 22): the feature cache's speed-up, reusing a model for another digit style, and
the exported files of a backbone model.

    .venv/bin/python -m bench.transfer [--only speed,reuse,export] [--images 256] [--out bench/results/transfer.json]

- speed: the same design (MobileNetV3Small at 224 px, random weights: no download here; the weights do
  not change the work, GlobalAveragePooling2D, Dropout, softmax) trained on the digits upscaled inside the
  model, once on cached features and once through the frozen backbone, each with core.training's
  train_in_process. Epochs per second from the epoch events, the first epoch of each left out (graph
  building); the cache's one-off cost (the `phase` event's cache_s) reported next to it.
  Target (issue 22): cached ÷ through ≥ 10× on 2 cores.
- reuse: a small CNN trained on style A (scikit-learn's handwritten digits, 8×8, the training split), reused
  for style B with 20 training images per class: the reused network frozen with a new head (and then
  fine-tuned), against the same network trained from scratch on those 200 images; test accuracy, three seeds.
  Two styles B: "thick pen" (the digits style A never trained on, rewritten with a broad slanted pen: sheared,
  strokes widened; ~290 test images) and "printed" (digits in 16 DejaVu/Liberation fonts, random size, slant,
  stroke and shift, shrunk to 8×8 like the digits; 500 test images).
- export: every TFLite variant run in LiteRT (core.export.tflite_report: size, accuracy and the largest
  difference from Keras) for the speed case's MobileNetV3Small model and for a reused, fine-tuned digits network.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.harness import REPO, environment

RESULT = REPO / "bench" / "results" / "transfer.json"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
BASE_DESIGN = [
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "BatchNormalization"},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPooling2D"},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "GlobalAveragePooling2D"},
    {"type": "Dense", "units": 64, "activation": "relu"},
]


def _digits(n_train: int, n_val: int):
    from core.data import load_sample

    ds = load_sample("digits")
    return dataclasses.replace(ds, x_train=ds.x_train[:n_train], y_train=ds.y_train[:n_train], x_val=ds.x_val[:n_val],
                               y_val=ds.y_val[:n_val])


def _spec(layers: list, epochs: int, seed: int = 1, **training):
    from core.spec import ProjectSpec

    return ProjectSpec.from_dict({"layers": layers, "training": {"epochs": epochs, "seed": seed, "batch_size": 32,
                                                                 "early_stopping_patience": 0, **training}})


def _train(spec, dataset):
    from core.training.trainer import train_in_process

    events: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as folder:
        started = time.perf_counter()
        result = train_in_process(spec, dataset, folder, on_event=events.append)
        wall = time.perf_counter() - started
    return result, events, wall


def speed(images: int, cached_epochs: int = 8, through_epochs: int = 2) -> dict:
    dataset = _digits(images, images // 4)
    out = {"backbone": "MobileNetV3Small", "image_size": 224, "n_train": images, "n_val": images // 4, "batch_size": 32}
    for name, cache, epochs in (("cached", True, cached_epochs), ("through", False, through_epochs)):
        layers = [{"type": "Backbone", "name": "MobileNetV3Small", "weights": "none", "cache_features": cache},
                  {"type": "GlobalAveragePooling2D"}, {"type": "Dropout", "rate": 0.2}]
        result, events, wall = _train(_spec(layers, epochs), dataset)
        epoch_s = [e["epoch_s"] for e in events if e["type"] == "epoch"]
        phase = next(e for e in events if e["type"] == "phase")
        steady = epoch_s[1:] or epoch_s
        out[name] = {"epochs": epochs, "epoch_s": epoch_s, "steady_epoch_s": statistics.median(steady),
                     "epochs_per_s": round(1 / statistics.median(steady), 3), "cache_s": phase["cache_s"],
                     "wall_s": round(wall, 2), "val_accuracy": result.history[-1].get("val_accuracy")}
        print(f"speed {name}: epochs {epoch_s}, cache {phase['cache_s']} s, wall {wall:.1f} s", flush=True)
        if name == "cached":
            out["_model"] = result.model
            out["_dataset"] = dataset
    out["speedup"] = round(out["through"]["steady_epoch_s"] / out["cached"]["steady_epoch_s"], 1)
    # what a user waits for N epochs: the cache once plus N cached epochs, against N epochs through the backbone
    n = 20
    out["wall_for_20_epochs_s"] = {
        "cached": round(out["cached"]["cache_s"] + n * out["cached"]["steady_epoch_s"], 1),
        "through": round(n * out["through"]["steady_epoch_s"], 1),
    }
    return out


def _style_b(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Printed digits: white on black, random font, size, slant, stroke and shift, shrunk to 8×8 (uint8 0-255)."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = sorted(p for d in FONT_DIRS if d.is_dir() for p in d.glob("*.ttf"))[:16]
    if not fonts:
        raise SystemExit("no TrueType fonts found in " + ", ".join(map(str, FONT_DIRS)))
    rng = np.random.default_rng(seed)
    x, y = [], []
    for digit in range(10):
        for _ in range(per_class):
            font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), int(rng.integers(20, 30)))
            canvas = Image.new("L", (32, 32), 0)
            draw = ImageDraw.Draw(canvas)
            box = draw.textbbox((0, 0), str(digit), font=font, stroke_width=int(rng.integers(0, 3)))
            w, h = box[2] - box[0], box[3] - box[1]
            at = ((32 - w) / 2 - box[0] + rng.normal(0, 1.5), (32 - h) / 2 - box[1] + rng.normal(0, 1.5))
            draw.text(at, str(digit), fill=255, font=font, stroke_width=int(rng.integers(0, 3)), stroke_fill=255)
            canvas = canvas.rotate(float(rng.normal(0, 8)), resample=Image.BILINEAR)
            x.append(np.asarray(canvas.resize((8, 8), Image.BOX), dtype="uint8")[..., None])
            y.append(digit)
    order = rng.permutation(len(y))
    return np.stack(x)[order], np.asarray(y, dtype="int64")[order]


def _thick_pen(x: np.ndarray) -> np.ndarray:
    """The same handwritten digits as if written with a broad, slanted pen: upscaled to 32 px, sheared, strokes
    widened, shrunk back to 8×8 (uint8 0-255)."""
    from PIL import Image, ImageFilter

    out = []
    for image in x[..., 0]:
        big = Image.fromarray(image).resize((32, 32), Image.BILINEAR)
        big = big.transform((32, 32), Image.AFFINE, (1, 0.35, -5, 0, 1, 0), resample=Image.BILINEAR)
        big = big.filter(ImageFilter.MaxFilter(5))
        out.append(np.asarray(big.resize((8, 8), Image.BOX), dtype="uint8")[..., None])
    return np.stack(out)


def _style_b_sets(style: str, style_a, per_class: int, seed: int):
    """(x_train, y_train, x_val, y_val, x_test, y_test) of style B: "printed" (fonts; 500 test images) or
    "thick pen" (the digits the style-A model never trained on, rewritten with a broad slanted pen)."""
    if style == "printed":
        x, y = _style_b(per_class + 5, seed=seed)
        x_test, y_test = _style_b(50, seed=100)
        cut = per_class * 10
        return x[:cut], y[:cut], x[cut:], y[cut:], x_test, y_test
    pool_x = _thick_pen(np.concatenate([style_a.x_val, style_a.x_test]))
    pool_y = np.concatenate([style_a.y_val, style_a.y_test])
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for digit in range(10):
        where = rng.permutation(np.flatnonzero(pool_y == digit))
        train += list(where[:per_class])
        val += list(where[per_class:per_class + 5])
        test += list(where[per_class + 5:])
    return (pool_x[train], pool_y[train], pool_x[val], pool_y[val], pool_x[test], pool_y[test])


def reuse(seeds: tuple[int, ...] = (1, 2, 3), per_class: int = 20, styles: tuple[str, ...] = ("thick pen", "printed")) -> dict:
    from core.data import load_sample

    style_a = load_sample("digits")
    base_result, _, base_wall = _train(_spec(BASE_DESIGN, 40), style_a)
    rows = []
    as_is = {}
    with tempfile.TemporaryDirectory(prefix="bench-reuse-") as folder:
        from core.backbones import write_model_info

        base_path = Path(folder) / "digits_style_a.keras"
        base_result.model.save(base_path)
        write_model_info(base_path, base_result.model)
        base_accuracy = float((base_result.model.predict(style_a.x_test, verbose=0).argmax(1) == style_a.y_test).mean())
        for style in styles:
            for seed in seeds:
                x_train, y_train, x_val, y_val, x_test, y_test = _style_b_sets(style, style_a, per_class, seed)
                style_b = dataclasses.replace(style_a, name=style, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                                              x_test=x_test, y_test=y_test, files_test=[f"{style} {k}" for k in range(len(y_test))])
                if seed == seeds[0]:  # the style-A network on style B as it is: how different the styles are
                    as_is[style] = round(float((base_result.model.predict(x_test, verbose=0).argmax(1) == y_test).mean()), 4)
                designs = {
                    "from scratch": _spec(BASE_DESIGN, 60, seed=seed),
                    "reused, frozen": _spec([{"type": "Backbone", "model": str(base_path)}, {"type": "Dropout", "rate": 0.3}],
                                            60, seed=seed),
                    "reused, fine-tuned": _spec([{"type": "Backbone", "model": str(base_path), "fine_tune_layers": 8,
                                                  "fine_tune_epochs": 30}, {"type": "Dropout", "rate": 0.3}], 60, seed=seed),
                }
                for name, spec in designs.items():
                    result, _, wall = _train(spec, style_b)
                    accuracy = float((result.model.predict(x_test, verbose=0).argmax(1) == y_test).mean())
                    rows.append({"style": style, "seed": seed, "design": name, "test_accuracy": round(accuracy, 4),
                                 "test_images": len(y_test), "wall_s": round(wall, 1), "epochs_run": result.epochs_run})
                    print(f"reuse {style} seed {seed} {name}: {accuracy:.3f} ({wall:.1f} s)", flush=True)
    summary = {style: {name: round(statistics.mean(r["test_accuracy"] for r in rows if r["design"] == name and r["style"] == style), 4)
                       for name in dict.fromkeys(r["design"] for r in rows)} for style in styles}
    return {"style_a_test_accuracy": round(base_accuracy, 4), "style_a_model_on_style_b": as_is,
            "base_wall_s": round(base_wall, 1), "train_images_per_class": per_class, "runs": rows,
            "mean_test_accuracy": summary}


def export(model, dataset) -> dict:
    """Every TFLite variant in LiteRT for the speed case's MobileNetV3Small model (random weights: its outputs
    barely depend on the image, so this checks conversion and parity, not accuracy) and for a reused digits
    network with a new head, fine-tuned (a nested model with BatchNormalization: accuracy means something)."""
    from core.backbones import write_model_info
    from core.data import load_sample
    from core.export import tflite_report

    out = {"MobileNetV3Small (random weights, 224 px)": tflite_report(model, dataset)}
    digits = load_sample("digits")
    base, _, _ = _train(_spec(BASE_DESIGN, 10), digits)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        path = Path(folder) / "base.keras"
        base.model.save(path)
        write_model_info(path, base.model)
        reused, _, _ = _train(_spec([{"type": "Backbone", "model": str(path), "fine_tune_layers": 8, "fine_tune_epochs": 2},
                                     {"type": "Dropout", "rate": 0.3}], 3), digits)
        out["digits network reused, fine-tuned"] = tflite_report(reused.model, digits)
    for name, rows in out.items():
        for row in rows:
            print("export", name, row, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="speed,reuse,export")
    parser.add_argument("--images", type=int, default=256, help="speed: training images (a quarter more for validation)")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    cases = set(args.only.split(","))
    from core.quiet import import_keras

    import_keras()
    results: dict = {"environment": environment()}
    if "speed" in cases or "export" in cases:
        measured = speed(args.images)
        model, dataset = measured.pop("_model"), measured.pop("_dataset")
        if "speed" in cases:
            results["speed"] = measured
        if "export" in cases:
            results["export"] = export(model, dataset)
    if "reuse" in cases:
        results["reuse"] = reuse()
    results["load_average_at_end"] = [round(x, 2) for x in __import__("os").getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in results.items() if k != "environment"}, indent=1, default=str)[:3000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
