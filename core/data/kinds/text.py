"""The text kind: documents with a label (a CSV's text column, or .txt files in class folders).

The arrays hold token ids (core.data.tokens), and the network trains on them: counting and
cutting the text happens once, not every epoch. The model a user downloads takes raw strings:
`serving_model` puts Keras `TextVectorization` (the same vocabulary, the same rules) in front of
the trained network, which is kept whole inside it as the layer "token_model". TFLite and the
server's "Try it" use the token-id network, fed by core.data.tokens; a TFLite file cannot hold
the tokenizer (TextVectorization converts only with TensorFlow ops LiteRT lacks).
TextVectorization is TensorFlow-only, so the downloaded .keras needs the TensorFlow backend.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.catalog import LayerProblem
from core.data.kinds import DataKind, InputContract, ModelInputs, PreprocessingStep
from core.data.tokens import (
    PADDING_ID, RESERVED_IDS, TOKENIZATIONS, UNKNOWN_ID, WORDS, TextData, keras_settings, split_tokens, token_ids,
)
from core.errors import UserError

TOKEN_MODEL = "token_model"  # the trained network's name inside the downloadable model
TEXT_FILE_SUFFIXES = (".txt", ".text", ".md")
TABLE_FILE_SUFFIXES = (".csv", ".tsv")
MAX_TEXTS = 10_000  # texts one prediction call takes
TOKEN_UNITS = {WORDS: "words"}  # what a token is called in the shape report (otherwise "characters")


def _unit(tokenization: str) -> str:
    return TOKEN_UNITS.get(tokenization, "characters")


@dataclass
class TextContract(InputContract):
    """A text model wants strings; they are cut into token ids by the training rules."""

    tokenization: str = WORDS
    vocabulary: list[str] = field(default_factory=list)
    sequence_length: int = 1
    column: str | None = None  # the training CSV's text column (the column looked for in a table)

    kind = "text"

    def _text_data(self) -> TextData:
        return TextData(self.tokenization, self.vocabulary, self.sequence_length, self.column)

    def inputs_from_texts(self, texts: list[str], names: list[str] | None = None) -> ModelInputs:
        texts = ["" if t is None else str(t) for t in texts]
        if not texts or not any(t.strip() for t in texts):
            raise UserError("predict.no_texts", "There is no text to classify. Type or paste at least one text.")
        if len(texts) > MAX_TEXTS:
            raise UserError("predict.too_many_texts", "{n} texts were given; at most {limit} can be classified at once. "
                            "Split them into smaller files.", n=f"{len(texts):,}", limit=f"{MAX_TEXTS:,}")
        names = names or [f"text {k + 1}" for k in range(len(texts))]
        token_lists = [split_tokens(t, self.tokenization) for t in texts]
        warnings = []
        long = [name for name, tokens in zip(names, token_lists) if len(tokens) > self.sequence_length]
        if long:
            warnings.append(f"{', '.join(long[:5])}: longer than the {self.sequence_length} tokens the model reads; "
                            "only the beginning was used.")
        index = set(self.vocabulary)
        unknown = [name for name, tokens in zip(names, token_lists) if not any(t in index for t in tokens)]  # or empty
        if unknown:
            warnings.append(f"{', '.join(unknown[:5])}: none of its words were in the training texts, so the "
                            "answer is a guess.")
        x = token_ids(token_lists, self.vocabulary, self.sequence_length)
        return ModelInputs(x, list(names), warnings)

    def serving_info(self) -> dict:
        return {**super().serving_info(), "format": "texts", "signature_input": "texts", "text_column": self.column,
                "example": " ".join(self.vocabulary[:6])}

    def inputs_from_frame(self, frame: Any) -> ModelInputs:
        """A table of texts: the training text column, or a table's only column."""
        texts = self._texts_of_frame(frame)
        return self.inputs_from_texts(texts, [f"row {k + 1}" for k in range(len(texts))])

    def _texts_of_frame(self, frame: Any) -> list[str]:
        if len(frame) == 0:
            raise UserError("predict.no_rows", "The table has no rows to predict. Add at least one row below the header.")
        columns = [str(c) for c in frame.columns]
        column = self.column if self.column in columns else (columns[0] if len(columns) == 1 else None)
        if column is None:
            raise UserError(
                "predict.missing_text_column",
                "The table has no column '{column}' with the texts to classify. Name the text column '{column}', "
                "or give a table with that one column.",
                column=self.column or "text",
            )
        return ["" if v is None or v != v else str(v) for v in frame[column].tolist()]

    def inputs_from_images(self, images: list[bytes], names: list[str] | None = None) -> ModelInputs:
        raise UserError("predict.needs_text", "This model was trained on texts, so it needs texts, not images.")

    def inputs_from_files(self, paths: list[Path]) -> ModelInputs:
        """A CSV/TSV of texts, or .txt files (one text each)."""
        from core.data.csv_reader import read_csv
        from core.data.text_files import UnreadableText, decode_text

        texts: list[str] = []
        names: list[str] = []
        for path in paths:  # all read first, then tokenised together: one empty file is a note, not a refusal
            suffix = path.suffix.lower()
            if suffix in TABLE_FILE_SUFFIXES:
                rows = self._texts_of_frame(read_csv(path, path.name).frame)
                texts += rows
                names += [f"{path.name} row {k + 1}" if len(paths) > 1 else f"row {k + 1}" for k in range(len(rows))]
            else:
                try:
                    text, _ = decode_text(path.read_bytes())
                except UnreadableText as err:
                    raise UserError(
                        "predict.text_unreadable",
                        "{file} cannot be read as text: {reason}. This model classifies texts: give .txt files "
                        "saved as UTF-8, or a CSV file with the texts in a column named '{column}'.",
                        file=path.name, reason=err.reason, column=self.column or "text",
                    ) from None
                texts.append(text)
                names.append(path.name)
        return self.inputs_from_texts(texts, names)

    def network(self, model: Any) -> Any:
        """The part of `model` that takes token ids: the whole of a run's trained network, or the
        token_model inside a downloaded model that takes strings."""
        try:
            return model.get_layer(TOKEN_MODEL)
        except ValueError:
            return model


