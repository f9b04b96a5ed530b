-- International-index values: the valid rows of accepted files, for every country, with the
-- current load of each index, edition, country and component (is_current_release: the latest
-- load; an earlier load of the same edition stays a row) and each country's rank within the peer
-- group (var kpi_peer_group, seed kpi_peer_groups) among the current rows, by the component
-- ascending (ranks: 1 = best; used for ranks only), and whether every member of the peer group
-- is in that edition (is_peer_group_complete: a rank among some of the peers is not their rank).

with

index_values as (

    select * from {{ ref('stg_kpi__index_values') }}
    where is_valid

),

loads as (

    select * from {{ ref('stg_kpi__index_loads') }}
    where is_accepted

),

peers as (

    select * from {{ ref('stg_kpi__peer_groups') }}
    where peer_group = '{{ var("kpi_peer_group") }}'

),

peer_group_size as (

    select count(*) as peer_count from peers

),

joined as (

    select
        index_values.*,
        loads.loaded_at,
        loads.load_sequence,
        peers.country_code is not null as is_peer,
        row_number() over (
            partition by index_values.index_code, index_values.edition, index_values.country_code,
            index_values.component
            order by loads.load_sequence desc nulls last, loads.loaded_at desc, index_values.load_id desc
        ) = 1 as is_current_release
    from index_values
    inner join loads
        on loads.load_id = index_values.load_id
    left join peers
        on peers.country_code = index_values.country_code

),

peer_ranked as (

    select
        joined.*,
        case
            when is_peer and value is not null
                then rank() over (
                    partition by index_code, edition, component, is_current_release, is_peer, value is null
                    order by value
                )
        end as peer_rank_ascending,
        count(case when is_peer and value is not null then 1 end) over (
            partition by index_code, edition, component, is_current_release
        ) as peers_present
    from joined

),

final as (

    select
        peer_ranked.*,
        peer_ranked.peers_present = peer_group_size.peer_count as is_peer_group_complete
    from peer_ranked
    cross join peer_group_size

)

select * from final
