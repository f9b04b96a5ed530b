-- Monthly ranking of the 766 service index: one row per month, ranked unit and basis
-- (is_backcast). Provinces and ministries are ranked separately; only units in the index
-- (provinces, ministries providing public services) with a score are ranked.
--   rank           competition rank (1, 2, 2, 4) on the 2-decimal total, within month, level, basis
--   previous_rank  the unit's rank the month before on the same basis; a unit whose validity
--                  starts after the previous month (the 34 provinces in 2025-07, ministries
--                  created 2025-03) takes its back-cast rank of the previous month
--   rank_change    previous_rank - rank (positive = moved up)
--   band           from the band seed (configuration, not law)
-- The previous month is read from fct_service_index_monthly even when it is outside the
-- window, so a one-month backfill still finds previous ranks.
with

scores as (

    select * from {{ ref('fct_service_index_monthly') }}
    where period_month >= {{ dbt.dateadd('month', -1, period_start()) }}
        and period_month < {{ period_end() }}

),

bands as (

    select * from {{ ref('stg_methodology__service_index_bands') }}

),

rankable as (

    select
        period_month,
        unit_code,
        unit_name,
        unit_level,
        is_backcast,
        unit_valid_from,
        methodology_version,
        total_score
    from scores
    where is_ranked_in_service_index
        and total_score is not null

),

ranked as (

    select
        rankable.*,
        rank() over (
            partition by period_month, unit_level, is_backcast
            order by total_score desc
        ) as unit_rank,
        count(*) over (partition by period_month, unit_level, is_backcast) as ranked_unit_count
    from rankable

),

with_previous as (

    select
        current_month.*,
        case
            when not current_month.is_backcast and current_month.unit_valid_from >= current_month.period_month
                then previous_backcast.unit_rank
            else previous_same_basis.unit_rank
        end as previous_rank
    from ranked as current_month
    left join ranked as previous_same_basis
        on previous_same_basis.unit_code = current_month.unit_code
        and previous_same_basis.is_backcast = current_month.is_backcast
        and previous_same_basis.period_month = {{ dbt.dateadd('month', -1, 'current_month.period_month') }}
    left join ranked as previous_backcast
        on previous_backcast.unit_code = current_month.unit_code
        and previous_backcast.is_backcast
        and previous_backcast.period_month = {{ dbt.dateadd('month', -1, 'current_month.period_month') }}
    where {{ in_period_window('current_month.period_month') }}

),

final as (

    select
        with_previous.period_month,
        with_previous.unit_code,
        with_previous.unit_name,
        with_previous.unit_level,
        with_previous.is_backcast,
        with_previous.total_score,
        with_previous.unit_rank as rank,
        with_previous.ranked_unit_count,
        with_previous.previous_rank,
        with_previous.previous_rank - with_previous.unit_rank as rank_change,
        bands.band_code,
        bands.band_name_vi as band,
        bands.band_name_en,
        bands.band_config_version,
        with_previous.methodology_version
    from with_previous
    left join bands
        on with_previous.total_score >= bands.min_score
        and (bands.max_score_exclusive is null or with_previous.total_score < bands.max_score_exclusive)

)

select * from final
