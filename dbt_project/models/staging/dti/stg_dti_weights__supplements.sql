-- Main-indicator points loaded as data where the public record lacks them
-- (raw.dti_weight_supplements, every load); rename only.
with

source as (

    select * from {{ source('dti_weights', 'dti_weight_supplements') }}

),

final as (

    select
        methodology_version,
        level,
        indicator_code,
        max_points,
        source as supplement_source,
        loaded_at
    from source

)

select * from final
