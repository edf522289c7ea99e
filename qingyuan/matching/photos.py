"""Profile photos: checked, stripped of EXIF/GPS, re-encoded, stored under a random name.

Re-encoding from decoded pixels is what removes every embedded datum (EXIF, GPS, XMP, ICC,
comments) and any polyglot payload; the original bytes are never stored. Orientation is
applied first, since dropping EXIF also drops the rotation flag.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decompression-bomb guard, checked on the header before decoding
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
LONG_SIDE = 1280
PHOTO_DIR = "photos"

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard too, for any other caller
# Decoding takes a CPU and up to a few hundred MB: at most two at a time, off the event loop.
_decoding = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photo")


def _refuse() -> ValidationFailed:
    return ValidationFailed(
        fields={"photo": _("Upload a JPEG, PNG or WebP photo of at most 8 MB.")}
    )


def clean_photo(data: bytes) -> bytes:
    """A re-encoded JPEG of the upload, at most LONG_SIDE pixels on its long side."""
    if not data or len(data) > MAX_BYTES:
        raise _refuse()
    try:
        with Image.open(io.BytesIO(data)) as upload:  # reads the header only
            if upload.format not in ALLOWED_FORMATS or upload.width * upload.height > MAX_PIXELS:
                raise _refuse()
            upload.draft("RGB", (LONG_SIDE, LONG_SIDE))  # JPEG: decode at a reduced scale
            image = ImageOps.exif_transpose(upload).convert("RGB")
            image.thumbnail((LONG_SIDE, LONG_SIDE))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise _refuse() from error
    return out.getvalue()


async def store_photo(data_dir: Path, data: bytes) -> str:
    """Store a cleaned photo; the name is random, so it reveals nothing and cannot be guessed.

    Cleaning runs in a two-thread pool: the event loop keeps serving while a photo decodes,
    and a burst of uploads queues instead of decoding all at once.
    """
    return await asyncio.get_running_loop().run_in_executor(_decoding, _store, data_dir, data)


def _store(data_dir: Path, data: bytes) -> str:
    cleaned = clean_photo(data)
    directory = data_dir / PHOTO_DIR
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.jpg"
    (directory / name).write_bytes(cleaned)
    return name


def photo_path(data_dir: Path, name: str) -> Path | None:
    path = data_dir / PHOTO_DIR / Path(name).name
    return path if path.is_file() else None
