{{
    config(
        unique_key='period',
        pre_hook="{{ delete_overlapping_periods() }}"
    )
}}
-- LONG table of every measure of the 766 service index per period (int_service_periods), unit
-- basis and unit: one row per period, unit_basis, unit_code and measure_code. The period's
-- numerators and denominators, never a mean of monthly values:
--   dossier and complaint measures  the sum of the bucket deltas of the period's months
--                                   (int_service_measure_deltas_monthly: each entity once, on
--                                   its latest row in the period): a quarter its quarter bucket,
--                                   a year to date through M the year bucket's months <= M, a
--                                   year all of them
--   procedure measures              int_service_period_procedure_measures
--   derived measures                after the sums (macros/service_measures.sql)
-- Units (unit_basis):
--   as_reported_period      the unit valid at the period's END month: every reported code is
--                           attributed through int_unit_codes_attributed at period_end_month
--                           (2025-Q2: the 63 old provinces; 2025-Q3, 2025, year to date through
--                           >= 2025-07: the 34 new ones with their predecessors' earlier months).
--                           The attribution table covers every month to 2030, so a period whose
--                           end month has no data yet (2025-Q3 ends 2025-09) uses the registry
--                           valid at that month.
--   backcast_current_units  today's unit: the as-reported units' sums onto their latest successor
-- Exact: `summed` measures stay DECIMAL through the sums and become doubles at the end.
-- Incremental by period: the periods overlapping the window are rebuilt from every month of their
-- spans. period_month = period_end_month (the folder's window delete).
{%- set measures = service_measure_definitions() %}
{%- set additive = measures | rejectattr('derived') | list %}
{%- set delta_measures = additive | rejectattr('entity', 'equalto', 'procedure') | list %}
{%- set procedure_measures = additive | selectattr('entity', 'equalto', 'procedure') | list %}
with

periods as (

    select * from {{ ref('int_service_periods') }}
    where {{ overlaps_period_window() }}

),

deltas as (

    select * from {{ ref('int_service_measure_deltas_monthly') }}

),

procedure_measures as (

    select * from {{ ref('int_service_period_procedure_measures') }}
    where {{ overlaps_period_window() }}

),

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

delta_sums as (

    select
        periods.period,
        unit_attribution.unit_code,
        unit_attribution.unit_level,
        {%- for measure in delta_measures %}
        {{ service_measure_rollup(measure, 'deltas.' ~ measure.code) }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from periods
    inner join deltas
        on deltas.bucket_kind = case when periods.period_kind = 'quarter' then 'quarter' else 'year' end
        and deltas.bucket_start_month = periods.period_start_month
        and deltas.period_month <= periods.period_end_month
    inner join unit_attribution
        on unit_attribution.reported_unit_code = deltas.reported_unit_code
        and unit_attribution.period_month = periods.period_end_month
    group by 1, 2, 3

),

period_units as (

    select period, unit_code, unit_level from delta_sums
    union
    select period, unit_code, unit_level from procedure_measures

),

as_reported as (

    select
        period_units.period,
        period_units.unit_code,
        period_units.unit_level,
        {%- for measure in delta_measures %}
        coalesce(delta_sums.{{ measure.code }}, 0) as {{ measure.code }},
        {%- endfor %}
        {%- for measure in procedure_measures %}
        coalesce(procedure_measures.{{ measure.code }}, 0) as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from period_units
    left join delta_sums
        on delta_sums.period = period_units.period
        and delta_sums.unit_code = period_units.unit_code
    left join procedure_measures
        on procedure_measures.period = period_units.period
        and procedure_measures.unit_code = period_units.unit_code

),

backcast as (

    -- each as-reported unit of the period onto today's unit (its latest successor)
    select
        as_reported.period,
        unit_attribution.backcast_unit_code as unit_code,
        as_reported.unit_level,
        {%- for measure in additive %}
        {{ service_measure_rollup(measure, 'as_reported.' ~ measure.code) }}
            as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from as_reported
    inner join periods
        on periods.period = as_reported.period
    inner join unit_attribution
        on unit_attribution.reported_unit_code = as_reported.unit_code
        and unit_attribution.period_month = periods.period_end_month
    group by 1, 2, 3

),

both_bases as (

    select
        'as_reported_period' as unit_basis,
        period,
        unit_code,
        unit_level,
        {%- for measure in additive %}
        {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from as_reported

    union all

    select
        'backcast_current_units' as unit_basis,
        period,
        unit_code,
        unit_level,
        {%- for measure in additive %}
        {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from backcast

),

derived as (

    select
        both_bases.*,
        {%- for measure in measures | selectattr('derived') %}
        {{ measure.derived }} as {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from both_bases

),

valued as (

    select
        unit_basis,
        period,
        unit_code,
        unit_level,
        {%- for measure in additive %}
        {{ service_measure_value(measure, measure.code) }} as {{ measure.code }},
        {%- endfor %}
        {%- for measure in measures | selectattr('derived') %}
        {{ measure.code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from derived

),

unpivoted as (

    {{- service_measures_unpivoted('valued', ['unit_basis', 'period', 'unit_code', 'unit_level'], measures) }}

),

final as (

    select
        periods.period_kind,
        unpivoted.period,
        periods.period_start_month,
        periods.period_end_month,
        periods.period_end_month as period_month,
        unpivoted.unit_basis,
        unpivoted.unit_code,
        unpivoted.unit_level,
        unpivoted.measure_code,
        unpivoted.measure_value
    from unpivoted
    inner join periods
        on periods.period = unpivoted.period

)

select * from final
