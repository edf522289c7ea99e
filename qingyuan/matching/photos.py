"""Profile photos: checked, stripped of EXIF/GPS, re-encoded, stored under a random name.

Re-encoding from decoded pixels is what removes every embedded datum (EXIF, GPS, XMP, ICC,
comments) and any polyglot payload; the original bytes are never stored. Orientation is
applied first, since dropping EXIF also drops the rotation flag.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decompression-bomb guard
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
LONG_SIDE = 1280
PHOTO_DIR = "photos"


def _refuse() -> ValidationFailed:
    return ValidationFailed(
        fields={"photo": _("Upload a JPEG, PNG or WebP photo of at most 8 MB.")}
    )


def clean_photo(data: bytes) -> bytes:
    """A re-encoded JPEG of the upload, at most LONG_SIDE pixels on its long side."""
    if not data or len(data) > MAX_BYTES:
        raise _refuse()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as upload:
            if upload.format not in ALLOWED_FORMATS:
                raise _refuse()
            image = ImageOps.exif_transpose(upload).convert("RGB")
            image.thumbnail((LONG_SIDE, LONG_SIDE))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise _refuse() from error
    return out.getvalue()


def store_photo(data_dir: Path, data: bytes) -> str:
    """Store a cleaned photo; the name is random, so it reveals nothing and cannot be guessed."""
    directory = data_dir / PHOTO_DIR
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.jpg"
    (directory / name).write_bytes(clean_photo(data))
    return name


def photo_path(data_dir: Path, name: str) -> Path | None:
    path = data_dir / PHOTO_DIR / Path(name).name
    return path if path.is_file() else None
