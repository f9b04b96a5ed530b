-- Imported published main-indicator values (raw.dti_history_values); rename only.
with

source as (

    select * from {{ source('dti_history', 'dti_history_values') }}

),

final as (

    select
        year,
        level,
        unit_code,
        indicator_code,
        value as published_value,
        source_file,
        source_row,
        loaded_at
    from source

)

select * from final
