-- Every international-index file loaded (raw.international_index_loads): rename/cast only.
with

source as (

    select * from {{ source('kpi_raw', 'international_index_loads') }}

),

final as (

    select
        load_id,
        index_code,
        file_shape,
        source_file,
        sha256,
        status = 'accepted' as is_accepted,
        loaded_at,
        load_sequence
    from source

)

select * from final
