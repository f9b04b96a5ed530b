-- One row per provisional month, reporting unit and `automatic` sub-indicator for which both a
-- self-reported ratio and a service-index measurement exist: the score used the measurement;
-- this records how far the agency's own figure was from it. is_divergent when the absolute
-- difference exceeds var dti_divergence_tolerance (default 0.05 = 5 percentage points).
with

sub_scores as (

    select * from {{ ref('int_dti_sub_indicator_scores') }}
    where is_provisional
        and {{ in_period_window('period_month') }}
        and automatic_measure is not null
        and automatic_ratio is not null
        and self_reported_quantity is not null

),

final as (

    select
        year,
        period_month,
        level,
        reporting_unit_code,
        unit_code,
        methodology_version,
        indicator_code,
        automatic_measure,
        submission_id,
        self_reported_quantity as self_reported_ratio,
        automatic_ratio,
        self_reported_quantity - automatic_ratio as difference,
        abs(self_reported_quantity - automatic_ratio) > {{ var('dti_divergence_tolerance') }} as is_divergent,
        value_provenance as automatic_source
    from sub_scores

)

select * from final
