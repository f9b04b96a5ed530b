"""File helpers every input kind shares."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingestion.core.input_files import open_regular

CHUNK = 1 << 20


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (the id of every input and archive object)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sha256_of_regular(path: str | Path) -> str:
    """`sha256_of` for an input: the file is opened without following a link (`open_regular`, which
    raises `InputRejected` for a link or a special file), so what is hashed is the file itself."""
    digest = hashlib.sha256()
    with open_regular(Path(path)) as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()
