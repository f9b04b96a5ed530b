"""Helpers of the process corpus: a real second process that holds the warehouse lock, and the
check that no cell of a written CSV or XLSX can run as a formula."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from publication.spreadsheet_cells import LEADERS

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from orchestration.warehouse_lock import warehouse_lock
mode, run_id, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
with warehouse_lock(mode, command="dxmon run --month 2025-07", run_id=run_id or None):
    print("holding", flush=True)
    time.sleep(seconds)
"""


def hold_lock(mode: str = "write", run_id: str = "run-held-by-test", seconds: float = 60.0) -> subprocess.Popen:
    """A real process holding the warehouse lock of the environment's DXMON_WAREHOUSE."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, mode, run_id, str(seconds)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    line = proc.stdout.readline()
    assert line.strip() == "holding", proc.stderr.read()
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formula_like_cells(folder: Path) -> list[str]:
    """Every cell of every CSV and XLSX under `folder` that a spreadsheet could run: text starting
    with a leader (numbers excepted), or an XLSX formula cell or a leader text without quote prefix."""
    found = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                for n, row in enumerate(csv.reader(fh), 1):
                    found += [f"{path.name}:{n}: {c!r}" for c in row if c.startswith(LEADERS) and not is_number(c)]
        elif path.suffix == ".xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(path)
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    for c in row:
                        if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith(LEADERS)
                                                  and not c.quotePrefix):
                            found.append(f"{path.name}:{ws.title}!{c.coordinate}: {c.value!r}")
    return found


def wait_until(predicate, timeout: float = 30.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
