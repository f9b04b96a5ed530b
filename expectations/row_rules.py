"""Row rules: how each raw value is read, and when a row is rejected.

Every rule is evaluated by DuckDB over whole batches (millions of rows) so rows never pass
through pandas; Great Expectations then validates the profile of each batch (see
`expectations/suites.py`). Two kinds of rules:

* per-row rules, evaluated while a file or API page is loaded (`typed_select_sql`): a missing
  required field, a value that cannot be read as its type, a value outside its allowed set, and a
  few single-row consistency rules per extract kind;
* cross-row rules, evaluated after all sources of a month are loaded (`apply_cross_row_rules`):
  duplicate keys, unit codes not valid in the month, status times before the dossier's reception;
  recomputed from scratch over the month's current sources at every validation, so the month's
  state equals a clean load of its current files whatever order their versions arrived in.

The first rule a row breaks is recorded in `rejection_rule` with a message naming the field and
the offending value in `rejection_reason`; the original values are kept as JSON in `raw_record`.

Per-row reading, for every source kind at once:
* **control characters** (C0 but tab, LF and CR; DEL) are stripped from every text value before
  it is read, so a value made only of NUL bytes is empty: "missing" when the field is required;
* **typed timestamps** (Parquet) of every precision (s, ms, us, ns) are read as TIMESTAMP, and a
  time-zone-aware one is converted to local time in Vietnam (`LOCAL_TIME_ZONE`);
* **plausible times**: every TIMESTAMP and DATE field has a window (`TIME_WINDOWS`, configurable
  by environment variables, docs/reliability.md): not before its earliest date (rule
  `time_before_window`); a time that already happened (submitted, received, synced, a status)
  not after the load time plus a tolerance (rule `time_in_future`); a time that may lie ahead
  (a due date, a legal basis taking effect) not more than some years after its anchor (rule
  `time_too_far_ahead`). The reason names the field, the value and the bound.

No value is pasted into SQL text unquoted: constants and the period go through `sql_str`.

The SQL here is DuckDB's dialect (`try_strptime`, `regexp_full_match`, `to_json`): it runs inside
the embedded warehouse at load time, not in the dbt models.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from ingestion.core.extract_contract import EXTRACT_KINDS, ExtractKind, Field
from ingestion.core.warehouse import sql_str

TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",  # Vietnamese and Excel exports
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y",
)
TRUE_WORDS = ("true", "t", "1", "yes", "y", "có", "co", "x")
FALSE_WORDS = ("false", "f", "0", "no", "n", "không", "khong")


LOCAL_TIME_ZONE = "Asia/Ho_Chi_Minh"
VIETNAM_UTC_OFFSET = dt.timedelta(hours=7)  # no daylight saving time
# C0 control characters but tab, LF and CR, and DEL (RE2 class): stripped from every text value
CONTROL_CHARACTERS = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"
TYPED_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE",
                    "TIMESTAMPTZ", "DATE")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


def without_controls(column: str) -> str:
    """The text of `column` without control characters (the regex runs only where one occurs)."""
    c = f"CAST({column} AS VARCHAR)"
    pattern = sql_str(CONTROL_CHARACTERS)
    return f"CASE WHEN regexp_matches({c}, {pattern}) THEN regexp_replace({c}, {pattern}, '', 'g') ELSE {c} END"


def text_expr(column: str) -> str:
    """The trimmed text of a source column, NULL when empty. Non-breaking spaces count as space.

    The replace/trim only runs on values that need it (a cheap test first): on a 10 M-row month
    the unconditional form cost a large share of the load."""
    c = f"CAST({column} AS VARCHAR)"
    return (
        f"CASE WHEN contains({c}, chr(160)) OR starts_with({c}, ' ') OR ends_with({c}, ' ') "
        f"THEN nullif(trim(replace({c}, chr(160), ' ')), '') ELSE nullif({c}, '') END"
    )


def without_apostrophe(text: str) -> str:
    """Excel keeps a leading apostrophe on text cells (and drops a code's leading zero)."""
    return f"CASE WHEN starts_with({text}, chr(39)) THEN substr({text}, 2) ELSE {text} END"


def number_text_expr(text: str) -> str:
    """Normalise a number written the Vietnamese way ('1.234,5'), with a decimal comma ('12,5')
    or with English thousands ('1,234.5') to '1234.5'. Vietnamese use wins where the two readings
    conflict: '1.234' is one thousand two hundred thirty-four."""
    t = f"replace(replace({text}, ' ', ''), '%', '')"
    return (
        f"CASE WHEN regexp_full_match({t}, '-?\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?') "
        f"THEN replace(replace({t}, '.', ''), ',', '.') "
        f"WHEN regexp_full_match({t}, '-?\\d+,\\d+') THEN replace({t}, ',', '.') "
        f"WHEN regexp_full_match({t}, '-?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?') THEN replace({t}, ',', '') "
        f"ELSE {t} END"
    )


def parse_expr(field: Field, column: str, source_type: str = "VARCHAR", text: str | None = None) -> str:
    """SQL reading `column` (of `source_type` in the source) as the contract type of `field`.
    NULL when the value is empty or unreadable (`is_invalid_expr` tells the two apart). `text`: an
    expression already holding `text_expr(column)` (computed once per value by the caller)."""
    target = field.sql_type
    stype = source_type.upper()
    if stype == target.upper() and target != "VARCHAR":
        return column  # typed source (Parquet) already in the contract type
    if target in ("TIMESTAMP", "DATE") and stype in TYPED_TIMESTAMPS:
        # a typed time of another precision, or with a time zone (converted to local time)
        local = (f"timezone({sql_str(LOCAL_TIME_ZONE)}, {column})" if stype in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
                 else f"CAST({column} AS TIMESTAMP)")
        return f"CAST({local} AS DATE)" if target == "DATE" else local
    text = text if text is not None else text_expr(column)
    if target == "VARCHAR":
        cleaned = without_apostrophe(text)
        if field.name in ("parent_unit_code", "unit_code"):
            # a one-digit province code that lost its leading zero in a spreadsheet
            return (f"CASE WHEN length({cleaned}) = 1 AND {cleaned} BETWEEN '0' AND '9' "
                    f"THEN '0' || {cleaned} ELSE {cleaned} END")
        return cleaned
    if target == "BOOLEAN":
        return (
            f"CASE WHEN lower({text}) IN {_sql_list(TRUE_WORDS)} THEN true "
            f"WHEN lower({text}) IN {_sql_list(FALSE_WORDS)} THEN false END"
        )
    if target in ("SMALLINT", "INTEGER", "BIGINT"):
        return f"try_cast({text} AS {target})"
    if target == "DOUBLE" or target.startswith("DECIMAL"):
        return f"try_cast({number_text_expr(text)} AS {target})"
    if target in ("TIMESTAMP", "DATE"):
        formats = "[" + ", ".join(sql_str(f) for f in TIMESTAMP_FORMATS) + "]"
        expr = f"try_strptime({text}, {formats})"
        return f"CAST({expr} AS DATE)" if target == "DATE" else expr
    raise ValueError(f"no reader for type {target} of field {field.name}")


def is_invalid_expr(field: Field, column: str, parsed: str, source_type: str, text: str | None = None) -> str:
    """True when the source holds a value that could not be read as the field's type."""
    if field.sql_type == "VARCHAR" or source_type.upper() == field.sql_type.upper():
        return "false"
    if field.sql_type in ("TIMESTAMP", "DATE") and source_type.upper() in TYPED_TIMESTAMPS:
        return "false"  # a typed time always converts
    return f"({text if text is not None else text_expr(column)} IS NOT NULL AND ({parsed}) IS NULL)"


@dataclass(frozen=True)
class RowRule:
    """A single-row consistency rule on parsed values. `failing_sql` is true for a bad row."""

    name: str
    field: str
    failing_sql: str
    message_sql: str  # SQL expression producing the message


# Single-row consistency rules by extract kind; they see the parsed columns and `period_end`.
ROW_RULES: dict[str, tuple[RowRule, ...]] = {
    "dossiers": (
        RowRule(
            "due_before_received", "due_at", "due_at < received_at",
            "'due_at ' || CAST(due_at AS VARCHAR) || ' is before received_at ' || CAST(received_at AS VARCHAR)",
        ),
        RowRule(
            "received_after_period", "received_at", "received_at >= period_end",
            "'received_at ' || CAST(received_at AS VARCHAR) || ' is after the extract month'",
        ),
        RowRule(
            "negative_fee", "fee_amount", "fee_amount < 0",
            "'fee_amount ' || CAST(fee_amount AS VARCHAR) || ' is negative'",
        ),
        RowRule(
            "statutory_duration_without_unit", "statutory_duration_unit",
            "statutory_duration IS NOT NULL AND statutory_duration_unit IS NULL",
            "'statutory_duration is set but statutory_duration_unit is empty'",
        ),
    ),
    "dossier_status_history": (
        RowRule(
            "status_after_period", "status_at", "status_at >= period_end",
            "'status_at ' || CAST(status_at AS VARCHAR) || ' is after the extract month'",
        ),
    ),
    "procedures": (
        RowRule(
            "mandatory_parts_out_of_range", "mandatory_parts_present",
            "mandatory_parts_present NOT BETWEEN 0 AND 7",
            "'mandatory_parts_present ' || CAST(mandatory_parts_present AS VARCHAR) || ' is not between 0 and 7'",
        ),
    ),
    "complaints": (
        RowRule(
            "completed_before_received", "processed_at", "processed_at < received_at",
            "'processed_at ' || CAST(processed_at AS VARCHAR) || ' is before received_at ' || CAST(received_at AS VARCHAR)",
        ),
        RowRule(
            "negative_reactions", "likes", "likes < 0 OR dislikes < 0",
            "'likes/dislikes must not be negative'",
        ),
    ),
}


# ---------------------------------------------------------------------------------------------
# Plausible times

DEFAULT_EARLIEST = "2015-01-01"  # before the national portal and the 766 index: no dossier is older
DEFAULT_FUTURE_TOLERANCE_HOURS = 24  # clocks of agencies and a load in the evening of a time zone ahead
DEFAULT_DUE_MAX_YEARS = 3  # the longest statutory processing time is months, not years


@dataclass(frozen=True)
class TimeWindow:
    """Where a time field's values are plausible. `earliest`: an ISO date, None for the default
    (`DXMON_TIME_EARLIEST`). `happened`: the time of something that already took place, so not
    later than the load time plus the tolerance. `ahead_of` + `max_years_ahead`: a time that may lie
    in the future, but not more than that many years after the field `ahead_of` (or after the load
    time when `ahead_of` is None)."""

    earliest: str | None = None
    happened: bool = True
    ahead_of: str | None = None
    max_years_ahead: int | None = None


# Every TIMESTAMP and DATE field of the extract contract has a window; a field not listed gets the
# default one (not before the earliest date, already happened).
TIME_WINDOWS: dict[str, dict[str, TimeWindow]] = {
    "dossiers": {
        "due_at": TimeWindow(happened=False, ahead_of="received_at", max_years_ahead=DEFAULT_DUE_MAX_YEARS),
    },
    "procedures": {
        # a procedure's decisions and legal basis can predate the portal
        "announced_on": TimeWindow(earliest="1990-01-01"),
        "published_on": TimeWindow(earliest="1990-01-01"),
        "legal_basis_effective_on": TimeWindow(earliest="1945-09-02", happened=False, max_years_ahead=10),
    },
}


def _env_date(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{name}={value!r}: not a date (YYYY-MM-DD)") from None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: not a whole number") from None


def time_windows(kind: ExtractKind) -> dict[str, TimeWindow]:
    """The window of every time field of `kind`, with the environment's overrides applied:
    `DXMON_TIME_EARLIEST` (the default earliest date), `DXMON_TIME_EARLIEST_<FIELD>` (one field's),
    `DXMON_DUE_MAX_YEARS` (due_at after received_at). Read at each load."""
    default_earliest = _env_date("DXMON_TIME_EARLIEST", DEFAULT_EARLIEST)
    due_years = _env_int("DXMON_DUE_MAX_YEARS", DEFAULT_DUE_MAX_YEARS)
    windows = {}
    for f in kind.fields:
        if f.sql_type not in ("TIMESTAMP", "DATE"):
            continue
        w = TIME_WINDOWS.get(kind.name, {}).get(f.name, TimeWindow())
        earliest = _env_date(f"DXMON_TIME_EARLIEST_{f.name.upper()}", w.earliest or default_earliest)
        years = due_years if (kind.name, f.name) == ("dossiers", "due_at") else w.max_years_ahead
        windows[f.name] = TimeWindow(earliest, w.happened, w.ahead_of, years)
    return windows


def future_tolerance() -> dt.timedelta:
    return dt.timedelta(hours=_env_int("DXMON_TIME_FUTURE_TOLERANCE_HOURS", DEFAULT_FUTURE_TOLERANCE_HOURS))


def vietnam_now() -> dt.datetime:
    """The current local time in Vietnam (the time zone of every timestamp in the extracts), naive."""
    return (dt.datetime.now(dt.UTC) + VIETNAM_UTC_OFFSET).replace(tzinfo=None, microsecond=0)


def time_window_rules(kind: ExtractKind, loaded_at: dt.datetime) -> tuple[RowRule, ...]:
    """The plausibility rules of `kind`'s time fields, judged against the load time `loaded_at`."""
    latest = loaded_at + future_tolerance()
    latest_sql = f"TIMESTAMP {sql_str(latest.isoformat(sep=' '))}"
    hours = int(future_tolerance().total_seconds() // 3600)
    rules = []
    for name, w in time_windows(kind).items():
        col = _q(name)
        value = f"CAST({col} AS VARCHAR)"
        rules.append(RowRule(
            "time_before_window", name, f"{col} < DATE {sql_str(w.earliest)}",
            f"{sql_str(name + ': ')} || {value} || {sql_str(' is before the plausible window (earliest ' + w.earliest + ')')}",
        ))
        if w.happened:
            rules.append(RowRule(
                "time_in_future", name, f"{col} > {latest_sql}",
                f"{sql_str(name + ': ')} || {value} || "
                f"{sql_str(f' is later than the load time {loaded_at:%Y-%m-%d %H:%M} plus {hours} h (it must already have happened)')}",
            ))
        if w.max_years_ahead is not None:
            anchor = _q(w.ahead_of) if w.ahead_of else latest_sql
            anchor_text = w.ahead_of or "the load time"
            rules.append(RowRule(
                "time_too_far_ahead", name, f"{col} > {anchor} + INTERVAL {int(w.max_years_ahead)} YEAR",
                f"{sql_str(name + ': ')} || {value} || "
                f"{sql_str(f' is more than {int(w.max_years_ahead)} years after {anchor_text}')}"
                + (f" || ' ' || CAST({anchor} AS VARCHAR)" if w.ahead_of else ""),
            ))
    return tuple(rules)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def typed_select_sql(
    kind: ExtractKind,
    source_sql: str,
    source_types: dict[str, str],
    period_month: str,
    *,
    strip_controls: bool = True,
    loaded_at: dt.datetime | None = None,
) -> str:
    """A SELECT that reads `source_sql` (whose columns carry the contract names plus
    `__source_id` and `__source_row`) into the raw table's columns, with the first failing rule
    of each row. `strip_controls`: remove control characters from text values first (a caller that
    knows the source holds none passes False). `loaded_at`: the load time the plausible windows
    are judged against (local time in Vietnam; now by default)."""
    loaded_at = loaded_at or vietnam_now()
    month = f"DATE {sql_str(dt.date.fromisoformat(str(period_month)[:10]).isoformat())}"
    # Two layers before the rules: control characters stripped, then each text value trimmed once
    # (`__text__<field>`), which every rule of the field reads (the SQL stays small: its planning
    # time grows with the repeated expressions).
    cleaned_cols, text_cols = [], []
    for f in kind.fields:
        stype = source_types.get(f.name, "VARCHAR").upper()
        src_col = f"s.{_q(f.name)}"
        cleaned = without_controls(src_col) if strip_controls and stype == "VARCHAR" else src_col
        cleaned_cols.append(f"{cleaned} AS {_q(f.name)}, {src_col} AS {_q('__raw__' + f.name)}")
        if stype == "VARCHAR":
            text_cols.append(f"{text_expr('c.' + _q(f.name))} AS {_q('__text__' + f.name)}")
    cleaned_sql = (f"SELECT {', '.join(cleaned_cols)}, s.__source_id, s.__source_row "
                   f"FROM ({source_sql}) AS s")
    texts_sql = f"SELECT c.*{', ' if text_cols else ''}{', '.join(text_cols)} FROM ({cleaned_sql}) AS c"
    parsed_cols, checks = [], []
    for f in kind.fields:
        col = f"src.{_q(f.name)}"
        stype = source_types.get(f.name, "VARCHAR")
        typed_source = stype.upper() != "VARCHAR"
        raw_text = text_expr(col) if typed_source else f"src.{_q('__text__' + f.name)}"
        parsed = parse_expr(f, col, stype, text=raw_text)
        parsed_cols.append(f"{parsed} AS {_q(f.name)}")
        if f.required:
            checks.append((
                f"({col} IS NULL)" if typed_source else f"({raw_text} IS NULL)",
                sql_str("missing_required_field"),
                sql_str(f"{f.name}: required value is empty"),
            ))
        quote = "'"
        checks.append((
            is_invalid_expr(f, col, parsed, stype, text=raw_text),
            sql_str("invalid_value"),
            f"{sql_str(f'{f.name}: cannot read {quote}')} || {raw_text} || {sql_str(f'{quote} as {f.sql_type}')}",
        ))
        if f.allowed_values:
            allowed = ", ".join(f.allowed_values)
            checks.append((
                f"({parsed} IS NOT NULL AND CAST({parsed} AS VARCHAR) NOT IN {_sql_list(f.allowed_values)})",
                sql_str("value_not_allowed"),
                f"{sql_str(f'{f.name}: {quote}')} || CAST({parsed} AS VARCHAR) || "
                f"{sql_str(f'{quote} is not one of {allowed}')}",
            ))
    field_cases_rule = " ".join(f"WHEN {cond} THEN {rule}" for cond, rule, _ in checks)
    field_cases_msg = " ".join(f"WHEN {cond} THEN {msg}" for cond, _, msg in checks)
    row_rules = time_window_rules(kind, loaded_at) + ROW_RULES.get(kind.name, ())
    rr_rule = " ".join(f"WHEN {r.failing_sql} THEN {sql_str(r.name)}" for r in row_rules)
    rr_msg = " ".join(f"WHEN {r.failing_sql} THEN {r.message_sql}" for r in row_rules)
    names = ", ".join(_q(f.name) for f in kind.fields)
    # The original values travel beside the parsed ones; only rejected rows keep them.
    # (cast to text only inside the CASE of rejected rows: casting every value cost seconds per
    # million rows)
    raw_passthrough = ", ".join(f"src.{_q('__raw__' + f.name)}" for f in kind.fields)
    raw_struct = ", ".join(f"{_q(f.name)} := CAST({_q('__raw__' + f.name)} AS VARCHAR)" for f in kind.fields)
    return f"""
WITH parsed AS (
  SELECT {", ".join(parsed_cols)},
         src.__source_id AS source_id,
         src.__source_row AS source_row,
         CASE {field_cases_rule} END AS field_rule,
         CASE {field_cases_msg} END AS field_message,
         {raw_passthrough}
  FROM ({texts_sql}) AS src
),
ruled AS (
  SELECT *, {month} AS period_month,
         {month} + INTERVAL 1 MONTH AS period_end
  FROM parsed
),
judged AS (
  SELECT *, coalesce(field_rule, CASE {rr_rule or "WHEN false THEN NULL"} END) AS rejection_rule
  FROM ruled
)
SELECT {names},
       period_month,
       source_id,
       source_row,
       rejection_rule,
       CASE WHEN rejection_rule IS NOT NULL
            THEN coalesce(field_message, CASE {rr_msg or "WHEN false THEN NULL"} END) END AS rejection_reason,
       CASE WHEN rejection_rule IS NOT NULL
            THEN to_json(struct_pack({raw_struct})) END AS raw_record,
       current_timestamp::TIMESTAMP AS loaded_at
FROM judged
"""


# ---------------------------------------------------------------------------------------------
# Cross-row rules, run once per month after every source of the month is loaded.
#
# A month's state must equal a clean load of its current sources, whatever order their versions
# arrived in. A cross-row rejection depends on other rows (the first occurrence of a key, the
# dossier's reception, the unit registry), so it is never kept from one validation to the next:
# `apply_cross_row_rules` first clears every cross-row rejection of the month (the rows return
# to the state their own load gave them: a row rejected by a per-row rule keeps that rejection,
# since cross-row rules only judge rows no per-row rule rejected), then applies the rules again
# over the month's current rows, all in one transaction. A replaced or removed file therefore
# leaves no stale flag on the rows of the other files.

UNIT_ATTRIBUTION_TABLE = "intermediate.int_unit_codes_attributed"
TIMELINE_CONFLICTS = "dxmon_timeline_conflicts"  # a temporary table of the month's validation


def cross_row_rule_names(kind: ExtractKind) -> tuple[str, ...]:
    """The rules `cross_row_rule_statements` applies to `kind`, in order. No per-row rule of the
    same kind may carry one of these names (tests/reliability/test_reruns_cross_row.py checks):
    clearing them is how the month's cross-row state is recomputed."""
    timeline = ("completed_before_received",) if kind.name in ("dossiers", "dossier_status_history") else ()
    return ("unit_not_valid_in_period", *timeline, "duplicate_key")


def _record_sql(kind: ExtractKind) -> str:
    """The row's contract values as JSON text, as a rejected row keeps them in `raw_record`
    (without the bookkeeping columns, so the record does not depend on when the row was loaded)."""
    return "to_json(struct_pack(" + ", ".join(
        f"{_q(f.name)} := CAST(t.{_q(f.name)} AS VARCHAR)" for f in kind.fields) + "))"


def _reject_sql(kind: ExtractKind, where: str, rule: str, message_sql: str) -> str:
    """UPDATE statement rejecting rows of the kind's raw table (aliased t) selected by `where`."""
    return f"""
UPDATE raw.{kind.name} AS t SET
  rejection_rule = '{rule}',
  rejection_reason = {message_sql},
  raw_record = {_record_sql(kind)}
WHERE t.rejection_rule IS NULL AND {where}
"""


def clear_cross_row_rejections_sql(kind: ExtractKind, period_month: str) -> str:
    """UPDATE returning every row of the month that a cross-row rule rejected to the state its
    own load gave it (accepted: no rule, no reason, no record)."""
    return f"""
UPDATE raw.{kind.name} SET rejection_rule = NULL, rejection_reason = NULL, raw_record = NULL
WHERE period_month = DATE '{period_month}' AND rejection_rule IN {_sql_list(cross_row_rule_names(kind))}
"""


def cross_row_rule_statements(kind: ExtractKind, period_month: str, unit_table: str) -> list[tuple[str, str]]:
    """(rule name, SQL) pairs, in order, for one kind and month. They judge only rows that no
    rule rejected yet: run them after `clear_cross_row_rejections_sql` (as
    `apply_cross_row_rules` does) so the outcome does not depend on earlier validations."""
    table = f"raw.{kind.name}"
    month = f"DATE '{period_month}'"
    stmts: list[tuple[str, str]] = []
    unit = kind.unit_field
    stmts.append((
        "unit_not_valid_in_period",
        _reject_sql(
            kind,
            # the month's valid codes are a few hundred: a NOT IN list is a filter on the scan
            # (the correlated NOT EXISTS took 18 s over 10 M dossiers)
            f"t.period_month = {month} AND t.{unit} IS NOT NULL AND t.{unit} NOT IN ("
            f"SELECT u.reported_unit_code FROM {unit_table} u WHERE u.period_month = {month} "
            f"AND u.reported_unit_code IS NOT NULL)",
            "unit_not_valid_in_period",
            f"'{unit}: ''' || t.{unit} || ''' is not a ministry or province code valid in ' || "
            f"strftime({month}, '%Y-%m')",
        ),
    ))
    if kind.name == "dossier_status_history":
        # A status of a dossier earlier than its reception: the dossier's timeline is wrong, so
        # both the status rows and the dossier are rejected (766 rule 2.1 cannot judge it).
        # The conflicting ids are found once (TIMELINE_CONFLICTS_SQL), a few thousand at most.
        stmts.append((
            "completed_before_received",
            _reject_sql(
                kind,
                f"t.period_month = {month} AND t.dossier_id IN (SELECT dossier_id FROM {TIMELINE_CONFLICTS}) "
                f"AND t.status_at < (SELECT c.last_received_at FROM {TIMELINE_CONFLICTS} c "
                f"WHERE c.dossier_id = t.dossier_id)",
                "completed_before_received",
                "'status_at: ' || t.status_code || ' at ' || CAST(t.status_at AS VARCHAR) || "
                "' is before the dossier''s received_at'",
            ),
        ))
    if kind.name == "dossiers":
        stmts.append((
            "completed_before_received",
            _reject_sql(
                kind,
                f"t.period_month = {month} AND t.dossier_id IN (SELECT dossier_id FROM {TIMELINE_CONFLICTS}) "
                f"AND t.received_at > (SELECT c.first_status_at FROM {TIMELINE_CONFLICTS} c "
                f"WHERE c.dossier_id = t.dossier_id)",
                "completed_before_received",
                "'received_at: ' || CAST(t.received_at AS VARCHAR) || "
                "' is after a later status of the dossier (see dossier_status_history)'",
            ),
        ))
    # Duplicates last: the first valid occurrence stays, later ones go. "First" is by source id,
    # then row: a file's source id is made of its kind and sha256, a page's of its number and
    # sha256, never of when it arrived, so the row that stays is the same whatever order the
    # month's files came in, and the same as in a clean load of them.
    key_cols = ", ".join(kind.key)
    stmts.append((
        "duplicate_key",
        f"""
UPDATE {table} AS t SET
  rejection_rule = 'duplicate_key',
  rejection_reason = 'duplicate of {key_cols} = ' || d.key_text || ' first seen in ' || d.first_source
                     || ' row ' || CAST(d.first_row AS VARCHAR),
  raw_record = {_record_sql(kind)}
FROM (
  SELECT source_id, source_row, key_text, first_source, first_row FROM (
    SELECT source_id, source_row,
           concat_ws('|', {key_cols}) AS key_text,
           first_value(source_id) OVER w AS first_source,
           first_value(source_row) OVER w AS first_row,
           row_number() OVER w AS occurrence
    FROM {table}
    JOIN (  -- only keys seen more than once: a cheap hash aggregate before the window
      SELECT {key_cols} FROM {table}
      WHERE period_month = {month} AND rejection_rule IS NULL
      GROUP BY {key_cols} HAVING count(*) > 1
    ) AS dup_keys USING ({key_cols})
    WHERE period_month = {month} AND rejection_rule IS NULL
    -- (source_id, source_row) is unique within a month: a total order, no ties in the window
    WINDOW w AS (PARTITION BY {key_cols} ORDER BY source_id, source_row)
  ) WHERE occurrence > 1
) AS d
WHERE t.period_month = {month} AND t.source_id = d.source_id AND t.source_row = d.source_row
""",
    ))
    assert tuple(name for name, _ in stmts) == cross_row_rule_names(kind)
    return stmts


def timeline_conflicts_sql(period_month: str) -> str:
    """The month's dossier ids with a status earlier than a reception of the same id, with the
    first status time and the last reception time: what both completed_before_received rules
    compare against. One aggregate over the statuses and one join, instead of two correlated
    checks over every row (61 s -> under 10 s at 10 M dossiers and 19 M statuses). Rows rejected
    by other rules count too, as in the rule's definition."""
    month = f"DATE '{period_month}'"
    return f"""
CREATE OR REPLACE TEMP TABLE {TIMELINE_CONFLICTS} AS
WITH first_status AS (
  SELECT dossier_id, min(status_at) AS first_status_at
  FROM raw.dossier_status_history WHERE period_month = {month} AND dossier_id IS NOT NULL
  GROUP BY dossier_id
)
SELECT d.dossier_id, any_value(f.first_status_at) AS first_status_at, max(d.received_at) AS last_received_at
FROM raw.dossiers d JOIN first_status f ON f.dossier_id = d.dossier_id
WHERE d.period_month = {month} AND f.first_status_at < d.received_at
GROUP BY d.dossier_id
"""


def apply_cross_row_rules(con, period_month: str, unit_table: str = UNIT_ATTRIBUTION_TABLE) -> dict[str, int]:
    """Recompute every cross-row rule of one month over its current rows: clear the month's
    cross-row rejections, then apply the rules again. Returns the rows each rule rejects, per
    kind and rule: the month's whole cross-row state, not the change. Run it inside one
    transaction (`expectations.month_validation.recompute_cross_row_rules` does), so a crash
    half-way leaves the month's flags as they were."""
    rejected: dict[str, int] = {}
    for kind in EXTRACT_KINDS.values():
        con.execute(clear_cross_row_rejections_sql(kind, period_month))
    con.execute(timeline_conflicts_sql(period_month))  # a temporary table (rolled back with a failure)
    for kind in EXTRACT_KINDS.values():
        for rule, sql in cross_row_rule_statements(kind, period_month, unit_table):
            count = con.execute(sql).fetchone()[0]
            rejected[f"{kind.name}.{rule}"] = rejected.get(f"{kind.name}.{rule}", 0) + int(count or 0)
    con.execute(f"DROP TABLE IF EXISTS {TIMELINE_CONFLICTS}")
    return rejected
