-- The countries of each peer group (seed kpi_peer_groups).
with

source as (

    select * from {{ ref('kpi_peer_groups') }}

),

final as (

    select
        peer_group,
        country_code,
        country_name_en
    from source

)

select * from final
