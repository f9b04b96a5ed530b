-- The FINAL scores of the year in var dti_final_year, computed from all its latest accepted
-- reports regardless of date and the service index of the whole year: exactly the columns of
-- fct_dti_scores (is_provisional false, period_month NULL). `dxmon dti close-year YEAR` builds
-- this model (docs/dti_design.md, "Closing a year") and copies it into meta.dti_frozen_scores.
-- Empty when dti_final_year is not set.
with

scores as (

    select * from {{ ref('int_dti_scores') }}
    where not is_provisional

),

final as (

    select
        {{ dti_score_columns_cast() }}
    from scores

)

select * from final
