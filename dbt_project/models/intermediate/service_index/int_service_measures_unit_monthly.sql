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

    {{- service_measures_unpivoted('aggregated', ['period_month', 'unit_basis', 'unit_code', 'unit_level']) }}

),

final as (

    select * from unpivoted

)

select * from final
