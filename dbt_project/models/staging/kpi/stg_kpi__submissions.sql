-- Every agency KPI report file received (raw.kpi_submissions): accepted or rejected, every
-- version; rename/cast only. The values that count are chosen in int_kpi_report_values_selected.
with

source as (

    select * from {{ source('kpi_raw', 'kpi_submissions') }}

),

final as (

    select
        submission_id,
        period,
        period_start,
        period_end,
        folder_unit_code,
        unit_code,
        level,
        version as submission_version,
        received_at,
        inbox_path,
        sha256,
        status = 'accepted' as is_accepted,
        rejection_rule,
        rejection_reason,
        catalogue_version as template_catalogue_version
    from source

)

select * from final
