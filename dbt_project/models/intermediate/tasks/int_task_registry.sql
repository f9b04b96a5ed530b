-- The registry in effect: per assigning document (document_number), the latest accepted
-- task-list submission (highest version, then the latest received), and its rows without a
-- rejection_rule. One row per task: a task code is unique across documents; should two
-- documents in effect list the same code, the later document's row is the task (a total order:
-- document date, then receipt).
with

submissions as (

    select * from {{ ref('stg_tasks__plan_submissions') }}

),

plan_rows as (

    select * from {{ ref('stg_tasks__plan_rows') }}
    where is_valid

),

issuers as (

    select * from {{ ref('stg_tasks__issuers') }}

),

units as (

    select * from {{ ref('int_units_unioned') }}

),

latest_submissions as (

    select
        submissions.*,
        row_number() over (
            partition by document_number
            order by submission_version desc, received_at desc, submission_id desc
        ) as recency
    from submissions
    where is_accepted

),

unit_names as (

    -- an issuer that is a unit of the registry: its latest name
    select
        unit_code,
        unit_name,
        row_number() over (partition by unit_code order by valid_from desc) as name_rank
    from units

),

tasks as (

    select
        plan_rows.task_code,
        plan_rows.task_title,
        latest.document_number,
        latest.document_date,
        latest.document_year,
        latest.document_title,
        coalesce(latest.issuer_code, plan_rows.issuer_code, latest.folder_unit_code) as issuer_code,
        plan_rows.lead_unit_code as assigned_lead_unit_code,
        plan_rows.cooperating_unit_codes,
        plan_rows.deadline as registry_deadline,
        plan_rows.recurrence,
        plan_rows.raw_deadline,
        plan_rows.expected_result,
        plan_rows.is_key_task,
        plan_rows.task_note,
        latest.submission_id as registry_submission_id,
        latest.submission_version as registry_version,
        latest.inbox_path as registry_inbox_path,
        plan_rows.sheet as registry_sheet,
        plan_rows.source_row as registry_source_row,
        row_number() over (
            partition by plan_rows.task_code
            order by latest.document_date desc, latest.received_at desc, latest.submission_id desc,
                plan_rows.source_row desc
        ) as task_rank
    from latest_submissions as latest
    inner join plan_rows
        on plan_rows.submission_id = latest.submission_id
    where latest.recency = 1
        and plan_rows.task_code is not null

),

final as (

    select
        tasks.task_code,
        tasks.task_title,
        tasks.document_number,
        tasks.document_date,
        tasks.document_year,
        tasks.document_title,
        tasks.issuer_code,
        coalesce(issuers.issuer_name_vi, unit_names.unit_name) as issuer_name,
        tasks.assigned_lead_unit_code,
        tasks.cooperating_unit_codes,
        tasks.registry_deadline,
        tasks.recurrence,
        tasks.recurrence <> 'once' as is_recurring_task,
        tasks.raw_deadline,
        tasks.expected_result,
        tasks.is_key_task,
        tasks.task_note,
        tasks.registry_submission_id,
        tasks.registry_version,
        tasks.registry_inbox_path,
        tasks.registry_sheet,
        tasks.registry_source_row
    from tasks
    left join issuers
        on issuers.issuer_code = tasks.issuer_code
    left join unit_names
        on unit_names.unit_code = tasks.issuer_code
        and unit_names.name_rank = 1
    where tasks.task_rank = 1

)

select * from final
