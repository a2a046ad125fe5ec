"""The series kind: a dated table whose next values are forecast (core.data.series).

The arrays are windows (views of one rows × series array): inputs (window, series) of raw values,
targets the next `horizon` values of the first series. The model standardises its inputs itself
with statistics of the training period (Normalization adapted on those rows only), and its head
forecasts the change from a reference the window holds (`core.data.series.head_reference`: the value
one season earlier when the window covers a season and that forecasts the training period better than
the last value, else the last value), scaled to the series' units and added to it: an untrained model
starts near the better naive forecast, and every output is in the series' own units. Run jobs carry
the series itself, not the windows (`job_arrays`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.data.kinds import DataKind, InputContract, ModelInputs, PreprocessingStep
from core.errors import UserError

TABLE_FILE_SUFFIXES = (".csv", ".tsv", ".txt")


@dataclass
class SeriesContract(InputContract):
    """A forecaster wants at least `window` recent rows with the training columns (and dates)."""

    columns: list[str] = field(default_factory=list)  # target first, then the input series
    window: int = 1
    horizon: int = 1
    date_column: str | None = None
    date_format: str | None = None  # core.data.dates.ParsedDates.format of the training dates
    frequency: dict = field(default_factory=dict)  # core.data.series.Frequency.to_json()

    kind = "series"

    @property
    def n_outputs(self) -> int:
        return self.horizon

    def inputs_from_frame(self, frame: Any, source: str = "the recent rows") -> ModelInputs:
        from core.data.series import Frequency, recent_window

        x, ahead, notes = recent_window(frame, self, Frequency(**self.frequency), source)
        return ModelInputs(x[None], [f"next {self.horizon} steps"], notes, ahead=[ahead])

    def serving_info(self) -> dict:
        return {**super().serving_info(), "format": "recent_rows", "signature_input": "window",
                "target": self.columns[0], "columns": list(self.columns), "date_column": self.date_column,
                "window": self.window, "horizon": self.horizon, "frequency": dict(self.frequency)}

    def inputs_from_images(self, images: list[bytes], names: list[str] | None = None) -> ModelInputs:
        raise UserError("predict.needs_series", "This model forecasts a time series, so it needs a CSV of recent rows "
                        "(with the dates and the training columns), not images.")

    def inputs_from_files(self, paths: list[Path]) -> ModelInputs:
        from core.data.csv_reader import read_csv

        if len(paths) != 1 or paths[0].suffix.lower() not in TABLE_FILE_SUFFIXES:
            raise UserError(
                "predict.needs_one_series_csv",
                "A forecast starts from one CSV file of recent rows (at least {window}, with the columns {columns}). "
                "Give exactly one CSV file.",
                window=self.window, columns=", ".join(f"'{c}'" for c in self._needed()),
            )
        return self.inputs_from_frame(read_csv(paths[0], paths[0].name).frame, paths[0].name)

    def _needed(self) -> list[str]:
        return ([self.date_column] if self.date_column else []) + list(self.columns)


class SeriesKind(DataKind):
    name = "series"
    fallback_template = "series_dense"
    layer_kinds = ("sequence",)

    def describe(self, dataset: Any) -> dict:
        s = dataset.series
        out = {
            "n_steps": s.n,
            "target": s.target,
            "inputs": list(s.inputs),
            "date_column": s.date_column,
            "date_style": s.date_style,
            "date_order": s.date_order,
            "date_order_ambiguous": s.date_ambiguous,
            "frequency": s.frequency.name,
            "season": s.season,
            "window": s.window,
            "horizon": s.horizon,
            "periods": {
                "train": _period(s, 0, s.val_start), "validation": _period(s, s.val_start, s.test_start),
                "test": _period(s, s.test_start, s.n),
            },
            **s.report,
        }
        return out

    def input_text(self, dataset: Any) -> str:
        s = dataset.series
        return f"the last {s.window} steps of {len(s.columns)} series"

    def preprocessing_step(self, dataset: Any, reads_codes: bool) -> PreprocessingStep:
        k = len(dataset.series.columns)
        return PreprocessingStep("Normalization", "mean 0, variance 1 per series (from the training period)",
                                 tuple(dataset.input_shape), params=2 * k + 1)

    def integer_code_problem(self, dataset: Any, input_dim: int) -> Any:
        from core.catalog import LayerProblem

        return LayerProblem("build.embedding_on_series", "Embedding reads whole-number codes, but a time series holds "
                            "measured values. Remove Embedding and start with Dense, LSTM, GRU or Conv1D.")

    def input_block(self, keras: Any, inputs: Any, dataset: Any, reads_codes: bool) -> Any:
        s = dataset.series
        normalization = keras.layers.Normalization(axis=-1, name="normalization")
        normalization.adapt(np.asarray(s.values[: s.val_start], dtype="float32"))
        return normalization(inputs)

    def output_head(self, keras: Any, inputs: Any, x: Any, dataset: Any) -> Any:
        from core.data.series import change_scale, head_reference

        s = dataset.series
        change = keras.layers.Dense(s.horizon, name="output_change")(x)
        change = keras.layers.Rescaling(scale=change_scale(s), name="output_scaled")(change)
        # the raw values each step starts from: one season earlier, or the last value (series' units)
        reference = keras.ops.take(inputs[:, :, 0], head_reference(s), axis=1)
        return keras.layers.Add(name="output")([change, reference])

    def output_text(self, dataset: Any) -> str:
        from core.data.series import seasonal_reference

        start = "the value one season earlier" if seasonal_reference(dataset.series) else "the last value"
        return f"{dataset.series.horizon} values ahead: {start} plus a learned change, in the series' units"

    def script(self, dataset: Any) -> Any:
        from core import script_templates as pieces
        from core.codegen import KindScript
        from core.data.cell_text import MISSING_MARKERS
        from core.data.samples import series_sample_file
        from core.data.series import change_scale, head_reference
        from core.sources import sample_name

        s = dataset.series
        sample = series_sample_file(sample_name(dataset.name))
        data_help = "a CSV file with a date column (or rows in time order) and the series' columns"
        if sample is not None:
            data_help += f";\nthe sample {sample.name} is in LayerLab's source, in core/data/series_samples"
        frequency = s.frequency.to_json()
        return KindScript(
            template="series",
            data_help=data_help,
            packages="numpy pandas",
            settings=pieces.statements("series", "TARGET", "REFERENCE_POSITIONS", values={
                "TARGET": s.target, "INPUTS": list(s.inputs), "DATE_COLUMN": s.date_column,
                "DATE_FORMAT": s.date_format, "WINDOW": s.window, "HORIZON": s.horizon,
                "FREQUENCY": {key: frequency[key] for key in ("name", "months", "seconds", "season")},
                "CHANGE_SCALE": change_scale(s), "REFERENCE_POSITIONS": head_reference(s),
            }),
            # the CSV is read as a table is (encoding, delimiter, decimal commas), then as a series
            loading=pieces.statements("table", "GROUPED", "read_table", values={"MISSING_MARKERS": sorted(MISSING_MARKERS)})
            + "\n\n\n" + pieces.statements("series", "QUARTER", "load_data"),
            shared=("table",),
            input_block=pieces.block("series", "normalized_window"),
            head=pieces.block("series", "forecast_head"),
            split=pieces.statements("series", "periods", "split_windows"),
            main=pieces.statements("series", "baseline_forecasts", "main"),
            sample_file=None if sample is None else sample.name,
        )

    def job_fields(self, dataset: Any) -> dict:
        from dataclasses import asdict

        return {"features": [asdict(f) for f in dataset.features], "series": dataset.series.to_json()}

    def job_arrays(self, dataset: Any) -> dict[str, np.ndarray]:
        s = dataset.series
        arrays = {"values": s.values}
        if s.timestamps is not None:
            arrays["timestamps"] = s.timestamps.astype("datetime64[s]").astype(np.int64)
        return arrays

    def from_job_fields(self, fields: dict) -> dict:
        from core.data.dataset import Feature

        return {"features": [Feature(**f) for f in fields["features"]]}

    def from_job(self, fields: dict, arrays: dict[str, np.ndarray]) -> dict:
        from core.data.series import SeriesData, split_windows

        stamps = arrays.get("timestamps")
        series = SeriesData.from_json(fields["series"], arrays["values"],
                                      None if stamps is None else np.asarray(stamps).astype("datetime64[s]"))
        windows = split_windows(series.values, series.window, series.horizon, series.val_start, series.test_start)
        return {**self.from_job_fields(fields), "target": series.target, "series": series, **windows}

    def contract(self, dataset: Any) -> SeriesContract:
        s = dataset.series
        return SeriesContract(task=dataset.task, columns=list(s.columns), window=s.window, horizon=s.horizon,
                              date_column=s.date_column if s.timestamps is not None else None,
                              date_format=s.date_format, frequency=s.frequency.to_json())

    def contract_from_files(self, labels: dict, info: dict) -> SeriesContract:
        return SeriesContract(task=labels["task"], columns=[str(c) for c in info["columns"]], window=int(info["window"]),
                              horizon=int(info["horizon"]), date_column=info.get("date_column"),
                              date_format=info.get("date_format"), frequency=dict(info["frequency"]))

    def serving_examples(self, dataset: Any) -> dict:
        """The series' last `window` rows, as a request for the next `horizon` steps."""
        s = dataset.series
        values = s.values[-s.window:]
        stamps = s.timestamps[-s.window:] if s.timestamps is not None and s.date_column else None
        rows = []
        for k, row in enumerate(values):
            item = {s.date_column: str(np.datetime64(stamps[k], "s")).replace("T00:00:00", "")} if stamps is not None else {}
            item.update({c: float(f"{v:.6g}") for c, v in zip(s.columns, row)})
            rows.append(item)
        return {"example_rows": rows}

    def preprocessing_info(self, dataset: Any) -> dict:
        s = dataset.series
        return {
            "target": s.target,
            "columns": list(s.columns),
            "date_column": s.date_column if s.timestamps is not None else None,
            "date_style": s.date_style,
            "date_format": s.date_format,
            "frequency": s.frequency.to_json(),
            "window": s.window,
            "horizon": s.horizon,
            "season": s.season,
            "filling": "rows are put in date order on a regular grid of the frequency; a missing step gets a row, and "
            "every empty value is carried forward from the step before (never from the future)",
            "training_period": _period(s, 0, s.val_start),
            "model_input": {
                "dtype": "float32",
                "shape": [None, s.window, len(s.columns)],
                "feed": f"the last {s.window} steps, oldest first, one value per column in 'columns' order, as the raw "
                "numbers (the model standardises them itself). The output is the next "
                f"{s.horizon} values of '{s.target}', in its own units.",
            },
        }

    def mistake_source(self, dataset: Any, index: int) -> str:
        s = dataset.series
        return f"forecast from {s.stamp_text(s.test_start + index)}"

    def fit_data(self, dataset: Any, batch_size: int, seed: int | None, balance_classes: bool = False) -> dict:
        """Batches gathered from the window views as training goes: the windows are never all copied.
        A forecast has no classes to balance: `balance_classes` is ignored."""
        from core.training.window_batches import WindowBatches

        has_val = len(dataset.x_val) > 0
        return {
            "x": WindowBatches(dataset.x_train, dataset.y_train, batch_size, shuffle=True, seed=seed),
            "validation_data": WindowBatches(dataset.x_val, dataset.y_val, batch_size) if has_val else None,
        }


