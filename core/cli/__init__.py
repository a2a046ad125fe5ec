"""`python -m core ...`: the headless command line (this module: the parser and main).

One module per command: `commands.py` (inspect, summary), `train.py`, `search.py`, `predict.py`; shared
input/output helpers in `io.py`. User errors print a plain message on stderr and exit 2;
nothing here prints tracebacks for them.
"""
from __future__ import annotations

import argparse
import sys

from core.errors import UserError
from core.quiet import quiet_libraries

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors are user errors too
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m core", description="LayerLab headless: inspect data, design, train, predict.")
    p.add_argument("--lang", default="en", help="language of messages: en or zh")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ins = sub.add_parser("inspect", help="print what LayerLab understood about a dataset (JSON)")
    ins.add_argument("data", help="CSV file, zip of class folders, image folder, or sample:NAME")
    _data_options(ins)

    summ = sub.add_parser("summary", help="print each layer's output shape and parameter count")
    summ.add_argument("data")
    _data_options(summ)
    summ.add_argument("--spec", help="project file (JSON); default: the default template for the data")
    _backbone_options(summ)

    tr = sub.add_parser("train", help="train a model and write model, TFLite, metrics and script")
    tr.add_argument("data")
    _data_options(tr)
    tr.add_argument("--spec")
    _backbone_options(tr)
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--seed", type=int)
    tr.add_argument("--out", required=True, help="folder to write the results into")

    se = sub.add_parser("search", help="search for a better design: train variations of it and keep the best")
    se.add_argument("data")
    _data_options(se)
    se.add_argument("--spec", help="project file (JSON) to start from; default: the default template for the data")
    se.add_argument("--space", required=True, help="SPACE.json: which settings vary, e.g. "
                    '{"optimizer.learning_rate": {"log_uniform": [0.0001, 0.1]}, "layers.0.units": {"choice": [16, 32, 64]}}')
    se.add_argument("--trials", type=int, required=True, help="how many designs to try at most")
    se.add_argument("--strategy", choices=("grid", "random", "tpe"), default="tpe",
                    help="grid: every combination; random: random draws; tpe: model-based (Optuna's TPE; default)")
    se.add_argument("--pruner", choices=("median", "halving", "none"), default="median",
                    help="stop hopeless trials early: behind the median (default), successive halving, or never")
    se.add_argument("--time-budget", type=float, help="seconds: no new trial after this, running ones stop keeping their best")
    se.add_argument("--parallel", type=int, help="trials at once on this machine (default: LAYERLAB_MAX_CONCURRENT_RUNS, 2)")
    se.add_argument("--epochs", type=int, help="epochs of each trial (default: the design's)")
    se.add_argument("--ray", metavar="ADDRESS", help="run the trials on this Ray cluster (127.0.0.1:6379, ray://host:10001 "
                    "or auto; default: RAY_ADDRESS if set, else this machine)")
    se.add_argument("--out", required=True, help="folder to write trials.json, the best project.json and model/ into")

    pr = sub.add_parser("predict", help="predict with a model folder written by `train`")
    pr.add_argument("model_dir")
    pr.add_argument("input", nargs="+", help="a CSV of rows, or image files")

    sv = sub.add_parser("serve", help="serve a model folder written by `train` over HTTP (FastAPI)")
    sv.add_argument("run_dir", help="the folder `train --out` wrote")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--max-rows", type=int, help="rows or texts per request (default 10000; env LAYERLAB_SERVE_MAX_ROWS)")
    sv.add_argument("--max-bytes", type=int, help="bytes per request (default 20 MB; env LAYERLAB_SERVE_MAX_BYTES)")
    sv.add_argument("--max-files", type=int, help="images per request (default 64; env LAYERLAB_SERVE_MAX_FILES)")
    return p


def _backbone_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", help="the ImageNet weights file (.h5 / .weights.h5) of the design's pretrained backbone "
                   "(default: Keras' cache, ~/.keras/models, downloaded there when online)")
    p.add_argument("--base-model", help="start from one of your models: a run folder (or its .keras file) whose "
                   "network, without its output head, becomes layer 1 of the design")


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", help="target column (CSV; default: the last column that is not free text)")
    p.add_argument("--task", choices=("classification", "regression", "forecast"),
                   help="what to predict (default: decided from the target column); forecast: the next values of "
                   "a time series (a CSV with dates, or rows in time order)")
    p.add_argument("--kind", choices=("table", "text", "images", "series"),
                   help="read the data as this kind (default: decided from the data; series = --task forecast)")
    p.add_argument("--text-column", help="the CSV column holding the texts (implies --kind text)")
    p.add_argument("--tokenization", choices=("words", "characters", "character_bigrams"),
                   help="text: how texts are split into tokens (default: words, or characters and their pairs "
                   "for Chinese and Japanese)")
    p.add_argument("--vocabulary-size", type=int, help="text: tokens kept, most frequent first (default: from the data)")
    p.add_argument("--sequence-length", type=int, help="text: tokens read per text (default: 95th percentile of lengths)")
    p.add_argument("--window", type=int, help="forecast: time steps the model looks back (default: from the frequency, "
                   "e.g. 24 for monthly data)")
    p.add_argument("--horizon", type=int, help="forecast: time steps ahead to forecast (default: from the frequency, "
                   "e.g. 12 for monthly data)")
    p.add_argument("--inputs", help="forecast: other series the model reads too, comma-separated column names")
    p.add_argument("--date-column", help="forecast: the column with the dates (default: found in the data; '' = none, "
                   "row order is time)")
    p.add_argument("--date-order", choices=("day_first", "month_first"),
                   help="forecast: how dates like 03/04/2024 are read when the data does not tell")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet_libraries()  # commands import Keras through core.quiet.import_keras when they need it
    try:
        if args.command == "inspect":
            from core.cli.commands import inspect_command as run
        elif args.command == "summary":
            from core.cli.commands import summary_command as run
        elif args.command == "train":
            from core.cli.train import train_to_folder as run
        elif args.command == "serve":
            from core.serving.app import serve_command as run
        elif args.command == "search":
            from core.cli.search import search_to_folder as run
        else:
            from core.cli.predict import predict_from_folder as run
        return run(args) or 0
    except UserError as err:
        print(err.render(args.lang), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
