-- Every task row of a task-list file (raw.task_plan_rows); rejected rows are kept and flagged
-- (is_valid false): the registry reads the valid ones.
with

source as (

    select * from {{ source('tasks_raw', 'task_plan_rows') }}

),

final as (

    select
        submission_id,
        issuer_code,
        document_number,
        task_code,
        title as task_title,
        lead_unit_code,
        cooperating_unit_codes,
        deadline,
        recurrence,
        raw_deadline,
        expected_result,
        is_key_task,
        note as task_note,
        sheet,
        source_row,
        rejection_rule is null as is_valid,
        rejection_rule,
        rejection_reason,
        rejection_field
    from source

)

select * from final
