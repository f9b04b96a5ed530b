-- Every numerator and denominator the indicator seed names is a measure that
-- int_service_measures_unit_monthly computes (macros/service_measures.sql). Returns unknown ones.
with

indicators as (

    select * from {{ ref('stg_methodology__service_index_indicators') }}

),

referenced as (

    select methodology_version, indicator_code, 'numerator' as role, numerator_measure as measure_code
    from indicators
    union all
    select methodology_version, indicator_code, 'denominator' as role, denominator_measure as measure_code
    from indicators

)

select *
from referenced
where measure_code is null
    or measure_code not in (
        {%- for measure in service_measure_codes() %}
        '{{ measure }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
