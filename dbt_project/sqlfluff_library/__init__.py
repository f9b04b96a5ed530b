"""What sqlfluff's jinja templater needs to render this dbt project without dbt (`.sqlfluff`:
library_path). Every name defined here is a global of the templates: dbt's `return()` (a macro
that returns a list, e.g. service_measure_definitions(), must return it, not its text), the
`dbt.*` cross-database macros and `adapter.dispatch` as the DuckDB SQL they compile to, and
`execute = False` (as in dbt's parse phase: no query runs, run_query-backed lists are empty),
and macros calling macros of other files.
The SQL only has to be close enough to lint: it never runs."""

from __future__ import annotations

from types import SimpleNamespace

import jinja2.runtime

# sqlfluff loads this module again for every file it lints: the patches and their state are kept
# on jinja2.runtime, installed once.
if not hasattr(jinja2.runtime, "_dxmon_lint"):
    class _MacroReturn(Exception):
        def __init__(self, value):
            super().__init__()
            self.value = value

    # sqlfluff renders each macro file as its own template, whose globals are a copy taken before
    # the other files' macros are loaded: a macro calling a macro of another file (as dbt allows)
    # would find it undefined. Every macro is registered by name and found there when missing
    # (the last one loaded: the .sqlfluff [macros] overrides load after dbt_project/macros).
    _macros: dict = {}
    _invoke = jinja2.runtime.Macro._invoke
    _macro_init = jinja2.runtime.Macro.__init__
    _resolve = jinja2.runtime.Context.resolve_or_missing

    def _invoke_with_return(self, arguments, autoescape):
        try:
            return _invoke(self, arguments, autoescape)
        except _MacroReturn as returned:
            return returned.value

    def _register_macro(self, environment, func, name, *args, **kwargs):
        _macro_init(self, environment, func, name, *args, **kwargs)
        _macros[name] = self

    def _resolve_or_macro(self, key):
        value = _resolve(self, key)
        return _macros.get(key, value) if value is jinja2.runtime.missing else value

    # sqlfluff compiles every macro file again for each file it lints (a fifth of the lint's
    # time); the macros do not depend on the linted file: compile them once per process.
    from sqlfluff.core.templaters.jinja import JinjaTemplater

    _extract = JinjaTemplater._extract_macros_from_path.__func__
    _extracted: dict = {}

    def _extract_once(cls, path, env, ctx, exclude_paths=None):
        key = (tuple(path), tuple(exclude_paths or ()))
        if key not in _extracted:
            _extracted[key] = _extract(cls, path, env=env, ctx=ctx, exclude_paths=exclude_paths)
        return dict(_extracted[key])

    JinjaTemplater._extract_macros_from_path = classmethod(_extract_once)
    jinja2.runtime.Macro._invoke = _invoke_with_return
    jinja2.runtime.Macro.__init__ = _register_macro
    jinja2.runtime.Context.resolve_or_missing = _resolve_or_macro
    jinja2.runtime._dxmon_lint = SimpleNamespace(MacroReturn=_MacroReturn)


def _return(value=None):
    raise jinja2.runtime._dxmon_lint.MacroReturn(value)


globals()["return"] = _return
execute = False
before_begin = lambda sql: ""  # noqa: E731 (a hook in config(), not SQL)
invocation_id = "invocation_id"


def env_var(name, default=None):
    """dbt's env_var(): the default, as at parse time without the variable (the period window)."""
    return "" if default is None else default


def _date_spine(datepart, start_date, end_date):
    return (f"select cast(range as date) as date_{datepart} "
            f"from range(cast({start_date} as date), cast({end_date} as date), interval 1 {datepart})")


dbt = SimpleNamespace(
    type_string=lambda: "varchar",
    type_int=lambda: "integer",
    type_numeric=lambda: "numeric(28, 6)",
    type_float=lambda: "float",
    type_boolean=lambda: "boolean",
    type_timestamp=lambda: "timestamp",
    current_timestamp=lambda: "current_timestamp",
    concat=lambda fields: " || ".join(str(f) for f in fields),
    safe_cast=lambda field, type: f"try_cast({field} as {type})",
    dateadd=lambda datepart, interval, from_date_or_timestamp: (
        f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"),
    datediff=lambda first_date, second_date, datepart: f"date_diff('{datepart}', {first_date}, {second_date})",
    date_trunc=lambda datepart, date: f"date_trunc('{datepart}', {date})",
    last_day=lambda date, datepart: f"last_day({date})",
    listagg=lambda measure, delimiter_text="','", order_by_clause=None, limit_num=None: (
        f"string_agg({measure}, {delimiter_text}{(' ' + order_by_clause) if order_by_clause else ''})"),
    date_spine=_date_spine,
    cast=lambda field, type: f"cast({field} as {type})",
    hash=lambda field: f"md5(cast({field} as varchar))",
    length=lambda expression: f"length({expression})",
    right=lambda string_text, length_expression: f"right({string_text}, {length_expression})",
    split_part=lambda string_text, delimiter_text, part_number: f"split_part({string_text}, {delimiter_text}, {part_number})",
)

_DISPATCHED = {
    "type_double": lambda: "double precision",
    "type_exact": lambda: "decimal(38, 12)",
    "day_of_week": lambda date_expression: f"extract(dow from {date_expression})",
    "kpi_month_key": lambda date_expression: f"strftime({date_expression}, '%Y-%m')",
}
adapter = SimpleNamespace(
    dispatch=lambda name, package=None: _DISPATCHED[name],
    get_relation=lambda **kwargs: None,
)
# the project's own namespace, for the macros called as dxmon.<macro>()
dxmon = SimpleNamespace(
    type_double=_DISPATCHED["type_double"],
    type_exact=_DISPATCHED["type_exact"],
    exact_total=lambda expression: f"sum(cast({expression} as decimal(38, 12)))",
    exact_sum=lambda expression: f"cast(sum(cast({expression} as decimal(38, 12))) as double precision)",
)
