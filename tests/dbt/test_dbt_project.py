"""The dbt project, for real: a temporary DuckDB warehouse with a small hand-made fixture for
2025-06 and 2025-07 (around the province merger), `dbt build` (seeds, models, data tests and
the dbt unit tests), then assertions on the marts; then the same marts after rebuilding one
month and a range of months (idempotent backfills)."""

from __future__ import annotations

import duckdb
import pytest

from ingestion.core.schema import prepare_warehouse
from tests.dbt.dbt_runner import DbtTestWarehouse
from tests.dbt.fixture_data import build_fixture

PERIOD_MARTS = (
    "marts.fct_service_index_monthly",
    "marts.fct_service_index_indicators_monthly",
    "marts.rpt_service_ranking_monthly",
)


class DbtWarehouse(DbtTestWarehouse):
    def build(self, period_start: str | None = None, period_end: str | None = None, by_vars: bool = False) -> str:
        """Every month, or the window [period_start, period_end): as the Dagster assets pass it
        (environment variables), or as a person backfilling by hand does (`--vars`)."""
        if period_start and by_vars:
            return self.dbt("build", "--vars", f'{{"period_start": "{period_start}", "period_end": "{period_end}"}}')
        if period_start:
            return self.dbt("build", env={"DXMON_PERIOD_START": period_start, "DXMON_PERIOD_END": period_end})
        return self.dbt("build")

    def snapshot(self) -> dict[str, list[tuple]]:
        return {table: self.rows(f"select * from {table} order by all") for table in PERIOD_MARTS}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> DbtWarehouse:
    wh = DbtWarehouse(tmp_path_factory.mktemp("dbt_warehouse"))
    with duckdb.connect(str(wh.path)) as con:
        prepare_warehouse(con)
        build_fixture(con)
    output = wh.build()
    assert "unit_test" in output  # the formula unit tests ran as part of the build
    wh.first_build = wh.snapshot()
    return wh


def test_staging_flags_rejected_rows_and_the_index_reads_only_valid_ones(warehouse):
    assert warehouse.scalar("select count(*) from raw.dossiers where parent_unit_code = 'XX'") == 1
    # one staging view per raw table, every row: the rejected one is flagged
    assert warehouse.rows(
        "select is_valid from staging.stg_dvc_portal__dossiers where reported_unit_code = 'XX'") == [(False,)]
    assert warehouse.scalar("select count(*) from intermediate.int_dossiers_timed where reported_unit_code = 'XX'") == 0
    # and the auditors count it
    assert warehouse.scalar(
        "select sum(row_count) from intermediate.int_audit_rows_by_unit "
        "where extract_kind = 'dossiers' and reported_unit_code = 'XX' and rejection_rule is not null") == 1


