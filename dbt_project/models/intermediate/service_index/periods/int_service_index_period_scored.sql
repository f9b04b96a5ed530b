{{
    config(
        unique_key='period',
        pre_hook="{{ delete_overlapping_periods() }}"
    )
}}
-- One row per period, unit basis, unit and indicator of the methodology version in force at the
-- period's END month: the 766 scoring (macros/service_index_scoring.sql, the one rule shared with
-- the month) applied to the period's summed numerators and denominators
-- (int_service_measures_period), never to monthly scores. A unit with no dossier handled in the
-- period is not scored (null points).
-- Incremental by period, as int_service_measures_period. period_month = period_end_month.
with

measures as (

    select * from {{ ref('int_service_measures_period') }}
    where {{ overlaps_period_window() }}

),

{{ service_index_scored('measures', ['period_kind', 'period', 'period_start_month', 'period_end_month',
                                     'unit_basis', 'unit_code', 'unit_level'],
                        version_month='period_end_month') }},

final as (

    select
        service_scoring_points.period_kind,
        service_scoring_points.period,
        service_scoring_points.period_start_month,
        service_scoring_points.period_end_month,
        service_scoring_points.period_end_month as period_month,
        service_scoring_points.unit_basis,
        service_scoring_points.unit_basis = 'backcast_current_units' as is_backcast,
        service_scoring_points.unit_code,
        service_scoring_points.unit_level,
        service_scoring_points.methodology_version,
        service_scoring_points.group_code,
        service_scoring_points.indicator_code,
        service_scoring_points.indicator_order,
        service_scoring_points.scoring_rule,
        service_scoring_points.max_points,
        service_scoring_points.target_ratio,
        service_scoring_points.zero_denominator_policy,
        service_scoring_points.numerator_measure,
        service_scoring_points.denominator_measure,
        service_scoring_points.numerator,
        service_scoring_points.denominator,
        service_scoring_points.ratio,
        service_scoring_points.points,
        service_scoring_points.is_scored
    from service_scoring_points

)

select * from final
