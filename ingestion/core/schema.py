"""Every table and view of the warehouse's `raw`, `meta` and `quarantine` schemas, declared once.

The tables are data (`TABLES`: name, columns, who writes it), the views likewise (`VIEWS`), and
the changes made to tables after they first shipped are an ordered list of idempotent
`MIGRATIONS`. `prepare_warehouse(con)` creates what is missing and applies the migrations a
warehouse has not had yet, recording them in `meta.schema_migrations`; it is cheap and
idempotent, and it is the only code that writes DDL for these schemas: `dxmon prepare`, the
Dagster `WarehouseResource` and the library entry points that can be the first to open a
warehouse call it. A declared table's columns are its current shape (a fresh warehouse and a
migrated one have the same columns, in the same order).

dbt owns `staging`, `intermediate`, `marts` and `seeds`, and one meta table
(`DBT_OWNED_TABLES`). Contract of the DTI tables: docs/dti_design.md; of the others:
docs/architecture.md and docs/audit.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from ingestion.core.extract_contract import EXTRACT_KINDS, PROVENANCE_COLUMNS
from ingestion.core.gate_rule import GATE_BASIS_SQL

SCHEMAS = ("raw", "quarantine", "meta")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    constraint: str = ""  # PRIMARY KEY, NOT NULL
    comment: str = ""

    def ddl(self) -> str:
        return " ".join(p for p in (self.name, self.type, self.constraint) if p)


@dataclass(frozen=True)
class Table:
    name: str  # schema.table
    written_by: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        last = len(self.columns) - 1
        lines = [f"  {c.ddl()}{',' if i < last else ''}" + (f"  -- {c.comment}" if c.comment else "")
                 for i, c in enumerate(self.columns)]
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n" + "\n".join(lines) + "\n)"


@dataclass(frozen=True)
class View:
    name: str
    doc: str
    select: str

    def ddl(self) -> str:
        return f"CREATE OR REPLACE VIEW {self.name} AS\n{self.select}"


@dataclass(frozen=True)
class Migration:
    """A change to a table after it first shipped. Its statements must be idempotent (IF NOT
    EXISTS, an UPDATE that only touches rows still in the old shape): a warehouse created after
    the change already has it, and a migration interrupted halfway is simply run again."""
    id: str  # ordered: NNNN_what
    why: str
    statements: tuple[str, ...]


def _c(name: str, type_: str, constraint: str = "", comment: str = "") -> Column:
    return Column(name, type_, constraint, comment)


def _raw_extract_table(kind) -> Table:
    return Table(
        f"raw.{kind.name}", "ingestion/core/raw_loading.py",
        f"one row per source row of the {kind.name} extract: the contract's fields (typed; a value that "
        "failed its cast is NULL) and the provenance columns; rejection_rule NULL means valid",
        tuple(_c(f.name, f.sql_type) for f in kind.fields) + tuple(_c(n, t) for n, t in PROVENANCE_COLUMNS),
    )


TABLES: tuple[Table, ...] = (
    # --- the service index's raw extracts and their registry -------------------------------------
    *(_raw_extract_table(kind) for kind in EXTRACT_KINDS.values()),
    Table("raw.ingested_sources", "ingestion/landing/loading.py, ingestion/portal/loading.py",
          "one row per landed file version or archived API page", (
              _c("source_id", "VARCHAR", "PRIMARY KEY"),
              _c("extract_kind", "VARCHAR", "NOT NULL"),
              _c("period_month", "DATE", "NOT NULL"),
              _c("source_type", "VARCHAR", "NOT NULL", "'file' or 'api_page'"),
              _c("location", "VARCHAR", "NOT NULL", "landing path or archived page path"),
              _c("original_location", "VARCHAR", "", "where the file was found / the page URL"),
              _c("sha256", "VARCHAR", "NOT NULL"),
              _c("size_bytes", "BIGINT", "NOT NULL"),
              _c("row_count", "BIGINT"),
              _c("rejected_count", "BIGINT"),
              _c("loaded_at", "TIMESTAMP", "NOT NULL"),
              _c("superseded_at", "TIMESTAMP", "", "set when a newer version of the same file replaced it"),
              _c("rows_read", "BIGINT", "",
                 "data rows the reader counted in the source: reconciles with row_count (valid + rejected); "
                 "NULL for sources loaded before it was counted"),
          )),
    # --- the DTI's intake (docs/dti_design.md) ----------------------------------------------------
    Table("raw.dti_submissions", "ingestion/reports/intake.py", "one row per report file received", (
        _c("submission_id", "VARCHAR", "PRIMARY KEY", "dti:<year>:<folder unit>:<sha256[:16]>"),
        _c("year", "INTEGER", "NOT NULL", "from the folder inbox/<year>/"),
        _c("folder_unit_code", "VARCHAR", "NOT NULL", "the folder the file was submitted to"),
        _c("unit_code", "VARCHAR", "", "read inside the file (NULL if unreadable)"),
        _c("level", "VARCHAR", "", "province / ministry"),
        _c("report_year", "INTEGER", "", "read inside the file"),
        _c("report_date", "DATE", "", "read inside the file"),
        _c("version", "INTEGER", "NOT NULL", "1, 2, ... per (year, folder_unit_code), order of receipt"),
        _c("received_at", "TIMESTAMP", "NOT NULL"),
        _c("inbox_path", "VARCHAR", "NOT NULL"),
        _c("archived_path", "VARCHAR", "", "its object in the raw archive (ingestion/core/raw_archive.py)"),
        _c("sha256", "VARCHAR", "NOT NULL"),
        _c("size_bytes", "BIGINT", "NOT NULL"),
        _c("file_format", "VARCHAR", "", "xlsx / csv"),
        _c("file_encoding", "VARCHAR", "", "utf-8, utf-8-sig, utf-16; NULL for xlsx"),
        _c("status", "VARCHAR", "NOT NULL", "accepted / rejected"),
        _c("rejection_reason", "VARCHAR"),
        _c("methodology_version", "VARCHAR"),
        _c("rejection_rule", "VARCHAR", "", "machine name of the file-level rule"),
        _c("rows_read", "INTEGER", "", "data rows read from the file; NULL when it was rejected whole"),
        _c("rows_accepted", "INTEGER", "", "rows stored without a rejection at intake"),
        _c("rows_rejected", "INTEGER", "", "rows stored with a rejection at intake (rows_read = accepted + rejected)"),
    )),
    Table("raw.dti_report_values", "ingestion/reports/intake.py (flags: expectations/dti_validation.py)",
          "one row per indicator row of a report file", (
              _c("submission_id", "VARCHAR", "NOT NULL"),
              _c("year", "INTEGER", "NOT NULL"),
              _c("level", "VARCHAR"),
              _c("unit_code", "VARCHAR"),
              _c("indicator_code", "VARCHAR"),
              _c("value", "DOUBLE"),
              _c("numerator", "DOUBLE"),
              _c("denominator", "DOUBLE"),
              _c("evidence", "VARCHAR"),
              _c("raw_value", "VARCHAR"),
              _c("sheet", "VARCHAR", "", "NULL for CSV files"),
              _c("source_row", "INTEGER", "", "spreadsheet row / CSV line (1-based)"),
              _c("rejection_rule", "VARCHAR", "", "NULL for good rows"),
              _c("rejection_reason", "VARCHAR"),
              _c("rejection_field", "VARCHAR", "", "which input the rule is about"),
          )),
    Table("raw.dti_history_values", "ingestion/reports/dti/history.py",
          "published main-indicator or pillar values of past years", (
              _c("year", "INTEGER", "NOT NULL"),
              _c("level", "VARCHAR", "NOT NULL"),
              _c("unit_code", "VARCHAR", "NOT NULL"),
              _c("indicator_code", "VARCHAR", "NOT NULL"),
              _c("value", "DOUBLE", "NOT NULL"),
              _c("source_file", "VARCHAR", "NOT NULL"),
              _c("source_row", "INTEGER", "NOT NULL"),
              _c("loaded_at", "TIMESTAMP", "NOT NULL"),
          )),
    Table("raw.dti_history_published", "ingestion/reports/dti/history.py",
          "published DTI totals and ranks of past years", (
              _c("year", "INTEGER", "NOT NULL"),
              _c("level", "VARCHAR", "NOT NULL"),
              _c("unit_code", "VARCHAR", "NOT NULL"),
              _c("dti_value", "DOUBLE", "NOT NULL"),
              _c("rank", "INTEGER"),
              _c("source_file", "VARCHAR", "NOT NULL"),
              _c("source_row", "INTEGER", "NOT NULL"),
              _c("loaded_at", "TIMESTAMP", "NOT NULL"),
          )),
    Table("raw.dti_weight_supplements", "ingestion/reports/dti/history.py",
          "main-indicator points the public record lacks, loaded as data", (
              _c("methodology_version", "VARCHAR", "NOT NULL"),
              _c("level", "VARCHAR", "NOT NULL"),
              _c("indicator_code", "VARCHAR", "NOT NULL"),
              _c("max_points", "DOUBLE", "NOT NULL"),
              _c("source", "VARCHAR", "NOT NULL"),
              _c("loaded_at", "TIMESTAMP", "NOT NULL"),
          )),
    # --- KPI tracking (docs/kpi_tracking.md) -------------------------------------------------------
    Table("raw.kpi_submissions", "ingestion/kpi/reports/intake.py", "one row per agency KPI report file received", (
        _c("submission_id", "VARCHAR", "PRIMARY KEY", "kpi:<period>:<folder unit>:<sha256[:16]>"),
        _c("period", "VARCHAR", "NOT NULL", "from the folder kpi_inbox/<period>/: YYYY-MM, YYYY-Qn or YYYY"),
        _c("period_start", "DATE", "NOT NULL", "first day of the period"),
        _c("period_end", "DATE", "NOT NULL", "last day of the period"),
        _c("folder_unit_code", "VARCHAR", "NOT NULL", "the folder the file was submitted to"),
        _c("unit_code", "VARCHAR", "", "read inside the file (NULL if unreadable)"),
        _c("level", "VARCHAR", "", "province / ministry"),
        _c("report_period", "VARCHAR", "", "read inside the file"),
        _c("report_date", "DATE", "", "read inside the file"),
        _c("version", "INTEGER", "NOT NULL", "1, 2, ... per (period, folder_unit_code), order of receipt"),
        _c("received_at", "TIMESTAMP", "NOT NULL"),
        _c("inbox_path", "VARCHAR", "NOT NULL"),
        _c("archived_path", "VARCHAR", "", "its object in the raw archive"),
        _c("sha256", "VARCHAR", "NOT NULL"),
        _c("size_bytes", "BIGINT", "NOT NULL"),
        _c("file_format", "VARCHAR", "", "xlsx / csv"),
        _c("file_encoding", "VARCHAR", "", "utf-8, utf-8-sig, utf-16; NULL for xlsx"),
        _c("status", "VARCHAR", "NOT NULL", "accepted / rejected"),
        _c("rejection_rule", "VARCHAR", "", "machine name of the file-level rule"),
        _c("rejection_reason", "VARCHAR"),
        _c("catalogue_version", "VARCHAR", "", "the KPI catalogue version of the template"),
        _c("rows_read", "INTEGER", "", "data rows read from the file; NULL when it was rejected whole"),
        _c("rows_accepted", "INTEGER"),
        _c("rows_rejected", "INTEGER", "", "rows_read = rows_accepted + rows_rejected"),
    )),
    Table("raw.kpi_report_values", "ingestion/kpi/reports/intake.py (flags: expectations/kpi_validation.py)",
          "one row per KPI row of an agency KPI report file", (
              _c("submission_id", "VARCHAR", "NOT NULL"),
              _c("period", "VARCHAR", "NOT NULL"),
              _c("level", "VARCHAR"),
              _c("unit_code", "VARCHAR"),
              _c("kpi_code", "VARCHAR"),
              _c("measure", "VARCHAR", "", "the catalogue's measure ('main' when the form names none)"),
              _c("value", "DOUBLE", "", "in the measure's unit (a percent KPI: 0-100)"),
              _c("numerator", "DOUBLE"),
              _c("denominator", "DOUBLE"),
              _c("unit_text", "VARCHAR", "", "the unit written in the file's unit cell"),
              _c("evidence", "VARCHAR"),
              _c("note", "VARCHAR", "", "the sender's note on the row"),
              _c("raw_value", "VARCHAR", "", "the cell as typed"),
              _c("sheet", "VARCHAR", "", "NULL for CSV files"),
              _c("source_row", "INTEGER", "", "spreadsheet row / CSV line (1-based)"),
              _c("rejection_rule", "VARCHAR", "", "NULL for good rows"),
              _c("rejection_reason", "VARCHAR"),
              _c("rejection_field", "VARCHAR"),
          )),
    Table("raw.kpi_statistics_releases", "ingestion/kpi/statistics.py (dxmon kpi load-statistics)",
          "one row per national-statistics data file loaded: a release never overwrites another", (
              _c("load_id", "VARCHAR", "PRIMARY KEY", "stat:<sha256[:16]>"),
              _c("source_file", "VARCHAR", "NOT NULL", "where the file was found"),
              _c("archived_path", "VARCHAR", "", "its object in the raw archive"),
              _c("sha256", "VARCHAR", "NOT NULL"),
              _c("size_bytes", "BIGINT", "NOT NULL"),
              _c("publisher", "VARCHAR", "", "e.g. GSO, MIC"),
              _c("default_release", "VARCHAR", "", "the release named on the command line, for rows without one"),
              _c("default_release_date", "DATE", "", "the release date named on the command line, for rows without one"),
              _c("file_encoding", "VARCHAR", "", "utf-8, utf-8-sig, utf-16-le, utf-16-be"),
              _c("rows_read", "INTEGER"),
              _c("rows_accepted", "INTEGER"),
              _c("rows_rejected", "INTEGER"),
              _c("status", "VARCHAR", "NOT NULL", "accepted / rejected"),
              _c("rejection_rule", "VARCHAR"),
              _c("rejection_reason", "VARCHAR"),
              _c("loaded_at", "TIMESTAMP", "NOT NULL"),
              _c("load_sequence", "INTEGER", "NOT NULL", "1, 2, ... in load order: breaks ties of release_date"),
          )),
    Table("raw.kpi_statistics_values", "ingestion/kpi/statistics.py",
          "one row per data row of a statistics file, with its release", (
              _c("load_id", "VARCHAR", "NOT NULL"),
              _c("release", "VARCHAR", "", "the release or vintage the value belongs to"),
              _c("release_date", "DATE"),
              _c("kpi_code", "VARCHAR"),
              _c("measure", "VARCHAR"),
              _c("level", "VARCHAR", "", "national / ministry / province (an aggregate of all units: unit_code NULL)"),
              _c("unit_code", "VARCHAR"),
              _c("period", "VARCHAR", "", "as published: YYYY, YYYY-MM or YYYY-MM-DD"),
              _c("period_end", "DATE", "", "the last day the value covers (the date it is as of)"),
              _c("value", "DOUBLE"),
              _c("publisher", "VARCHAR", "", "the row's publisher, else the file's (GSO, MIC, press)"),
              _c("source_key", "VARCHAR", "", "the publication's key (kpi_sources seed)"),
              _c("note", "VARCHAR"),
              _c("raw_value", "VARCHAR"),
              _c("source_row", "INTEGER", "NOT NULL", "CSV line (1-based)"),
              _c("rejection_rule", "VARCHAR"),
              _c("rejection_reason", "VARCHAR"),
              _c("rejection_field", "VARCHAR"),
          )),
    Table("raw.international_index_loads", "ingestion/kpi/international.py (dxmon kpi load-index)",
          "one row per international-index data file loaded", (
              _c("load_id", "VARCHAR", "PRIMARY KEY", "idx:<index>:<sha256[:16]>"),
              _c("index_code", "VARCHAR", "NOT NULL", "EGDI, GII, NRI, GCI, ..."),
              _c("file_shape", "VARCHAR", "NOT NULL", "un_egdi_csv / long_csv"),
              _c("source_file", "VARCHAR", "NOT NULL"),
              _c("archived_path", "VARCHAR"),
              _c("sha256", "VARCHAR", "NOT NULL"),
              _c("size_bytes", "BIGINT", "NOT NULL"),
              _c("rows_read", "INTEGER"),
              _c("rows_accepted", "INTEGER"),
              _c("rows_rejected", "INTEGER"),
              _c("status", "VARCHAR", "NOT NULL", "accepted / rejected"),
              _c("rejection_rule", "VARCHAR"),
              _c("rejection_reason", "VARCHAR"),
              _c("loaded_at", "TIMESTAMP", "NOT NULL"),
              _c("load_sequence", "INTEGER", "NOT NULL", "1, 2, ... in load order: a later load of an edition wins"),
              _c("source_key", "VARCHAR", "", "the publication's key for the whole file (UN CSV: given on load)"),
              _c("file_encoding", "VARCHAR"),
          )),
    Table("raw.international_index_values", "ingestion/kpi/international.py",
          "one row per country, edition and component of an international index file", (
              _c("load_id", "VARCHAR", "NOT NULL"),
              _c("index_code", "VARCHAR", "NOT NULL"),
              _c("edition", "INTEGER", "", "survey / edition year"),
              _c("country_code", "VARCHAR", "", "ISO 3166 alpha-3, resolved from the name when the file has none"),
              _c("country_name", "VARCHAR", "", "as in the file, stray spaces trimmed"),
              _c("component", "VARCHAR", "", "rank, value, osi, hci, tii, epi, score_*, tier, ..."),
              _c("value", "DOUBLE"),
              _c("raw_value", "VARCHAR"),
              _c("source_key", "VARCHAR", "", "the row's publication key (long CSV), else the file's"),
              _c("note", "VARCHAR"),
              _c("source_row", "INTEGER", "NOT NULL", "CSV line (1-based)"),
              _c("rejection_rule", "VARCHAR"),
              _c("rejection_reason", "VARCHAR"),
              _c("rejection_field", "VARCHAR"),
          )),
    Table("meta.kpi_period_status", "expectations/kpi_validation.py",
          "the gate of agency KPI reports: one row per validated report period", (
              _c("period", "VARCHAR", "PRIMARY KEY", "YYYY-MM, YYYY-Qn or YYYY"),
              _c("period_start", "DATE", "NOT NULL"),
              _c("is_publishable", "BOOLEAN", "NOT NULL", "no latest accepted report fails a blocking expectation"),
              _c("blocking_failures", "VARCHAR", "", "'<submission_id>: <message>; ...'"),
              _c("checked_at", "TIMESTAMP", "NOT NULL"),
              _c("run_id", "VARCHAR"),
          )),
    # --- task tracking (docs/task_tracking.md) ----------------------------------------------------
    Table("raw.task_plan_submissions", "ingestion/tasks/plan_intake.py",
          "one row per task-list file received (the tasks an assigning document gives agencies), all versions", (
              _c("submission_id", "VARCHAR", "PRIMARY KEY", "taskplan:<year>:<issuer folder>:<sha256[:16]>"),
              _c("year", "INTEGER", "NOT NULL", "from the folder task_plans/<year>/: the document's year"),
              _c("folder_unit_code", "VARCHAR", "NOT NULL", "the issuer folder the file was submitted to"),
              _c("unit_code", "VARCHAR", "", "the issuer read inside the file (seed task_issuers)"),
              _c("level", "VARCHAR", "", "the issuer's kind (task_issuers.issuer_kind)"),
              _c("document_number", "VARCHAR", "", "the assigning document's number, e.g. 'QĐ 749/QĐ-TTg'"),
              _c("document_date", "DATE", "", "the assigning document's date: its tasks are assigned from that day"),
              _c("document_title", "VARCHAR"),
              _c("template_version", "VARCHAR", "", "the task-list template's format version"),
              _c("report_date", "DATE", "", "the date the list was prepared (header)"),
              _c("version", "INTEGER", "NOT NULL", "1, 2, ... per (year, folder_unit_code), order of receipt"),
              _c("received_at", "TIMESTAMP", "NOT NULL"),
              _c("inbox_path", "VARCHAR", "NOT NULL"),
              _c("archived_path", "VARCHAR", "", "its object in the raw archive"),
              _c("sha256", "VARCHAR", "NOT NULL"),
              _c("size_bytes", "BIGINT", "NOT NULL"),
              _c("file_format", "VARCHAR", "", "xlsx / csv"),
              _c("file_encoding", "VARCHAR", "", "utf-8, utf-8-sig, utf-16; NULL for xlsx"),
              _c("status", "VARCHAR", "NOT NULL", "accepted / rejected"),
              _c("rejection_rule", "VARCHAR"),
              _c("rejection_reason", "VARCHAR"),
              _c("rows_read", "INTEGER", "", "data rows read from the file; NULL when it was rejected whole"),
              _c("rows_accepted", "INTEGER"),
              _c("rows_rejected", "INTEGER", "", "rows_read = rows_accepted + rows_rejected"),
          )),
    Table("raw.task_plan_rows", "ingestion/tasks/plan_intake.py (flags: expectations/task_validation.py)",
          "one row per task row of a task-list file: the registry of assigned tasks", (
              _c("submission_id", "VARCHAR", "NOT NULL"),
              _c("year", "INTEGER", "NOT NULL"),
              _c("issuer_code", "VARCHAR"),
              _c("document_number", "VARCHAR"),
              _c("task_code", "VARCHAR", "", "unique across documents (upper case, stray spaces removed)"),
              _c("title", "VARCHAR"),
              _c("lead_unit_code", "VARCHAR", "", "exactly one lead agency, valid on the document date"),
              _c("lead_unit_text", "VARCHAR", "", "the lead-agency cell as typed"),
              _c("cooperating_unit_codes", "VARCHAR", "", "';'-joined unit codes in the order written (NULL: none)"),
              _c("deadline", "DATE", "", "the deadline (a month, quarter or year written: its last day); NULL for "
                                         "a recurring task without an end"),
              _c("recurrence", "VARCHAR", "NOT NULL", "once / monthly / quarterly / yearly / recurring"),
              _c("raw_deadline", "VARCHAR", "", "the deadline cell as typed"),
              _c("expected_result", "VARCHAR"),
              _c("is_key_task", "BOOLEAN", "NOT NULL", "nhiệm vụ trọng tâm"),
              _c("note", "VARCHAR"),
              _c("sheet", "VARCHAR", "", "NULL for CSV files"),
              _c("source_row", "INTEGER", "", "spreadsheet row / CSV line (1-based)"),
              _c("rejection_rule", "VARCHAR", "", "NULL for good rows"),
              _c("rejection_reason", "VARCHAR"),
              _c("rejection_field", "VARCHAR"),
          )),
    Table("raw.task_report_submissions", "ingestion/tasks/report_intake.py",
          "one row per task status report file received from an agency, all versions", (
              _c("submission_id", "VARCHAR", "PRIMARY KEY", "taskreport:<period>:<folder unit>:<sha256[:16]>"),
              _c("period", "VARCHAR", "NOT NULL", "from the folder task_reports/<YYYY-MM>/"),
              _c("period_start", "DATE", "NOT NULL"),
              _c("period_end", "DATE", "NOT NULL", "the as-of date of the report's period"),
              _c("folder_unit_code", "VARCHAR", "NOT NULL"),
              _c("unit_code", "VARCHAR", "", "read inside the file (NULL if unreadable)"),
              _c("level", "VARCHAR", "", "province / ministry"),
              _c("report_period", "VARCHAR", "", "read inside the file"),
              _c("report_date", "DATE", "", "read inside the file: a completion date after it is a contradiction"),
              _c("template_version", "VARCHAR"),
              _c("version", "INTEGER", "NOT NULL", "1, 2, ... per (period, folder_unit_code), order of receipt"),
              _c("received_at", "TIMESTAMP", "NOT NULL"),
              _c("inbox_path", "VARCHAR", "NOT NULL"),
              _c("archived_path", "VARCHAR"),
              _c("sha256", "VARCHAR", "NOT NULL"),
              _c("size_bytes", "BIGINT", "NOT NULL"),
              _c("file_format", "VARCHAR"),
              _c("file_encoding", "VARCHAR"),
              _c("status", "VARCHAR", "NOT NULL", "accepted / rejected"),
              _c("rejection_rule", "VARCHAR"),
              _c("rejection_reason", "VARCHAR"),
              _c("rows_read", "INTEGER"),
              _c("rows_accepted", "INTEGER"),
              _c("rows_rejected", "INTEGER"),
          )),
    Table("raw.task_report_rows", "ingestion/tasks/report_intake.py (flags: expectations/task_validation.py)",
          "one row per task row of a status report", (
              _c("submission_id", "VARCHAR", "NOT NULL"),
              _c("period", "VARCHAR", "NOT NULL"),
              _c("level", "VARCHAR"),
              _c("unit_code", "VARCHAR", "", "the reporting unit"),
              _c("task_code", "VARCHAR"),
              _c("reported_status", "VARCHAR", "", "a status_code of seed task_status_categories (NULL: none given)"),
              _c("reported_status_text", "VARCHAR", "", "the status cell as typed"),
              _c("completion_date", "DATE"),
              _c("evidence", "VARCHAR", "", "the evidence reference (document number, link)"),
              _c("progress_percent", "DOUBLE", "", "0-100"),
              _c("delay_reason", "VARCHAR"),
              _c("extension_deadline", "DATE", "", "the new deadline an extension asks for"),
              _c("approval_document", "VARCHAR", "", "the document approving the extension or the closure (NULL: none)"),
              _c("approval_date", "DATE", "", "the approving document's date"),
              _c("note", "VARCHAR"),
              _c("raw_values", "VARCHAR", "", "the row's cells as typed, JSON"),
              _c("sheet", "VARCHAR"),
              _c("source_row", "INTEGER"),
              _c("rejection_rule", "VARCHAR"),
              _c("rejection_reason", "VARCHAR"),
              _c("rejection_field", "VARCHAR"),
          )),
    Table("meta.task_period_status", "expectations/task_validation.py",
          "the gate of task tracking: one row per validated status-report month", (
              _c("period", "VARCHAR", "PRIMARY KEY", "YYYY-MM"),
              _c("period_start", "DATE", "NOT NULL"),
              _c("is_publishable", "BOOLEAN", "NOT NULL", "no task list or report that counts fails a blocking expectation"),
              _c("blocking_failures", "VARCHAR", "", "'<submission_id>: <message>; ...'"),
              _c("checked_at", "TIMESTAMP", "NOT NULL"),
              _c("run_id", "VARCHAR"),
          )),
    # --- quarantine (ingestion/core/quarantine.py) -----------------------------------------------
    Table("quarantine.rejected_files", "ingestion/core/quarantine.py",
          "one row per input that could not be read (landing file, DTI or KPI report file, portal page), "
          "with its copy in data/quarantine/", (
              _c("period_month", "DATE", "", "the month (a DTI year: 1 January; a KPI period: its first day)"),
              _c("location", "VARCHAR", "NOT NULL", "the quarantine copy; <location>.reason.json beside it"),
              _c("original_location", "VARCHAR", "NOT NULL", "where it was found (a page: its URL)"),
              _c("sha256", "VARCHAR", "NOT NULL"),
              _c("reason", "VARCHAR", "NOT NULL"),
              _c("quarantined_at", "TIMESTAMP", "NOT NULL"),
              _c("input_kind", "VARCHAR", "", "landing / dti_reports / kpi_reports / portal_pages / kpi_statistics / "
                                              "international_indices"),
              _c("rule", "VARCHAR", "", "machine name of the rule (unknown_file, unreadable_file, ...)"),
          )),
    # --- validation and the publication gate ------------------------------------------------------
    Table("meta.validation_results", "expectations/month_validation.py, expectations/dti_validation.py",
          "one row per expectation per batch per run", (
              _c("run_id", "VARCHAR"),
              _c("period_month", "DATE", "NOT NULL"),
              _c("extract_kind", "VARCHAR", "NOT NULL"),
              _c("suite_name", "VARCHAR", "NOT NULL"),
              _c("expectation", "VARCHAR", "NOT NULL"),
              _c("column_name", "VARCHAR"),
              _c("is_blocking", "BOOLEAN", "NOT NULL"),
              _c("success", "BOOLEAN", "NOT NULL"),
              _c("observed_value", "VARCHAR"),
              _c("unexpected_count", "BIGINT"),
              _c("element_count", "BIGINT"),
              _c("details", "VARCHAR"),
              _c("validated_at", "TIMESTAMP", "NOT NULL"),
          )),
    Table("meta.period_status", "expectations/month_validation.py",
          "the service index's gate: one row per validated month", (
              _c("period_month", "DATE", "PRIMARY KEY"),
              _c("is_publishable", "BOOLEAN", "NOT NULL"),
              _c("blocking_failures", "VARCHAR"),
              _c("checked_at", "TIMESTAMP", "NOT NULL"),
              _c("run_id", "VARCHAR"),
          )),
    Table("meta.dti_year_status", "expectations/dti_validation.py", "the DTI's gate: one row per validated year", (
        _c("year", "INTEGER", "PRIMARY KEY"),
        _c("is_publishable", "BOOLEAN", "NOT NULL", "no latest accepted report fails a blocking expectation"),
        _c("blocking_failures", "VARCHAR", "", "'<submission_id>: <message>; ...' (what an override names)"),
        _c("checked_at", "TIMESTAMP", "NOT NULL"),
        _c("run_id", "VARCHAR", "", "the validation run"),
    )),
    # --- the auditors' tables (docs/audit.md); index_name says which index a row belongs to --------
    Table("meta.publication_overrides", "publication/publish.py",
          "recorded decisions to publish a period whose blocking checks failed", (
              _c("override_id", "VARCHAR", "PRIMARY KEY"),
              _c("index_name", "VARCHAR", "NOT NULL"),
              _c("period_month", "DATE", "NOT NULL"),
              _c("overridden_checks", "VARCHAR", "NOT NULL", "the period's blocking_failures when overridden"),
              _c("reason", "VARCHAR", "NOT NULL"),
              _c("overridden_by", "VARCHAR", "NOT NULL"),
              _c("overridden_at", "TIMESTAMP", "NOT NULL"),
              _c("validation_run_id", "VARCHAR", "", "the run whose failed checks were overridden"),
              _c("code_version", "VARCHAR"),
          )),
    Table("meta.dbt_test_results", "expectations/validation_history.py",
          "one row per dbt data or unit test per month of the invocation's window", (
              _c("run_id", "VARCHAR"),
              _c("invocation_id", "VARCHAR"),
              _c("period_month", "DATE", "", "one row per month of the invocation's window"),
              _c("test_unique_id", "VARCHAR", "NOT NULL"),
              _c("test_name", "VARCHAR", "NOT NULL"),
              _c("model_name", "VARCHAR"),
              _c("column_name", "VARCHAR"),
              _c("status", "VARCHAR", "NOT NULL", "pass / fail / warn / error / skipped"),
              _c("success", "BOOLEAN", "NOT NULL"),
              _c("is_blocking", "BOOLEAN", "NOT NULL", "severity error"),
              _c("failures", "BIGINT"),
              _c("message", "VARCHAR"),
              _c("sample_row_ids", "VARCHAR", "", "JSON list of ids of offending rows (failed tests)"),
              _c("executed_at", "TIMESTAMP", "NOT NULL"),
          )),
    Table("meta.validation_sample_rows", "expectations/validation_history.py, expectations/dti_validation.py",
          "sample offending row ids of every failed GX expectation", (
              _c("run_id", "VARCHAR"),
              _c("period_month", "DATE", "NOT NULL"),
              _c("suite_name", "VARCHAR", "NOT NULL"),
              _c("expectation", "VARCHAR", "NOT NULL"),
              _c("column_name", "VARCHAR"),
              _c("sample_row_ids", "VARCHAR", "NOT NULL", "JSON list of '<source_id>#<source_row>'"),
          )),
    Table("meta.raw_archive", "ingestion/core/raw_archive.py", "one row per object of the raw archive", (
        _c("sha256", "VARCHAR", "PRIMARY KEY"),
        _c("size_bytes", "BIGINT", "NOT NULL"),
        _c("archived_path", "VARCHAR", "NOT NULL", "read-only, content-addressed copy"),
        _c("first_archived_at", "TIMESTAMP", "NOT NULL"),
    )),
    Table("meta.run_provenance", "publication/audit/provenance.py", "one row per run, index and period built", (
        _c("run_id", "VARCHAR", "NOT NULL"),
        _c("index_name", "VARCHAR", "NOT NULL"),
        _c("period_month", "DATE", "NOT NULL"),
        _c("code_version", "VARCHAR", "NOT NULL"),
        _c("input_hash", "VARCHAR", "NOT NULL", "sha256 over the sha256 of the period's active inputs"),
        _c("methodology_version", "VARCHAR"),
        _c("recorded_at", "TIMESTAMP", "NOT NULL"),
    )),
    # --- written by orchestration/ ----------------------------------------------------------------
    Table("meta.dti_year_closures", "publication/dti_closure.py (dxmon dti close-year)",
          "one row per closed DTI year: the final index's methodology, inputs and run", (
              _c("year", "INTEGER"),
              _c("methodology_version", "VARCHAR"),
              _c("input_hash", "VARCHAR"),
              _c("closed_at", "TIMESTAMP"),
              _c("closed_by", "VARCHAR"),
              _c("run_id", "VARCHAR"),
              _c("code_version", "VARCHAR"),
          )),
    Table("meta.reference_build", "orchestration/assets/dbt_models.py",
          "the fingerprint of the reference data last built (unchanged: not rebuilt)", (
              _c("fingerprint", "VARCHAR"),
              _c("built_at", "TIMESTAMP"),
          )),
    Table("meta.schema_migrations", "ingestion/core/schema.py", "the migrations applied to this warehouse", (
        _c("migration_id", "VARCHAR", "PRIMARY KEY"),
        _c("why", "VARCHAR", "NOT NULL"),
        _c("applied_at", "TIMESTAMP", "NOT NULL"),
    )),
)

# Created by dbt, not here: its columns are fct_dti_scores' (dbt_project/macros/dti.sql,
# dti_score_column_types), created by the pre-hook of the first model that reads it.
DBT_OWNED_TABLES = {
    "meta.dti_frozen_scores": "the final scores of closed DTI years (dbt_project/macros/dti.sql::ensure_dti_meta_tables)",
}


def _rejected_rows_select() -> str:
    # Rejected rows stay in their raw table (flagged, with the original text in raw_record); the
    # quarantine is a view over them joined to where they came from, so it can never drift.
    return "\nUNION ALL\n".join(
        f"""SELECT '{kind.name}' AS extract_kind, r.period_month, r.source_id, s.location,
       s.source_type, r.source_row, r.rejection_rule AS rule, r.rejection_reason AS reason,
       r.raw_record, r.loaded_at AS quarantined_at
