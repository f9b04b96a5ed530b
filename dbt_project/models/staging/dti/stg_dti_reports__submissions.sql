-- Accepted DTI report files (raw.dti_submissions, every version); rename/cast only. Rejected
-- files stay in raw for the auditors.
with

source as (

    {%- set columns = [('submission_id', dbt.type_string()), ('year', dbt.type_int()), ('folder_unit_code', dbt.type_string()), ('unit_code', dbt.type_string()), ('level', dbt.type_string()), ('report_year', dbt.type_int()), ('report_date', 'date'), ('version', dbt.type_int()), ('received_at', dbt.type_timestamp()), ('archived_path', dbt.type_string()), ('sha256', dbt.type_string()), ('methodology_version', dbt.type_string()), ('status', dbt.type_string())] %}
    select * from {{ source_or_empty('dti_reports', 'dti_submissions', columns) }} as raw_table

),

final as (

    select
        submission_id,
        year,
        folder_unit_code,
        unit_code,
        level,
        report_year,
        report_date,
        version as submission_version,
        received_at,
        archived_path,
        sha256,
        methodology_version as template_methodology_version
    from source
    where status = 'accepted'
        and unit_code is not null

)

select * from final
