"""Great Expectations suites for one month of extracts, built from the extract contract.

GX validates *profiles* of each batch that DuckDB computes (docs/stack.md: GX on a pandas frame of
10 M rows is about ten times slower than DuckDB), so validation costs the same on a 10 k-row
month and a 100 M-row one:

* `<kind>_valid_rows`: a reservoir sample of the rows that passed the row rules (at most
  `SAMPLE_ROWS`), checked against the contract: columns, types, required values, allowed sets,
  ranges and pair rules. A failure means the row rules let a bad row through: blocking.
* `<kind>_rejections`: one row per rejection rule with the share of the batch it rejected.
  Above `BLOCKING_REJECTED_SHARE` the batch is too broken to score: blocking. Above
  `WARNING_REJECTED_SHARE` it is flagged.
* `<kind>_volume`: rows loaded for the month: an empty extract is blocking.
* `dossiers_unit_completeness`: one row per ranked unit valid in the month: a unit with no
  dossiers, or whose volume collapsed against its previous months, is flagged (not blocking:
  the unit is still ranked on what it sent, and the flag travels to the analysts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import great_expectations as gx

from ingestion.core.extract_contract import EXTRACT_KINDS, PROVENANCE_COLUMNS, ExtractKind

SAMPLE_ROWS = 20_000
BLOCKING_REJECTED_SHARE = 0.05
WARNING_REJECTED_SHARE = 0.01
COLLAPSE_RATIO = 0.3  # volume below 30 % of the unit's mean of its previous 3 months

# pandas dtypes that DuckDB produces for each contract type (pandas 3: strings are `str`; a
# column with nulls may come as a nullable extension type; an all-null column as object).
PANDAS_TYPES = {
    "TIMESTAMP": ["datetime64[us]", "datetime64[ns]", "object"],
    "DATE": ["datetime64[us]", "datetime64[ns]", "datetime64[s]", "object"],
    "BOOLEAN": ["bool", "BooleanDtype", "object"],
    "SMALLINT": ["int16", "Int16Dtype", "float64", "object"],
    "INTEGER": ["int32", "Int32Dtype", "float64", "object"],
    "BIGINT": ["int64", "Int64Dtype", "float64", "object"],
    "DOUBLE": ["float64", "Float64Dtype", "object"],
}

# Pair rules on valid rows (column A >= column B), by kind.
PAIR_RULES = {
    "dossiers": [("due_at", "received_at")],
    "complaints": [("processed_at", "received_at")],
}
RANGES = {
    "dossiers": {"fee_amount": (0, None), "statutory_duration": (0, None)},
    "procedures": {"mandatory_parts_present": (0, 7)},
    "complaints": {"likes": (0, None), "dislikes": (0, None)},
}


@dataclass(frozen=True)
class SuiteSpec:
    """A suite by name; `build()` makes the GX object (which needs an active GX context)."""

    name: str
    extract_kind: str
    factory: Callable[[], gx.ExpectationSuite]

    def build(self) -> gx.ExpectationSuite:
        return self.factory()


def _blocking(blocking: bool, why: str) -> dict:
    return {"blocking": blocking, "why": why}


def valid_rows_suite(kind: ExtractKind) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=f"{kind.name}_valid_rows")
    why = "rows that passed the row rules must meet the contract"
    columns = [f.name for f in kind.fields] + [name for name, _ in PROVENANCE_COLUMNS]
    suite.add_expectation(gx.expectations.ExpectTableColumnsToMatchOrderedList(
        column_list=columns, meta=_blocking(True, "raw table shape the dbt sources rely on")))
    for f in kind.fields:
        base = f.sql_type.split("(")[0]
        if base != "VARCHAR":
            # Text needs no type check (anything reads as text), and GX 1.24 cannot name pandas
            # 3's `str` dtype (StringDtype with NaN) in a type list. Nullable extension types are named
            # by their pandas class (`Int16Dtype`), which GX resolves with getattr(pandas, name).
            types = PANDAS_TYPES["DOUBLE" if base == "DECIMAL" else base]
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInTypeList(
                column=f.name, type_list=types, meta=_blocking(True, why)))
        if f.required:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
                column=f.name, meta=_blocking(True, why)))
        if f.allowed_values:
            values = [int(v) for v in f.allowed_values] if base in ("SMALLINT", "INTEGER") else list(f.allowed_values)
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
                column=f.name, value_set=values, meta=_blocking(True, why)))
    for column, (low, high) in RANGES.get(kind.name, {}).items():
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
            column=column, min_value=low, max_value=high, meta=_blocking(True, why)))
    for a, b in PAIR_RULES.get(kind.name, []):
        suite.add_expectation(gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing",
            meta=_blocking(True, why)))
    return suite


def rejections_suite(kind: ExtractKind) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=f"{kind.name}_rejections")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="rejected_share", min_value=0, max_value=BLOCKING_REJECTED_SHARE,
        meta=_blocking(True, f"more than {BLOCKING_REJECTED_SHARE:.0%} of the batch rejected by one rule")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="rejected_share", min_value=0, max_value=WARNING_REJECTED_SHARE,
        meta=_blocking(False, f"more than {WARNING_REJECTED_SHARE:.0%} of the batch rejected by one rule")))
    return suite


def volume_suite(kind: ExtractKind) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=f"{kind.name}_volume")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="valid_rows", min_value=1,
        meta=_blocking(True, "no valid rows for the month: every unit would score zero")))
    return suite


def unit_completeness_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="dossiers_unit_completeness")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="dossier_count", min_value=1,
        meta=_blocking(False, "a ranked unit sent no dossiers for the month")))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="ratio_to_previous_months", min_value=COLLAPSE_RATIO,
        meta=_blocking(False, f"volume fell below {COLLAPSE_RATIO:.0%} of the unit's mean of its previous 3 months")))
    return suite


def all_suites() -> list[SuiteSpec]:
    specs = []
    for kind in EXTRACT_KINDS.values():
        specs.append(SuiteSpec(f"{kind.name}_valid_rows", kind.name, partial(valid_rows_suite, kind)))
        specs.append(SuiteSpec(f"{kind.name}_rejections", kind.name, partial(rejections_suite, kind)))
        specs.append(SuiteSpec(f"{kind.name}_volume", kind.name, partial(volume_suite, kind)))
    specs.append(SuiteSpec("dossiers_unit_completeness", "dossiers", unit_completeness_suite))
    return specs
