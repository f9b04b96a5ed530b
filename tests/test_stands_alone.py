"""The project stands on its own: no file of the repository cites a document outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the names of the outside documents the project once cited, and any path leaving the repository
OUTSIDE = re.compile(r"\b(STACK|DOMAIN|TRACKING|STYLE)\.md\b|\.\./shared/|\bshared/(research|reference)/")


def test_no_file_cites_a_document_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert len(files) > 100
    cited = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".parquet", ".gz", ".xlsx", ".duckdb", ".png"} or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line) and name != "tests/test_stands_alone.py":
                cited.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not cited, "cites outside the repository (copy the facts into docs/):\n" + "\n".join(cited)
