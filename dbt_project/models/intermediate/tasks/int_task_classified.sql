-- One row per task and month (every task assigned by the month's evaluation date, int_task_lead_units):
-- its class, computed from dates (seed task_classes, column rule), never from the status claimed.
--   deciding row       the task's row in the latest counted report of period <= the month of its
--                      lead unit that month (a report of a unit merged into it counts: its code is
--                      attributed to the lead unit in the month); for a recurring task, the row
--                      that shows it done this recurrence period, else the latest row of the period
--   deadline in force  the registry deadline, moved by the last counted extension of a report
--                      period <= the month (int_task_deadline_history)
--   completion counted a completed status on the deciding row with a completion date on or before
--                      the evaluation date and none of the completion contradictions
--                      (int_task_report_contradictions)
--   closure counted    the deciding row reports it closed (not_completed) citing the approving document
-- Classes: a counted closure -> closed_without_completion; a recurring task -> recurring_met when a
-- row of the current recurrence period (month, quarter or year) shows it done or under way with
-- evidence, else recurring_missed when that period ends this month, else recurring_not_due; a
-- counted completion -> completed_on_time (on or before the deadline in force) or completed_late;
-- otherwise in_progress_within_deadline when the evaluation date is on or before the deadline in
-- force (the deadline day itself is within), else overdue_not_completed.
with

task_months as (

    select * from {{ ref('int_task_lead_units') }}

),

registry as (

    select * from {{ ref('int_task_registry') }}

),

deadline_history as (

    select * from {{ ref('int_task_deadline_history') }}
    where change_kind = 'extension'
        and is_counted

),

report_rows as (

    select * from {{ ref('int_task_reports_counted') }}
    where is_counted
        and is_known_task

),

contradictions as (

    select * from {{ ref('int_task_report_contradictions') }}

),

attributed as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

row_flags as (

    select
        report_row_id,
        max(case
            when contradiction_code in (
                'completed_without_date', 'completed_without_evidence', 'completion_after_report_date'
            ) then 1 else 0
        end) as has_completion_contradiction
    from contradictions
    group by report_row_id

),

with_windows as (

    select
        task_months.*,
        registry.document_number,
        registry.registry_deadline,
        registry.recurrence,
        registry.is_recurring_task,
        registry.is_key_task,
        case registry.recurrence
            when 'quarterly' then cast({{ dbt.date_trunc('quarter', 'task_months.period_month') }} as date)
            when 'yearly' then cast({{ dbt.date_trunc('year', 'task_months.period_month') }} as date)
            else task_months.period_month
        end as recurrence_window_start
    from task_months
    inner join registry
        on registry.task_code = task_months.task_code

),

windows as (

    select
        with_windows.*,
        case
            when not is_recurring_task then cast(null as date)
            when recurrence = 'quarterly'
                then cast({{ dbt.dateadd('month', 2, 'recurrence_window_start') }} as date)
            when recurrence = 'yearly'
                then cast({{ dbt.dateadd('month', 11, 'recurrence_window_start') }} as date)
            else period_month
        end as recurrence_window_end_month
    from with_windows

),

deadlines as (

    select
        windows.task_code,
        windows.period_month,
        deadline_history.deadline_after,
        row_number() over (
            partition by windows.task_code, windows.period_month
            order by deadline_history.change_sequence desc
        ) as extension_rank
    from windows
    inner join deadline_history
        on deadline_history.task_code = windows.task_code
        and deadline_history.effective_from_month <= windows.period_month

),

candidates as (

    -- the rows of the lead unit (in the month) about the task, in reports of period <= the month
    select
        windows.task_code,
        windows.period_month,
        report_rows.report_row_id,
        report_rows.submission_id,
        report_rows.inbox_path,
        report_rows.sheet,
        report_rows.source_row,
        report_rows.period_month as report_period_month,
        report_rows.reported_status,
        report_rows.completion_date,
        report_rows.approval_document,
        report_rows.is_completed_status,
        report_rows.is_closure_status,
        report_rows.period_month >= windows.recurrence_window_start as is_in_recurrence_window,
        report_rows.period_month >= windows.recurrence_window_start
            and report_rows.is_done_or_under_way_status
            and report_rows.evidence is not null as shows_recurrence_met,
        coalesce(row_flags.has_completion_contradiction, 0) = 1 as has_completion_contradiction,
        row_number() over (
            partition by windows.task_code, windows.period_month
            order by report_rows.period_month desc, report_rows.report_date desc, report_rows.received_at desc,
                report_rows.source_row desc
        ) as recency
    from windows
    inner join report_rows
        on report_rows.task_code = windows.task_code
        and report_rows.period_month <= windows.period_month
    inner join attributed
        on attributed.reported_unit_code = report_rows.reporting_unit_code
        and attributed.period_month = windows.period_month
        and attributed.unit_code = windows.lead_unit_code
    left join row_flags
        on row_flags.report_row_id = report_rows.report_row_id

),

recurrence_met as (

    select
        candidates.*,
        row_number() over (
            partition by task_code, period_month order by recency
        ) as met_recency
    from candidates
    where shows_recurrence_met

),

assessed as (

    select
        windows.*,
        coalesce(deadlines.deadline_after, windows.registry_deadline) as deadline_in_force,
        latest.report_row_id as latest_row_id,
        met.report_row_id as met_row_id,
        coalesce(latest.is_closure_status and latest.approval_document is not null, false) as is_closure_counted,
        coalesce(
            latest.is_completed_status
            and not latest.has_completion_contradiction
            and latest.completion_date <= windows.evaluation_date,
            false
        ) as is_completion_counted,
        latest.completion_date as latest_completion_date,
        coalesce(latest.is_in_recurrence_window, false) as is_latest_in_window
    from windows
    left join deadlines
        on deadlines.task_code = windows.task_code
        and deadlines.period_month = windows.period_month
        and deadlines.extension_rank = 1
    left join candidates as latest
        on latest.task_code = windows.task_code
        and latest.period_month = windows.period_month
        and latest.recency = 1
    left join recurrence_met as met
        on met.task_code = windows.task_code
        and met.period_month = windows.period_month
        and met.met_recency = 1

),

classified as (

    select
        assessed.*,
        case
            when is_closure_counted then 'closed_without_completion'
            when is_recurring_task then
                case
                    when met_row_id is not null then 'recurring_met'
                    when recurrence_window_end_month <= period_month then 'recurring_missed'
                    else 'recurring_not_due'
                end
            when is_completion_counted then
                case
                    when deadline_in_force is null or latest_completion_date <= deadline_in_force
                        then 'completed_on_time'
                    else 'completed_late'
                end
            when deadline_in_force is null or evaluation_date <= deadline_in_force then 'in_progress_within_deadline'
            else 'overdue_not_completed'
        end as class_code,
        case
            when is_recurring_task and not is_closure_counted then
                case
                    when met_row_id is not null then met_row_id
                    when is_latest_in_window then latest_row_id
                end
            else latest_row_id
        end as deciding_report_row_id
    from assessed

),

final as (

    select
        classified.task_code,
        classified.period_month,
        classified.period,
        classified.evaluation_date,
        classified.as_of_date,
        classified.document_number,
        classified.assigned_lead_unit_code,
        classified.lead_unit_code,
        classified.lead_unit_name,
        classified.lead_unit_attribution,
        classified.lead_unit_note,
        classified.is_key_task,
        classified.recurrence,
        case when classified.is_recurring_task then classified.recurrence_window_start end
            as recurrence_window_start,
        case
            when classified.is_recurring_task
                then cast({{ dbt.last_day('classified.recurrence_window_end_month', 'month') }} as date)
        end as recurrence_window_end,
        classified.registry_deadline,
        classified.deadline_in_force,
        classified.class_code,
        case
            when classified.class_code in ('completed_on_time', 'completed_late') then classified.latest_completion_date
        end as completion_date_counted,
        case
            when classified.class_code = 'overdue_not_completed'
                then {{ dbt.datediff('classified.deadline_in_force', 'classified.evaluation_date', 'day') }}
        end as days_overdue,
        classified.deciding_report_row_id,
        deciding.submission_id as deciding_submission_id,
        deciding.inbox_path as deciding_inbox_path,
        deciding.sheet as deciding_sheet,
        deciding.source_row as deciding_source_row,
        deciding.report_period_month as deciding_report_period_month,
        deciding.reported_status as deciding_reported_status
    from classified
    left join candidates as deciding
        on deciding.task_code = classified.task_code
        and deciding.period_month = classified.period_month
        and deciding.report_row_id = classified.deciding_report_row_id

)

select * from final
