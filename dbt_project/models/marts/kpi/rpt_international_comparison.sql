-- International comparison: one row per index, edition and country of the peer group (var
-- kpi_peer_group) and the home country (var kpi_home_country), from the current loads:
--   score / world_rank     the index's value ('value', else 'score') and rank components
--   peer_rank              rank within the peer group by the world rank (1 = best), among the
--                          members in the file (is_peer_group_complete: all of them are)
--   leader_*               the peer group's best-ranked country; gap_to_leader_score = leader - score
--   target_*               the home country's national target for the index's world rank
--                          (kpi_targets through kpi_international_sources): the nearest target
--                          year at or after the edition, the latest document first; gap = rank - N
--   score_change, rank_change   since the country's previous edition (rank_change > 0 = moved up)
--   osi, hci, tii, epi     the EGDI components; EGDI = mean(OSI, HCI, TII), so a component's
--                          contribution to the score change is its change / 3; egdi_driver_component
--                          is the one with the largest absolute contribution
with

index_values as (

    select * from {{ ref('int_kpi_index_values_peered') }}
    where is_current_release
        and (is_peer or country_code = '{{ var("kpi_home_country") }}')

),

index_sources as (

    select * from {{ ref('stg_kpi__international_sources') }}

),

targets as (

    select * from {{ ref('stg_kpi__targets') }}

),

catalogue_version as (

    select max(methodology_version) as methodology_version from {{ ref('stg_kpi__catalogue') }}

),

countries as (

    select
        index_code,
        edition,
        country_code,
        max(country_name) as country_name,
        max(case when is_peer then 1 else 0 end) = 1 as is_peer,
        country_code = '{{ var("kpi_home_country") }}' as is_home_country,
        max(case when component = 'rank' then value end) as world_rank,
        coalesce(max(case when component = 'value' then value end), max(case when component = 'score' then value end))
            as score,
        max(case when component = 'osi' then value end) as osi,
        max(case when component = 'hci' then value end) as hci,
        max(case when component = 'tii' then value end) as tii,
        max(case when component = 'epi' then value end) as epi,
        max(case when component = 'rank' then peer_rank_ascending end) as peer_rank,
        max(case when component = 'rank' and is_peer_group_complete then 1 else 0 end) = 1 as is_peer_group_complete,
        max(load_id) as load_id
    from index_values
    group by index_code, edition, country_code

),

leaders as (

    select index_code, edition, country_code as leader_country_code, world_rank as leader_rank, score as leader_score
    from (
        select
            countries.*,
            row_number() over (partition by index_code, edition order by peer_rank, country_code) as leader_order
        from countries
        where is_peer and peer_rank is not null
    ) as ranked
    where leader_order = 1

),

rank_targets as (

    -- the national targets on the world rank of each index (measure of its 'rank' component)
    select
        index_sources.index_code,
        targets.target_year,
        targets.target_value,
        targets.comparator,
        targets.source_document,
        targets.source_date,
        targets.kpi_code,
        targets.measure
    from index_sources
    inner join targets
        on targets.kpi_code = index_sources.kpi_code
        and targets.measure = index_sources.measure
        and targets.target_level in ('national', 'all')
        and targets.comparator = 'top_n'
    where index_sources.component = 'rank' and index_sources.derivation = 'component'

),

edition_targets as (

    select * from (
        select
            countries.index_code,
            countries.edition,
            rank_targets.kpi_code as target_kpi_code,
            rank_targets.target_year,
            rank_targets.target_value,
            rank_targets.source_document as target_source_document,
            row_number() over (
                partition by countries.index_code, countries.edition
                order by
                    rank_targets.target_year asc, rank_targets.source_date desc nulls last,
                    rank_targets.target_value asc
            ) as target_order
        from (select distinct index_code, edition from countries) as countries
        inner join rank_targets
            on rank_targets.index_code = countries.index_code
            and rank_targets.target_year >= countries.edition
    ) as ordered
    where target_order = 1

),

with_previous as (

    select
        lagged.*,
        lagged.score - lagged.previous_score as score_change,
        lagged.previous_rank - lagged.world_rank as rank_change,
        (lagged.osi - lagged.previous_osi) / 3 as osi_contribution,
        (lagged.hci - lagged.previous_hci) / 3 as hci_contribution,
        (lagged.tii - lagged.previous_tii) / 3 as tii_contribution
    from (
        select
            countries.*,
            lag(edition) over by_edition as previous_edition,
            lag(score) over by_edition as previous_score,
            lag(world_rank) over by_edition as previous_rank,
            lag(osi) over by_edition as previous_osi,
            lag(hci) over by_edition as previous_hci,
            lag(tii) over by_edition as previous_tii
        from countries
        window by_edition as (partition by index_code, country_code order by edition)
    ) as lagged

),

final as (

    select
        with_previous.index_code,
        with_previous.edition,
        with_previous.country_code,
        with_previous.country_name,
        with_previous.is_home_country,
        with_previous.is_peer,
        '{{ var("kpi_peer_group") }}' as peer_group,
        with_previous.score,
        with_previous.world_rank,
        with_previous.peer_rank,
        with_previous.is_peer_group_complete,
        leaders.leader_country_code,
        leaders.leader_score,
        leaders.leader_rank,
        leaders.leader_score - with_previous.score as gap_to_leader_score,
        with_previous.world_rank - leaders.leader_rank as gap_to_leader_rank,
        case when with_previous.is_home_country then edition_targets.target_kpi_code end as target_kpi_code,
        case when with_previous.is_home_country then edition_targets.target_year end as target_year,
        case when with_previous.is_home_country then edition_targets.target_value end as target_rank,
        case
            when with_previous.is_home_country then edition_targets.target_source_document
        end as target_source_document,
        case
            when with_previous.is_home_country then with_previous.world_rank - edition_targets.target_value
        end as gap_to_target_rank,
        with_previous.previous_edition,
        with_previous.previous_score,
        with_previous.previous_rank,
        with_previous.score_change,
        with_previous.rank_change,
        with_previous.osi,
        with_previous.hci,
        with_previous.tii,
        with_previous.epi,
        with_previous.osi_contribution,
        with_previous.hci_contribution,
        with_previous.tii_contribution,
        case
            when with_previous.index_code = 'EGDI' and with_previous.osi_contribution is not null then
                case
                    when abs(with_previous.osi_contribution) >= abs(with_previous.hci_contribution)
                        and abs(with_previous.osi_contribution) >= abs(with_previous.tii_contribution) then 'osi'
                    when abs(with_previous.hci_contribution) >= abs(with_previous.tii_contribution) then 'hci'
                    else 'tii'
                end
        end as egdi_driver_component,
        with_previous.load_id as source_ref,
        'not_gated' as publication_basis,
        catalogue_version.methodology_version
    from with_previous
    cross join catalogue_version
    left join leaders
        on leaders.index_code = with_previous.index_code
        and leaders.edition = with_previous.edition
    left join edition_targets
        on edition_targets.index_code = with_previous.index_code
        and edition_targets.edition = with_previous.edition

)

select * from final
