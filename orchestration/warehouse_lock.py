"""One writer at a time, refused cleanly: an advisory lock file beside the warehouse.

DuckDB lets one process open a database file for writing; a second one gets a raw
`IOException: Could not set lock on file` in the middle of its work. Every entry point that
writes the warehouse (each `dxmon` command that opens it, and the Dagster `WarehouseResource`
for the whole of a run, also a run launched by the daemon) first takes this lock:

    <warehouse>.lock            e.g. data/warehouse/dxmon.duckdb.lock

* **Writers** take it exclusively (`fcntl.flock`, `LOCK_EX`) and write who they are into it as
  JSON: the Dagster run id once known, the command, the PID, the host and the start time. A
  second writer is refused at once with `WarehouseBusy`, whose message names the holder; the CLI
  exits with `EXIT_BUSY` = 75 (`EX_TEMPFAIL` of sysexits.h: try again later).
* **Readers of the live warehouse** (`dxmon explain`, `dxmon audit-pack`, the sensors) take it
  shared (`LOCK_SH`): they are refused while a writer holds it (DuckDB would refuse their
  read-only open anyway), and a writer waits for them up to `DXMON_LOCK_WAIT_SECONDS`
  (default 30) before it is refused in turn. Readers of the published copy
  (`data/published/`) never take it: publication swaps whole files (publication/publish.py).
* **A stale lock is taken over.** The kernel drops a `flock` when its process dies, even on
  `kill -9`, so a dead holder never blocks anybody; its JSON stays behind, and the next writer
  reports that it takes over the lock of that run and PID (no longer running).
* **Re-entrant within a process.** The CLI takes the lock before it runs a Dagster job in
  process; the job's resource then finds it held by this process and only records the run id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.core.warehouse import warehouse_path

log = logging.getLogger(__name__)

EXIT_BUSY = 75  # EX_TEMPFAIL: the warehouse is held by another writer; try again when it ends
WRITE, READ = "write", "read"
DEFAULT_WAIT_SECONDS = 30.0  # how long a writer waits for readers (never for another writer)


def lock_path(warehouse: Path | None = None) -> Path:
    warehouse = Path(warehouse) if warehouse else warehouse_path()
    return warehouse.with_name(warehouse.name + ".lock")


def wait_seconds() -> float:
    raw = os.environ.get("DXMON_LOCK_WAIT_SECONDS", "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_WAIT_SECONDS
    except ValueError:
        raise ValueError(f"DXMON_LOCK_WAIT_SECONDS={raw!r}: not a number of seconds") from None


class WarehouseBusy(RuntimeError):
    """The warehouse is held by another writer (or, for a writer, read for too long). The message
    starts with the cause and names the holder."""

    def __init__(self, warehouse: Path, holder: dict | None, mode: str, waited: float = 0.0):
        self.warehouse = Path(warehouse)
        self.holder = holder or {}
        self.mode = mode
        if holder:
            cause = (f"warehouse busy: another writer holds {warehouse} "
                     f"({describe_holder(holder)}); ")
        else:
            cause = (f"warehouse busy: {warehouse} is being read by another process (dxmon explain, "
                     f"an audit pack or a sensor) and was not released within {waited:.0f} s; ")
        super().__init__(cause + ("try again when it ends" if mode == WRITE
                                  else "read it again when the run ends, or read the published copy"))


def describe_holder(holder: dict) -> str:
    parts = [f"run {holder['run_id']}" if holder.get("run_id") else "run id not known yet",
             f"command {holder.get('command') or 'unknown'!r}",
             f"PID {holder.get('pid')}" + (f" on {holder['host']}" if holder.get("host") else ""),
             f"started {holder.get('started_at') or 'unknown'}"]
    return ", ".join(parts)


def pid_alive(pid, host: str | None = None) -> bool:
    """Whether the holder process still runs (a holder on another host is assumed alive)."""
    if host and host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def read_holder(path: Path) -> dict | None:
    """Who holds (or last held) the lock, from its file; None when empty or unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        holder = json.loads(text)
    except ValueError:
        return None
    return holder if isinstance(holder, dict) else None


