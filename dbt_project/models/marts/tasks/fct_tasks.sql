-- One row per task and month (every task assigned by the month's evaluation date, from the
-- first month with an accepted status report to the as-of month): who assigned it, who leads it
-- that month (and why, when a merger moved it), its deadlines, its class computed from dates
-- (int_task_classified), the report row that decided it and the registry row that defines it,
-- the contradictions its agency's reports showed up to that month, and the month's publication
-- basis (meta.publication_gate, index 'tasks'; a month never validated is 'withheld').
with

classified as (

    select * from {{ ref('int_task_classified') }}

),

registry as (

    select * from {{ ref('int_task_registry') }}

),

classes as (

    select * from {{ ref('stg_tasks__classes') }}

),

contradictions as (

    select * from {{ ref('int_task_report_contradictions') }}

),

gate as (

    select * from {{ ref('stg_tasks__publication_gate') }}

),

contradictions_to_date as (

    select
        classified.task_code,
        classified.period_month,
        count(*) as contradiction_count,
        {{ dbt.listagg(
            dbt.concat(["contradictions.period", "' '", "contradictions.contradiction_code"]),
            "'; '",
            "order by contradictions.period, contradictions.contradiction_code, contradictions.report_row_id"
        ) }} as contradictions
    from classified
    inner join contradictions
        on contradictions.task_code = classified.task_code
        and contradictions.period_month <= classified.period_month
    group by classified.task_code, classified.period_month

),

final as (

    select
        classified.task_code,
        registry.task_title,
        classified.period,
        classified.period_month,
        classified.evaluation_date,
        classified.as_of_date,
        registry.document_number,
        registry.document_date,
        registry.document_title,
        registry.issuer_code,
        registry.issuer_name,
        classified.assigned_lead_unit_code,
        classified.lead_unit_code,
        classified.lead_unit_name,
        classified.lead_unit_attribution,
        classified.lead_unit_note,
        registry.cooperating_unit_codes,
        classified.registry_deadline as deadline_original,
        classified.deadline_in_force,
        coalesce(classified.deadline_in_force <> classified.registry_deadline, false) as is_deadline_extended,
        classified.recurrence,
        classified.recurrence_window_start,
        classified.recurrence_window_end,
        classified.is_key_task,
        classified.class_code,
        classes.class_name_vi,
        classes.class_name_en,
        classes.class_group,
        classes.is_completed_class as is_completed,
        classes.is_overdue_class as is_overdue,
        classes.is_due_class as is_due,
        classified.completion_date_counted,
        classified.days_overdue,
        classified.deciding_submission_id,
        classified.deciding_inbox_path,
        classified.deciding_sheet,
        classified.deciding_source_row,
        classified.deciding_report_period_month,
        classified.deciding_reported_status,
        registry.registry_submission_id,
        registry.registry_inbox_path,
        registry.registry_sheet,
        registry.registry_source_row,
        coalesce(contradictions_to_date.contradiction_count, 0) as contradiction_count,
        contradictions_to_date.contradictions,
        coalesce(gate.publication_basis, 'withheld') as publication_basis
    from classified
    inner join registry
        on registry.task_code = classified.task_code
    inner join classes
        on classes.class_code = classified.class_code
    left join contradictions_to_date
        on contradictions_to_date.task_code = classified.task_code
        and contradictions_to_date.period_month = classified.period_month
    left join gate
        on gate.period_key = classified.period

)

select * from final
