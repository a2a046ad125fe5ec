"""Case 8: text classification (issue 19). Three parts, each against the hand-written equivalent.

accuracy   On each text sample's own held-out test split (sample:sms_spam, English;
           sample:zh_reviews, Chinese), every text template trained by the engine
           (`core.training.train_in_process`, scored by `core.evaluate.evaluate`) against
           scikit-learn TF-IDF + LogisticRegression fitted on the same training split (word
           1-2-grams for English, character 1-2-grams for Chinese). The split is LayerLab's:
           rebuilt with `core.data.split.split_indices` as `build_text_dataset` does (same seed)
           and checked against the Dataset's test texts and labels. Several training seeds per
           template; for Chinese both tokenizations (characters, character_bigrams).
ingestion  A 200,000-row `label,text` CSV (about 24 MB of short English texts) to a
           training-ready Dataset with `core.data.load_data`, against `pandas.read_csv` +
           `keras.layers.TextVectorization.adapt` on the text column (and, reported too, the
           layer then applied to every text, which gives the same kind of id matrix). Each run in a
           fresh interpreter that first imports the same libraries; time and peak resident size
           over that baseline; the two sides alternate.
throughput Samples/s of the default template after the first epoch: the engine (RunMonitor,
           best-weights keeping and checkpoint) against a plain `model.fit` of the same model on
           the same arrays, in one interpreter, many short pairs alternating which goes first.
           Also in CPU time and by each side's fastest epoch, and RunMonitor's share of one more
           engine run under cProfile: figures the drifting speed of a shared machine moves less.

`python -m bench.text [--quick] [--parts accuracy,ingestion,throughput] [--seeds N]` writes
bench/results/text_<full|quick>.json (re-running some parts merges them into it);
`python -m bench --only text` runs all three as case 8 of `make bench`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.harness import (
    REPO, Context, environment, mark_baseline, median, metric, ratio, run_child, warm_file_cache,
)

NAME = "text"
TITLE = "8. Text classification (issue 19)"
PARTS = ("accuracy", "ingestion", "throughput")
RESULTS = REPO / "bench" / "results"

SAMPLES = {"sms_spam": "en", "zh_reviews": "zh"}
TEMPLATE_IDS = ["text_bag_of_embeddings", "text_multi_hot", "text_cnn", "text_bilstm"]
ACCURACY_MARGIN = 0.02  # the default template within 2 points of the scikit-learn baseline
INGEST_TIME_RATIO = 1.5
INGEST_MEMORY_RATIO = 3.0
THROUGHPUT_RATIO = 0.97
SPLIT_SEED = 42  # load_data's default: the sample's own split


# --- accuracy ---------------------------------------------------------------------------------

def _load_sample(sample: str, tokenization: str | None):
    """The sample as the app loads it; with a tokenization, through the same path with TextSettings."""
    if tokenization is None:
        from core.data import load_data

        return load_data(f"sample:{sample}", seed=SPLIT_SEED)
    from core.data.csv_reader import read_csv
    from core.data.samples import _TEXT_FILES, TEXT_SAMPLES_DIR
    from core.data.tables import prepare_table
    from core.data.tokens import TextSettings
    from core.sources import sample_source

    raw = read_csv(TEXT_SAMPLES_DIR / _TEXT_FILES[sample], sample_source(sample))
    return prepare_table(raw, target="label", seed=SPLIT_SEED, data_kind="text", text_column="text",
                         text_settings=TextSettings(tokenization=tokenization))


def rebuilt_split(dataset) -> dict[str, Any]:
    """The training / validation / test texts of a text Dataset built from a CSV, rebuilt from its
    frame with `split_indices` exactly as `build_text_dataset` splits (rows with a target, empty
    texts left out), and checked against what the Dataset kept."""
    import numpy as np

    from core.data.split import split_indices
    from core.data.texts import MIN_TEXTS_PER_CLASS, KEPT_TEST_CHARS
    from core.data.tokens import split_tokens

    frame, text = dataset.frame, dataset.text
    labels = frame[dataset.target]
    present = labels.notna().to_numpy()
    index = {name: i for i, name in enumerate(dataset.classes)}
    cells = frame[text.column][present].tolist()
    texts = ["" if v is None or v != v else str(v) for v in cells]
    y = np.array([index[str(v)] for v in labels[present].tolist()], dtype=np.int64)
    kept = [i for i, t in enumerate(texts) if any(s.strip() for s in split_tokens(t, text.tokenization))]
    texts, y = [texts[i] for i in kept], y[kept]
    split = split_indices(y, task=dataset.task, classes=dataset.classes, seed=SPLIT_SEED, where="bench",
                          unit="rows", min_per_class=MIN_TEXTS_PER_CLASS)
    same = ([texts[i][:KEPT_TEST_CHARS] for i in split.test] == list(text.test_texts)
            and np.array_equal(y[split.test], dataset.y_test) and np.array_equal(y[split.train], dataset.y_train)
            and np.array_equal(y[split.val], dataset.y_val)
            and all(np.array_equal(text.ids([texts[i] for i in idx]), x)  # the training texts too, by their ids
                    for idx, x in ((split.train, dataset.x_train), (split.val, dataset.x_val))))
    if not same:
        raise RuntimeError("the rebuilt split differs from the Dataset's: the baseline would not be comparable")
    part = {name: ([texts[i] for i in idx], y[idx]) for name, idx in
            (("train", split.train), ("val", split.val), ("test", split.test))}
    return part


def sklearn_baseline(part: dict[str, Any], language: str) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    vectorizer = (TfidfVectorizer(analyzer="char", ngram_range=(1, 2)) if language == "zh"
                  else TfidfVectorizer(ngram_range=(1, 2)))
    model = make_pipeline(vectorizer, LogisticRegression(max_iter=1000))
    start = time.perf_counter()
    model.fit(*part["train"])
    seconds = time.perf_counter() - start
    return {"test_accuracy": float(model.score(*part["test"])), "val_accuracy": float(model.score(*part["val"])),
            "fit_seconds": seconds,
            "model": "TfidfVectorizer(" + ("analyzer='char', " if language == "zh" else "") +
                     "ngram_range=(1, 2)) + LogisticRegression(max_iter=1000), fitted on the training split"}


def child_accuracy(sample: str, tokenization: str | None, templates: list[str], seeds: list[int],
                   baseline: bool = True) -> dict[str, Any]:
    """Templates x seeds on one sample with one tokenization, and the scikit-learn baseline."""
    import keras

    from core.evaluate import evaluate
    from core.templates import template, templates_for
    from core.training import train_in_process

    dataset = _load_sample(sample, tokenization)
    part = rebuilt_split(dataset)
    language = SAMPLES[sample]
    out: dict[str, Any] = {
        "sample": sample, "language": language, "tokenization": dataset.text.tokenization,
        "tokenization_chosen_by": "automatic" if tokenization is None else "TextSettings",
        "sequence_length": dataset.text.sequence_length, "vocabulary": dataset.text.n_ids,
        "split": {k: len(v[1]) for k, v in part.items()}, "split_matches_dataset": True,
        "default_template": templates_for(dataset)[0].id if templates_for(dataset) else None,
        "templates": {},
    }
    if baseline:
        out["sklearn"] = sklearn_baseline(part, language)
    with tempfile.TemporaryDirectory(prefix="bench-text-") as tmp:
        for template_id in templates:
            runs = []
            for seed in seeds:
                spec = template(template_id).fresh_spec(dataset.task)
                spec.training["seed"] = seed
                keras.backend.clear_session()
                start = time.perf_counter()
                result = train_in_process(spec, dataset, Path(tmp) / f"{template_id}-{seed}")
                seconds = time.perf_counter() - start
                evaluation = evaluate(result.model, dataset)
                runs.append({"seed": seed, "test_accuracy": float(evaluation.accuracy), "status": result.status,
                             "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                             "seconds": round(seconds, 2), "params": int(result.model.count_params())})
            accuracies = [r["test_accuracy"] for r in runs]
            out["templates"][template_id] = {"runs": runs, **spread(accuracies)}
    return out


def spread(values: list[float]) -> dict[str, Any]:
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values)}


def accuracy_cases(ctx: Context) -> list[tuple[str, str | None]]:
    """(sample, tokenization) pairs: each sample as loaded (automatic tokenization), and for Chinese
    the other tokenization too."""
    return [("sms_spam", None), ("zh_reviews", None), ("zh_reviews", "characters")]


def run_accuracy(ctx: Context, seeds: int, templates: list[str] | None = None) -> dict[str, Any]:
    """One fresh interpreter per sample, tokenization and template (each well under 10 minutes)."""
    templates = templates or (TEMPLATE_IDS if not ctx.quick else TEMPLATE_IDS[:2])
    seed_list = list(range(1, seeds + 1))
    runs = []
    for sample, tokenization in accuracy_cases(ctx):
        merged: dict[str, Any] | None = None
        for k, template_id in enumerate(templates):
            ctx.log(f"  accuracy: {sample} ({tokenization or 'automatic'} tokens), {template_id} x {seeds} seeds ...")
            started = time.perf_counter()
            result = run_child("bench.text:child_accuracy", {
                "sample": sample, "tokenization": tokenization, "templates": [template_id], "seeds": seed_list,
                "baseline": k == 0}, timeout=1800)
            t = result["templates"][template_id]
            t["child_seconds"] = round(time.perf_counter() - started, 1)
            ctx.log(f"    {template_id}: {t['mean']:.3f} (min {t['min']:.3f}, max {t['max']:.3f}, n {t['n']}; "
                    f"{t['child_seconds']} s)")
            if merged is None:
                merged = result
                ctx.log(f"    sklearn TF-IDF + LR: {result['sklearn']['test_accuracy']:.3f}")
            else:
                merged["templates"][template_id] = t
        runs.append(merged)
    return {"runs": runs, "seeds": seed_list}


def accuracy_metrics(acc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in acc["runs"]:
        base = r["sklearn"]["test_accuracy"]
        label = f"{r['sample']} ({r['tokenization']}{', automatic' if r['tokenization_chosen_by'] == 'automatic' else ''})"
        for tid, t in r["templates"].items():
            is_default = tid == r["default_template"] and r["tokenization_chosen_by"] == "automatic"
            note = (f"{t['mean']:.3f} (min {t['min']:.3f}, max {t['max']:.3f}, {t['n']} seeds) vs sklearn {base:.3f}; "
                    f"test {r['split']['test']} texts")
            rows.append(metric(f"{label}: {tid}{' (default)' if is_default else ''} - sklearn, accuracy points",
                               round(100 * (t["mean"] - base), 2), "points",
                               at_least=-100 * ACCURACY_MARGIN if is_default else None, note=note))
    return rows


# --- ingestion --------------------------------------------------------------------------------

def _import_libraries() -> None:
    import keras  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import tensorflow  # noqa: F401

    import core.data  # noqa: F401
    import core.data.texts  # noqa: F401


def child_ingest_ours(path: str) -> dict[str, Any]:
    _import_libraries()
    from core.data import load_data

    mark_baseline()
    start = time.perf_counter()
    dataset = load_data(path, target=synthetic.TEXT_TARGET)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "kind": dataset.kind, "rows": dataset.n_rows, "x_shape": list(dataset.x_train.shape),
            "x_dtype": str(dataset.x_train.dtype), "tokenization": dataset.text.tokenization,
            "vocabulary": dataset.text.n_ids, "sequence_length": dataset.text.sequence_length,
            "x_bytes": int(dataset.x_train.nbytes + dataset.x_val.nbytes + dataset.x_test.nbytes)}


def child_ingest_keras(path: str, max_tokens: int, sequence_length: int) -> dict[str, Any]:
    _import_libraries()
    import keras
    import numpy as np
    import pandas as pd

    mark_baseline()
    start = time.perf_counter()
    frame = pd.read_csv(path, engine="pyarrow")
    texts = frame[synthetic.TEXT_COLUMN].to_numpy()
    read_s = time.perf_counter() - start
    vectorizer = keras.layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=sequence_length)
    vectorizer.adapt(texts)
    adapt_s = time.perf_counter() - start - read_s
    ids = np.asarray(vectorizer(texts))
    apply_s = time.perf_counter() - start - read_s - adapt_s
    return {"read_seconds": read_s, "adapt_seconds": adapt_s, "apply_seconds": apply_s,
            "seconds": read_s + adapt_s, "seconds_with_ids": read_s + adapt_s + apply_s,
            "vocabulary": len(vectorizer.get_vocabulary()), "ids_shape": list(ids.shape), "ids_dtype": str(ids.dtype)}


def text_csv(ctx: Context, rows: int) -> Path:
    key = f"text_csv_{rows}"
    if key not in ctx.data:
        path = ctx.work / f"texts_{rows}.csv"
        ctx.log(f"  generating {rows:,}-text CSV ...")
        synthetic.write_text_csv(path, rows)
        ctx.data[key] = path
    return ctx.data[key]


def run_ingestion(ctx: Context, rows: int | None = None) -> dict[str, Any]:
    rows = rows or ctx.size(20_000, 200_000)
    path = text_csv(ctx, rows)
    warm_file_cache(path)
    file_bytes = path.stat().st_size
    repeats = ctx.size(1, 3)
    ours, keras_runs = [], []
    ctx.log(f"  ingestion: {rows:,} texts, {file_bytes / 2**20:.1f} MiB, {repeats} runs per side ...")
    for i in range(repeats):
        order = ("ours", "keras") if i % 2 == 0 else ("keras", "ours")
        for side in order:
            if side == "ours":
                ours.append(run_child("bench.text:child_ingest_ours", {"path": str(path)}))
            else:
                length = ours[0]["sequence_length"] if ours else 32
                keras_runs.append(run_child("bench.text:child_ingest_keras", {
                    "path": str(path), "max_tokens": 20_000, "sequence_length": length}))
    ours_s = median(r["seconds"] for r in ours)
    keras_s = median(r["seconds"] for r in keras_runs)
    keras_ids_s = median(r["seconds_with_ids"] for r in keras_runs)
    ours_peak = max(r["work_peak_bytes"] for r in ours)
    keras_peak = max(r["work_peak_bytes"] for r in keras_runs)
    result = {
        "rows": rows, "file_bytes": file_bytes, "repeats": repeats,
        "ours_seconds": ours_s, "ours_runs_seconds": [r["seconds"] for r in ours],
        "keras_seconds": keras_s, "keras_runs_seconds": [r["seconds"] for r in keras_runs],
        "keras_seconds_with_ids": keras_ids_s,
        "keras_stages_seconds": {k: median(r[k] for r in keras_runs) for k in ("read_seconds", "adapt_seconds",
                                                                              "apply_seconds")},
        "ours_peak_bytes": ours_peak, "ours_peaks": [r["work_peak_bytes"] for r in ours],
        "keras_peak_bytes": keras_peak,
        "dataset": {k: ours[0][k] for k in ("kind", "rows", "x_shape", "x_dtype", "tokenization", "vocabulary",
                                             "sequence_length", "x_bytes")},
        "keras_vocabulary": keras_runs[0]["vocabulary"],
    }
    ctx.log(f"    load_data {ours_s:.2f} s, {ours_peak / 2**20:.0f} MiB; read_csv + adapt {keras_s:.2f} s "
            f"(+ ids {keras_ids_s:.2f} s), {keras_peak / 2**20:.0f} MiB")
    return result


def ingestion_metrics(ing: dict[str, Any]) -> list[dict[str, Any]]:
    mib = 2**20
    return [
        metric("time: load_data / (read_csv + TextVectorization.adapt)", ratio(ing["ours_seconds"], ing["keras_seconds"]),
               "x", at_most=INGEST_TIME_RATIO,
               note=f"{ing['ours_seconds']:.2f} s vs {ing['keras_seconds']:.2f} s, {ing['rows']:,} texts"),
        metric("time: load_data / (read_csv + adapt + ids for every text)",
               ratio(ing["ours_seconds"], ing["keras_seconds_with_ids"]), "x",
               note=f"{ing['ours_seconds']:.2f} s vs {ing['keras_seconds_with_ids']:.2f} s"),
        metric("peak memory of load_data / file size", ratio(ing["ours_peak_bytes"], ing["file_bytes"]), "x",
               at_most=INGEST_MEMORY_RATIO,
               note=f"{ing['ours_peak_bytes'] / mib:.0f} MiB for a {ing['file_bytes'] / mib:.1f} MiB file"),
        metric("peak memory of read_csv + adapt + ids / file size", ratio(ing["keras_peak_bytes"], ing["file_bytes"]),
               "x", note=f"{ing['keras_peak_bytes'] / mib:.0f} MiB"),
    ]


# --- throughput -------------------------------------------------------------------------------

def _epoch_marks(marks: list[tuple[float, float]]):
    """(wall seconds, CPU seconds) of each epoch after the first, from (wall, CPU) clock readings at
    every epoch end. CPU time (all the process's threads) moves less than wall time when other work
    on the machine takes the cores."""
    return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])]


IN_EPOCH_HOOKS = ("on_epoch_begin", "on_train_batch_begin", "on_epoch_end")
TRAIN_HOOKS = ("on_train_begin", "on_train_end")


def _monitor_share(run) -> dict[str, float]:
    """One more engine run under cProfile: the share of its time spent in RunMonitor's hooks (the
    engine's own per-batch and per-epoch work, events and best.keras included), which the load on
    the machine cannot blur. cProfile slows Python calls, so this is an upper bound."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    run()
    profile.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def hooks(names: tuple[str, ...]) -> float:
        return sum(v[3] for k, v in stats.items() if k[0].endswith("monitor.py") and k[2] in names)

    return {"run_s": total, "in_epoch_hooks_s": hooks(IN_EPOCH_HOOKS), "train_hooks_s": hooks(TRAIN_HOOKS),
            "in_epoch_share": hooks(IN_EPOCH_HOOKS) / total, "all_share": hooks(IN_EPOCH_HOOKS + TRAIN_HOOKS) / total}


def child_throughput(path: str, n_train: int, epochs: int, pairs: int) -> dict[str, Any]:
    """The default template on the first `n_train` training texts of the CSV: engine vs plain fit."""
    import dataclasses

    import keras

    from core.build import build_model
    from core.data import load_data
    from core.templates import default_template, templates_for
    from core.training import train_in_process

    full = load_data(path, target=synthetic.TEXT_TARGET)
    n_val = n_train * 15 // 70  # the split's proportions (70/15/15): validation no larger than the engine's share
    dataset = dataclasses.replace(full, x_train=full.x_train[:n_train], y_train=full.y_train[:n_train],
                                  x_val=full.x_val[:n_val], y_val=full.y_val[:n_val])
    template_id = templates_for(dataset)[0].id

    def spec_for(n_epochs: int):
        spec = default_template(dataset)
        # patience 0: every epoch runs on both sides (a plain fit has no early stopping)
        spec.training.update(epochs=n_epochs, early_stopping_patience=0, seed=1)
        return spec

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    class EpochClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.marks: list[tuple[float, float]] = []

        def on_epoch_end(self, epoch, logs=None):
            self.marks.append(clock())

    def plain(spec) -> dict[str, Any]:
        start = time.perf_counter()
        keras.utils.set_random_seed(spec.training["seed"])
        model = build_model(spec, dataset)
        epoch_clock = EpochClock()
        model.fit(dataset.x_train, dataset.y_train, batch_size=spec.training["batch_size"],
                  epochs=spec.training["epochs"], validation_data=(dataset.x_val, dataset.y_val), shuffle=True,
                  verbose=0, callbacks=[epoch_clock])
        return {"total_s": time.perf_counter() - start, "epochs": _epoch_marks(epoch_clock.marks)}

    def engine(spec, run_dir: Path) -> dict[str, Any]:
        marks: list[tuple[float, float]] = []
        start = time.perf_counter()
        result = train_in_process(spec, dataset, run_dir,
                                  on_event=lambda e: marks.append(clock()) if e["type"] == "epoch" else None)
        if result.status != "finished" or result.epochs_run != spec.training["epochs"]:
            raise RuntimeError(f"engine run ended {result.status} after {result.epochs_run} epochs: {result.message}")
        return {"total_s": time.perf_counter() - start, "epochs": _epoch_marks(marks)}

    spec = spec_for(epochs)
    plain(spec_for(1))  # the first fit pays TensorFlow's one-off start-up costs
    plain_runs, engine_runs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as tmp:
        for i in range(pairs):
            for side in (("plain", "engine") if i % 2 == 0 else ("engine", "plain")):
                keras.backend.clear_session()
                if side == "plain":
                    plain_runs.append(plain(spec))
                else:
                    engine_runs.append(engine(spec, Path(tmp) / f"run{i}"))
        monitor_share = _monitor_share(lambda: engine(spec, Path(tmp) / "profiled"))
    n = len(dataset.x_train)

    def rate(run: dict[str, Any], k: int) -> float:  # samples per (wall k=0 / CPU k=1) second, epochs 2+
        return n * len(run["epochs"]) / sum(e[k] for e in run["epochs"])

    pair_ratios = [rate(e, 0) / rate(p, 0) for p, e in zip(plain_runs, engine_runs)]
    cpu_ratios = [rate(e, 1) / rate(p, 1) for p, e in zip(plain_runs, engine_runs)]
    fastest = {side: min(e[0] for r in runs for e in r["epochs"])
               for side, runs in (("plain", plain_runs), ("engine", engine_runs))}
    return {
        "template": template_id, "n_train": n, "n_val": len(dataset.x_val), "epochs": epochs,
        "batch_size": spec.training["batch_size"], "pairs": pairs, "sequence_length": dataset.text.sequence_length,
        "vocabulary": dataset.text.n_ids, "x_dtype": str(dataset.x_train.dtype), "backend": keras.backend.backend(),
        "plain_samples_per_s": median(rate(p, 0) for p in plain_runs),
        "engine_samples_per_s": median(rate(e, 0) for e in engine_runs),
        "ratio": median(pair_ratios), "pair_ratios": pair_ratios,
        "cpu_ratio": median(cpu_ratios), "cpu_pair_ratios": cpu_ratios,
        "fastest_epoch_s": fastest, "fastest_epoch_ratio": fastest["plain"] / fastest["engine"],
        "whole_run_ratio": median(p["total_s"] / e["total_s"] for p, e in zip(plain_runs, engine_runs)),
        "monitor_share": monitor_share,
        "runs": {"plain": plain_runs, "engine": engine_runs},
    }


def run_throughput(ctx: Context) -> dict[str, Any]:
    rows = ctx.size(20_000, 200_000)
    path = text_csv(ctx, rows)
    # Short runs, many pairs: this shared 2-core machine's speed drifts by more than the 3 % measured,
    # and the quicker the two sides alternate, the more alike the drift hits them.
    params = {"path": str(path), "n_train": ctx.size(10_000, 15_000), "epochs": 3, "pairs": ctx.size(2, 10)}
    ctx.log(f"  throughput: default template, {params['n_train']:,} texts x {params['epochs']} epochs, "
            f"{params['pairs']} pairs ...")
    result = run_child("bench.text:child_throughput", params, timeout=1800)
    ctx.log(f"    engine {result['engine_samples_per_s']:,.0f} vs plain fit {result['plain_samples_per_s']:,.0f} "
            f"samples/s after the first epoch: {result['ratio']:.3f} (pairs "
            f"{', '.join(f'{r:.3f}' for r in result['pair_ratios'])})")
    return result


def throughput_metrics(tp: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        metric(f"default template ({tp['template']}): engine / plain fit, samples/s after epoch 1", tp["ratio"], "x",
               at_least=THROUGHPUT_RATIO,
               note=f"{tp['engine_samples_per_s']:,.0f} vs {tp['plain_samples_per_s']:,.0f} samples/s; "
                    f"{tp['n_train']:,} texts x {tp['epochs']} epochs, batch {tp['batch_size']}, "
                    f"pairs {', '.join(f'{r:.3f}' for r in tp['pair_ratios'])}"),
        metric("same, CPU time per sample (all threads; moves less with the machine's load)", tp["cpu_ratio"], "x",
               note=f"pairs {', '.join(f'{r:.3f}' for r in tp['cpu_pair_ratios'])}"),
        metric("same, fastest epoch of each side", tp["fastest_epoch_ratio"], "x",
               note=f"{tp['fastest_epoch_s']['engine']:.2f} s vs {tp['fastest_epoch_s']['plain']:.2f} s"),
        metric("same, whole runs (build to fit returned)", tp["whole_run_ratio"], "x"),
        metric("RunMonitor's own work during the epochs, share of an engine run (cProfile)",
               100 * tp["monitor_share"]["in_epoch_share"], "%",
               note=f"with train begin/end (best weights, the last best.keras): "
                    f"{100 * tp['monitor_share']['all_share']:.2f} % of {tp['monitor_share']['run_s']:.1f} s"),
    ]


# --- the case ---------------------------------------------------------------------------------

def metrics_for(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    if "accuracy" in results:
        rows += accuracy_metrics(results["accuracy"])
    if "ingestion" in results:
        rows += ingestion_metrics(results["ingestion"])
    if "throughput" in results:
        rows += throughput_metrics(results["throughput"])
    return rows


def run_parts(ctx: Context, parts: tuple[str, ...] = PARTS, seeds: int | None = None,
              rows: int | None = None, templates: list[str] | None = None) -> dict[str, Any]:
    seeds = seeds or ctx.size(1, 3)
    out: dict[str, Any] = {}
    for part in parts:
        started = time.perf_counter()
        load = [round(x, 2) for x in os.getloadavg()]
        if part == "accuracy":
            out[part] = run_accuracy(ctx, seeds, templates)
        elif part == "ingestion":
            out[part] = run_ingestion(ctx, rows)
        else:
            out[part] = run_throughput(ctx)
        out[part].update(seconds=round(time.perf_counter() - started, 1), load_average_before=load,
                         date_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    return out


def _merged_accuracy(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Templates re-run (`--templates`) replace theirs; the others' results stay."""
    key = lambda r: (r["sample"], r["tokenization"], r["tokenization_chosen_by"])  # noqa: E731
    runs = {key(r): r for r in old["runs"]}
    for r in new["runs"]:
        if key(r) in runs:
            kept = runs[key(r)]
            r = {**kept, **{k: v for k, v in r.items() if k != "templates"},
                 "templates": {**kept["templates"], **r["templates"]}}
        runs[key(r)] = r
    return {**old, **{k: v for k, v in new.items() if k != "runs"}, "runs": list(runs.values())}


def save(results: dict[str, Any], mode: str) -> Path:
    """Merge into bench/results/text_<mode>.json (each part keeps its own date)."""
    path = RESULTS / f"text_{mode}.json"
    previous = json.loads(path.read_text()) if path.exists() else {"parts": {}}
    parts = {**previous.get("parts", {}), **results}
    if "accuracy" in results and "accuracy" in previous.get("parts", {}):
        parts["accuracy"] = _merged_accuracy(previous["parts"]["accuracy"], results["accuracy"])
    merged = {"mode": mode, "environment": environment(), "parts": parts}
    merged["metrics"] = metrics_for(merged["parts"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2, default=str) + "\n")
    return path


def run(ctx: Context) -> dict[str, Any]:
    """Case 8 of `python -m bench`: all three parts (also saved to text_<mode>.json)."""
    results = run_parts(ctx)
    save(results, "quick" if ctx.quick else "full")
    return {**results, "metrics": metrics_for(results)}


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import format_row

    parser = argparse.ArgumentParser(prog="python -m bench.text", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one seed, two templates (a few minutes)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
    parser.add_argument("--seeds", type=int, help="training seeds per template (default 3, quick 1)")
    parser.add_argument("--templates", help=f"comma-separated template ids (default: {', '.join(TEMPLATE_IDS)})")
    parser.add_argument("--rows", type=int, help="texts in the ingestion CSV (default 200,000, quick 20,000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data folder")
    args = parser.parse_args(argv)
    parts = tuple(p for p in args.parts.split(",") if p)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    mode = "quick" if args.quick else "full"
    work = Path(tempfile.mkdtemp(prefix="layerlab-bench-text-"))
    ctx = Context(quick=args.quick, work=work, log=lambda m: print(m, flush=True))
    print(f"LayerLab text benchmarks ({mode} mode), scratch folder {work}", flush=True)
    try:
        results = run_parts(ctx, parts, args.seeds, args.rows,
                            args.templates.split(",") if args.templates else None)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    path = save(results, mode)
    for row in metrics_for(results):
        print("  " + format_row(row))
    print(f"written to {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
