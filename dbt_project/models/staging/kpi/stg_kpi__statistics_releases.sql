-- Every national-statistics file loaded (raw.kpi_statistics_releases): rename/cast only.
with

source as (

    select * from {{ source('kpi_raw', 'kpi_statistics_releases') }}

),

final as (

    select
        load_id,
        source_file,
        sha256,
        publisher,
        default_release,
        status = 'accepted' as is_accepted,
        loaded_at,
        load_sequence
    from source

)

select * from final