FROM raw.{kind.name} r LEFT JOIN raw.ingested_sources s USING (source_id)
WHERE r.rejection_rule IS NOT NULL"""
        for kind in EXTRACT_KINDS.values()
    )


def _publication_gate_select() -> str:
    # One row per validated period of every gated index, with how it is published now (the rule
    # of ingestion/core/gate_rule.py and its latest override). A period absent from it was never
    # validated: withheld.
    statuses = (
        ("service_index", "strftime(period_month, '%Y-%m')", "period_month", "meta.period_status"),
        ("dti", "CAST(year AS VARCHAR)", "make_date(year, 1, 1)", "meta.dti_year_status"),
        ("kpi_reports", "period", "period_start", "meta.kpi_period_status"),
        ("tasks", "period", "period_start", "meta.task_period_status"),
    )
    parts = [f"""SELECT '{index}' AS index_name, {key} AS period_key, {start} AS period_start, is_publishable,
       blocking_failures, checked_at, run_id AS validation_run_id FROM {source}""" for index, key, start, source in statuses]
    return f"""WITH s AS (
{chr(10).join(("UNION ALL" + chr(10) if i else "") + p for i, p in enumerate(parts))}
),
latest_override AS (
  SELECT * FROM meta.publication_overrides
  QUALIFY row_number() OVER (PARTITION BY index_name, period_month ORDER BY overridden_at DESC) = 1
)
SELECT s.index_name, s.period_key, s.period_start, s.is_publishable, s.blocking_failures, s.checked_at,
       s.validation_run_id, {GATE_BASIS_SQL} AS publication_basis,
       o.override_id, o.overridden_by, o.reason AS override_reason
