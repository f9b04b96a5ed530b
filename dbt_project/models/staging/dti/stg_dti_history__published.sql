-- Imported published DTI totals and ranks (raw.dti_history_published); rename only.
with

source as (

    select * from {{ source('dti_history', 'dti_history_published') }}

),

final as (

    select
        year,
        level,
        unit_code,
        dti_value as published_dti_value,
        rank as published_rank,
        source_file,
        source_row,
        loaded_at
    from source

)

select * from final
