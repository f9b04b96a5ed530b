-- The 766 scoring at the handling agency's grain: one row per month, handling agency and
-- sub-indicator of the methodology version in force, scored by the one scoring rule
-- (macros/service_index_scoring.sql::service_index_scored) over int_service_measures_agency_monthly.
-- The indicators of the agency's parent unit level apply (province / ministry). agency_grain:
-- an indicator is defined here only when its numerator and denominator are both dossier
-- measures; the others (procedure- and complaint-based) are not applicable at the grain:
-- null numerator, denominator, ratio and points (is_applicable_at_grain false). An agency with
-- no dossier handled in the month is not scored.
with

measures as (

    select * from {{ ref('int_service_measures_agency_monthly') }}
    where {{ in_period_window('period_month') }}

),

{{ service_index_scored('measures', ['period_month', 'agency_code'], 'period_month', 'parent_unit_level',
                        agency_grain=true) }},

final as (

    select
        period_month,
        agency_code,
        scoring_indicator_level as parent_unit_level,
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
        is_applicable_at_grain,
        -- the measures of an indicator not defined at the grain do not exist here: null, not 0
        case when is_applicable_at_grain then numerator end as numerator,
        case when is_applicable_at_grain then denominator end as denominator,
        ratio,
        points,
        is_scored
    from service_scoring_points

)

select * from final