FROM s
LEFT JOIN latest_override o ON o.index_name = s.index_name AND o.period_month = s.period_start"""


VIEWS: tuple[View, ...] = (
    View("quarantine.rejected_rows", "one row per rejected source row of the service index's extracts",
         _rejected_rows_select()),
    View("meta.publication_gate", "one row per validated period of every gated index (service_index month, dti "
                                  "year, kpi_reports period, tasks month) with its publication basis now", _publication_gate_select()),
    View("quarantine.dti_rejections", "one row per rejected DTI file and per rejected value row, with where to find it",
         """SELECT 'file' AS rejection_level, s.submission_id, s.year, s.folder_unit_code, s.unit_code,
       s.version, s.inbox_path AS file, s.archived_path, NULL::VARCHAR AS sheet,
       NULL::INTEGER AS source_row, NULL::VARCHAR AS indicator_code, NULL::VARCHAR AS field,
       s.rejection_rule AS rule, s.rejection_reason AS reason, NULL::VARCHAR AS raw_value,
       s.received_at
FROM raw.dti_submissions s
WHERE s.status = 'rejected'
UNION ALL
SELECT 'row', v.submission_id, v.year, s.folder_unit_code, v.unit_code, s.version, s.inbox_path,
       s.archived_path, v.sheet, v.source_row, v.indicator_code, v.rejection_field,
       v.rejection_rule, v.rejection_reason, v.raw_value, s.received_at
