"""What every input reader shares before it reads a byte: which files are inputs at all, how large
and how deep they may be, and the one exception that turns a bad file into a quarantine reason.

* **Inputs are regular files inside their folder.** A symbolic link, a FIFO, a device or a socket in
  a landing month or an agency's inbox is never followed, read, copied, moved or archived: it is
  reported as a rejected input (`InputRejected`, rule `not_a_regular_file` or `outside_folder`) and
  nothing outside the folder is touched. Files are opened with `O_NOFOLLOW`, so a file swapped for a
  link between the check and the read is refused too.
* **File names are literal.** Readers never hand a user's file name to anything that expands
  patterns (DuckDB's `read_csv('…*…')` is a glob): they read the content-addressed copy in the raw
  archive, whose name is a sha256, or a file object.
* **Every reader is bounded** (`InputLimits`): uncompressed size, compression ratio, rows, cells,
  field and line length. Each breach is its own rule, reported within seconds, before the reader
  holds more than a bounded amount of memory. The defaults suit the largest real extracts (a
  national month is ~10 M dossiers, ~3 GB of CSV); each is configurable by an environment variable
  (`DXMON_LIMIT_<NAME>`, e.g. `DXMON_LIMIT_MAX_UNCOMPRESSED_BYTES`), documented in
  docs/reliability.md.
* **Reasons say the cause first.** `InputRejected.reason` starts with fixed text written here or by
  the reader (never with a file name, a cell or a server's message, which the sender controls) and
  names the file, row and field after it.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class InputRejected(Exception):
    """An input that is refused as a whole. `rule` is a short machine name (the quarantine's rule);
    `reason` is the message for people, starting with the cause."""

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True)
class InputLimits:
    """Bounds every reader enforces. Sizes in bytes; 0 disables a limit (documented, never default)."""

    max_file_bytes: int = 8 << 30  # a stored file, compressed or not
    max_uncompressed_bytes: int = 16 << 30  # what a gzip stream or an XLSX package expands to
    max_compression_ratio: int = 200  # uncompressed / compressed; CSV compresses ~10x, bombs ~1000x
    max_rows: int = 50_000_000  # data rows in one file
    max_cells: int = 2_000_000  # cells in one agency report (a DTI report has ~100 rows x 8)
    max_report_rows: int = 100_000  # rows in one agency report sheet
    max_field_bytes: int = 64 << 10  # one CSV field or cell
    max_line_bytes: int = 1 << 20  # one CSV line
    max_page_bytes: int = 64 << 20  # one portal API page body
    max_page_items: int = 100_000  # items in one portal API page
    # an agency report's bytes: a CSV as stored, an XLSX unpacked (a DTI report is < 1 MB; the
    # XLSX reader holds its shared strings in memory, so this bounds the reader's memory)
    max_report_bytes: int = 128 << 20

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> InputLimits:
        environ = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f"DXMON_LIMIT_{f.name.upper()}")
            if raw is None or raw.strip() == "":
                continue
            try:
                values[f.name] = int(raw.replace("_", ""))
            except ValueError:
                raise ValueError(f"DXMON_LIMIT_{f.name.upper()}={raw!r}: not a whole number") from None
            if values[f.name] < 0:
                raise ValueError(f"DXMON_LIMIT_{f.name.upper()}={raw!r}: must be 0 (no limit) or more")
        return cls(**values)


def input_limits() -> InputLimits:
    """The limits in force (environment read each time, so a test or a run can set its own)."""
    return InputLimits.from_environment()


def exceeds(value: int, limit: int) -> bool:
    return limit > 0 and value > limit


# --------------------------------------------------------------------------------------------
# Regular files inside their folder

def regular_file_problem(path: Path, folder: Path) -> InputRejected | None:
    """Why `path` is not an input of `folder` (a symlink, a special file, a path leading outside),
    or None for a regular file inside it. Nothing is followed: the check uses lstat."""
    folder = Path(folder).resolve()
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return InputRejected("file_disappeared", f"file disappeared before it could be read: {path}")
    if stat.S_ISLNK(info.st_mode):
        return InputRejected(
            "not_a_regular_file",
            f"symbolic link refused (inputs must be regular files inside their folder; the link is "
            f"not followed): {path}")
    if not stat.S_ISREG(info.st_mode):
        kind = ("directory" if stat.S_ISDIR(info.st_mode) else "FIFO" if stat.S_ISFIFO(info.st_mode)
                else "socket" if stat.S_ISSOCK(info.st_mode) else "device or special file")
        return InputRejected("not_a_regular_file", f"{kind} refused (inputs must be regular files): {path}")
    parent = Path(path).parent.resolve()
    if parent != folder and folder not in parent.parents:
        return InputRejected("outside_folder", f"file outside its input folder {folder} refused: {path}")
    return None


def scan_folder(folder: Path, recursive: bool = False) -> tuple[list[Path], list[tuple[Path, InputRejected]]]:
    """The regular files of `folder` (sorted by name) and the entries refused, with why.

    Hidden entries (a leading dot) and Excel lock files (`~$…`) are ignored, as editors and sync
    tools leave them. A symlinked sub-folder is refused, never entered."""
    folder = Path(folder)
    good: list[Path] = []
    refused: list[tuple[Path, InputRejected]] = []
    if not folder.is_dir() or folder.is_symlink():
        return good, refused
    for entry in sorted(_walk(folder, recursive), key=str):
        if entry.name.startswith((".", "~$")):
            continue
        if recursive and entry.is_dir() and not entry.is_symlink():
            continue
        problem = regular_file_problem(entry, folder)
        if problem is None:
            good.append(entry)
        else:
            refused.append((entry, problem))
    return good, refused


def _walk(folder: Path, recursive: bool) -> Iterator[Path]:
    for entry in folder.iterdir():
        yield entry
        if recursive and entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("."):
            yield from _walk(entry, recursive)


def open_regular(path: Path):
    """Open a file for binary reading without following a symbolic link (O_NOFOLLOW): a file swapped
    for a link after it was listed is refused, not read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputRejected("not_a_regular_file",
                            f"cannot open as a regular file ({exc.strerror}): {path}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputRejected("not_a_regular_file", f"not a regular file: {path}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")



def copy_regular(source: Path, target: Path, chunk: int = 1 << 20) -> int:
    """Copy the regular file `source` to `target` without following a link (`open_regular`): what is
    copied is the file that was given, never what a link points to. Returns the bytes copied."""
    copied = 0
    with open_regular(source) as src, open(target, "wb") as dst:
        while block := src.read(chunk):
            dst.write(block)
            copied += len(block)
    return copied


def limit_rule(limit_name: str) -> str:
    """The quarantine rule of a breached limit: `max_line_bytes` -> `limit_exceeded_line_bytes`."""
    return "limit_exceeded_" + limit_name.removeprefix("max_")


def limit_rejected(limit_name: str, value: int, limit: int, what: str, where: str) -> InputRejected:
    """The rejection of a breached limit; the reason starts with the fixed text of the limit, then
    says where (file, line, field) and how to change the limit."""
    return InputRejected(
        limit_rule(limit_name),
        f"{what} exceeds the limit ({value} > {limit}; DXMON_LIMIT_{limit_name.upper()}): {where}")
