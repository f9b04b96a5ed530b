-- One row per handling-agency level (seed units_agency_levels): the ranked unit level it sits
-- below, its names, the group it is ranked in within its parent, and the level's validity;
-- rename only.
with

source as (

    select * from {{ ref('units_agency_levels') }}

),

final as (

    select
        agency_level,
        parent_unit_level,
        level_name_vi,
        level_name_en,
        rank_group,
        is_ranked,
        valid_from,
        valid_to,
        legal_basis
    from source

)

select * from final
