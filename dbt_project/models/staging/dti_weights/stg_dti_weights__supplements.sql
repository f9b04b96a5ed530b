-- Main-indicator points loaded as data where the public record lacks them
-- (raw.dti_weight_supplements, every load); rename only.
with

source as (

    {%- set columns = [
        ('methodology_version', dbt.type_string()), ('level', dbt.type_string()),
        ('indicator_code', dbt.type_string()), ('max_points', dxmon.type_double()),
        ('source', dbt.type_string()), ('loaded_at', dbt.type_timestamp())
    ] %}
    select raw_table.* from {{ source_or_empty('dti_weights', 'dti_weight_supplements', columns) }} as raw_table

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