FROM raw.dti_report_values v
JOIN raw.dti_submissions s USING (submission_id)
WHERE v.rejection_rule IS NOT NULL"""),
    View("quarantine.kpi_rejections", "one row per rejected agency KPI report file and per rejected value row, "
                                      "with where to find it",
         """SELECT 'file' AS rejection_level, s.submission_id, s.period, s.folder_unit_code, s.unit_code,
       s.version, s.inbox_path AS file, s.archived_path, NULL::VARCHAR AS sheet,
       NULL::INTEGER AS source_row, NULL::VARCHAR AS kpi_code, NULL::VARCHAR AS measure, NULL::VARCHAR AS field,
       s.rejection_rule AS rule, s.rejection_reason AS reason, NULL::VARCHAR AS raw_value,
       s.received_at
FROM raw.kpi_submissions s
WHERE s.status = 'rejected'
UNION ALL
SELECT 'row', v.submission_id, v.period, s.folder_unit_code, v.unit_code, s.version, s.inbox_path,
       s.archived_path, v.sheet, v.source_row, v.kpi_code, v.measure, v.rejection_field,
       v.rejection_rule, v.rejection_reason, v.raw_value, s.received_at
FROM raw.kpi_report_values v
JOIN raw.kpi_submissions s USING (submission_id)
WHERE v.rejection_rule IS NOT NULL"""),
    View("quarantine.task_rejections", "one row per rejected task-list or task status report file and per rejected "
                                       "row, with where to find it",
         """SELECT 'task_plan' AS input, 'file' AS rejection_level, s.submission_id, CAST(s.year AS VARCHAR) AS period,
       s.folder_unit_code, s.unit_code, s.version, s.inbox_path AS file, s.archived_path, NULL::VARCHAR AS sheet,
       NULL::INTEGER AS source_row, NULL::VARCHAR AS task_code, NULL::VARCHAR AS field,
       s.rejection_rule AS rule, s.rejection_reason AS reason, s.received_at
