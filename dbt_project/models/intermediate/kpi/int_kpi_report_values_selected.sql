-- The agency-report KPI values that count: the valid (non-rejected) rows of the LATEST accepted
-- version of each (period, folder_unit_code). Earlier versions and rejected files stay in the
-- staging views for the auditors.
with

submissions as (

    select * from {{ ref('stg_kpi__submissions') }}

),

report_values as (

    select * from {{ ref('stg_kpi__report_values') }}
    where is_valid

),

accepted_ranked as (

    select
        submissions.*,
        row_number() over (
            partition by period, folder_unit_code order by submission_version desc
        ) as recency
    from submissions
    where is_accepted

),

final as (

    select
        latest.submission_id,
        latest.period,
        latest.period_start,
        latest.period_end,
        latest.folder_unit_code,
        coalesce(report_values.level, latest.level) as level,
        coalesce(report_values.unit_code, latest.unit_code, latest.folder_unit_code) as unit_code,
        report_values.kpi_code,
        report_values.measure,
        report_values.value,
        report_values.numerator,
        report_values.denominator,
        report_values.source_row,
        latest.submission_version,
        latest.template_catalogue_version
    from accepted_ranked as latest
    inner join report_values
        on report_values.submission_id = latest.submission_id
    where latest.recency = 1

)

select * from final
