-- One row per methodology version, level and top-level node: the points its value is weighted
-- by in the total. The catalogue's max_points when set, else the latest supplement loaded as
-- data (raw.dti_weight_supplements), else NULL: scoring then refuses (macros/dti.sql
-- dti_refuse_unset_points). weights_basis says which: 'official' / 'supplemented: <source>'.
with

main_nodes as (

    select * from {{ ref('stg_methodology__dti_indicators') }}
    where is_top_level

),

supplements as (

    select *
    from (
        select
            supplements.*,
            row_number() over (
                partition by methodology_version, level, indicator_code
                order by loaded_at desc, supplement_source asc, max_points asc  -- a total order
            ) as recency
        from {{ ref('stg_dti_weights__supplements') }} as supplements
    ) as numbered
    where recency = 1

),

final as (

    select
        main_nodes.methodology_version,
        main_nodes.level,
        main_nodes.indicator_code,
        main_nodes.node_type,
        main_nodes.display_order,
        main_nodes.max_points as catalogue_max_points,
        supplements.max_points as supplement_max_points,
        coalesce(main_nodes.max_points, supplements.max_points) as max_points,
        case
            when main_nodes.max_points is not null then 'official'
            when supplements.max_points is not null
                then {{ dbt.concat(["'supplemented: '", "supplements.supplement_source"]) }}
        end as weights_basis,
        supplements.loaded_at as supplement_loaded_at
    from main_nodes
    left join supplements
        on supplements.methodology_version = main_nodes.methodology_version
        and supplements.level = main_nodes.level
        and supplements.indicator_code = main_nodes.indicator_code

)

select * from final
