{{ config(pre_hook="{{ ensure_dti_meta_tables() }}") }}
-- Final scores of closed years (meta.dti_frozen_scores, written by `dxmon dti close-year`);
-- the columns of fct_dti_scores (macros/dti.sql dti_score_columns).
with

source as (

    select * from {{ source('dti_meta', 'dti_frozen_scores') }}

),

final as (

    select
        {{ dti_score_columns_cast() }}
    from source

)

select * from final
