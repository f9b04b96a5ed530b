-- Every status report file received (raw.task_report_submissions): accepted or rejected, every
-- version; rename/cast only. The reports that count are chosen in int_task_reports_counted.
with

source as (

    select * from {{ source('tasks_raw', 'task_report_submissions') }}

),

final as (

    select
        submission_id,
        period,
        period_start as period_month,
        period_end,
        folder_unit_code,
        unit_code,
        level,
        report_date,
        template_version,
        version as submission_version,
        received_at,
        inbox_path,
        archived_path,
        sha256,
        status = 'accepted' as is_accepted,
        rejection_rule,
        rejection_reason
    from source

)

select * from final
