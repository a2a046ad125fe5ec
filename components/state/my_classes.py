"""The classes a user makes on the Data page ("Make my own image classes"): pictures from files or
the camera, kept in the session's Workspace (never shared) and bounded by the upload limits.

Draws nothing; components/my_classes.py draws it. The classes become a dataset through the same
path as an uploaded zip of class folders (`archive_files` -> core.data.images.build_image_dataset).
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


@dataclass
class MyClasses:
    classes: list[MyClass] = field(default_factory=list)
    seen_files: set = field(default_factory=set)  # uploader/camera file ids already added (Streamlit hands them back)
    next_id: int = 0

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
    def short_classes(self) -> list[str]:
        """The classes with fewer pictures than MIN_PICTURES_PER_CLASS."""
        return [c.name for c in self.classes if len(c.pictures) < MIN_PICTURES_PER_CLASS]

    def ready(self) -> bool:
        return len(self.classes) >= MIN_CLASSES and not self.short_classes()

    def archive_files(self):
        """The pictures as if unzipped from an upload: `class name/file name`."""
        from core.data.archive import ArchiveFiles

        return ArchiveFiles(files=[(f"{c.name}/{p.name}", p.data) for c in self.classes for p in c.pictures])

    def image_dataset(self, seed: int = 42):
        from core.data.images import build_image_dataset

        return build_image_dataset(DATASET_NAME, self.archive_files(), seed=seed)

    def zip_bytes(self) -> bytes:
        """A zip of class folders (pictures are stored: they are compressed already), loadable as an upload."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for made in self.classes:
                for picture in made.pictures:
                    archive.writestr(f"{DATASET_NAME}/{made.name}/{picture.name}", picture.data)
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
