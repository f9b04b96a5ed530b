-- One row per provisional month, ranked unit and main indicator (pillar under 1726_2020):
-- value in [0, 1], its points in the total (effective, with weights_basis), the points it
-- contributes (value x points) and its competition rank on the 4-decimal value within the
-- month's year, level, unit group and indicator. Merged provinces carry the plain mean of their
-- predecessors' values (is_merged_average).
with

main_values as (

    select * from {{ ref('int_dti_main_indicator_values') }}
    where is_provisional
        and {{ in_period_window('period_month') }}

),

weights as (

    select * from {{ ref('int_dti_main_weights') }}

),

scores as (

    -- only units that were scored (the refusal stops int_dti_scores, and with it this model)
    select context_key, level, unit_code from {{ ref('int_dti_scores') }}

),

final as (

    select
        main_values.year,
        main_values.period_month,
        main_values.as_of_date,
        main_values.level,
        main_values.unit_code,
        main_values.unit_key,
        main_values.unit_name,
        main_values.unit_group,
        main_values.methodology_version,
        main_values.indicator_code,
        main_values.node_type,
        main_values.indicator_name_vi,
        main_values.indicator_name_en,
        main_values.display_order,
        main_values.value,
        round(main_values.value, 4) as value_4dp,
        weights.max_points as points,
        weights.weights_basis,
        main_values.value * weights.max_points as weighted_points,
        {{ dti_competition_rank('main_values.value', [
            'main_values.year', 'main_values.period_month', 'main_values.level', 'main_values.unit_group',
            'main_values.indicator_code'
        ]) }} as rank,
        main_values.reporting_unit_count,
        main_values.is_merged_average,
        main_values.sub_indicators_expected,
        main_values.missing_sub_indicators,
        main_values.is_provisional
    from main_values
    inner join scores
        on scores.context_key = main_values.context_key
        and scores.level = main_values.level
        and scores.unit_code = main_values.unit_code
    inner join weights
        on weights.methodology_version = main_values.methodology_version
        and weights.level = main_values.level
        and weights.indicator_code = main_values.indicator_code

)

select * from final
