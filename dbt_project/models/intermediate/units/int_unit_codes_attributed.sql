-- For every month 2020-01 .. 2030-12 and every unit code that can appear in the data, the ranked
-- unit a row reported under that code is attributed to in that month:
--   * the code itself when a unit with that code is valid in the month;
--   * otherwise its successor through the crosswalks (province merger, Resolution 202/2025/QH15,
--     effective 2025-07-01; ministry restructure, Resolution 176/2025/QH15, effective
--     2025-03-01), following chains, once the crosswalk is in effect.
-- backcast_unit_code is today's unit: the last successor of the chain (the code itself if it
-- never merged). A code with no unit valid in the month and no valid successor (unknown, or only
-- valid later) has no row for that month: validation (expectations/row_rules.py) rejects such
-- rows by anti-joining this table.
-- `with recursive` is ANSI SQL (DuckDB, Postgres, Snowflake, BigQuery support it); it must open
-- the whole WITH clause, so the import CTEs follow it.
with recursive

units_by_month as (

    select * from {{ ref('int_units_valid_by_month') }}

),

units as (

    select * from {{ ref('int_units_unioned') }}

),

province_merger as (

    select * from {{ ref('stg_units__province_merger_2025') }}

),

ministry_restructure as (

    select * from {{ ref('stg_units__ministry_restructure_2025') }}

),

crosswalk_edges as (

    -- An old code keeping its number (01 -> 01) is not an edge: the code's new unit version is
    -- found by validity alone.
    select
        old_province_code as old_unit_code,
        new_province_code as new_unit_code,
        effective_date,
        'province_merger_2025' as crosswalk
    from province_merger
    where old_province_code <> new_province_code

    union all

    select
        old_ministry_code as old_unit_code,
        new_ministry_code as new_unit_code,
        effective_date,
        'ministry_restructure_2025' as crosswalk
    from ministry_restructure
    where old_ministry_code <> new_ministry_code

),

codes as (

    select distinct unit_code
    from units

),

successors (reported_unit_code, successor_unit_code, chain_depth, in_effect_from, crosswalk) as (

    select
        unit_code as reported_unit_code,
        unit_code as successor_unit_code,
        0 as chain_depth,
        cast(null as date) as in_effect_from,
        cast(null as {{ dbt.type_string() }}) as crosswalk
    from codes

    union all

    select
        successors.reported_unit_code,
        crosswalk_edges.new_unit_code as successor_unit_code,
        successors.chain_depth + 1 as chain_depth,
        -- a chain is in effect once its latest step is
        case
            when successors.in_effect_from is null
                or crosswalk_edges.effective_date > successors.in_effect_from
                then crosswalk_edges.effective_date
            else successors.in_effect_from
        end as in_effect_from,
        crosswalk_edges.crosswalk
    from successors
    inner join crosswalk_edges
        on crosswalk_edges.old_unit_code = successors.successor_unit_code
    where successors.chain_depth < 10

),

backcast_units as (

    select
        reported_unit_code,
        successor_unit_code as backcast_unit_code,
        row_number() over (
            partition by reported_unit_code
            order by chain_depth desc, successor_unit_code asc  -- a total order: the same pick every run
        ) as depth_rank
    from successors

),

candidates as (

    select
        units_by_month.period_month,
        successors.reported_unit_code,
        units_by_month.unit_code,
        units_by_month.unit_key,
        units_by_month.unit_level,
        units_by_month.is_ranked_in_service_index,
        successors.chain_depth,
        coalesce(successors.crosswalk, 'self') as attribution,
        row_number() over (
            partition by units_by_month.period_month, successors.reported_unit_code
            order by successors.chain_depth, units_by_month.unit_code  -- a total order
        ) as candidate_rank
    from successors
    inner join units_by_month
        on units_by_month.unit_code = successors.successor_unit_code
    where successors.in_effect_from is null
        or successors.in_effect_from <= units_by_month.period_month

),

final as (

    select
        candidates.reported_unit_code,
        candidates.period_month,
        candidates.unit_code,
        candidates.unit_level,
        candidates.unit_key,
        candidates.is_ranked_in_service_index,
        candidates.attribution,
        backcast_units.backcast_unit_code
    from candidates
    inner join backcast_units
        on backcast_units.reported_unit_code = candidates.reported_unit_code
        and backcast_units.depth_rank = 1
    where candidates.candidate_rank = 1

)

select * from final
