"""The summaries the command line prints, as queries over the warehouse: each month's gate and
loads, a month's quarantine, a DTI year's ranking and the history discrepancies. Each returns a
DuckDB relation on the caller's connection (print it while the connection is open)."""

from __future__ import annotations

import duckdb


def month_status(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Per month: publishable or not and why, rows loaded and rejected by its current sources."""
    return con.sql(
        """
        SELECT strftime(s.period_month, '%Y-%m') AS month, s.is_publishable,
               coalesce(s.blocking_failures, '') AS blocking_failures,
               (SELECT sum(row_count) FROM raw.ingested_sources i
                 WHERE i.period_month = s.period_month AND i.superseded_at IS NULL) AS rows_loaded,
               (SELECT sum(rejected_count) FROM raw.ingested_sources i
                 WHERE i.period_month = s.period_month AND i.superseded_at IS NULL) AS rows_rejected
        FROM meta.period_status s ORDER BY 1
        """
    )


def quarantined_rows(con: duckdb.DuckDBPyConnection, month: str) -> duckdb.DuckDBPyRelation:
    """A month's rejected rows by extract and rule, with an example file, row and reason."""
    return con.sql(
        "SELECT extract_kind, rule, count(*) AS rows, min(location) AS example_file, "
        "min(source_row) AS example_row, min(reason) AS example_reason "
        "FROM quarantine.rejected_rows WHERE strftime(period_month, '%Y-%m') = ? GROUP BY ALL ORDER BY 1, 2",
        params=[month],
    )


def quarantined_files(con: duckdb.DuckDBPyConnection, month: str) -> duckdb.DuckDBPyRelation:
    """A month's files that could not be read: the rule, where it was found, the reason, its copy."""
    return con.sql(
        "SELECT coalesce(rule, 'unreadable_file') AS rule, input_kind, original_location, reason, location "
        "FROM quarantine.rejected_files WHERE strftime(period_month, '%Y-%m') = ? ORDER BY rule, original_location",
        params=[month],
    )


def dti_ranking(con: duckdb.DuckDBPyConnection, year: int, level: str | None, limit: int) -> duckdb.DuckDBPyRelation:
    """A DTI year's ranking per level and group: the final index when the year is closed, else
    the latest provisional month; at most `limit` rows per level and group."""
    final = con.execute("SELECT count(*) FROM marts.rpt_dti_ranking WHERE year = ? AND NOT is_provisional",
                        [year]).fetchone()[0]
    basis = "NOT is_provisional" if final else (
        "is_provisional AND period_month = (SELECT max(period_month) FROM marts.rpt_dti_ranking WHERE year = ?)")
    params = [year] + ([] if final else [year]) + ([level] if level else [])
    return con.sql(
        f"""SELECT level, unit_group, rank, unit_code, unit_name, round(dti_value, 4) AS dti_value,
                   previous_rank, rank_change, is_provisional, period_month, methodology_version
            FROM marts.rpt_dti_ranking WHERE year = ? AND {basis} {'AND level = ?' if level else ''}
            QUALIFY row_number() OVER (PARTITION BY level, unit_group ORDER BY rank, unit_code) <= {int(limit)}
            ORDER BY level, unit_group, rank, unit_code""",
        params=params,
    )


def dti_history_discrepancies(con: duckdb.DuckDBPyConnection, years: list[int] | None = None
                              ) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of the differences between published and recomputed DTI results."""
    where = f"WHERE year IN ({', '.join(str(int(y)) for y in years)})" if years else ""
    rows = con.execute(f"SELECT * FROM marts.rpt_dti_history_discrepancies {where} ORDER BY ALL").fetchall()
    return [d[0] for d in con.description], rows
