{#- Period helpers of the KPI models (docs/kpi_methodology.md). -#}

{#- 'YYYY-MM' of a date: the period_key of a service-index month in meta.publication_gate.
    There is no cross-database date-format macro in dbt: strftime is DuckDB's spelling,
    to_char the ANSI-ish one (Postgres, Snowflake, Redshift). -#}
{% macro kpi_month_key(date_expression) -%}
    {{ return(adapter.dispatch('kpi_month_key', 'dxmon')(date_expression)) }}
{%- endmacro %}

{% macro default__kpi_month_key(date_expression) -%}
    to_char({{ date_expression }}, 'YYYY-MM')
{%- endmacro %}

{% macro duckdb__kpi_month_key(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m')
{%- endmacro %}

{#- 31 December of a year (an integer expression), as a date. -#}
{% macro kpi_year_end(year_expression) -%}
    cast({{ dbt.concat([dbt.cast(year_expression, dbt.type_string()), "'-12-31'"]) }} as date)
{%- endmacro %}

{#- 1 January of a year (an integer expression), as a date. -#}
{% macro kpi_year_start(year_expression) -%}
    cast({{ dbt.concat([dbt.cast(year_expression, dbt.type_string()), "'-01-01'"]) }} as date)
{%- endmacro %}

{#- The as-of date the trends are assessed at, when the invocation fixes it: var kpi_as_of, else
    the last day of the period window when one is set (period_end is exclusive; the Dagster assets
    set it as DXMON_PERIOD_END, macros/period_window.sql, by hand `--vars`), else a NULL
    date (the model then takes the latest period_end of the values). Never the clock: a rerun
    on the same data gives the same result. -#}
{% macro kpi_as_of_setting() -%}
    {%- set as_of = var('kpi_as_of', none) -%}
    {%- if as_of is not none and as_of | string | lower not in ('none', '') -%}
        cast('{{ as_of }}' as date)
    {%- elif env_var('DXMON_PERIOD_END', var('period_end')) | string != '2999-12-31' -%}
        cast({{ dbt.dateadd('day', -1, "cast('" ~ env_var('DXMON_PERIOD_END', var('period_end')) ~ "' as date)") }} as date)
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}

{#- Time in years between a fixed origin and a date (the x axis of the trends). -#}
{% macro kpi_years_since_origin(date_expression, days_per_year) -%}
    ({{ dbt.datediff("cast('2000-01-01' as date)", date_expression, 'day') }} / cast({{ days_per_year }} as {{ type_double() }}))
{%- endmacro %}

{#- Two relations' rows belong to the same series: KPI, measure, level, unit (NULL for the
    national value and the all-ministries / all-provinces aggregates) and series (who measures). -#}
{% macro kpi_same_series(left, right) -%}
    {{ left }}.kpi_code = {{ right }}.kpi_code
    and {{ left }}.measure = {{ right }}.measure
    and {{ left }}.level = {{ right }}.level
    and coalesce({{ left }}.unit_code, '') = coalesce({{ right }}.unit_code, '')
    and {{ left }}.series = {{ right }}.series
{%- endmacro %}
