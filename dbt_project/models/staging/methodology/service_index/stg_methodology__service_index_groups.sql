-- Portal groups of every service-index methodology version. One seed per legal decision: add
-- the next version's seed to the union below.
with

groups_766_2022 as (

    select * from {{ ref('service_index_groups_766_2022') }}

),

unioned as (

    select * from groups_766_2022

),

final as (

    select
        methodology_version,
        group_code,
        decision_group_no,
        group_order,
        name_vi as group_name_vi,
        name_en as group_name_en,
        max_points as group_max_points,
        portal_api_group
    from unioned

)

select * from final
