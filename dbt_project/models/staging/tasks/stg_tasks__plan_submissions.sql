-- Every task-list file received (raw.task_plan_submissions): accepted or rejected, every
-- version; rename/cast only. The registry in effect is chosen in int_task_registry.
with

source as (

    select * from {{ source('tasks_raw', 'task_plan_submissions') }}

),

final as (

    select
        submission_id,
        year as document_year,
        folder_unit_code,
        unit_code as issuer_code,
        level as issuer_kind,
        document_number,
        document_date,
        document_title,
        template_version,
        report_date,
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
