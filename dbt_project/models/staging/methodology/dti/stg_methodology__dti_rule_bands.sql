-- Bands of threshold rules (seed): lower_bound inclusive, upper_bound exclusive (NULL = open);
-- rename only.
with

source as (

    select * from {{ ref('dti_rule_bands') }}

),

final as (

    select
        methodology_version,
        level,
        indicator_code,
        lower_bound,
        upper_bound,
        points_share,
        note
    from source

)

select * from final