FROM raw.task_plan_submissions s
WHERE s.status = 'rejected'
UNION ALL
SELECT 'task_plan', 'row', v.submission_id, CAST(v.year AS VARCHAR), s.folder_unit_code, v.issuer_code, s.version,
       s.inbox_path, s.archived_path, v.sheet, v.source_row, v.task_code, v.rejection_field, v.rejection_rule,
       v.rejection_reason, s.received_at
FROM raw.task_plan_rows v
JOIN raw.task_plan_submissions s USING (submission_id)
WHERE v.rejection_rule IS NOT NULL
UNION ALL
SELECT 'task_report', 'file', s.submission_id, s.period, s.folder_unit_code, s.unit_code, s.version, s.inbox_path,
       s.archived_path, NULL::VARCHAR, NULL::INTEGER, NULL::VARCHAR, NULL::VARCHAR, s.rejection_rule,
       s.rejection_reason, s.received_at
FROM raw.task_report_submissions s
WHERE s.status = 'rejected'
UNION ALL
SELECT 'task_report', 'row', v.submission_id, v.period, s.folder_unit_code, v.unit_code, s.version, s.inbox_path,
       s.archived_path, v.sheet, v.source_row, v.task_code, v.rejection_field, v.rejection_rule,
       v.rejection_reason, s.received_at
