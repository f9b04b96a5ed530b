-- Imported published main-indicator values (raw.dti_history_values) that the year's
-- methodology version knows as top-level nodes, with the version and the ranked unit version
-- (for the ministry group). Codes that are not top-level nodes are ignored here.
with

history as (

    select * from {{ ref('stg_dti_history__values') }}

),

years as (

    select * from {{ ref('stg_methodology__dti_years') }}

),

main_nodes as (

    select * from {{ ref('stg_methodology__dti_indicators') }}
    where is_top_level

),

units as (

    select * from {{ ref('int_units_unioned') }}

),

final as (

    select
        history.year,
        years.methodology_version,
        history.level,
        history.unit_code,
        units.unit_key,
        case
            when history.level = 'ministry' then coalesce(units.dti_group, 'non_dvc')
            else 'all'
        end as unit_group,
        history.indicator_code,
        history.published_value,
        history.source_file,
        history.source_row
    from history
    inner join years
        on years.year = history.year
    inner join main_nodes
        on main_nodes.methodology_version = years.methodology_version
        and main_nodes.level = history.level
        and main_nodes.indicator_code = history.indicator_code
    left join units
        on units.unit_code = history.unit_code
        and units.unit_level = history.level
        and units.valid_from
            <= case when history.level = 'ministry' then years.ministry_units_as_of else years.units_as_of end
        and (units.valid_to is null
            or units.valid_to
            >= case when history.level = 'ministry' then years.ministry_units_as_of else years.units_as_of end)

)

select * from final
