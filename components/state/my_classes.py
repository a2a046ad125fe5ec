"""The classes a user makes on the Data page ("Make my own image classes"): pictures from files or
the camera, or examples typed one per line, kept in the session's Workspace (never shared) and
bounded by the upload limits.

Draws nothing; components/my_classes.py draws it. Pictures become a dataset through the same
path as an uploaded zip of class folders (`archive_files` -> core.data.images.build_image_dataset),
texts through the path of a CSV with a text column (`text_table` -> core.data.tables.prepare_table
with data_kind="text").
"""
from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field

from core.data.limits import current_limits
from core.errors import UserError

MIN_PICTURES_PER_CLASS = 10  # stated to the user; core refuses below 5 (core.data.images.MIN_IMAGES_PER_CLASS)
MIN_CLASSES = 2
MAX_NAME_LENGTH = 60
THUMBNAIL_SIDE = 96
DATASET_NAME = "my_classes"  # the dataset's name and source, and the downloaded zip's stem
IMAGES, TEXTS = "images", "texts"  # what the classes hold (the user's choice)
TEXT_COLUMN, LABEL_COLUMN = "text", "label"


@dataclass
class Picture:
    id: int  # unique in the session: delete buttons' keys
    name: str  # file name inside its class folder
    data: bytes
    thumbnail: bytes  # a small PNG, upright
    digest: str


@dataclass
class MyClass:
    name: str
    pictures: list[Picture] = field(default_factory=list)
    texts: str = ""  # examples typed or pasted, one per line

    @property
    def examples(self) -> list[str]:
        return [line.strip() for line in self.texts.splitlines() if line.strip()]


