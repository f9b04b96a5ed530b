-- One row per month and group of tasks: each lead agency (grouping 'agency', its unit code that
-- month), each assigning document (grouping 'document') and the nation (grouping 'national'):
-- the count of tasks per class, assigned_tasks (every task with a class), due_tasks (completed +
-- overdue_not_completed), the named rates of macros/tasks.sql::task_rates (both denominators side
-- by side), the overdue share's change in points since the group's previous month, the key
-- tasks, the month's evaluation date (as_of_date) and publication basis.
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

grouped as (

    select
        period_month,
        'agency' as grouping,
        lead_unit_code as group_code,
        lead_unit_name as group_name,
        class_code,
        is_key_task
    from tasks

    union all

    select
        period_month,
        'document' as grouping,
        document_number as group_code,
        document_title as group_name,
        class_code,
        is_key_task
    from tasks

    union all

    select
        period_month,
        'national' as grouping,
        'national' as group_code,
        'all tasks' as group_name,
        class_code,
        is_key_task
    from tasks

),

{#- one count column per class of seed task_classes (tested: they add up to assigned_tasks) -#}
{%- set class_codes = [
    'completed_on_time', 'completed_late', 'in_progress_within_deadline', 'overdue_not_completed',
    'recurring_met', 'recurring_missed', 'recurring_not_due', 'closed_without_completion'
] %}

counted as (

    select
        period_month,
        grouping,
        group_code,
        max(group_name) as group_name,
        {%- for class_code in class_codes %}
        cast(sum(case when class_code = '{{ class_code }}' then 1 else 0 end) as {{ dbt.type_int() }})
            as {{ class_code }},
        {%- endfor %}
        cast(sum(case when class_code in ('completed_on_time', 'completed_late') then 1 else 0 end)
            as {{ dbt.type_int() }}) as completed_tasks,
        cast(count(*) as {{ dbt.type_int() }}) as assigned_tasks,
        cast(sum(case when is_key_task then 1 else 0 end) as {{ dbt.type_int() }}) as key_tasks,
        cast(sum(case when is_key_task and class_code in ('completed_on_time', 'completed_late') then 1 else 0 end)
            as {{ dbt.type_int() }}) as key_tasks_completed,
        cast(sum(case when is_key_task and class_code = 'overdue_not_completed' then 1 else 0 end)
            as {{ dbt.type_int() }}) as key_tasks_overdue
    from grouped
    group by period_month, grouping, group_code

),

rated as (

    select
        counted.*,
        {{ task_rates('completed_tasks', 'overdue_not_completed', 'in_progress_within_deadline', 'assigned_tasks') }}
    from counted

),

months as (

    select distinct
        period_month,
        period,
        evaluation_date,
        publication_basis
    from tasks

),

final as (

    select
        rated.period_month,
        months.period,
        months.evaluation_date as as_of_date,
        rated.grouping,
        rated.group_code,
        rated.group_name,
        case when rated.grouping = 'agency' then rated.group_code end as unit_code,
        case when rated.grouping = 'document' then rated.group_code end as document_number,
        rated.completed_on_time,
        rated.completed_late,
        rated.completed_tasks,
        rated.in_progress_within_deadline,
        rated.overdue_not_completed,
        rated.recurring_met,
        rated.recurring_missed,
        rated.recurring_not_due,
        rated.closed_without_completion,
        rated.assigned_tasks,
        rated.due_tasks,
        rated.completion_rate_of_due_tasks,
        rated.completion_rate_of_assigned,
        rated.overdue_share_of_assigned,
        rated.overdue_share_of_due_tasks,
        rated.within_deadline_share_of_assigned,
        lag(rated.period_month) over (
            partition by rated.grouping, rated.group_code order by rated.period_month
        ) as previous_period_month,
        lag(rated.overdue_share_of_assigned) over (
            partition by rated.grouping, rated.group_code order by rated.period_month
        ) as previous_overdue_share_of_assigned,
        rated.overdue_share_of_assigned - lag(rated.overdue_share_of_assigned) over (
            partition by rated.grouping, rated.group_code order by rated.period_month
        ) as overdue_share_of_assigned_change_points,
        rated.key_tasks,
        rated.key_tasks_completed,
        rated.key_tasks_overdue,
        months.publication_basis
    from rated
    inner join months
        on months.period_month = rated.period_month

)

select * from final
