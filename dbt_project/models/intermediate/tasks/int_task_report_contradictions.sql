-- One row per contradiction found on a counted status-report row (flagged, never hidden, never
-- counted: the claim it concerns does not move the task's class):
--   unknown_task                     the registry in effect has no such task
--   task_of_other_agency             the task's lead unit in the report's month is another unit
--   completed_without_date           a completed status without a completion date
--   completed_without_evidence       a completed status without evidence (completion_requires_evidence)
--   completion_after_report_date     a completion dated after the report's own date
--   status_backwards                 not completed after a completed status in an earlier report of
--                                    the task, or progress lower than reported before
--   extension_without_approval       an extension without its approving document and date
--                                    (extension_requires_approval; int_task_deadline_history)
--   extension_approved_after_deadline  approved after the deadline it extends
--                                    (extension_approval_before_deadline; int_task_deadline_history)
--   closed_without_approval          reported closed (not_completed) citing no approving document
with

report_rows as (

    select * from {{ ref('int_task_reports_counted') }}
    where is_counted
        and task_code is not null

),

deadline_history as (

    select * from {{ ref('int_task_deadline_history') }}
    where change_kind = 'extension'

),

parameters as (

    select * from {{ ref('stg_tasks__parameters') }}

),

own_rows as (

    -- the rows of the task's lead unit, with what the earlier ones said
    select
        report_rows.*,
        max(case when report_rows.is_completed_status then 1 else 0 end) over (
            partition by report_rows.task_code
            order by report_rows.period_month, report_rows.report_date, report_rows.source_row
            rows between unbounded preceding and 1 preceding
        ) as was_completed_before,
        max(report_rows.progress_percent) over (
            partition by report_rows.task_code
            order by report_rows.period_month, report_rows.report_date, report_rows.source_row
            rows between unbounded preceding and 1 preceding
        ) as highest_progress_before
    from report_rows
    where report_rows.is_known_task
        and report_rows.reporting_unit_in_period = report_rows.lead_unit_in_period

),

flags as (

    select
        report_row_id,
        'unknown_task' as contradiction_code,
        {{ dbt.concat(["'task ' ", "task_code", "' is in no task list in effect'"]) }} as contradiction_detail
    from report_rows
    where not is_known_task

    union all

    select
        report_row_id,
        'task_of_other_agency' as contradiction_code,
        {{ dbt.concat([
            "'task '", "task_code", "' is led by '", "lead_unit_in_period", "' in '", "period",
            "', not by the reporting unit '", "reporting_unit_in_period"
        ]) }} as contradiction_detail
    from report_rows
    where is_known_task
        and reporting_unit_in_period <> lead_unit_in_period

    union all

    select
        report_row_id,
        'completed_without_date' as contradiction_code,
        'reported completed without a completion date' as contradiction_detail
    from own_rows
    where is_completed_status
        and completion_date is null

    union all

    select
        own_rows.report_row_id,
        'completed_without_evidence' as contradiction_code,
        'reported completed without evidence' as contradiction_detail
    from own_rows
    cross join parameters
    where parameters.completion_requires_evidence
        and own_rows.is_completed_status
        and own_rows.evidence is null

    union all

    select
        report_row_id,
        'completion_after_report_date' as contradiction_code,
        {{ dbt.concat([
            "'completed on '", dbt.cast("completion_date", dbt.type_string()),
            "', after the report date '", dbt.cast("report_date", dbt.type_string())
        ]) }} as contradiction_detail
    from own_rows
    where completion_date > report_date

    union all

    select
        report_row_id,
        'status_backwards' as contradiction_code,
        case
            when was_completed_before = 1 and not is_completed_status
                then 'not completed after a completed status in an earlier report'
            else {{ dbt.concat([
                "'progress '", dbt.cast("progress_percent", dbt.type_string()),
                "' % is lower than the '", dbt.cast("highest_progress_before", dbt.type_string()),
                "' % reported before'"
            ]) }}
        end as contradiction_detail
    from own_rows
    where (was_completed_before = 1 and not is_completed_status)
        or progress_percent < highest_progress_before

    union all

    select
        report_row_id,
        not_counted_reason as contradiction_code,
        case
            when not_counted_reason = 'extension_without_approval'
                then 'extension asked without an approving document and its date'
            else {{ dbt.concat([
                "'extension approved on '", dbt.cast("approval_date", dbt.type_string()),
                "', after the deadline '", dbt.cast("deadline_before", dbt.type_string()), "' it extends'"
            ]) }}
        end as contradiction_detail
    from deadline_history
    where not_counted_reason in ('extension_without_approval', 'extension_approved_after_deadline')

    union all

    select
        report_row_id,
        'closed_without_approval' as contradiction_code,
        'reported closed without completion, citing no approving document' as contradiction_detail
    from own_rows
    where is_closure_status
        and approval_document is null

),

final as (

    select
        report_rows.report_row_id,
        report_rows.submission_id,
        report_rows.period,
        report_rows.period_month,
        report_rows.reporting_unit_code,
        report_rows.task_code,
        report_rows.sheet,
        report_rows.source_row,
        flags.contradiction_code,
        flags.contradiction_detail
    from flags
    inner join report_rows
        on report_rows.report_row_id = flags.report_row_id

)

select * from final
