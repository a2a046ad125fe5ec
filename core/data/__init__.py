"""Data ingestion: CSV tables, zips or folders of images, and built-in samples -> Dataset."""
from core.data.csv_reader import RawTable, read_csv
from core.data.dataset import Dataset, Feature, SkippedFile
from core.data.images import decode_image, load_image_folder, load_image_zip
from core.data.limits import Limits, current_limits
from core.data.loading import load_data
from core.data.samples import SAMPLES, load_sample
from core.data.tables import TablePreprocessor, prepare_table

__all__ = [
    "SAMPLES", "Dataset", "Feature", "Limits", "RawTable", "SkippedFile", "TablePreprocessor",
    "current_limits", "decode_image", "load_data", "load_image_folder", "load_image_zip", "load_sample",
    "prepare_table", "read_csv",
]
