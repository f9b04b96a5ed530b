"""The publication gate's rule has one definition (GATE_BASIS_SQL): publication runs it over
every period's status and latest override (GATE_SQL), explain and the audit packs through
gate_basis() on one period's values. Both paths agree on every case."""

from __future__ import annotations

import itertools

import duckdb

from publication.publish import GATE_SQL, gate_basis

# is_publishable (None: never validated), blocking_failures, the latest override's checks (None: none)
CASES = list(itertools.product([True, False, None], [None, "", "dossiers_volume: failed"],
                               [None, "", "dossiers_volume: failed", "complaints_rows: failed"]))


def expected_basis(is_publishable, failures, override) -> str:
    """The rule written out (docs/audit.md, section 4)."""
    if is_publishable is None:
        return "withheld"
    if is_publishable:
        return "checks_passed"
    return "override" if override is not None and override == (failures or "") else "withheld"


def test_gate_sql_over_tables_and_gate_basis_on_values_agree_on_every_case():
    con = duckdb.connect()
    con.execute("CREATE TABLE status (period INTEGER, is_publishable BOOLEAN, blocking_failures VARCHAR)")
    con.execute("CREATE TABLE latest_override (period INTEGER, override_id VARCHAR, overridden_checks VARCHAR)")
    for i, (publishable, failures, override) in enumerate(CASES):
        con.execute("INSERT INTO status VALUES (?, ?, ?)", [i, publishable, failures])
        if override is not None:
            con.execute("INSERT INTO latest_override VALUES (?, ?, ?)", [i, f"ovr-{i}", override])
    by_period = {r[0]: r[1:] for r in con.execute(
        f"SELECT s.period, {GATE_SQL} FROM status s LEFT JOIN latest_override o USING (period)").fetchall()}
    assert len(by_period) == len(CASES) == 36
    for i, case in enumerate(CASES):
        basis, stale = by_period[i]
        assert basis == gate_basis(*case) == gate_basis(*case, con=con) == expected_basis(*case), case
        publishable, failures, override = case
        is_stale = override is not None and not publishable and override != (failures or "")
        assert stale == (f"ovr-{i}" if is_stale else None), case


def test_a_period_never_validated_is_withheld_even_with_an_override():
    assert gate_basis(None, None, "") == "withheld"
    assert gate_basis(False, None, "") == "override"  # failed, with no failure text: an override of '' covers it


def test_the_warehouse_view_of_every_gated_index_applies_the_same_rule():
    """meta.publication_gate (what the KPI models read before publication) gives each validated
    period of the service index, the DTI and the KPI reports the basis gate_basis() gives; an
    override of another index or period covers nothing."""
    import datetime as dt

    from ingestion.core.schema import prepare_warehouse

    con = duckdb.connect()
    prepare_warehouse(con)
    now = dt.datetime(2026, 1, 1)
    expected = {}
    for i, (publishable, failures, override) in enumerate(c for c in CASES if c[0] is not None):
        month, year, quarter = dt.date(2001 + i // 12, i % 12 + 1, 1), 1990 + i, (2030 + i, i % 4 + 1)
        kpi_period, kpi_start = f"{quarter[0]}-Q{quarter[1]}", dt.date(quarter[0], 3 * quarter[1] - 2, 1)
        con.execute("INSERT INTO meta.period_status VALUES (?, ?, ?, ?, 'r')", [month, publishable, failures, now])
        con.execute("INSERT INTO meta.dti_year_status VALUES (?, ?, ?, ?, 'r')", [year, publishable, failures, now])
        con.execute("INSERT INTO meta.kpi_period_status VALUES (?, ?, ?, ?, ?, 'r')",
                    [kpi_period, kpi_start, publishable, failures, now])
        for index, key, start in (("service_index", month.strftime("%Y-%m"), month),
                                  ("dti", str(year), dt.date(year, 1, 1)), ("kpi_reports", kpi_period, kpi_start)):
            if override is not None:
                con.execute("INSERT INTO meta.publication_overrides (override_id, index_name, period_month, "
                            "overridden_checks, reason, overridden_by, overridden_at) VALUES (?, ?, ?, ?, 'r', 'u', ?)",
                            [f"ovr-{index}-{i}", index, start, override, now])
            expected[(index, key)] = gate_basis(publishable, failures, override)
    # an override of the KPI reports' period does not open the service index's month that starts the same day
    con.execute("INSERT INTO meta.period_status VALUES ('2030-01-01', false, 'x: failed', ?, 'r')", [now])
    con.execute("INSERT INTO meta.publication_overrides (override_id, index_name, period_month, overridden_checks, "
                "reason, overridden_by, overridden_at) VALUES ('ovr-x', 'kpi_reports', '2030-01-01', 'x: failed', "
                "'r', 'u', ?)", [now + dt.timedelta(days=1)])
    expected[("service_index", "2030-01")] = "withheld"
    got = {(r[0], r[1]): r[2] for r in con.execute(
        "SELECT index_name, period_key, publication_basis FROM meta.publication_gate").fetchall()}
    assert got == expected
    assert set(got.values()) == {"checks_passed", "override", "withheld"}
