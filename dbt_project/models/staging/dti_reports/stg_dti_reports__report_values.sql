-- Every indicator row of every DTI report file (raw.dti_report_values), good or rejected;
-- rename/cast only. is_accepted = rejection_rule NULL (no intake rule nor gx_<check> set by
-- validation): scoring reads those (int_dti_sub_indicator_scores); the auditors read them all
-- (why a row earned nothing).
with

source as (

    {%- set columns = [
        ('submission_id', dbt.type_string()), ('year', dbt.type_int()),
        ('level', dbt.type_string()), ('unit_code', dbt.type_string()),
        ('indicator_code', dbt.type_string()), ('value', dxmon.type_double()),
        ('numerator', dxmon.type_double()), ('denominator', dxmon.type_double()),
        ('evidence', dbt.type_string()), ('raw_value', dbt.type_string()),
        ('sheet', dbt.type_string()), ('source_row', dbt.type_int()),
        ('rejection_rule', dbt.type_string()), ('rejection_reason', dbt.type_string())
    ] %}
    select raw_table.* from {{ source_or_empty('dti_reports', 'dti_report_values', columns) }} as raw_table

),

final as (

    select
        submission_id,
        year,
        level,
        unit_code,
        indicator_code,
        value as reported_value,
        numerator as reported_numerator,
        denominator as reported_denominator,
        evidence,
        raw_value,
        sheet,
        source_row,
        rejection_rule,
        rejection_reason,
        rejection_rule is null as is_accepted
    from source

)

select * from final
