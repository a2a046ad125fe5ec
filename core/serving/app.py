"""`python -m core serve RUN_DIR`: a trained run folder's model over HTTP.

The HTTP contract (routes, request and answer formats, limits, micro-batching) is
core/serving/standalone.py's; this module fills it with LayerLab's own prediction path: the data
kind's InputContract (read from labels.json + preprocessing.json, as `core predict` does) decodes
and checks the raw inputs with the app's plain messages, and the folder's model.keras, loaded once
in safe mode, answers through a compiled function of its network.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from core.serving.standalone import Decoded, Limits, create_app, rows_of, texts_of, wrong_request


class CorePredictor:
    """A run folder's model behind the standalone app's predictor interface."""

    def __init__(self, folder: Path | str, model: Any = None) -> None:
        from core.cli.predict import load_folder_model, read_contract

        folder = Path(folder)
        self.contract = read_contract(folder)  # every file checked before Keras loads
        self.settings = {**self.contract.serving_info(), "name": f"LayerLab model: {folder.resolve().name}"}
        self.model = model if model is not None else load_folder_model(folder, self.contract)
        self.run = compiled_call(self.contract.network(self.model))

    def decode_json(self, body: Any, limits: Limits) -> Decoded:
        import pandas as pd

        if isinstance(body, dict) and "texts" in body and hasattr(self.contract, "inputs_from_texts"):
            return _decoded(self.contract.inputs_from_texts(texts_of(body, limits)))
        if not isinstance(body, dict) or "rows" not in body:
            raise wrong_request(self.settings)
        frame = pd.DataFrame.from_records(rows_of(body, limits))
        return _decoded(self.contract.inputs_from_frame(frame))

    def decode_files(self, files: list[tuple[str, bytes]], limits: Limits) -> Decoded:
        return _decoded(self.contract.inputs_from_images([data for _, data in files], [name for name, _ in files]))


def _decoded(inputs: Any) -> Decoded:
    return Decoded(np.asarray(inputs.x, dtype=np.float32), list(inputs.sources), list(inputs.warnings), list(inputs.ahead))


def compiled_call(network: Any) -> Any:
    """x -> outputs (numpy) in one graph call: `model.predict` costs milliseconds of set-up per call,
    which a service answering single rows would pay on every request (bench/serving.py)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda x: np.asarray(network.predict_on_batch(x))
    import tensorflow as tf

    shape = [None, *[int(d) if d is not None else None for d in network.input_shape[1:]]]
    call = tf.function(lambda x: network(x, training=False), input_signature=[tf.TensorSpec(shape, tf.float32)],
                       reduce_retracing=True)
    return lambda x: call(tf.constant(x, dtype=tf.float32)).numpy()


def serve_command(args: argparse.Namespace) -> int:
    from core.i18n import translate_error
    from core.quiet import import_keras

    import_keras()
    predictor = CorePredictor(args.run_dir)  # a bad folder is a UserError: message, exit 2
    limits = Limits.from_env(max_rows=args.max_rows, max_bytes=args.max_bytes, max_files=args.max_files)
    lang = args.lang
    app = create_app(predictor, limits, render=lambda err: translate_error(err.code, err.template, lang, **err.params))
    import uvicorn

    print(f"Serving {Path(args.run_dir).resolve()} on http://{args.host}:{args.port} (usage at /, API docs at /docs). "
          "Stop with Ctrl+C.", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
