-- The documents and pages the targets cite (seed kpi_sources).
with

source as (

    select * from {{ ref('kpi_sources') }}

),

final as (

    select
        source_key,
        url,
        title_or_note
    from source

)

select * from final
