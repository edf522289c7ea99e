"""Files of the data directory: readable by the service's own user only.

The data directory holds the SQLite database, generated keys, demo logins and the mock
registry (names and ID numbers), so it is created 0700 and those files 0600, whatever the
umask; a directory or file left 0755/0644 by an older version is tightened when next used.
"""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    path.chmod(DIRECTORY_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing; either way only its owner may read it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    path.chmod(FILE_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8), never readable by others, not even briefly, and
    never half-written: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "w") as out:
        out.write(text)
    os.replace(partial, path)
