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
