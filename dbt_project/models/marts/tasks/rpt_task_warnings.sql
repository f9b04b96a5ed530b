-- The early warnings, one row per month, kind and subject (a task or an agency), each with a
-- message in plain words naming the task or agency and the numbers:
--   due_soon_without_progress  a task not completed whose deadline in force falls within
--                              warning_due_within_days after the month's evaluation date, and whose
--                              lead unit reported no progress on it for that month
--   key_task_overdue           a key task (nhiệm vụ trọng tâm) overdue, not completed
--   overdue_share_rose         an agency whose overdue share of assigned tasks rose by more than
--                              overdue_share_rise_min_points since its previous month
--   missing_status_report      a lead unit with open tasks (not completed, not closed) and no
--                              accepted status report for the month
-- Parameters: seed task_tracking_parameters (stg_tasks__parameters).
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

by_agency as (

    select * from {{ ref('rpt_task_status_by_agency') }}
    where grouping = 'agency'

),

report_rows as (

    select * from {{ ref('int_task_reports_counted') }}
    where is_counted
        and is_known_task

),

report_submissions as (

    select * from {{ ref('stg_tasks__report_submissions') }}
    where is_accepted

),

attributed as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

parameters as (

    select * from {{ ref('stg_tasks__parameters') }}

),

progress_reported as (

    -- tasks whose lead unit reported progress (a percentage or a status) for the month
    select distinct
        task_code,
        period_month
    from report_rows
    where reporting_unit_in_period = lead_unit_in_period
        and (progress_percent is not null or reported_status is not null)

),

reports_received as (

    -- the units (as attributed in the month) that sent an accepted report for the month
    select distinct
        report_submissions.period_month,
        coalesce(attributed.unit_code, report_submissions.folder_unit_code) as unit_code
    from report_submissions
    left join attributed
        on attributed.reported_unit_code = report_submissions.folder_unit_code
        and attributed.period_month = report_submissions.period_month

),

due_soon as (

    select
        tasks.period,
        tasks.period_month,
        tasks.evaluation_date as as_of_date,
        'due_soon_without_progress' as warning_kind,
        tasks.lead_unit_code as unit_code,
        tasks.lead_unit_name as unit_name,
        tasks.task_code,
        tasks.document_number,
        cast({{ dbt.datediff('tasks.evaluation_date', 'tasks.deadline_in_force', 'day') }} as {{ type_double() }})
            as measured_value,
        {{ dbt.concat([
            "'Task '", "tasks.task_code", "' ('", "tasks.document_number", "') of '", "tasks.lead_unit_code", "' '",
            "coalesce(tasks.lead_unit_name, '')", "' is due on '", dbt.cast("tasks.deadline_in_force", dbt.type_string()),
            "', '", dbt.cast(dbt.datediff('tasks.evaluation_date', 'tasks.deadline_in_force', 'day'), dbt.type_string()),
            "case when tasks.deadline_in_force = tasks.evaluation_date + 1 then ' day' else ' days' end", "' after '", dbt.cast("tasks.evaluation_date", dbt.type_string()),
            "', and no progress was reported on it for '", "tasks.period"
        ]) }} as message,
        tasks.publication_basis
    from tasks
    cross join parameters
    left join progress_reported
        on progress_reported.task_code = tasks.task_code
        and progress_reported.period_month = tasks.period_month
    where tasks.class_code = 'in_progress_within_deadline'
        and tasks.deadline_in_force > tasks.evaluation_date
        and tasks.deadline_in_force <= cast(
            {{ dbt.dateadd('day', 'parameters.warning_due_within_days', 'tasks.evaluation_date') }} as date
        )
        and progress_reported.task_code is null

),

key_overdue as (

    select
        period,
        period_month,
        evaluation_date as as_of_date,
        'key_task_overdue' as warning_kind,
        lead_unit_code as unit_code,
        lead_unit_name as unit_name,
        task_code,
        document_number,
        cast(days_overdue as {{ type_double() }}) as measured_value,
        {{ dbt.concat([
            "'Key task '", "task_code", "' ('", "document_number", "') of '", "lead_unit_code", "' '",
            "coalesce(lead_unit_name, '')", "' is '", dbt.cast("days_overdue", dbt.type_string()),
            "case when days_overdue = 1 then ' day' else ' days' end", "' past its deadline of '", dbt.cast("deadline_in_force", dbt.type_string()),
            "' and not completed (as of '", dbt.cast("evaluation_date", dbt.type_string()), "')'"
        ]) }} as message,
        publication_basis
    from tasks
    where is_key_task
        and class_code = 'overdue_not_completed'

),

share_rose as (

    select
        by_agency.period,
        by_agency.period_month,
        by_agency.as_of_date,
        'overdue_share_rose' as warning_kind,
        by_agency.unit_code,
        by_agency.group_name as unit_name,
        cast(null as {{ dbt.type_string() }}) as task_code,
        cast(null as {{ dbt.type_string() }}) as document_number,
        by_agency.overdue_share_of_assigned_change_points as measured_value,
        {{ dbt.concat([
            "'The overdue share of the tasks assigned to '", "by_agency.unit_code", "' '",
            "coalesce(by_agency.group_name, '')", "' rose from '",
            dbt.cast("round(by_agency.previous_overdue_share_of_assigned, 2)", dbt.type_string()), "' % in '",
            kpi_month_key('by_agency.previous_period_month'), "' to '",
            dbt.cast("round(by_agency.overdue_share_of_assigned, 2)", dbt.type_string()), "' % in '",
            "by_agency.period", "' ('", dbt.cast("by_agency.overdue_not_completed", dbt.type_string()),
            "' overdue of '", dbt.cast("by_agency.assigned_tasks", dbt.type_string()), "' assigned)'"
        ]) }} as message,
        by_agency.publication_basis
    from by_agency
    cross join parameters
    where by_agency.overdue_share_of_assigned_change_points > parameters.overdue_share_rise_min_points

),

open_tasks as (

    select
        period,
        period_month,
        evaluation_date,
        lead_unit_code,
        max(lead_unit_name) as lead_unit_name,
        count(*) as open_task_count,
        max(publication_basis) as publication_basis
    from tasks
    where class_group in ('within_deadline', 'overdue', 'recurring')
    group by period, period_month, evaluation_date, lead_unit_code

),

missing_report as (

    select
        open_tasks.period,
        open_tasks.period_month,
        open_tasks.evaluation_date as as_of_date,
        'missing_status_report' as warning_kind,
        open_tasks.lead_unit_code as unit_code,
        open_tasks.lead_unit_name as unit_name,
        cast(null as {{ dbt.type_string() }}) as task_code,
        cast(null as {{ dbt.type_string() }}) as document_number,
        cast(open_tasks.open_task_count as {{ type_double() }}) as measured_value,
        {{ dbt.concat([
            "open_tasks.lead_unit_code", "' '", "coalesce(open_tasks.lead_unit_name, '')",
            "' sent no accepted status report for '", "open_tasks.period", "' and leads '",
            dbt.cast("open_tasks.open_task_count", dbt.type_string()), "' open tasks'"
        ]) }} as message,
        open_tasks.publication_basis
    from open_tasks
    left join reports_received
        on reports_received.period_month = open_tasks.period_month
        and reports_received.unit_code = open_tasks.lead_unit_code
    where reports_received.unit_code is null

),

final as (

    select * from due_soon
    union all
    select * from key_overdue
    union all
    select * from share_rose
    union all
    select * from missing_report

)

select * from final