def test_scores_and_points_in_range(warehouse):
    low, high, scored = warehouse.rows(
        "select min(total_score), max(total_score), count(total_score) from marts.fct_service_index_monthly")[0]
    assert scored > 0 and 0 <= low <= high <= 100
    assert warehouse.scalar(
        "select count(*) from marts.fct_service_index_indicators_monthly "
        "where points < 0 or points > max_points + 1e-9 or ratio < 0") == 0
    # the wide columns were generated from the indicator seed
    columns = {r[0] for r in warehouse.rows(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'fct_service_index_monthly'")}
    assert {"i2_1_points", "i3_5a_ratio", "i4_x_numerator", "i5_4_denominator", "group_4_points"} <= columns
    # total = sum of the groups; decision group 4 = CLGQ + TTTT
    assert warehouse.scalar(
        "select count(*) from marts.fct_service_index_monthly where total_score is not null and ("
        " abs(total_score_unrounded - (ckmb_points + tdgq_points + clgq_points + tttt_points + mdsh_points + mdhl_points)) > 1e-9"
        " or abs(group_4_points - (clgq_points + tttt_points)) > 1e-9)") == 0


def test_units_without_dossiers_have_null_scores_and_no_rank(warehouse):
    count, null_scores = warehouse.rows(
        "select count(*), count(*) filter (where total_score is null) from marts.fct_service_index_monthly "
        "where dossier_count = 0")[0]
    assert count > 0 and count == null_scores
    assert warehouse.scalar(
        "select count(*) from marts.rpt_service_ranking_monthly r join marts.fct_service_index_monthly f "
        "using (period_month, unit_code, is_backcast) where f.dossier_count = 0") == 0


def test_63_provinces_before_the_merger_and_34_after(warehouse):
    counts = {(m.isoformat(), b): n for m, b, n in warehouse.rows(
        "select period_month, is_backcast, count(*) from marts.fct_service_index_monthly "
        "where unit_level = 'province' group by all")}
    assert counts[("2025-06-01", False)] == 63
    assert counts[("2025-06-01", True)] == 34
    assert counts[("2025-07-01", False)] == 34
    assert counts[("2025-07-01", True)] == 34
    # old codes reported in July are attributed to their successors: 10 -> 15, 02 -> 08
    july = dict(warehouse.rows(
        "select unit_code, dossier_count from marts.fct_service_index_monthly "
        "where period_month = '2025-07-01' and not is_backcast and unit_code in ('10', '15', '02', '08')"))
    assert july == {"15": 10 + 5, "08": 8 + 4}
    # a ministry code merged on 2025-03-01 (BKHDT) is attributed to BTC in June
    assert warehouse.scalar(
        "select dossier_count from marts.fct_service_index_monthly "
        "where period_month = '2025-06-01' and not is_backcast and unit_code = 'BTC'") == 10 + 5


def test_backcast_sums_numerators_and_denominators_onto_todays_units(warehouse):
    def june(unit, backcast):
        return warehouse.rows(
            "select dossier_count, i2_1_numerator, i2_1_denominator from marts.fct_service_index_monthly "
            "where period_month = '2025-06-01' and unit_code = ? and is_backcast = ?", unit, backcast)[0]

    old_10, old_15, new_15 = june("10", False), june("15", False), june("15", True)
    assert new_15 == tuple(a + b for a, b in zip(old_10, old_15))
    name = warehouse.scalar(
        "select unit_name from marts.fct_service_index_monthly "
        "where period_month = '2025-06-01' and unit_code = '15' and is_backcast")
    assert name == "Tỉnh Lào Cai"  # today's unit, not Yên Bái


def test_competition_ranks(warehouse):
    rows = warehouse.rows(
        "select period_month, unit_level, is_backcast, unit_code, total_score, rank "
        "from marts.rpt_service_ranking_monthly order by all")
    partitions: dict[tuple, list[tuple[str, float, int]]] = {}
    for month, level, backcast, unit, score, rank in rows:
        partitions.setdefault((month, level, backcast), []).append((unit, score, rank))
    for members in partitions.values():
        for unit, score, rank in members:
            assert rank == 1 + sum(1 for _, other, _ in members if other > score), unit
    june = dict(warehouse.rows(
        "select unit_code, rank from marts.rpt_service_ranking_monthly "
        "where period_month = '2025-06-01' and unit_level = 'province' and not is_backcast"))
    assert june["22"] == 1 and june["04"] == june["11"] == 2
    assert sorted(june.values())[:4] == [1, 2, 2, 4]


def test_previous_rank_across_the_merger(warehouse):
    def rank(month, unit, backcast):
        return warehouse.rows(
            "select rank, previous_rank, rank_change from marts.rpt_service_ranking_monthly "
            "where period_month = ? and unit_code = ? and is_backcast = ?", month, unit, backcast)[0]

    for unit in ("15", "08", "01"):
        july_rank, july_previous, change = rank("2025-07-01", unit, False)
        assert july_previous == rank("2025-06-01", unit, True)[0]  # the back-cast rank of June
        assert change == july_previous - july_rank
    # a ministry valid in both months keeps its as-reported previous rank
    assert rank("2025-07-01", "BTC", False)[1] == rank("2025-06-01", "BTC", False)[0]
    assert rank("2025-06-01", "BTC", False)[1] is None  # no May data


def test_rebuilding_one_month_is_idempotent(warehouse):
    warehouse.build("2025-07-01", "2025-08-01")
    assert warehouse.snapshot() == warehouse.first_build


@pytest.mark.slow  # a second full rebuild; make test keeps the one-month rebuild, the slow tier the kill -9 reruns
def test_rebuilding_a_range_is_idempotent(warehouse):
    warehouse.build("2025-06-01", "2025-08-01", by_vars=True)
    assert warehouse.snapshot() == warehouse.first_build


def test_the_period_window_comes_from_the_environment_else_from_the_vars(warehouse):
    """The assets pass the window as environment variables; without them the vars apply (their
    defaults here: every month; `--vars` by hand, as test_rebuilding_a_range_is_idempotent does)."""
    show = ("show", "--inline", "select {{ period_start() }} as period_start, {{ period_end() }} as period_end",
            "--output", "json")
    by_env = warehouse.dbt(*show, env={"DXMON_PERIOD_START": "2025-07-01", "DXMON_PERIOD_END": "2025-08-01"})
    assert '"period_start": "2025-07-01"' in by_env and '"period_end": "2025-08-01"' in by_env
    by_default = warehouse.dbt(*show)
    assert '"period_start": "1900-01-01"' in by_default and '"period_end": "2999-12-31"' in by_default
