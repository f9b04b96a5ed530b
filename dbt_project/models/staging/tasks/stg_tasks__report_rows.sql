-- Every task row of a status report (raw.task_report_rows); rejected rows are kept and flagged
-- (is_valid false): the counted reports read the valid ones.
with

source as (

    select * from {{ source('tasks_raw', 'task_report_rows') }}

),

final as (

    select
        submission_id,
        period,
        level,
        unit_code,
        task_code,
        reported_status,
        reported_status_text,
        completion_date,
        evidence,
        cast(progress_percent as {{ type_double() }}) as progress_percent,
        delay_reason,
        extension_deadline,
        approval_document,
        approval_date,
        note as report_note,
        sheet,
        source_row,
        rejection_rule is null as is_valid,
        rejection_rule,
        rejection_reason,
        rejection_field
    from source

)

select * from final
