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

units_by_month as (

    select * from {{ ref('int_units_valid_by_month') }}

),

units as (

    select * from {{ ref('int_units_unioned') }}

),

unit_attribution as (

    select * from {{ ref('int_unit_codes_attributed') }}

),

months as (

    select distinct period_month from scored

),

latest_unit_versions as (

    select
        units.*,
        row_number() over (partition by unit_code order by valid_from desc) as version_rank
    from units

),

as_reported_units as (

    select
        months.period_month,
        false as is_backcast,
        units_by_month.unit_code,
        units_by_month.unit_name,
        units_by_month.unit_level,
        units_by_month.valid_from as unit_valid_from,
        units_by_month.is_ranked_in_service_index
    from months
    inner join units_by_month
        on units_by_month.period_month = months.period_month

),

backcast_codes as (

    -- today's units that have a unit valid in the month among their predecessors
    select distinct
        months.period_month,
        unit_attribution.backcast_unit_code as unit_code
    from months
    inner join unit_attribution
        on unit_attribution.period_month = months.period_month
        and unit_attribution.reported_unit_code = unit_attribution.unit_code

),

backcast_units as (

    select
        backcast_codes.period_month,
        true as is_backcast,
        backcast_codes.unit_code,
        latest_unit_versions.unit_name,
        latest_unit_versions.unit_level,
        latest_unit_versions.valid_from as unit_valid_from,
        latest_unit_versions.is_ranked_in_service_index
    from backcast_codes
    inner join latest_unit_versions
        on latest_unit_versions.unit_code = backcast_codes.unit_code
        and latest_unit_versions.version_rank = 1

),

unit_spine as (

    select * from as_reported_units
    where is_ranked_in_service_index
        or exists (
            select 1 from scored
            where scored.period_month = as_reported_units.period_month
                and scored.unit_code = as_reported_units.unit_code
                and not scored.is_backcast
        )

    union all

    select * from backcast_units
    where is_ranked_in_service_index
        or exists (
            select 1 from scored
            where scored.period_month = backcast_units.period_month
                and scored.unit_code = backcast_units.unit_code
                and scored.is_backcast
        )

),

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
