-- DTI ranking: one row per score of fct_dti_scores (provisional months and final closed years).
--   rank           competition rank (1, 2, 2, 4) on the 4-decimal value within year,
--                  period_month (NULL = final), level and unit group (ministries: 'dvc' with
--                  public services / 'non_dvc'; provinces: 'all')
--   previous_rank  the unit's FINAL rank of the previous year; when that year is not closed
--                  here, its published rank (raw.dti_history_published). Only for the same
--                  unit version (unit_key): the 34 provinces of 2024 have no 2023 rank.
--   rank_change    previous_rank - rank (positive = moved up)
-- A table rebuilt from the whole fct_dti_scores on each run (small), so previous ranks follow
-- the closed years as soon as they are frozen.
with

scores as (

    select * from {{ ref('fct_dti_scores') }}
    where dti_value is not null

),

published as (

    select * from {{ ref('stg_dti_history__published') }}

),

years as (

    select * from {{ ref('stg_methodology__dti_years') }}

),

units as (

    select * from {{ ref('int_units_unioned') }}

),

ranked as (

    select
        scores.*,
        {{ dti_competition_rank('dti_value', ['year', 'period_month', 'level', 'unit_group']) }} as unit_rank,
        count(*) over (partition by year, period_month, level, unit_group) as ranked_unit_count
    from scores

),

published_ranks as (

    -- the unit version a published rank belongs to: the version valid on that year's ranking date
    select
        published.year,
        published.level,
        units.unit_key,
        published.published_rank
    from published
    inner join years
        on years.year = published.year
    inner join units
        on units.unit_code = published.unit_code
        and units.unit_level = published.level
        and units.valid_from
            <= case when published.level = 'ministry' then years.ministry_units_as_of else years.units_as_of end
        and (units.valid_to is null
            or units.valid_to
            >= case when published.level = 'ministry' then years.ministry_units_as_of else years.units_as_of end)

),

final as (

    select
        current_scores.year,
        current_scores.period_month,
        current_scores.as_of_date,
        current_scores.level,
        current_scores.unit_group,
        current_scores.unit_code,
        current_scores.unit_name,
        current_scores.dti_value,
        current_scores.dti_value_4dp,
        current_scores.unit_rank as rank,
        current_scores.ranked_unit_count,
        coalesce(previous_final.unit_rank, previous_published.published_rank) as previous_rank,
        coalesce(previous_final.unit_rank, previous_published.published_rank) - current_scores.unit_rank as rank_change,
        case
            when previous_final.unit_rank is not null then 'final'
            when previous_published.published_rank is not null then 'published'
        end as previous_rank_source,
        current_scores.completeness,
        current_scores.weights_basis,
        current_scores.is_provisional,
        current_scores.methodology_version
    from ranked as current_scores
    left join ranked as previous_final
        on not previous_final.is_provisional
        and previous_final.year = current_scores.year - 1
        and previous_final.level = current_scores.level
        and previous_final.unit_key = current_scores.unit_key
    left join published_ranks as previous_published
        on previous_published.year = current_scores.year - 1
        and previous_published.level = current_scores.level
        and previous_published.unit_key = current_scores.unit_key

)

select * from final
