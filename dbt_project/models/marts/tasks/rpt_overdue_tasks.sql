-- One row per overdue task per month (class overdue_not_completed in fct_tasks): days past the
-- deadline in force on the month's evaluation date, its ageing bucket (seed task_ageing_buckets,
-- min_days and max_days inclusive, max_days NULL = open-ended), the key-task flag and the lead unit.
with

tasks as (

    select * from {{ ref('fct_tasks') }}
    where class_code = 'overdue_not_completed'

),

buckets as (

    select * from {{ ref('stg_tasks__ageing_buckets') }}

),

final as (

    select
        tasks.period,
        tasks.period_month,
        tasks.evaluation_date as as_of_date,
        tasks.task_code,
        tasks.task_title,
        tasks.document_number,
        tasks.issuer_code,
        tasks.lead_unit_code,
        tasks.lead_unit_name,
        tasks.lead_unit_note,
        tasks.is_key_task,
        tasks.deadline_original,
        tasks.deadline_in_force,
        tasks.is_deadline_extended,
        tasks.days_overdue,
        buckets.ageing_bucket_code,
        buckets.ageing_bucket_label_vi,
        buckets.ageing_bucket_label_en,
        buckets.ageing_bucket_order,
        tasks.deciding_submission_id,
        tasks.deciding_inbox_path,
        tasks.deciding_sheet,
        tasks.deciding_source_row,
        tasks.contradictions,
        tasks.publication_basis
    from tasks
    left join buckets
        on tasks.days_overdue >= buckets.min_days
        and (buckets.max_days is null or tasks.days_overdue <= buckets.max_days)

)

select * from final
