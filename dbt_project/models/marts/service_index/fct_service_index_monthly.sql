{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_month',
        on_schema_change='sync_all_columns',
        pre_hook=before_begin("{{ delete_period_window() }}")
    )
}}
-- on_schema_change: the wide columns follow the indicator seed; a new methodology version adds
-- or drops columns on the next run. The window delete runs before the model's transaction
-- (before_begin) because DuckDB refuses an ALTER TABLE and a DELETE on one table in one
-- transaction; if the insert then fails, the window stays empty until the next run.
-- depends_on: {{ ref('stg_methodology__service_index_indicators') }}
-- One row per month with data, unit and basis (is_backcast): every sub-indicator's numerator,
-- denominator, ratio and points as wide columns (generated from the indicator seed), the six
-- portal groups, the decision's five groups (group 4 = CLGQ + TTTT) and the total.
-- Units: every ranked unit valid in the month (as reported) or every current unit with a
-- predecessor valid in the month (back-cast), plus any other unit with data. A unit without a
-- dossier handled in the month appears with dossier_count 0 and null scores.
with

scored as (

    select * from {{ ref('int_service_index_scored') }}
    where {{ in_period_window('period_month') }}

),

measures as (

    select * from {{ ref('int_service_measures_unit_monthly') }}
    where {{ in_period_window('period_month') }}
        and measure_code = 'dossiers_handled'

),

months as (

    select distinct period_month from scored

),

{{ service_unit_spine('months', 'period_month', 'period_month') }},

{{ service_index_pivoted('scored', ['period_month', 'is_backcast', 'unit_code']) }},

final as (

    select
        unit_spine.period_month,
        unit_spine.unit_code,
        unit_spine.unit_name,
        unit_spine.unit_level,
        unit_spine.is_backcast,
        unit_spine.unit_valid_from,
        unit_spine.is_ranked_in_service_index,
        pivoted.methodology_version,
        cast(coalesce(measures.measure_value, 0) as {{ dbt.type_int() }}) as dossier_count,
        {{- service_index_wide_columns('pivoted') }}
    from unit_spine
    left join service_index_pivoted as pivoted
        on pivoted.period_month = unit_spine.period_month
        and pivoted.is_backcast = unit_spine.is_backcast
        and pivoted.unit_code = unit_spine.unit_code
    left join measures
        on measures.period_month = unit_spine.period_month
        and measures.unit_basis
        = case when unit_spine.is_backcast then 'backcast_current_units' else 'as_reported_period' end
        and measures.unit_code = unit_spine.unit_code

)

select * from final
