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
