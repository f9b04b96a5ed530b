{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period',
        pre_hook="{{ delete_overlapping_periods() }}"
    )
}}
-- Ranking of the 766 service index per period: one row per period_kind, period, ranked unit and
-- basis (is_backcast). Provinces and ministries are ranked separately; only units in the index
-- with a score are ranked.
--   rank              competition rank (1, 2, 2, 4) on the 2-decimal total, within period_kind,
--                     period, unit level and basis
--   ranked_unit_count units ranked with it
--   previous_period   the previous period of the same kind: the previous quarter, the previous
--                     year, the year to date through the previous month of the same year (none
--                     for January)
--   previous_rank     the unit's rank in it on the same basis; a unit whose validity starts after
--                     the previous period's end (the 34 provinces from 2025-07) takes its
--                     back-cast rank there, as the monthly ranking does
--   rank_change       previous_rank - rank (positive = moved up)
--   band              from the band seed (configuration, not law)
-- The period's months and publication basis are carried from fct_service_index_period
-- (publication drops the withheld rows). Previous periods are read from
-- fct_service_index_period even when they do not overlap the window.
with

scores as (

    select * from {{ ref('fct_service_index_period') }}

),

bands as (

    select * from {{ ref('stg_methodology__service_index_bands') }}

),

periods as (

    select * from {{ ref('int_service_periods') }}

),

ranked as (

    select
        scores.*,
        rank() over (
            partition by period_kind, period, unit_level, is_backcast
            order by total_score desc
        ) as unit_rank,
        count(*) over (partition by period_kind, period, unit_level, is_backcast) as ranked_unit_count
    from scores
    where is_ranked_in_service_index
        and total_score is not null

),

with_previous as (

    select
        current_period.*,
        periods.previous_period,
        case
            when not current_period.is_backcast
                and current_period.unit_valid_from > periods.previous_period_end_month
                then previous_backcast.unit_rank
            else previous_same_basis.unit_rank
        end as previous_rank
    from ranked as current_period
    inner join periods
        on periods.period = current_period.period
    left join ranked as previous_same_basis
        on previous_same_basis.period = periods.previous_period
        and previous_same_basis.unit_code = current_period.unit_code
        and previous_same_basis.is_backcast = current_period.is_backcast
    left join ranked as previous_backcast
        on previous_backcast.period = periods.previous_period
        and previous_backcast.unit_code = current_period.unit_code
        and previous_backcast.is_backcast
    where {{ overlaps_period_window('current_period.period_start_month', 'current_period.period_end_month') }}

),

final as (

    select
        with_previous.period_kind,
        with_previous.period,
        with_previous.period_start_month,
        with_previous.period_end_month,
        with_previous.unit_code,
        with_previous.unit_name,
        with_previous.unit_level,
        with_previous.is_backcast,
        with_previous.total_score,
        with_previous.unit_rank as rank,
        with_previous.ranked_unit_count,
        with_previous.previous_period,
        with_previous.previous_rank,
        with_previous.previous_rank - with_previous.unit_rank as rank_change,
        bands.band_code,
        bands.band_name_vi as band,
        bands.band_name_en,
        bands.band_config_version,
        with_previous.methodology_version,
        with_previous.months_expected,
        with_previous.months_covered,
        with_previous.months_missing,
        with_previous.months_withheld,
        with_previous.covered_month_count,
        with_previous.is_complete,
        with_previous.publication_basis,
        with_previous.override_ids
    from with_previous
    left join bands
        on with_previous.total_score >= bands.min_score
        and (bands.max_score_exclusive is null or with_previous.total_score < bands.max_score_exclusive)

)

select * from final
