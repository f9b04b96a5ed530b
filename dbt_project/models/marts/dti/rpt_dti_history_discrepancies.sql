-- One row per disagreement between the imported published DTI results and their recomputation
-- from the imported main-indicator values by the year's methodology version
-- (int_dti_history_recomputed):
--   dti_value                 |published - recomputed| > 1e-4 (published has 4 decimals)
--   rank                      published rank <> recomputed competition rank
--   published_without_values  a published total without main-indicator values to check it
--   values_without_published  main-indicator values without a published total
-- difference = recomputed - published.
with

compared as (

    select * from {{ ref('int_dti_history_recomputed') }}

),

value_differences as (

    select
        year, level, unit_code, 'dti_value' as kind,
        published_dti_value as published,
        recomputed_dti_value as recomputed,
        recomputed_dti_value - published_dti_value as difference,
        source_file
    from compared
    where recomputed_dti_value is not null
        and published_dti_value is not null
        and abs(recomputed_dti_value - published_dti_value) > 1e-4

),

rank_differences as (

    select
        year, level, unit_code, 'rank' as kind,
        cast(published_rank as {{ dxmon.type_double() }}) as published,
        cast(recomputed_rank as {{ dxmon.type_double() }}) as recomputed,
        cast(recomputed_rank - published_rank as {{ dxmon.type_double() }}) as difference,
        source_file
    from compared
    where recomputed_rank is not null
        and published_rank is not null
        and recomputed_rank <> published_rank

),

missing_values as (

    select
        year, level, unit_code, 'published_without_values' as kind,
        published_dti_value as published,
        cast(null as {{ dxmon.type_double() }}) as recomputed,
        cast(null as {{ dxmon.type_double() }}) as difference,
        source_file
    from compared
    where recomputed_dti_value is null
        and published_dti_value is not null

),

missing_published as (

    select
        year, level, unit_code, 'values_without_published' as kind,
        cast(null as {{ dxmon.type_double() }}) as published,
        recomputed_dti_value as recomputed,
        cast(null as {{ dxmon.type_double() }}) as difference,
        source_file
    from compared
    where recomputed_dti_value is not null
        and published_dti_value is null

),

final as (

    select * from value_differences
    union all
    select * from rank_differences
    union all
    select * from missing_values
    union all
    select * from missing_published

)

select * from final