class TextKind(DataKind):
    name = "text"
    fallback_template = "text_bag_of_embeddings"
    layer_kinds = ("text", "sequence")

    def describe(self, dataset: Any) -> dict:
        text, profile = dataset.text, dataset.text.profile
        out = {
            "n_texts": dataset.n_rows,
            "text_column": text.column,
            "tokenization": text.tokenization,
            "vocabulary_size": text.n_ids,
            "sequence_length": text.sequence_length,
            "dropped_rows": dataset.dropped_rows,
        }
        if profile is not None:
            out.update({
                "tokens_found": profile.vocabulary_found,
                "median_length": float(np.median(profile.lengths)) if len(profile.lengths) else 0.0,
                "texts_cut": profile.cut,
                "empty_texts": len(profile.empty),
                "duplicate_texts": profile.duplicates,
            })
        if dataset.features:
            out["features"] = [{"name": f.name, "kind": f.kind, "reason": f.reason} for f in dataset.features]
        return out

    def input_text(self, dataset: Any) -> str:
        return f"texts: up to {dataset.text.sequence_length} {_unit(dataset.text.tokenization)} each"

    def preprocessing_step(self, dataset: Any, reads_codes: bool) -> PreprocessingStep:
        text = dataset.text
        if reads_codes:
            return PreprocessingStep("TextVectorization", f"{text.n_ids:,} tokens → ids", (text.sequence_length,))
        return PreprocessingStep("TextVectorization + multi-hot", f"{text.n_ids:,} tokens → present or not",
                                 (text.n_ids,))

    def integer_code_problem(self, dataset: Any, input_dim: int) -> Any:
        needed = dataset.text.n_ids
        if input_dim < needed:
            return LayerProblem(
                "build.embedding_vocabulary",
                "input_dim is {input_dim} but the vocabulary has {needed} tokens (with padding and unknown). Set "
                "input_dim to at least {needed}, or leave it empty for automatic.",
                input_dim=input_dim, needed=needed,
            )
        return None

    def code_count(self, dataset: Any) -> int:
        return dataset.text.n_ids

    def input_block(self, keras: Any, inputs: Any, dataset: Any, reads_codes: bool) -> Any:
        if reads_codes:
            return inputs
        # every vocabulary entry present (1) or not (0): the bag-of-words baseline's input. one_hot and
        # max are TFLite built-ins; CategoryEncoding's bincount is not (LiteRT could not run the file).
        # The one-hot step holds batch × length × vocabulary values: as bool, a quarter of float32's
        # memory (148 MB a batch on the Chinese sample instead of 591)
        ids = keras.ops.cast(inputs, "int32")
        present = keras.ops.max(keras.ops.one_hot(ids, dataset.text.n_ids, dtype="bool"), axis=1)
        return keras.ops.cast(present, "float32")

    def serving_model(self, keras: Any, model: Any, dataset: Any) -> Any:
        """The trained network behind TextVectorization: raw strings in, one per text (shape [n])."""
        return serving_model_for(keras, model, dataset.text)

    def script(self, dataset: Any) -> Any:
        from core import script_templates as pieces
        from core.codegen import KindScript
        from core.data.cell_text import MISSING_MARKERS
        from core.data.samples import text_sample_file
        from core.sources import sample_name

        text = dataset.text
        settings = keras_settings(text.tokenization)
        sample = text_sample_file(sample_name(dataset.name))
        data_help = "a CSV file of texts and labels, or a folder (or .zip) with one sub-folder of .txt files per class"
        if sample is not None:
            data_help += f";\nthe sample {sample.name} is in LayerLab's source, in core/data/text_samples"
        return KindScript(
            template="text",
            data_help=data_help,
            packages="numpy pandas",
            settings=pieces.statements("text", "TARGET", "SEQUENCE_LENGTH", values={
                "TARGET": dataset.target, "TEXT_COLUMN": text.column, "STANDARDIZE": settings["standardize"],
                "SPLIT": settings["split"], "NGRAMS": settings["ngrams"], "VOCABULARY_SIZE": text.n_ids,
                "SEQUENCE_LENGTH": text.sequence_length,
            }),
            loading=pieces.statements("archives", "is_junk", "class_folders") + "\n\n\n"
            + pieces.statements("text", "TEXT_SUFFIXES", "load_data", values={"MISSING_MARKERS": sorted(MISSING_MARKERS)}),
            shared=("archives",),
            input_block=pieces.block("text", "multi_hot_inputs"),  # an Embedding first reads the ids as they are
            main=pieces.statements("text", "text_vectorization", "main"),
            sample_file=None if sample is None else sample.name,
        )

    def job_fields(self, dataset: Any) -> dict:
        from dataclasses import asdict

        return {
            "target": dataset.target,
            "dropped_rows": dataset.dropped_rows,
            "features": [asdict(f) for f in dataset.features],
            "skipped": [asdict(s) for s in dataset.skipped],  # files of a zip that could not be read
            "text": dataset.text.to_json(),
        }

    def from_job_fields(self, fields: dict) -> dict:
        from core.data.dataset import Feature, SkippedFile

        return {
            "target": fields["target"],
            "dropped_rows": int(fields["dropped_rows"]),
            "features": [Feature(**f) for f in fields["features"]],
            "skipped": [SkippedFile(**s) for s in fields.get("skipped", [])],
            "text": TextData.from_json(fields["text"]),
        }

    def contract(self, dataset: Any) -> TextContract:
        text = dataset.text
        return TextContract(task=dataset.task, classes=list(dataset.classes), tokenization=text.tokenization,
                            vocabulary=list(text.vocabulary), sequence_length=text.sequence_length, column=text.column)

    def contract_from_files(self, labels: dict, info: dict) -> TextContract:
        text = TextData.from_json({**info, "column": info.get("text_column")})
        return TextContract(task=labels["task"], classes=[str(c) for c in labels.get("classes", [])],
                            tokenization=text.tokenization, vocabulary=text.vocabulary,
                            sequence_length=text.sequence_length, column=text.column)

    def preprocessing_info(self, dataset: Any) -> dict:
        text = dataset.text
        settings = keras_settings(text.tokenization)
        return {
            "text_column": text.column,
            "target": dataset.target,
            "tokenization": text.tokenization,
            "tokenization_help": TOKENIZATIONS[text.tokenization],
            "standardize": "lower-case the ASCII letters A-Z only, then remove the ASCII punctuation "
            "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~' (other characters stay)",
            "split": "at runs of ASCII whitespace (space, tab, CR, LF, VT, FF)" if settings["split"] == "whitespace"
            else "into single Unicode code points (spaces included)"
            + ("; then every pair of neighbouring characters joined by one space, after all the single ones"
               if settings["ngrams"] else ""),
            "keras_text_vectorization": {**settings, "output_mode": "int", "output_sequence_length": text.sequence_length},
            "sequence_length": text.sequence_length,
            "padding_id": PADDING_ID,
            "unknown_id": UNKNOWN_ID,
            "first_vocabulary_id": RESERVED_IDS,
            "vocabulary": list(text.vocabulary),
            "model_input": {
                "dtype": "float32",
                "shape": [None, text.sequence_length],
                "feed": "model.keras takes the raw texts (strings, shape [n]: model.predict(np.array(texts, dtype=object))). The TFLite files take token ids: "
                f"split each text as 'standardize' and 'split' say, look each token up in 'vocabulary' (the first "
                f"entry is id {RESERVED_IDS}; a token not in it is id {UNKNOWN_ID}), keep the first "
                f"{text.sequence_length} ids and pad with {PADDING_ID} to that length, as float32.",
            },
        }

    def mistake_source(self, dataset: Any, index: int) -> str:
        sources = dataset.text.test_sources
        return sources[index] if index < len(sources) else super().mistake_source(dataset, index)

    def mistake_inputs(self, dataset: Any, index: int) -> dict[str, float | str]:
        from core.data.texts import _shortened

        texts = dataset.text.test_texts
        return {"text": _shortened(texts[index])} if index < len(texts) else {}


def serving_model_for(keras: Any, network: Any, text: TextData) -> Any:
    """Input(string) -> TextVectorization(the training vocabulary and rules) -> the token-id network."""
    inputs = keras.Input(shape=(), dtype="string", name="text")
    vectorize = keras.layers.TextVectorization(
        max_tokens=text.n_ids, output_mode="int", output_sequence_length=text.sequence_length,
        vocabulary=list(text.vocabulary) or None, name="text_vectorization", **keras_settings(text.tokenization),
    )
    ids = keras.ops.cast(vectorize(inputs), "float32")
    # the same layers (and weights) under a name `TextContract.network` finds again after loading
    inner = keras.Model(network.inputs, network.outputs, name=TOKEN_MODEL)
    return keras.Model(inputs, inner(ids), name="layerlab_text")
