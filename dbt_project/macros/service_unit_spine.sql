{#- The units a wide service-index mart has a row for, written once for the month
    (fct_service_index_monthly) and the period (fct_service_index_period): for each row of
    `spine_periods` (a CTE with the key column `key` and the month `month_column` whose units
    count: the month itself, or the period's end month)
      as reported  every unit valid in that month (int_units_valid_by_month)
      back-cast    every current unit (its latest version) with a predecessor valid in that month
    kept when the unit is ranked in the service index or has a scored row (the CTE `scored`,
    with `key`, is_backcast and unit_code). Emits the CTEs service_spine_* and unit_spine
    (key, is_backcast, unit_code, unit_name, unit_level, unit_valid_from,
    is_ranked_in_service_index). -#}
{% macro service_unit_spine(spine_periods, key, month_column) %}
service_spine_latest_unit_versions as (

    select
        units.*,
        row_number() over (partition by unit_code order by valid_from desc) as version_rank
    from {{ ref('int_units_unioned') }} as units

),

service_spine_as_reported as (

    select
        spine_periods.{{ key }},
        false as is_backcast,
        units_by_month.unit_code,
        units_by_month.unit_name,
        units_by_month.unit_level,
        units_by_month.valid_from as unit_valid_from,
        units_by_month.is_ranked_in_service_index
    from {{ spine_periods }} as spine_periods
    inner join {{ ref('int_units_valid_by_month') }} as units_by_month
        on units_by_month.period_month = spine_periods.{{ month_column }}

),

service_spine_backcast_codes as (

    -- today's units that have a unit valid in the month among their predecessors
    select distinct
        spine_periods.{{ key }},
        unit_attribution.backcast_unit_code as unit_code
    from {{ spine_periods }} as spine_periods
    inner join {{ ref('int_unit_codes_attributed') }} as unit_attribution
        on unit_attribution.period_month = spine_periods.{{ month_column }}
        and unit_attribution.reported_unit_code = unit_attribution.unit_code

),

service_spine_backcast as (

    select
        backcast_codes.{{ key }},
        true as is_backcast,
        backcast_codes.unit_code,
        latest.unit_name,
        latest.unit_level,
        latest.valid_from as unit_valid_from,
        latest.is_ranked_in_service_index
    from service_spine_backcast_codes as backcast_codes
    inner join service_spine_latest_unit_versions as latest
        on latest.unit_code = backcast_codes.unit_code
        and latest.version_rank = 1

),

service_spine_candidates as (

    select * from service_spine_as_reported
    union all
    select * from service_spine_backcast

),

unit_spine as (

    select * from service_spine_candidates
    where is_ranked_in_service_index
        or exists (
            select 1 from scored
            where scored.{{ key }} = service_spine_candidates.{{ key }}
                and scored.unit_code = service_spine_candidates.unit_code
                and scored.is_backcast = service_spine_candidates.is_backcast
        )

)
{%- endmacro %}
