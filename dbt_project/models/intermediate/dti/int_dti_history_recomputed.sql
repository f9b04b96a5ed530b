{{
    config(
        pre_hook="{{ dti_refuse_unset_points(ref('int_dti_history_main_values'), ref('int_dti_main_weights'), 'recomputing imported DTI history') }}"
    )
}}
-- One row per imported (year, level, unit): the DTI value recomputed from the published
-- main-indicator values by the year's version (sum of value x points / total points) and its
-- competition rank within (year, level, unit group), beside the published value and rank.
-- Refuses (pre-hook) like int_dti_scores when a version/level in the import lacks points.
with

history_values as (

    select * from {{ ref('int_dti_history_main_values') }}

),

weights as (

    select * from {{ ref('int_dti_main_weights') }}

),

versions as (

    select * from {{ ref('stg_methodology__dti_versions') }}

),

published as (

    select * from {{ ref('stg_dti_history__published') }}

),

recomputed as (

    select
        history_values.year,
        history_values.methodology_version,
        history_values.level,
        history_values.unit_code,
        history_values.unit_group,
        {{ exact_sum('history_values.published_value * weights.max_points') }}
            / max(versions.total_points) as dti_value,
        count(*) as main_values_present,
        max(history_values.source_file) as source_file
    from history_values
    inner join weights
        on weights.methodology_version = history_values.methodology_version
        and weights.level = history_values.level
        and weights.indicator_code = history_values.indicator_code
    inner join versions
        on versions.methodology_version = history_values.methodology_version
    group by 1, 2, 3, 4, 5

),

ranked as (

    select
        recomputed.*,
        {{ dti_competition_rank('dti_value', ['year', 'level', 'unit_group']) }} as recomputed_rank
    from recomputed

),

final as (

    select
        coalesce(ranked.year, published.year) as year,
        ranked.methodology_version,
        coalesce(ranked.level, published.level) as level,
        coalesce(ranked.unit_code, published.unit_code) as unit_code,
        ranked.unit_group,
        ranked.main_values_present,
        ranked.dti_value as recomputed_dti_value,
        ranked.recomputed_rank,
        published.published_dti_value,
        published.published_rank,
        coalesce(published.source_file, ranked.source_file) as source_file,
        published.source_row as published_source_row
    from ranked
    full outer join published
        on published.year = ranked.year
        and published.level = ranked.level
        and published.unit_code = ranked.unit_code

)

select * from final
