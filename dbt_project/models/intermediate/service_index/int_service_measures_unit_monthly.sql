-- LONG table of every measure the service-index indicators are built from: one row per month,
-- unit basis (as_reported_period | backcast_current_units), unit and measure. The measures and
-- what each counts: macros/service_measures.sql; computed in int_service_measures_aggregated.
-- The indicator seed decides which measures form each indicator (numerator_measure /
-- denominator_measure), so scoring needs no per-indicator SQL.
with

aggregated as (

    select * from {{ ref('int_service_measures_aggregated') }}
    where {{ in_period_window('period_month') }}

),

unpivoted as (

    {%- for measure in service_measure_codes() %}
    select
        period_month,
        unit_basis,
        unit_code,
        unit_level,
        '{{ measure }}' as measure_code,
        cast({{ measure }} as {{ type_double() }}) as measure_value
    from aggregated
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select * from unpivoted

)

select * from final
