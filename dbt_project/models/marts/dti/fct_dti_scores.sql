-- Period-scoped incremental (dbt_project.yml); this pre-hook runs after the window's delete.
{{ config(pre_hook="{{ delete_frozen_dti_scores() }}") }}
-- One row per DTI score of a ranked unit (grain: year, period_month, level, unit_code):
--   provisional rows: each month M of the window, the index of year(M) as of the end of M
--     (is_provisional true), replaced month by month (delete+insert on period_month);
--   final rows: the closed years frozen in meta.dti_frozen_scores (is_provisional false,
--     period_month NULL), re-read in full on every run.
-- dti_value is unrounded; dti_value_4dp is the published precision. Ranks: rpt_dti_ranking.
with

provisional as (

    select * from {{ ref('int_dti_scores') }}
    where is_provisional
        and {{ in_period_window('period_month') }}

),

frozen as (

    select * from {{ ref('stg_dti_meta__frozen_scores') }}

),

final as (

    select {{ dti_score_columns_cast() }} from provisional
    union all
    select {{ dti_score_columns_cast() }} from frozen

)

select * from final
