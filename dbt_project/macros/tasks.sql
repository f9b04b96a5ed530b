{#- Task tracking (docs/task_tracking.md): the rates, each named by what it divides by, defined
    once here and used by rpt_task_status_by_agency and by the worked-examples check
    (int_task_worked_example_rates). Two denominators are in use in published figures:
      due_tasks     = completed + overdue_not_completed (the 2017 report's 98.62 %)
      all_assigned  = every task with a class in the period (the 2021 report's 2.2 %)
    Rates are percentages (0-100), unrounded; NULL when the denominator is 0. -#}

{#- (rate column, published_rate_kind, published_rate_denominator of seed task_worked_examples) -#}
{% macro task_rate_definitions() -%}
    {{ return([
        {'name': 'completion_rate_of_due_tasks', 'kind': 'completion_rate', 'denominator': 'due_tasks'},
        {'name': 'completion_rate_of_assigned', 'kind': 'completion_rate', 'denominator': 'all_assigned'},
        {'name': 'overdue_share_of_assigned', 'kind': 'overdue_share', 'denominator': 'all_assigned'},
        {'name': 'overdue_share_of_due_tasks', 'kind': 'overdue_share', 'denominator': 'due_tasks'},
        {'name': 'within_deadline_share_of_assigned', 'kind': 'within_deadline_share', 'denominator': 'all_assigned'},
    ]) }}
{%- endmacro %}

{#- The tasks in the due-tasks denominator: completed (on time or late) + overdue, not completed. -#}
{% macro task_due_tasks(completed, overdue_not_completed) -%}
    ({{ completed }} + {{ overdue_not_completed }})
{%- endmacro %}

{#- 100 x numerator / denominator as a double; NULL when the denominator is 0 or NULL. -#}
{% macro task_percent(numerator, denominator) -%}
    (100 * cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- The select-list of the named rates from the counts (column expressions of one row):
    `due_tasks` and every rate of task_rate_definitions(), each aliased by its name. -#}
{% macro task_rates(completed, overdue_not_completed, in_progress_within_deadline, assigned) -%}
    {%- set due = task_due_tasks(completed, overdue_not_completed) -%}
    {%- set numerators = {
        'completion_rate': completed,
        'overdue_share': overdue_not_completed,
        'within_deadline_share': in_progress_within_deadline,
    } -%}
    {%- set denominators = {'due_tasks': due, 'all_assigned': assigned} -%}
    {{ due }} as due_tasks
    {%- for rate in task_rate_definitions() %},
    {{ task_percent(numerators[rate.kind], denominators[rate.denominator]) }} as {{ rate.name }}
    {%- endfor -%}
{%- endmacro %}

{#- A date written out in English words, '1 July 2025' (the lead-unit note of fct_tasks);
    extract() is ANSI SQL. -#}
{% macro task_long_date(date_expression) -%}
    {{ dbt.concat([
        dbt.cast("extract(day from " ~ date_expression ~ ")", dbt.type_string()), "' '",
        "case extract(month from " ~ date_expression ~ ")"
        ~ " when 1 then 'January' when 2 then 'February' when 3 then 'March' when 4 then 'April'"
        ~ " when 5 then 'May' when 6 then 'June' when 7 then 'July' when 8 then 'August'"
        ~ " when 9 then 'September' when 10 then 'October' when 11 then 'November' else 'December' end",
        "' '", dbt.cast("extract(year from " ~ date_expression ~ ")", dbt.type_string())
    ]) }}
{%- endmacro %}
