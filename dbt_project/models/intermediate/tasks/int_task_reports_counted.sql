-- Every valid row of every accepted status report, and which rows count: those of the latest
-- accepted version of each (period, folder unit) (is_counted; the earlier versions' rows are
-- kept as superseded for fct_task_status_reports). Each row carries the reporting unit in the
-- report's month (through int_unit_codes_attributed), the task's lead unit in that month from the
-- registry in effect (NULL: a task code the registry does not know) and what its status claims.
with

submissions as (

    select * from {{ ref('stg_tasks__report_submissions') }}
    where is_accepted

),

report_rows as (

    select * from {{ ref('stg_tasks__report_rows') }}
    where is_valid

),

statuses as (

    select * from {{ ref('stg_tasks__status_categories') }}

),

registry as (

    select * from {{ ref('int_task_registry') }}

),

attributed as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

ranked_submissions as (

    select
        submissions.*,
        row_number() over (
            partition by period, folder_unit_code
            order by submission_version desc, received_at desc, submission_id desc
        ) as recency
    from submissions

),

rows_of_reports as (

    select
        {{ dbt.concat([
            "report_rows.submission_id", "':'", "coalesce(report_rows.sheet, '')", "':'",
            dbt.cast("report_rows.source_row", dbt.type_string())
        ]) }} as report_row_id,
        report_rows.submission_id,
        ranked.period,
        ranked.period_month,
        ranked.period_end,
        ranked.folder_unit_code,
        coalesce(report_rows.unit_code, ranked.unit_code, ranked.folder_unit_code) as reporting_unit_code,
        ranked.report_date,
        ranked.submission_version,
        ranked.received_at,
        ranked.inbox_path,
        ranked.recency = 1 as is_counted,
        report_rows.task_code,
        report_rows.reported_status,
        report_rows.reported_status_text,
        report_rows.completion_date,
        report_rows.evidence,
        report_rows.progress_percent,
        report_rows.delay_reason,
        report_rows.extension_deadline,
        report_rows.approval_document,
        report_rows.approval_date,
        report_rows.report_note,
        report_rows.sheet,
        report_rows.source_row
    from ranked_submissions as ranked
    inner join report_rows
        on report_rows.submission_id = ranked.submission_id

),

final as (

    select
        rows_of_reports.*,
        coalesce(reporting_units.unit_code, rows_of_reports.reporting_unit_code) as reporting_unit_in_period,
        registry.task_code is not null as is_known_task,
        registry.document_number,
        coalesce(lead_units.unit_code, registry.assigned_lead_unit_code) as lead_unit_in_period,
        coalesce(statuses.is_completed_status, false) as is_completed_status,
        coalesce(rows_of_reports.reported_status = 'not_completed', false) as is_closure_status,
        -- done or under way (a recurring task met): any status but those saying it was not done
        coalesce(rows_of_reports.reported_status not in ('not_completed', 'overdue_not_completed'), false)
            as is_done_or_under_way_status
    from rows_of_reports
    left join statuses
        on statuses.status_code = rows_of_reports.reported_status
    left join attributed as reporting_units
        on reporting_units.reported_unit_code = rows_of_reports.reporting_unit_code
        and reporting_units.period_month = rows_of_reports.period_month
    left join registry
        on registry.task_code = rows_of_reports.task_code
    left join attributed as lead_units
        on lead_units.reported_unit_code = registry.assigned_lead_unit_code
        and lead_units.period_month = rows_of_reports.period_month

)

select * from final
