-- Generic scoring of the 766 service index: every unit-month-basis of the measures table times
-- every indicator of the methodology version in force that month. No per-indicator SQL: the
-- indicator seed names the numerator and denominator measures and the rule; the rule itself is
-- macros/service_index_scoring.sql::service_index_scored, shared with the period and agency
-- grains.
-- A unit with no dossier handled in the month is not scored (null points): the index is
-- computed from dossier data, and validation flags such units separately.
with

measures as (

    select * from {{ ref('int_service_measures_unit_monthly') }}
    where {{ in_period_window('period_month') }}

),

{{ service_index_scored('measures', ['period_month', 'unit_basis', 'unit_code', 'unit_level']) }},

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
    from service_scoring_points

)

select * from final
