-- Every KPI row of an agency KPI report (raw.kpi_report_values); rejected rows are kept and
-- flagged (is_valid false): the marts read the valid ones.
with

source as (

    select * from {{ source('kpi_raw', 'kpi_report_values') }}

),

final as (

    select
        submission_id,
        period,
        level,
        unit_code,
        kpi_code,
        coalesce(measure, 'main') as measure,
        cast(value as {{ type_double() }}) as value,
        cast(numerator as {{ type_double() }}) as numerator,
        cast(denominator as {{ type_double() }}) as denominator,
        sheet,
        source_row,
        rejection_rule is null as is_valid,
        rejection_rule,
        rejection_reason,
        rejection_field
    from source

)

select * from final