@dataclass
class MyClasses:
    classes: list[MyClass] = field(default_factory=list)
    seen_files: set = field(default_factory=set)  # uploader/camera file ids already added (Streamlit hands them back)
    next_id: int = 0
    kind: str = IMAGES  # what the classes hold: IMAGES or TEXTS

    # ------------------------------------------------------------ classes
    def add_class(self, name: str) -> MyClass:
        name = self._checked_name(name)
        if len(self.classes) >= current_limits().classes:
            raise UserError("my_classes.too_many_classes",
                            "You already have {n} classes, the most this server allows.", n=len(self.classes))
        made = MyClass(name)
        self.classes.append(made)
        return made

    def rename(self, index: int, name: str) -> None:
        self.classes[index].name = self._checked_name(name, besides=index)

    def remove(self, index: int) -> None:
        del self.classes[index]

    def _checked_name(self, name: str, besides: int | None = None) -> str:
        name = unicodedata.normalize("NFC", " ".join((name or "").split()))
        if not name:
            raise UserError("my_classes.empty_name", "Type a name for the class first (for example 'cat').")
        if len(name) > MAX_NAME_LENGTH:
            raise UserError("my_classes.long_name", "A class name may have at most {n} characters.", n=MAX_NAME_LENGTH)
        if name.startswith(".") or any(c in name for c in '/\\:*?"<>|') or any(ord(c) < 32 for c in name):
            raise UserError("my_classes.bad_name",
                            "'{name}' cannot be a class name: it may not start with a dot nor contain / \\ : * ? \" < > |.",
                            name=name)
        if any(i != besides and c.name.casefold() == name.casefold() for i, c in enumerate(self.classes)):
            raise UserError("my_classes.same_name", "There is already a class called '{name}'.", name=name)
        return name

    # ------------------------------------------------------------ pictures
    @property
    def n_pictures(self) -> int:
        return sum(len(c.pictures) for c in self.classes)

    @property
    def n_bytes(self) -> int:
        return sum(len(p.data) for c in self.classes for p in c.pictures)

    def add_picture(self, index: int, name: str, data: bytes) -> Picture | None:
        """Add one picture to class `index`; None when that class already has the same bytes.
        A file that is not a usable image, or one past the session's caps, is a UserError."""
        limits = current_limits()
        if self.n_pictures + 1 > limits.images:
            raise UserError("my_classes.too_many_pictures",
                            "'{file}' was not added: your classes already hold {n} pictures, the most this server "
                            "allows. Download your classes as a zip to keep them.", file=name, n=self.n_pictures)
        if self.n_bytes + len(data) > limits.upload_bytes:
            from core.sizes import human_size

            raise UserError("my_classes.too_many_bytes",
                            "'{file}' was not added: your pictures would take more than {size}, the most this server "
                            "allows for one upload. Use smaller pictures (about 1,000 pixels across is plenty).",
                            file=name, size=human_size(limits.upload_bytes))
        digest = hashlib.sha256(data).hexdigest()
        target = self.classes[index]
        if any(p.digest == digest for p in target.pictures):
            return None
        thumbnail = make_thumbnail(data, name)
        picture = Picture(self.next_id, self._free_name(target, name), data, thumbnail, digest)
        self.next_id += 1
        target.pictures.append(picture)
        return picture

    def delete_picture(self, picture_id: int) -> None:
        for made in self.classes:
            made.pictures = [p for p in made.pictures if p.id != picture_id]

    @staticmethod
    def _free_name(target: MyClass, name: str) -> str:
        name = name.replace("\\", "/").rsplit("/", 1)[-1].lstrip(".") or "picture"
        taken = {p.name for p in target.pictures}
        stem, dot, suffix = name.rpartition(".")
        stem, suffix = (stem, f".{suffix}") if dot else (name, "")
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{stem} ({n}){suffix}", n + 1
        return candidate

    # ------------------------------------------------------------ ready to train, and the dataset
    def count(self, index: int, kind: str = IMAGES) -> int:
        made = self.classes[index]
        return len(made.examples) if kind == TEXTS else len(made.pictures)

    def short_classes(self, kind: str = IMAGES) -> list[str]:
        """The classes with fewer pictures (or texts) than MIN_PICTURES_PER_CLASS."""
        return [c.name for i, c in enumerate(self.classes) if self.count(i, kind) < MIN_PICTURES_PER_CLASS]

    def ready(self, kind: str = IMAGES) -> bool:
        return len(self.classes) >= MIN_CLASSES and not self.short_classes(kind)

    def set_texts(self, index: int, texts: str) -> None:
        """A class's typed examples; refused past the upload cap on bytes (all classes' texts together)."""
        limits = current_limits()
        others = sum(len(c.texts.encode()) for i, c in enumerate(self.classes) if i != index)
        if others + len(texts.encode()) > limits.upload_bytes:
            from core.sizes import human_size

            raise UserError("my_classes.too_much_text",
                            "The texts of '{name}' were not kept: all your texts together would take more than "
                            "{size}, the most this server allows for one upload.",
                            name=self.classes[index].name, size=human_size(limits.upload_bytes))
        self.classes[index].texts = texts

    def text_table(self):
        """The examples as a table (a text column and a label column), as a CSV with a text column is read."""
        import pandas as pd

        from core.data.csv_reader import RawTable

        rows = [(text, c.name) for c in self.classes for text in c.examples]
        frame = pd.DataFrame(rows, columns=[TEXT_COLUMN, LABEL_COLUMN])
        return RawTable(name=DATASET_NAME, frame=frame, encoding="utf-8", delimiter=",", decimal=".",
                        n_bytes=sum(len(text.encode()) for text, _ in rows))

    def text_dataset(self, raw=None, seed: int = 42):
        from core.data.tables import prepare_table

        raw = raw if raw is not None else self.text_table()
        return prepare_table(raw, target=LABEL_COLUMN, task="classification", seed=seed, data_kind="text",
                             text_column=TEXT_COLUMN)

    def archive_files(self):
        """The pictures as if unzipped from an upload: `class name/file name`."""
        from core.data.archive import ArchiveFiles

        return ArchiveFiles(files=[(f"{c.name}/{p.name}", p.data) for c in self.classes for p in c.pictures])

    def image_dataset(self, seed: int = 42):
        from core.data.images import build_image_dataset

        return build_image_dataset(DATASET_NAME, self.archive_files(), seed=seed)

    def zip_bytes(self, kind: str = IMAGES) -> bytes:
        """A zip of class folders, loadable as an upload: the pictures (stored: they are compressed
        already), or one .txt file per typed example."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for made in self.classes:
                if kind == TEXTS:
                    for number, text in enumerate(made.examples, start=1):
                        archive.writestr(f"{DATASET_NAME}/{made.name}/{number:04d}.txt", text.encode())
                    continue
                for picture in made.pictures:
                    archive.writestr(f"{DATASET_NAME}/{made.name}/{picture.name}", picture.data,
                                     compress_type=zipfile.ZIP_STORED)
        return buffer.getvalue()


def make_thumbnail(data: bytes, name: str) -> bytes:
    """A small upright PNG of an image file; a UserError when the bytes are not a usable image."""
    from PIL import Image, ImageOps

    limits = current_limits()
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > limits.image_pixels:
                raise UserError("my_classes.too_many_pixels",
                                "'{file}' was not added: it has more pixels than this server decodes ({pixels}).",
                                file=name, pixels=f"{limits.image_pixels:,}")
            im.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
            im = ImageOps.exif_transpose(im)
            im = im.convert("RGB")
            im.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            out = io.BytesIO()
            im.save(out, format="PNG")
            return out.getvalue()
    except UserError:
        raise
    except Exception:  # Pillow raises many kinds for a file that is not an image
        raise UserError("my_classes.not_an_image",
                        "'{file}' was not added: it is not a picture LayerLab can read (PNG, JPEG, BMP, GIF or WebP).",
                        file=name) from None
