"""A month's state equals a clean load of its current files, whatever order versions arrived in
(issue 10, "A corrected file leaves stale flags"): cross-row rules (duplicates, reception order,
unit validity) are recomputed over the month's current sources at every validation.

Everything here is real: generated CSV files in a landing folder, the real loader
(`ingestion/landing/loading.py`) into a real DuckDB file, the real cross-row rules
(`expectations/row_rules.py` through `expectations.month_validation.recompute_cross_row_rules`).
The unit registry the rules read is a small table the test writes (the dbt-built one needs the
reference build; the marts-level property is in test_reruns_marts.py)."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from expectations.month_validation import recompute_cross_row_rules
from expectations.row_rules import cross_row_rule_names, typed_select_sql
from ingestion.core.extract_contract import EXTRACT_KINDS
from ingestion.core.schema import prepare_warehouse
from ingestion.core.warehouse import connect
from ingestion.landing.loading import ingest_landing_month
from tests.extract_rows import csv_text, row

MONTH = "2025-07"
PERIOD = MONTH + "-01"
UNITS = ("01", "79", "BTC")


def unit_registry(con, units=UNITS) -> None:
    """The dbt-built attribution table the unit rule reads, reduced to what the test needs."""
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.execute(
        "CREATE OR REPLACE TABLE intermediate.int_unit_codes_attributed (reported_unit_code VARCHAR, "
        "period_month DATE, unit_code VARCHAR, unit_level VARCHAR, backcast_unit_code VARCHAR)")
    for code in units:
        level = "ministry" if code.isalpha() else "province"
        con.execute("INSERT INTO intermediate.int_unit_codes_attributed VALUES (?, ?, ?, ?, ?)",
                    [code, PERIOD, code, level, code])


def dossier(did: str, unit: str = "01", **fields) -> dict[str, str]:
    values = dict(received_at=f"{MONTH}-03 09:00:00", due_at=f"{MONTH}-10 17:00:00",
                  submitted_at=f"{MONTH}-03 08:00:00", synced_at=f"{MONTH}-03 09:05:00")
    values.update(fields)
    return row("dossiers", dossier_id=did, parent_unit_code=unit, **values)


def status(did: str, at: str = f"{MONTH}-05 10:00:00", code: str = "processed") -> dict[str, str]:
    return row("dossier_status_history", dossier_id=did, status_at=at, status_code=code)


def versions() -> dict[str, list[str]]:
    """Every version of every file the month receives, as CSV text (oldest first)."""
    a_ids = [(f"A.{i}", UNITS[i % 3]) for i in range(12)]
    b_ids = [(f"B.{i}", UNITS[i % 3]) for i in range(8)]
    shared = [dossier(f"X.{i}") for i in range(5)]  # in dossiers_a v1 and in dossiers_b
    b_v1 = csv_text("dossiers", [dossier(d, u) for d, u in b_ids] + [dossier(f"X.{i}", fee_amount="10") for i in range(5)])
    return {
        "dossiers_a.csv": [
            # v1: five ids that dossiers_b also has, a unit code that does not exist, a row rejected
            # by a per-row rule (channel 9) whose id is also in dossiers_b
            csv_text("dossiers", [dossier(d, u) for d, u in a_ids] + shared
                     + [dossier("A.unit", "99"), dossier("B.3", channel="9")]),
            # v2, the corrected file: the shared ids removed, the unit code fixed
            csv_text("dossiers", [dossier(d, u) for d, u in a_ids] + [dossier("A.unit", "79"), dossier("B.3", channel="9")]),
            # v3: a duplicate inside the file (its second row goes) and a new dossier
            csv_text("dossiers", [dossier(d, u) for d, u in a_ids] + [dossier("A.0", "01", fee_amount="7"),
                                                                       dossier("A.12", "BTC")]),
        ],
        "dossiers_b.csv": [
            b_v1,
            csv_text("dossiers", [dossier(d, u) for d, u in b_ids[:-1]] + [dossier(f"X.{i}", fee_amount="10") for i in range(5)]
                     + [dossier("B.8", "BTC")]),
        ],
        # the same bytes as dossiers_b v1 under another name, sorted before it
        "dossiers_a_copy.csv": [b_v1],
        "dossier_status_history_a.csv": [
            # v1: a status of B.2 before its reception (B.2 and the status are rejected), a status
            # of A.unit before its reception
            csv_text("dossier_status_history", [status(d) for d, _ in a_ids + b_ids]
                     + [status("B.2", f"{MONTH}-02 10:00:00", "received"), status("A.unit", f"{MONTH}-01 08:00:00")]),
            csv_text("dossier_status_history", [status(d) for d, _ in a_ids + b_ids]),
        ],
        "procedures_a.csv": [
            csv_text("procedures", [row("procedures", unit_code=u, procedure_code=p)
                                    for u, p in (("01", "1.000001"), ("79", "1.000001"), ("BTC", "2.000002"))]),
        ],
        "procedures_b.csv": [
            csv_text("procedures", [row("procedures", unit_code=u, procedure_code=p)
                                    for u, p in (("01", "1.000001"), ("01", "3.000003"))]),
            csv_text("procedures", [row("procedures", unit_code="01", procedure_code="3.000003")]),
        ],
        "complaints_a.csv": [
            csv_text("complaints", [row("complaints", complaint_id=c, unit_code=u)
                                    for c, u in (("PA1", "01"), ("PA2", "01"), ("PA3", "99"))]),
            csv_text("complaints", [row("complaints", complaint_id=c, unit_code=u)
                                    for c, u in (("PA1", "01"), ("PA2", "01"), ("PA3", "BTC"))]),
        ],
        "complaints_b.csv": [
            csv_text("complaints", [row("complaints", complaint_id=c, unit_code=u, likes="1")
                                    for c, u in (("PA2", "79"), ("PA4", "79"))]),
        ],
    }


def arrivals(seed: int) -> list[list[tuple[str, int]]]:
    """A random arrival order of every version, plus two late redeliveries of an older version
    (so the final version of a file is not always its newest), cut into random batches: the
    files present when each run starts."""
    rng = random.Random(seed)
    items = [(name, i) for name, texts in versions().items() for i in range(len(texts))]
    rng.shuffle(items)
    multi = sorted(name for name, texts in versions().items() if len(texts) > 1)
    for name in rng.sample(multi, 2):
        items.insert(rng.randrange(len(items) + 1), (name, 0))
    batches, start = [], 0
    while start < len(items):
        size = rng.randint(1, 3)
        batches.append(items[start:start + size])
        start += size
    return batches


def final_set(batches: list[list[tuple[str, int]]]) -> dict[str, int]:
    final: dict[str, int] = {}
    for batch in batches:
        for name, version in batch:
            final[name] = version
    return final


def run_month(con, folder: Path) -> dict[str, int]:
    """One run of the month: load what is in the landing folder, then the cross-row rules."""
    ingest_landing_month(con, MONTH)
    return recompute_cross_row_rules(con, PERIOD)


def month_state(con) -> dict[str, list[tuple]]:
    """Everything the loads and the rules decided about the month, with nothing that depends on
    where or when a file arrived (its path, its load time)."""
    state = {}
    for kind in EXTRACT_KINDS.values():
        keys = ", ".join(kind.key)
        state[kind.name] = con.execute(
            f"SELECT source_id, source_row, {keys}, rejection_rule, rejection_reason, raw_record "
            f"FROM raw.{kind.name} WHERE period_month = ? ORDER BY ALL", [PERIOD]).fetchall()
    state["sources"] = con.execute(
        "SELECT source_id, extract_kind, sha256, size_bytes, row_count, rejected_count FROM raw.ingested_sources "
        "WHERE period_month = ? AND superseded_at IS NULL ORDER BY ALL", [PERIOD]).fetchall()
    return state


@pytest.fixture
def month(data_root, monkeypatch):
    """A landing folder and a warehouse of their own; `deliver` puts versions in the folder."""
    texts = versions()

    class Month:
        def __init__(self, root: Path):
            self.root = root
            self.landing = root / "landing"
            self.folder = self.landing / MONTH
            self.folder.mkdir(parents=True, exist_ok=True)
            self.warehouse = root / "warehouse" / "dxmon.duckdb"
            self.warehouse.parent.mkdir(parents=True, exist_ok=True)
            with connect(self.warehouse) as con:
                prepare_warehouse(con)
                unit_registry(con)

        def deliver(self, name: str, version: int) -> None:
            (self.folder / name).write_text(texts[name][version], encoding="utf-8")

        def run(self) -> dict[str, int]:
            monkeypatch.setenv("DXMON_LANDING_DIR", str(self.landing))
            with connect(self.warehouse) as con:
                return run_month(con, self.folder)

        def state(self) -> dict[str, list[tuple]]:
            with connect(self.warehouse, read_only=True) as con:
                return month_state(con)

    def make(name: str) -> Month:
        return Month(data_root / name)

    return make


def clean_load(month, final: dict[str, int]):
    clean = month("clean")
    for name, version in final.items():
        clean.deliver(name, version)
    clean.run()
    return clean


def test_cross_row_rule_names_are_never_per_row_rule_names():
    """Clearing a month's cross-row rejections must never clear a per-row one: the names differ
    in every kind (read from the SQL the loader runs, so a new per-row rule is covered)."""
    for kind in EXTRACT_KINDS.values():
        sql = typed_select_sql(kind, "SELECT 1", {}, PERIOD)
        per_row = set(re.findall(r"THEN '([a-z_]+)'", sql))
        assert {"missing_required_field", "invalid_value"} <= per_row
        assert per_row.isdisjoint(cross_row_rule_names(kind)), kind.name


def test_a_corrected_file_leaves_no_stale_flags(month):
    """dossiers_a v1 shares five ids with dossiers_b and names a unit that does not exist;
    v2 corrects both. After v2 the five dossiers of dossiers_b are accepted again (before the
    fix they stayed rejected as duplicates of rows that no longer exist), the corrected unit is
    accepted, the row rejected by a per-row rule keeps its rule, and the state equals a clean
    load of the final files. A rerun of the unchanged month changes nothing."""
    m = month("incremental")
    m.deliver("dossiers_b.csv", 0)
    m.deliver("dossiers_a.csv", 0)
    m.deliver("dossier_status_history_a.csv", 1)
    m.run()
    with connect(m.warehouse, read_only=True) as con:
        dup_sources = con.execute(
            "SELECT DISTINCT s.original_location FROM raw.dossiers d JOIN raw.ingested_sources s USING (source_id) "
            "WHERE d.rejection_rule = 'duplicate_key' AND d.dossier_id LIKE 'X.%'").fetchall()
        # the first occurrence by source id (file:<month>:<kind>:<sha256 prefix>) is kept: the
        # other file's five rows are the duplicates (which file that is follows the contents' hashes)
        later = con.execute(
            "SELECT original_location FROM raw.ingested_sources WHERE extract_kind = 'dossiers' "
            "ORDER BY source_id DESC LIMIT 1").fetchone()
        assert dup_sources == [later]
        assert later[0] in (str(m.folder / "dossiers_a.csv"), str(m.folder / "dossiers_b.csv"))
        assert con.execute("SELECT rejection_rule FROM raw.dossiers WHERE dossier_id = 'A.unit'").fetchone() == (
            "unit_not_valid_in_period",)

    m.deliver("dossiers_a.csv", 1)  # the corrected file, same name
    rejections = m.run()
    with connect(m.warehouse, read_only=True) as con:
        rules = dict(con.execute(
            "SELECT dossier_id || '@' || source_id, rejection_rule FROM raw.dossiers WHERE rejection_rule IS NOT NULL"
        ).fetchall())
        accepted_x = con.execute("SELECT count(*) FROM raw.dossiers WHERE dossier_id LIKE 'X.%' AND rejection_rule IS NULL"
                                 ).fetchone()[0]
        unit = con.execute("SELECT rejection_rule FROM raw.dossiers WHERE dossier_id = 'A.unit'").fetchone()
        counts = dict(con.execute(
            "SELECT original_location, rejected_count FROM raw.ingested_sources WHERE superseded_at IS NULL "
            "AND extract_kind = 'dossiers'").fetchall())
    assert accepted_x == 5  # the good dossiers of dossiers_b flow again
    assert unit == (None,)
    # the per-row rejection stays; its id is also in dossiers_b, whose row is not a duplicate of it
    assert sorted(rules.values()) == ["value_not_allowed"]
    assert rejections["dossiers.duplicate_key"] == 0 and rejections["dossiers.unit_not_valid_in_period"] == 0
    assert counts == {str(m.folder / "dossiers_a.csv"): 1, str(m.folder / "dossiers_b.csv"): 0}

    final = {"dossiers_b.csv": 0, "dossiers_a.csv": 1, "dossier_status_history_a.csv": 1}
    assert m.state() == clean_load(month, final).state()

    before = m.state()
    assert m.run() == rejections  # a rerun of the unchanged month: the same rejections, nothing changed
    assert m.state() == before


def test_a_corrected_status_file_releases_the_dossier(month):
    """A status earlier than the reception rejects the dossier (in another file) and the status;
    the corrected status file releases the dossier."""
    m = month("incremental")
    m.deliver("dossiers_b.csv", 0)
    m.deliver("dossier_status_history_a.csv", 0)
    assert m.run()["dossiers.completed_before_received"] == 1
    m.deliver("dossier_status_history_a.csv", 1)
    assert m.run()["dossiers.completed_before_received"] == 0
    with connect(m.warehouse, read_only=True) as con:
        assert con.execute("SELECT rejection_rule FROM raw.dossiers WHERE dossier_id = 'B.2'").fetchone() == (None,)
    assert m.state() == clean_load(month, {"dossiers_b.csv": 0, "dossier_status_history_a.csv": 1}).state()


# One seed in the fast tier (each run loads every changed file: about a second per dossier file on
# a busy 2-core machine, some 18 s per seed); nine more in the slow tier.
@pytest.mark.parametrize("seed", [1] + [pytest.param(seed, marks=pytest.mark.slow) for seed in range(2, 11)])
def test_any_arrival_order_gives_the_state_of_a_clean_load(month, seed):
    """Property: versions of the month's files (replacements, a corrected file, an older version
    redelivered late, duplicates across files, the same bytes under two names) arriving in a
    random order, a run after each random batch, leave the raw tables (accepted and rejected
    rows, with rule, reason and record) and the registry of current sources identical to a
    clean load of the final set of files. A rerun is a no-op."""
    batches = arrivals(seed)
    m = month("incremental")
    for batch in batches:
        for name, version in batch:
            m.deliver(name, version)
        m.run()
    final = final_set(batches)
    clean = clean_load(month, final)
    expected = clean.state()
    got = m.state()
    for table in expected:
        assert got[table] == expected[table], f"{table} differs from a clean load (seed {seed}, arrivals {batches})"
    assert sum(r[4] is not None for r in expected["dossiers"]) > 0  # the property is not vacuous
    m.run()
    assert m.state() == got
    shutil.rmtree(clean.root)
