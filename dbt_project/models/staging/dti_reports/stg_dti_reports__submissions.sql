-- Every DTI report file received (raw.dti_submissions): accepted or rejected, every version;
-- rename/cast only. Scoring keeps the accepted ones (is_accepted, with a unit code:
-- int_dti_reports_selected); the auditors read them all (resubmissions, file-level rejections).
with

source as (

    {%- set columns = [
        ('submission_id', dbt.type_string()), ('year', dbt.type_int()),
        ('folder_unit_code', dbt.type_string()), ('unit_code', dbt.type_string()),
        ('level', dbt.type_string()), ('report_year', dbt.type_int()), ('report_date', 'date'),
        ('version', dbt.type_int()), ('received_at', dbt.type_timestamp()),
        ('inbox_path', dbt.type_string()), ('archived_path', dbt.type_string()),
        ('sha256', dbt.type_string()), ('methodology_version', dbt.type_string()),
        ('status', dbt.type_string()), ('rejection_rule', dbt.type_string()),
        ('rejection_reason', dbt.type_string())
    ] %}
    select raw_table.* from {{ source_or_empty('dti_reports', 'dti_submissions', columns) }} as raw_table

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
        inbox_path,
        archived_path,
        sha256,
        methodology_version as template_methodology_version,
        status = 'accepted' as is_accepted,
        rejection_rule,
        rejection_reason
    from source

)

select * from final
