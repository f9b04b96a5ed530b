-- Generic scoring of the 766 service index: every unit-month-basis of the measures table times
-- every indicator of the methodology version in force that month. No per-indicator SQL: the
-- indicator seed names the numerator and denominator measures and the rule.
--   ratio  = numerator / denominator; a zero denominator gives 0 (policy 'zero') or null
--            (policy 'not_applicable': shown as N/A, earns nothing)
--   points = linear:     max_points x min(1, ratio)
--            capped:     max_points x min(1, ratio / target_ratio)
--            monitoring: 0
-- A unit with no dossier handled in the month is not scored (null points): the index is
-- computed from dossier data, and validation flags such units separately.
with

measures as (

    select * from {{ ref('int_service_measures_unit_monthly') }}
    where {{ in_period_window('period_month') }}

),

indicators as (

    select * from {{ ref('stg_methodology__service_index_indicators') }}

),

versions as (

    select * from {{ ref('stg_methodology__service_index_versions') }}

),

unit_months as (

    select
        period_month,
        unit_basis,
        unit_code,
        unit_level,
        -- the scoring gate (see header)
        max(case when measure_code = 'dossiers_handled' then measure_value end) as dossiers_handled
    from measures
    group by 1, 2, 3, 4

),

versioned as (

    select
        unit_months.*,
        versions.methodology_version
    from unit_months
    inner join versions
        on versions.applies_from_month <= unit_months.period_month
        and (versions.applies_to_month is null or versions.applies_to_month >= unit_months.period_month)

),

indicator_grid as (

    select
        versioned.*,
        indicators.group_code,
        indicators.indicator_code,
        indicators.indicator_order,
        indicators.scoring_rule,
        indicators.max_points,
        indicators.target_ratio,
        indicators.zero_denominator_policy,
        indicators.numerator_measure,
        indicators.denominator_measure
    from versioned
    inner join indicators
        on indicators.methodology_version = versioned.methodology_version
        and indicators.applies_to in ('all', versioned.unit_level)

),

valued as (

    select
        indicator_grid.*,
        coalesce(numerators.measure_value, 0) as numerator,
        coalesce(denominators.measure_value, 0) as denominator
    from indicator_grid
    left join measures as numerators
        on numerators.period_month = indicator_grid.period_month
        and numerators.unit_basis = indicator_grid.unit_basis
        and numerators.unit_code = indicator_grid.unit_code
        and numerators.measure_code = indicator_grid.numerator_measure
    left join measures as denominators
        on denominators.period_month = indicator_grid.period_month
        and denominators.unit_basis = indicator_grid.unit_basis
        and denominators.unit_code = indicator_grid.unit_code
        and denominators.measure_code = indicator_grid.denominator_measure

),

ratios as (

    select
        valued.*,
        case
            when denominator > 0 then numerator / cast(denominator as {{ type_double() }})
            when zero_denominator_policy = 'zero' then 0
            else null
        end as ratio,
        coalesce(dossiers_handled > 0, false) as is_scored
    from valued

),

scored as (

    select
        ratios.*,
        case
            when not is_scored then null
            when ratio is null then null
            when scoring_rule = 'monitoring' then 0
            when scoring_rule = 'linear' then max_points * least(1, ratio)
            when scoring_rule = 'capped' then max_points * least(1, ratio / target_ratio)
        end as points
    from ratios

),

final as (

    select
        period_month,
        unit_basis,
        unit_basis = 'backcast_current_units' as is_backcast,
        unit_code,
        unit_level,
        methodology_version,
        group_code,
        indicator_code,
        indicator_order,
        scoring_rule,
        max_points,
        target_ratio,
        zero_denominator_policy,
        numerator_measure,
        denominator_measure,
        numerator,
        denominator,
        ratio,
        points,
        is_scored
    from scored

)

select * from final
