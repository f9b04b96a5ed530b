"""Closing a DTI year: the year's final scores frozen with their methodology version and a hash
of their inputs (every report that counts, and the catalogue of its version).

`freeze_final_scores` is the library step between two dbt builds, run by the `close_dti_year`
Dagster job (orchestration/dti/jobs.py): dbt computes `intermediate.int_dti_final_scores` for
the year, this module copies them into `meta.dti_frozen_scores` and records the closure in
`meta.dti_year_closures`, then dbt rebuilds the lineage and the marts, which re-read the frozen
rows."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb

from publication.audit.provenance import code_version, current_user


class NothingToClose(LookupError):
    """The year has no accepted report to score."""


@dataclass(frozen=True)
class YearClosure:
    year: int
    methodology_version: str
    units: int
    reports: int
    input_hash: str
    run_id: str


def final_scores_window(year: int) -> dict:
    """dbt vars that compute `year`'s final scores and no provisional month (start == end)."""
    return {"dti_final_year": year, **empty_window(year)}


def empty_window(year: int) -> dict:
    """dbt vars that build the DTI models without any provisional month (start == end)."""
    return {"period_start": f"{year}-12-01", "period_end": f"{year}-12-01"}


def existing_closure(con: duckdb.DuckDBPyConnection, year: int) -> tuple | None:
    """(closed_at, input_hash) of the year's closure, if it was closed."""
    return con.execute("SELECT closed_at, input_hash FROM meta.dti_year_closures WHERE year = ?", [year]).fetchone()


def catalogue_hash(con: duckdb.DuckDBPyConnection, methodology_version: str) -> str:
    """sha256 of a methodology version's indicators and rule bands as loaded in the seeds."""
    rows = con.execute(
        "SELECT * FROM seeds.dti_indicators WHERE methodology_version = ? ORDER BY ALL", [methodology_version]
    ).fetchall()
    bands = con.execute(
        "SELECT * FROM seeds.dti_rule_bands WHERE methodology_version = ? ORDER BY ALL", [methodology_version]
    ).fetchall()
    return hashlib.sha256(repr((rows, bands)).encode()).hexdigest()


def freeze_final_scores(con: duckdb.DuckDBPyConnection, year: int, run_id: str) -> YearClosure:
    """Copy `year`'s final scores (built by dbt) into meta.dti_frozen_scores and record the
    closure, in one transaction. Raises NothingToClose when no report could be scored."""
    units, version = con.execute("SELECT count(*), any_value(methodology_version) "
                                 "FROM intermediate.int_dti_final_scores WHERE year = ?", [year]).fetchone()
    if not units:
        raise NothingToClose(f"DTI {year}: no accepted report to score; nothing closed")
    submission_hashes = con.execute(
        """SELECT s.submission_id, s.sha256 FROM raw.dti_submissions s
           WHERE s.submission_id IN (
             SELECT trim(unnest(string_split(submission_ids, ','))) FROM intermediate.int_dti_final_scores
             WHERE year = ?)
           ORDER BY 1""",
        [year],
    ).fetchall()
    digest = hashlib.sha256()
    for submission_id, sha in submission_hashes:
        digest.update(f"{submission_id}:{sha}\n".encode())
    digest.update(f"catalogue:{version}:{catalogue_hash(con, version)}\n".encode())
    input_hash = digest.hexdigest()
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM meta.dti_frozen_scores WHERE year = ?", [year])
    con.execute("INSERT INTO meta.dti_frozen_scores BY NAME SELECT * FROM intermediate.int_dti_final_scores "
                "WHERE year = ?", [year])
    con.execute("DELETE FROM meta.dti_year_closures WHERE year = ?", [year])
    con.execute("INSERT INTO meta.dti_year_closures (year, methodology_version, input_hash, closed_at, closed_by, "
                "run_id, code_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [year, version, input_hash, dt.datetime.now(), current_user(), run_id, code_version()])
    con.execute("COMMIT")
    return YearClosure(year, version, int(units), len(submission_hashes), input_hash, run_id)