FROM raw.task_report_rows v
JOIN raw.task_report_submissions s USING (submission_id)
WHERE v.rejection_rule IS NOT NULL"""),
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_dti_year_closures_code_version", "closures recorded before the code version was kept",
              ("ALTER TABLE meta.dti_year_closures ADD COLUMN IF NOT EXISTS code_version VARCHAR",)),
    Migration("0002_rejected_files_input_kind_and_rule",
              "one quarantine for every input kind: the row says which kind and which rule",
              ("ALTER TABLE quarantine.rejected_files ADD COLUMN IF NOT EXISTS input_kind VARCHAR",
               "ALTER TABLE quarantine.rejected_files ADD COLUMN IF NOT EXISTS rule VARCHAR",
               # rows written before: only landing files were recorded
               "UPDATE quarantine.rejected_files SET input_kind = 'landing' WHERE input_kind IS NULL")),
    Migration("0003_ingested_sources_rows_read",
              "every file reconciles: the rows its reader counted, beside the rows stored (valid + rejected)",
              ("ALTER TABLE raw.ingested_sources ADD COLUMN IF NOT EXISTS rows_read BIGINT",)),
    Migration("0004_dti_submissions_reconciliation",
              "every report file reconciles: rows read = rows accepted + rows rejected, per submission",
              ("ALTER TABLE raw.dti_submissions ADD COLUMN IF NOT EXISTS rows_read INTEGER",
               "ALTER TABLE raw.dti_submissions ADD COLUMN IF NOT EXISTS rows_accepted INTEGER",
               "ALTER TABLE raw.dti_submissions ADD COLUMN IF NOT EXISTS rows_rejected INTEGER",
               # submissions taken before: their stored rows are what was read
               """UPDATE raw.dti_submissions s SET rows_read = c.n, rows_accepted = c.n - c.bad, rows_rejected = c.bad
