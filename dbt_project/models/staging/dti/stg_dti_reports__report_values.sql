-- Good indicator rows of DTI reports (raw.dti_report_values, rejection_rule NULL); rename only.
with

source as (

    select * from {{ source('dti_reports', 'dti_report_values') }}

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
