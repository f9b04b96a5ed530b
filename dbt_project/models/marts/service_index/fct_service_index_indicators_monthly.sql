-- One row per month, unit, basis (is_backcast) and sub-indicator of the 766 service index:
-- numerator, denominator, ratio and points as scored by int_service_index_scored, with the
-- group of the portal (6) and of the decision (5).
with

scored as (

    select * from {{ ref('int_service_index_scored') }}
    where {{ in_period_window('period_month') }}

),

groups as (

    select * from {{ ref('stg_methodology__service_index_groups') }}

),

final as (

    select
        scored.period_month,
        scored.unit_code,
        scored.unit_level,
        scored.is_backcast,
        scored.methodology_version,
        scored.group_code,
        groups.decision_group_no,
        scored.indicator_code,
        scored.indicator_order,
        scored.scoring_rule,
        scored.max_points,
        scored.target_ratio,
        scored.numerator_measure,
        scored.denominator_measure,
        scored.numerator,
        scored.denominator,
        scored.ratio,
        scored.points,
        scored.is_scored
    from scored
    left join groups
        on groups.methodology_version = scored.methodology_version
        and groups.group_code = scored.group_code

)

select * from final