@dataclass
class _Holding:
    fd: int
    mode: str
    count: int = 1
    info: dict = field(default_factory=dict)


_held: dict[str, _Holding] = {}
_registry = threading.RLock()


def _write_info(fd: int, info: dict) -> None:
    data = (json.dumps(info, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def holds(warehouse: Path | None = None) -> str | None:
    """The mode in which this process holds the lock of `warehouse`, or None."""
    with _registry:
        held = _held.get(str(lock_path(warehouse)))
        return held.mode if held else None


def record_run(run_id: str, warehouse: Path | None = None) -> None:
    """Name the Dagster run that now writes under this process's write lock."""
    with _registry:
        held = _held.get(str(lock_path(warehouse)))
        if held and held.mode == WRITE and run_id and held.info.get("run_id") != run_id:
            held.info["run_id"] = run_id
            _write_info(held.fd, held.info)


@contextlib.contextmanager
def warehouse_lock(mode: str = WRITE, *, warehouse: Path | None = None, command: str | None = None,
                   run_id: str | None = None, wait: float | None = None) -> Iterator[dict]:
    """Hold the warehouse's lock in `mode` (WRITE or READ) for the block; raises WarehouseBusy.

    Re-entrant in one process (a nested WRITE inside a READ is refused: take WRITE first)."""
    if mode not in (WRITE, READ):
        raise ValueError(f"lock mode {mode!r}: expected {WRITE!r} or {READ!r}")
    warehouse = Path(warehouse) if warehouse else warehouse_path()
    path = lock_path(warehouse)
    key = str(path)
    with _registry:
        held = _held.get(key)
        if held is not None:
            if mode == WRITE and held.mode == READ:
                raise RuntimeError(f"{path}: this process holds the warehouse for reading; take the write lock first")
            held.count += 1
            if run_id:
                record_run(run_id, warehouse)
        else:
            held = _acquire(path, warehouse, mode, command, run_id, wait_seconds() if wait is None else wait)
            _held[key] = held
    try:
        yield dict(held.info)
    finally:
        with _registry:
            held.count -= 1
            if held.count == 0:
                del _held[key]
                _release(held)


def _acquire(path: Path, warehouse: Path, mode: str, command: str | None, run_id: str | None,
             wait: float) -> _Holding:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RuntimeError(f"lock file refused, it is a symbolic link: {path}") from None
        raise
    operation = fcntl.LOCK_EX if mode == WRITE else fcntl.LOCK_SH
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = read_holder(path)
            writer = holder if holder and pid_alive(holder.get("pid"), holder.get("host")) else None
            waited = time.monotonic() - started
            # a writer is never waited for; readers (no live writer named) are, for a while
            if mode == READ or writer is not None or waited >= wait:
                os.close(fd)
                raise WarehouseBusy(warehouse, writer, mode, waited) from None
            time.sleep(min(0.2, max(0.01, wait - waited)))
    info: dict = {}
    if mode == WRITE:
        previous = read_holder(path)
        if previous and previous.get("pid") != os.getpid():
            message = (f"stale warehouse lock taken over: {describe_holder(previous)} is no longer running "
                       f"(its lock was released by the system); check that run's outcome")
            log.warning(message)
            print(f"dxmon: {message}", file=sys.stderr)
        info = {"run_id": run_id, "command": command or " ".join(sys.argv)[:300], "pid": os.getpid(),
                "host": socket.gethostname(), "started_at": dt.datetime.now().isoformat(timespec="seconds"),
                "warehouse": str(warehouse)}
        _write_info(fd, info)
    return _Holding(fd, mode, 1, info)


def _release(held: _Holding) -> None:
    try:
        if held.mode == WRITE:
            os.ftruncate(held.fd, 0)  # released cleanly: nobody to take over from
        fcntl.flock(held.fd, fcntl.LOCK_UN)
    finally:
        os.close(held.fd)