FROM (SELECT submission_id, count(*) AS n, count(rejection_rule) AS bad FROM raw.dti_report_values
      GROUP BY submission_id) c
WHERE s.submission_id = c.submission_id AND s.rows_read IS NULL""")),
    Migration("0005_dossiers_handling_agency_name",
              "the handling agency's name (TenCoQuan), an optional dossier field a source may omit",
              ("ALTER TABLE raw.dossiers ADD COLUMN IF NOT EXISTS handling_agency_name VARCHAR",)),
)

_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The declaration of `schema.table`."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name} is not declared in ingestion/core/schema.py") from None


def insert_rows(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    """Insert dict rows into the declared table `name` in one multi-row INSERT (a registered
    DataFrame costs more for the few dozen rows of a report or data file); a declared column a
    row lacks is NULL."""
    if not rows:
        return
    columns = table(name).column_names
    placeholders = ", ".join(["(" + ", ".join(["?"] * len(columns)) + ")"] * len(rows))
    con.execute(f"INSERT INTO {name} ({', '.join(columns)}) VALUES {placeholders}",
                [r.get(c) for r in rows for c in columns])


def prepare_warehouse(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the schemas, tables and views that are missing, apply the migrations this warehouse
    has not had (in order) and refresh the views. Idempotent; returns the migrations applied now."""
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for t in TABLES:
        con.execute(t.ddl())
    done = {r[0] for r in con.execute("SELECT migration_id FROM meta.schema_migrations").fetchall()}
    applied = []
    for migration in MIGRATIONS:
        if migration.id in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                con.execute(statement)
            con.execute("INSERT INTO meta.schema_migrations VALUES (?, ?, ?)",
                        [migration.id, migration.why, dt.datetime.now()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.id)
    # views last: they may read columns a migration added
    for view in VIEWS:
        con.execute(view.ddl())
    return applied