def _period(series: Any, start: int, stop: int) -> dict:
    if stop <= start:
        return {"rows": 0}
    return {"rows": stop - start, "from": series.stamp_text(start), "to": series.stamp_text(stop - 1)}



def latest_inputs(dataset: Any) -> ModelInputs:
    """The model's input for the forecast beyond the end of the data: the dataset's last window
    (raw values, gaps already filled), with the timestamps of the `horizon` steps that follow."""
    s = dataset.series
    x = np.asarray(s.values[-s.window:], dtype=np.float32)[None]
    return ModelInputs(x, ["the latest data"], [], ahead=[s.future_stamps()])


def future_positions(series: Any) -> np.ndarray:
    """Where the next `horizon` steps lie on a chart's x axis: their timestamps (datetime64[s]),
    or their step numbers (1 = the first row) when the rows are the steps."""
    if series.timestamps is None:
        return np.arange(series.n + 1, series.n + series.horizon + 1)
    return series.frequency.after(series.timestamps[-1], series.horizon)


def positions(series: Any, start: int = 0, stop: int | None = None) -> np.ndarray:
    """The x positions of rows [start, stop): timestamps, or step numbers counted from 1."""
    stop = series.n if stop is None else stop
    if series.timestamps is None:
        return np.arange(start + 1, stop + 1)
    return series.timestamps[start:stop]


def numeric_columns(frame: Any, exclude: Any = ()) -> list[str]:
    """The columns a series can be read from: numbers (at least 90% of the filled cells), not dates
    or yes/no values; `exclude` (the date column) left out."""
    import pandas as pd

    out = []
    for name in frame.columns:
        column = frame[name]
        if str(name) in exclude or pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_datetime64_any_dtype(column.dtype):
            continue
        if pd.api.types.is_numeric_dtype(column.dtype):
            out.append(str(name))
            continue
        present = column.dropna().astype("str").str.strip()
        present = present[present != ""]
        if len(present) and pd.to_numeric(present.iloc[:1000], errors="coerce").notna().mean() >= 0.9:
            out.append(str(name))
    return out


def date_columns(frame: Any) -> list[str]:
    """The columns that hold dates (real dates, text in a date style, Unix seconds named so)."""
    from core.data.dates import looks_like_date_column

    return [str(name) for k, name in enumerate(frame.columns) if looks_like_date_column(str(name), frame[name], k)]
