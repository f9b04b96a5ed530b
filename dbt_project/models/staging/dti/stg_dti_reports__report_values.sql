-- Good indicator rows of DTI reports (raw.dti_report_values, rejection_rule NULL); rename only.
with

source as (

    {%- set columns = [('submission_id', dbt.type_string()), ('year', dbt.type_int()), ('level', dbt.type_string()), ('unit_code', dbt.type_string()), ('indicator_code', dbt.type_string()), ('value', dxmon.type_double()), ('numerator', dxmon.type_double()), ('denominator', dxmon.type_double()), ('evidence', dbt.type_string()), ('raw_value', dbt.type_string()), ('sheet', dbt.type_string()), ('source_row', dbt.type_int()), ('rejection_rule', dbt.type_string())] %}
    select * from {{ source_or_empty('dti_reports', 'dti_report_values', columns) }} as raw_table

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
        source_row
    from source
    where rejection_rule is null

)

select * from final
