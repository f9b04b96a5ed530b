-- One row per valid row of an accepted status report: counted (the latest accepted version of
-- its (period, folder unit)) or superseded by a later version; with its contradiction flags
-- (int_task_report_contradictions: on counted rows only) and whether, and in how many months,
-- it decided its task's class (int_task_classified). Rejected rows are in
-- quarantine.task_rejections. publication_basis follows the report's period.
with

report_rows as (

    select * from {{ ref('int_task_reports_counted') }}

),

contradictions as (

    select * from {{ ref('int_task_report_contradictions') }}

),

classified as (

    select * from {{ ref('int_task_classified') }}

),

gate as (

    select * from {{ ref('stg_tasks__publication_gate') }}

),

{%- set kinds = [
    'unknown_task', 'task_of_other_agency', 'completed_without_date', 'completed_without_evidence',
    'completion_after_report_date', 'status_backwards', 'extension_without_approval',
    'extension_approved_after_deadline', 'closed_without_approval'
] %}

row_contradictions as (

    select
        report_row_id,
        count(*) as contradiction_count,
        {{ dbt.listagg('contradiction_code', "'; '", 'order by contradiction_code') }} as contradictions,
        {{ dbt.listagg('contradiction_detail', "'; '", 'order by contradiction_code') }} as contradiction_details
        {%- for kind in kinds %},
        max(case when contradiction_code = '{{ kind }}' then 1 else 0 end) = 1 as has_{{ kind }}
        {%- endfor %}
    from contradictions
    group by report_row_id

),

decisions as (

    select
        deciding_report_row_id as report_row_id,
        count(*) as decided_months,
        min(period_month) as first_decided_month,
        max(period_month) as last_decided_month
    from classified
    where deciding_report_row_id is not null
    group by deciding_report_row_id

),

final as (

    select
        report_rows.report_row_id,
        report_rows.submission_id,
        report_rows.period,
        report_rows.period_month,
        report_rows.folder_unit_code,
        report_rows.reporting_unit_code,
        report_rows.reporting_unit_in_period,
        report_rows.report_date,
        report_rows.submission_version,
        report_rows.inbox_path,
        report_rows.sheet,
        report_rows.source_row,
        case when report_rows.is_counted then 'counted' else 'superseded' end as row_status,
        report_rows.is_counted,
        report_rows.task_code,
        report_rows.is_known_task,
        report_rows.document_number,
        report_rows.lead_unit_in_period,
        report_rows.reported_status,
        report_rows.reported_status_text,
        report_rows.completion_date,
        report_rows.evidence,
        report_rows.progress_percent,
        report_rows.delay_reason,
        report_rows.extension_deadline,
        report_rows.approval_document,
        report_rows.approval_date,
        coalesce(row_contradictions.contradiction_count, 0) as contradiction_count,
        row_contradictions.contradictions,
        row_contradictions.contradiction_details,
        {%- for kind in kinds %}
        coalesce(row_contradictions.has_{{ kind }}, false) as has_{{ kind }},
        {%- endfor %}
        decisions.report_row_id is not null as is_deciding_row,
        coalesce(decisions.decided_months, 0) as decided_months,
        decisions.first_decided_month,
        decisions.last_decided_month,
        coalesce(gate.publication_basis, 'withheld') as publication_basis
    from report_rows
    left join row_contradictions
        on row_contradictions.report_row_id = report_rows.report_row_id
    left join decisions
        on decisions.report_row_id = report_rows.report_row_id
    left join gate
        on gate.period_key = report_rows.period

)

select * from final
