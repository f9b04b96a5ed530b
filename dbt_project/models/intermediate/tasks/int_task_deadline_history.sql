-- Every change to a task's deadline, one row each:
--   registry_version   the deadline each accepted version of the assigning document gave the task
--                      (is_in_effect: the version in effect, int_task_registry)
--   extension          each extension row of a counted report of the task's lead unit, in report
--                      order, with its approval and whether it counts (moves the deadline) or why
--                      not. Parameters (seed task_tracking_parameters): extension_requires_approval
--                      (an approving document and its date recorded), extension_approval_before_deadline
--                      (approved on or before the deadline it extends: the deadline in force before it).
-- deadline_in_force_after is the deadline from the report's month on (int_task_classified reads
-- the last extension of a report period <= the month). The extensions are evaluated in order
-- because each is judged against the deadline the previous ones left: a recursive CTE (ANSI SQL;
-- it must open the whole WITH clause, so the import CTEs follow it).
with recursive

registry as (

    select * from {{ ref('int_task_registry') }}

),

plan_submissions as (

    select * from {{ ref('stg_tasks__plan_submissions') }}
    where is_accepted

),

plan_rows as (

    select * from {{ ref('stg_tasks__plan_rows') }}
    where is_valid

),

report_rows as (

    select * from {{ ref('int_task_reports_counted') }}
    where is_counted

),

parameters as (

    select * from {{ ref('stg_tasks__parameters') }}

),

extensions as (

    select
        report_rows.task_code,
        report_rows.report_row_id,
        report_rows.submission_id,
        report_rows.period_month,
        report_rows.sheet,
        report_rows.source_row,
        report_rows.inbox_path,
        report_rows.extension_deadline,
        report_rows.approval_document,
        report_rows.approval_date,
        row_number() over (
            partition by report_rows.task_code
            order by report_rows.period_month, report_rows.report_date, report_rows.submission_id,
                report_rows.source_row
        ) as extension_sequence
    from report_rows
    where report_rows.is_known_task
        and report_rows.reporting_unit_in_period = report_rows.lead_unit_in_period
        and report_rows.extension_deadline is not null

),

evaluated (
    task_code, extension_sequence, report_row_id, deadline_before, deadline_after,
    is_approval_recorded, is_counted, not_counted_reason
) as (

    select
        registry.task_code,
        0 as extension_sequence,
        cast(null as {{ dbt.type_string() }}) as report_row_id,
        registry.registry_deadline as deadline_before,
        registry.registry_deadline as deadline_after,
        cast(null as boolean) as is_approval_recorded,
        true as is_counted,
        cast(null as {{ dbt.type_string() }}) as not_counted_reason
    from registry

    union all

    select
        step.task_code,
        step.extension_sequence,
        step.report_row_id,
        step.deadline_before,
        case when step.not_counted_reason is null then step.extension_deadline else step.deadline_before end
            as deadline_after,
        step.is_approval_recorded,
        step.not_counted_reason is null as is_counted,
        step.not_counted_reason
    from (
        select
            extensions.task_code,
            extensions.extension_sequence,
            extensions.report_row_id,
            extensions.extension_deadline,
            evaluated.deadline_after as deadline_before,
            extensions.approval_document is not null and extensions.approval_date is not null
                as is_approval_recorded,
            case
                when parameters.extension_requires_approval
                    and (extensions.approval_document is null or extensions.approval_date is null)
                    then 'extension_without_approval'
                when parameters.extension_approval_before_deadline
                    and extensions.approval_date > evaluated.deadline_after
                    then 'extension_approved_after_deadline'
            end as not_counted_reason
        from evaluated
        inner join extensions
            on extensions.task_code = evaluated.task_code
            and extensions.extension_sequence = evaluated.extension_sequence + 1
        cross join parameters
    ) as step

),

registry_versions as (

    select
        registry.task_code,
        'registry_version' as change_kind,
        plan_submissions.submission_version as change_sequence,
        cast(null as {{ dbt.type_string() }}) as report_row_id,
        plan_submissions.submission_id,
        plan_submissions.inbox_path,
        plan_rows.sheet,
        plan_rows.source_row,
        cast(null as date) as effective_from_month,
        cast(null as date) as deadline_before,
        plan_rows.deadline as deadline_after,
        cast(null as date) as extension_deadline,
        cast(null as {{ dbt.type_string() }}) as approval_document,
        cast(null as date) as approval_date,
        plan_submissions.submission_id = registry.registry_submission_id as is_in_effect,
        plan_submissions.submission_id = registry.registry_submission_id as is_counted,
        case
            when plan_submissions.submission_id <> registry.registry_submission_id
                then {{ dbt.concat([
                    "'superseded by version '", dbt.cast("registry.registry_version", dbt.type_string()),
                    "' of '", "registry.document_number"
                ]) }}
        end as not_counted_reason
    from registry
    inner join plan_submissions
        on plan_submissions.document_number = registry.document_number
    inner join plan_rows
        on plan_rows.submission_id = plan_submissions.submission_id
        and plan_rows.task_code = registry.task_code

),

extension_changes as (

    select
        extensions.task_code,
        'extension' as change_kind,
        extensions.extension_sequence as change_sequence,
        extensions.report_row_id,
        extensions.submission_id,
        extensions.inbox_path,
        extensions.sheet,
        extensions.source_row,
        extensions.period_month as effective_from_month,
        evaluated.deadline_before,
        evaluated.deadline_after,
        extensions.extension_deadline,
        extensions.approval_document,
        extensions.approval_date,
        evaluated.is_counted as is_in_effect,
        evaluated.is_counted,
        evaluated.not_counted_reason
    from evaluated
    inner join extensions
        on extensions.task_code = evaluated.task_code
        and extensions.extension_sequence = evaluated.extension_sequence

),

final as (

    select * from registry_versions

    union all

    select * from extension_changes

)

select * from final
