{#- Working-day arithmetic by index difference on int_calendar_working_days:
    working_day_index is the running count of working days up to and including a date, so
    index(later) - index(earlier) = working days after `earlier` up to and including `later`. -#}

{#- Join alias <alias> of the calendar on a date expression. -#}
{% macro join_calendar(alias, date_expression, calendar_relation='calendar') -%}
    left join {{ calendar_relation }} as {{ alias }}
        on {{ alias }}.calendar_date = {{ date_expression }}
{%- endmacro %}

{% macro working_days_between(earlier_alias, later_alias) -%}
    ({{ later_alias }}.working_day_index - {{ earlier_alias }}.working_day_index)
{%- endmacro %}

{#- Day of the week, 0 = Sunday .. 6 = Saturday. dbt-core has no cross-database date_part
    macro; `extract(dow from ...)` gives this numbering in DuckDB and Postgres (override per
    adapter through dispatch where it differs, e.g. BigQuery's dayofweek is 1-based). -#}
{% macro day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('day_of_week', 'dxmon')(date_expression)) }}
{%- endmacro %}

{% macro default__day_of_week(date_expression) -%}
    extract(dow from {{ date_expression }})
{%- endmacro %}
