"""The arrival-order property at the level of the published marts (issue 10, "A corrected file
leaves stale flags ... the scores differ from a clean load"): versions of a month's files arriving
in a random order, each batch loaded and cross-checked as a run would, then the month's run of the
real `dxmon run` command, publish the same marts (to the bit) as a clean load of the final files.

The month's files are the demo generator's, cut into versions: the dossiers in two files, the
first of which comes first with five dossiers of the second (a mistaken resend, a duplicate
across files) and then corrected. The raw-level property with more seeds, kinds and versions is
in test_reruns_cross_row.py (fast tier); this one needs a dbt build per state."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import random
import shutil
from pathlib import Path

import duckdb
import pytest

from demo.extracts import generate_demo
from tests.reliability.test_reruns_kill import assert_same, published_digest, raw_digest, run

pytestmark = pytest.mark.slow  # a real `dxmon run` (load, GX, dbt build, publication) per state

MONTH = "2025-06"
PERIOD = MONTH + "-01"
# Published columns that measure the history of the inputs, not the month's data: a clean load of
# the final files has no replaced version (rpt_agency_quality_scorecard.resubmissions counts them).
HISTORY = {"rpt_agency_quality_scorecard": frozenset({"resubmissions"})}


def resubmissions(root: Path) -> int:
    with duckdb.connect(str(root / "published" / "dxmon_published.duckdb"), read_only=True) as con:
        return con.execute("SELECT max(resubmissions) FROM rpt_agency_quality_scorecard").fetchone()[0]


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, list(reader)


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def source_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]  # what orders a file's rows among the month's


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> tuple[dict[str, list[bytes]], list[str]]:
    """name -> every version's bytes, oldest first; and the ids of the five resent dossiers."""
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out, [MONTH], rows_per_month=3000, seed=11, file_months=[MONTH], api_months=[],
                  file_format="csv.gz")
    folder = out / "landing" / MONTH
    header, dossiers = read_rows(folder / f"dossiers_{MONTH}.csv.gz")
    half = len(dossiers) // 2
    part1, part2 = dossiers[:half], dossiers[half:]
    part2_bytes = csv_bytes(header, part2)
    # dossiers_part1 v1 carries five dossiers of dossiers_part2; it must sort first (by source id)
    # so that part2's rows are the ones flagged as duplicates: the flags a correction must lift
    for shift in range(64):
        resend = part2[shift:shift + 5]
        part1_v1 = csv_bytes(header, part1 + resend)
        if source_key(part1_v1) < source_key(part2_bytes):
            break
    else:
        pytest.fail("no resend sorts before dossiers_part2")
    texts = {
        "dossiers_part1.csv": [part1_v1, csv_bytes(header, part1)],
        "dossiers_part2.csv": [part2_bytes],
    }
    for path in sorted(folder.iterdir()):
        if not path.name.startswith("dossiers_"):
            texts[path.name] = [path.read_bytes()]
    return texts, [r[header.index("dossier_id")] for r in resend]


def arrivals(seed: int, texts: dict[str, list[bytes]]) -> list[list[tuple[str, int]]]:
    """A random order of every version (a file's versions in order, dossiers_part2 before the
    correction of dossiers_part1, so that the stale flags would exist), cut into random batches."""
    rng = random.Random(seed)
    while True:
        items = [(name, i) for name, versions in texts.items() for i in range(len(versions))]
        rng.shuffle(items)
        order = {item: n for n, item in enumerate(items)}
        in_order = all(order[(name, i)] < order[(name, i + 1)] for name, v in texts.items() for i in range(len(v) - 1))
        if not in_order or order[("dossiers_part2.csv", 0)] > order[("dossiers_part1.csv", 1)]:
            continue
        batches, start = [], 0
        while start < len(items):
            size = rng.randint(1, 3)
            batches.append(items[start:start + size])
            start += size
        batch_of = {item: n for n, batch in enumerate(batches) for item in batch}
        if batch_of[("dossiers_part2.csv", 0)] < batch_of[("dossiers_part1.csv", 1)]:
            return batches


def new_root(base: Path, name: str, reference_warehouse: Path) -> Path:
    root = base / name
    (root / "warehouse").mkdir(parents=True)
    (root / "landing" / MONTH).mkdir(parents=True)
    shutil.copy2(reference_warehouse, root / "warehouse" / "dxmon.duckdb")
    return root


def deliver(root: Path, texts: dict[str, list[bytes]], name: str, version: int) -> None:
    (root / "landing" / MONTH / name).write_bytes(texts[name][version])


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("orders")


@pytest.fixture(scope="module")
def clean(base, versions, reference_warehouse, definitions) -> dict:
    """The final files, loaded at once by one `dxmon run`."""
    texts, _ = versions
    root = new_root(base, "clean", reference_warehouse)
    for name, file_versions in texts.items():
        deliver(root, texts, name, len(file_versions) - 1)
    run(root)
    return {"root": root, "published": published_digest(root, HISTORY), "raw": raw_digest(root, current_only=True)}


@pytest.mark.parametrize("seed", [7, 8])
def test_random_arrival_order_publishes_the_marts_of_a_clean_load(base, versions, reference_warehouse, clean, seed,
                                                                  monkeypatch):
    from expectations.month_validation import recompute_cross_row_rules
    from ingestion.core.warehouse import connect
    from ingestion.landing.loading import ingest_landing_month

    texts, resend_ids = versions
    root = new_root(base, f"seed-{seed}", reference_warehouse)
    monkeypatch.setenv("DXMON_DATA_DIR", str(root))
    monkeypatch.setenv("DXMON_WAREHOUSE", str(root / "warehouse" / "dxmon.duckdb"))
    monkeypatch.delenv("DXMON_LANDING_DIR", raising=False)
    resend_source = f"file:{MONTH}:dossiers:{source_key(texts['dossiers_part1.csv'][0])}"
    flagged, corrected = [], False
    for batch in arrivals(seed, texts):
        for name, version in batch:
            deliver(root, texts, name, version)
            corrected |= (name, version) == ("dossiers_part1.csv", 1)
        with connect() as con:  # what a run does with the month before its dbt build
            ingest_landing_month(con, MONTH)
            recompute_cross_row_rules(con, PERIOD)
            # (the demo plants duplicates of its own: only the resent dossiers count here)
            flagged.append((corrected, con.execute(
                "SELECT count(*) FROM raw.dossiers WHERE rejection_rule = 'duplicate_key' "
                "AND rejection_reason LIKE '%first seen in ' || ? || ' row %' AND dossier_id IN (SELECT unnest(?))",
                [resend_source, resend_ids]).fetchone()[0]))
    # dossiers_part2's five rows were flagged against the resend, and freed by its correction
    assert max(n for was_corrected, n in flagged if not was_corrected) == 5
    assert flagged[-1] == (True, 0)
    run(root)  # the month's run: nothing new to load, validation, dbt build, publication
    with duckdb.connect(str(root / "warehouse" / "dxmon.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.dossiers WHERE rejection_reason LIKE '%' || ? || '%'",
                           [resend_source]).fetchone()[0] == 0
    assert_same(raw_digest(root, current_only=True), clean["raw"])
    assert_same(published_digest(root, HISTORY), clean["published"])
    # the one published value that differs, by definition: the replaced version counts
    assert resubmissions(root) == 1 and resubmissions(clean["root"]) == 0
