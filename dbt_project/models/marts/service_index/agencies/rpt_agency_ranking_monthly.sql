{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_month',
        pre_hook="{{ delete_period_window() }}"
    )
}}
-- Monthly ranking of the handling agencies: one row per month and ranked agency
-- (fct_service_index_agency_monthly.is_ranked).
--   rank                 competition rank (1, 2, 2, 4) on the 2-decimal total, within month,
--                        parent unit and rank group (seed units_agency_levels: the provincial
--                        People's Committee's office with the departments; districts, communes,
--                        a ministry's offices and its branches each apart)
--   ranked_agency_count  agencies ranked in that group
--   previous_rank        the same agency code's rank the month before, in the same parent unit
--                        (the same unit version: same code and valid_from) and rank group. None
--                        for a new unit: a commune formed by the 2025 merger has a new code (no
--                        crosswalk of agency codes exists), and every province valid from
--                        2025-07-01 is a new unit, so its agencies' July 2025 ranks have no
--                        previous one (ranks within a different parent are not comparable)
--   rank_change          previous_rank - rank (positive = moved up)
--   score_percent_of_applicable  total_score / applicable_max_points x 100: at this grain only
--                        the dossier-based indicators are defined (at most 70 of the 100 points),
--                        so the band (the band seed, configuration, not law, written for 100
--                        points) is read on this share, never on the raw total; the rank stays on
--                        the total, as for the ranked units (an indicator not applicable to one
--                        agency is not rescaled away)
-- The previous month is read from the fact even outside the window, so a one-month backfill
-- still finds previous ranks.
with

scores as (

    select * from {{ ref('fct_service_index_agency_monthly') }}
    where period_month >= {{ dbt.dateadd('month', -1, period_start()) }}
        and period_month < {{ period_end() }}
        and is_ranked

),

bands as (

    select * from {{ ref('stg_methodology__service_index_bands') }}

),

ranked as (

    select
        period_month,
        agency_code,
        agency_name,
        agency_level,
        rank_group,
        parent_unit_code,
        parent_unit_name,
        parent_unit_level,
        parent_unit_valid_from,
        methodology_version,
        total_score,
        case
            when applicable_max_points > 0
                then round(100 * total_score_unrounded / applicable_max_points, 2)
        end as score_percent_of_applicable,
        rank() over (
            partition by period_month, parent_unit_code, rank_group
            order by total_score desc
        ) as agency_rank,
        count(*) over (partition by period_month, parent_unit_code, rank_group) as ranked_agency_count
    from scores

),

with_previous as (

    select
        current_month.*,
        previous_month.agency_rank as previous_rank
    from ranked as current_month
    left join ranked as previous_month
        on previous_month.agency_code = current_month.agency_code
        and previous_month.rank_group = current_month.rank_group
        and previous_month.parent_unit_code = current_month.parent_unit_code
        and previous_month.parent_unit_valid_from = current_month.parent_unit_valid_from
        and previous_month.period_month = {{ dbt.dateadd('month', -1, 'current_month.period_month') }}
    where {{ in_period_window('current_month.period_month') }}

),

final as (

    select
        with_previous.period_month,
        with_previous.agency_code,
        with_previous.agency_name,
        with_previous.agency_level,
        with_previous.rank_group,
        with_previous.parent_unit_code,
        with_previous.parent_unit_name,
        with_previous.parent_unit_level,
        with_previous.total_score,
        with_previous.score_percent_of_applicable,
        with_previous.agency_rank as rank,
        with_previous.ranked_agency_count,
        with_previous.previous_rank,
        with_previous.previous_rank - with_previous.agency_rank as rank_change,
        bands.band_code,
        bands.band_name_vi as band,
        bands.band_name_en,
        with_previous.methodology_version
    from with_previous
    left join bands
        on with_previous.score_percent_of_applicable >= bands.min_score
        and (
            bands.max_score_exclusive is null
            or with_previous.score_percent_of_applicable < bands.max_score_exclusive
        )

)

select * from final
