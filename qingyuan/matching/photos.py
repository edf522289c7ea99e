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
from functools import partial
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from qingyuan.matching.models import Profile
from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User

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


async def do_change_photo(data_dir: Path, user: User, data: bytes) -> str:
    """Make `data` (cleaned, see `store_photo`) the member's profile photo; returns its name.

    The file is written before the transaction (decoding takes long, and a SQLite transaction
    holds the only connection): a rollback removes it again. The photo it replaces is removed
    after the commit, so a member who changes a photo has the old one no longer served."""
    if not await Profile.exists(user_id=user.id):
        raise _no_profile()
    name = await store_photo(data_dir, data)
    async with actions.transaction():
        actions.after_rollback(partial(_remove, data_dir, name))
        profile = await Profile.filter(user_id=user.id).select_for_update().first()
        if profile is None:
            raise _no_profile()
        replaced, profile.photo = profile.photo, name
        await profile.save(update_fields=["photo"])
        await audit.record(
            user, AuditAction.PROFILE_PHOTO_CHANGED, target_type="profile", target_id=profile.id
        )
        if replaced:
            actions.after_commit(partial(_remove, data_dir, replaced))
    return name


def _no_profile() -> ValidationFailed:
    return ValidationFailed(fields={"photo": _("Save your profile first.")})


async def _remove(data_dir: Path, name: str) -> None:
    path = photo_path(data_dir, name)
    if path is not None:
        path.unlink(missing_ok=True)


def photo_path(data_dir: Path, name: str) -> Path | None:
    path = data_dir / PHOTO_DIR / Path(name).name
    return path if path.is_file() else None
